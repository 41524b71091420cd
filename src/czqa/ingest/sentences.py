"""Split kept regions into sentences, as offsets into the original text.

Sentences are the unit czqa quotes, so a boundary in the wrong place shows up as a truncated or
run-on citation. Two kinds of text need care: PDF-extracted letters hard-wrapped mid-sentence
(a line break is *not* a boundary there), and web articles where every line is its own
paragraph or heading (a line break *is* one). The rule: a break between units is a sentence
boundary unless the earlier unit stops mid-sentence at the document's wrap width and the next
one carries on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from czqa.ingest.clean import Cleaned, Unit

# Words that end in a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd co corp vs etc e.g i.e no nos approx dept gov sen rep "
    "gen col lt sgt fig jan feb mar apr jun jul aug sep sept oct nov dec est al mt ft".split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, white space,
# then something that can open a sentence.
# Only the first mark of a run may start a match, and the run is taken whole (possessive): a
# long run of dots or exclamation marks would otherwise be re-matched from every position in it.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s+[\"'“‘(\[#*]?[A-Z0-9])")
_TERMINAL_END = re.compile(r"[.!?…:;][\"'”’)\]]*\s*$")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_LIST_START = re.compile(r"^\s*(?:[*+-]\s|\d+[.)]\s|#)")


@dataclass(frozen=True)
class Sentence:
    """A sentence of one file: original_text[start:end] is its exact text."""

    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` belongs to an abbreviation or an initial."""
    if text[dot] != ".":
        return False
    # Only the word right before the dot matters: look back a bounded stretch, so a long text is
    # not re-scanned from its start at every period (that made splitting quadratic).
    m = _WORD_BEFORE.search(text, max(0, dot - 24), dot)
    if not m:
        return False
    word = m.group(1)
    if len(word) == 1 and word.isupper():  # an initial: "Richard A. Jones"
        return True
    if "." in word and len(word.replace(".", "")) <= 3:  # "U.S.", "e.g.", "a.m."
        return True
    return word.lower() in _ABBREVIATIONS


def split_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], trimmed of white space."""
    out: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        first_dot = m.start()
        if _is_abbreviation(text, first_dot):
            continue
        out.append((cursor, m.end()))
        cursor = m.end()
    out.append((cursor, end))
    trimmed = []
    for s, e in out:
        seg = text[s:e]
        s2 = s + (len(seg) - len(seg.lstrip()))
        e2 = e - (len(seg) - len(seg.rstrip()))
        if e2 > s2:
            trimmed.append((s2, e2))
    return trimmed


def wrap_width(text: str) -> int:
    """The width a hard-wrapped file was wrapped at (90th percentile of line lengths)."""
    widths = sorted(len(line.rstrip()) for line in text.splitlines() if line.strip())
    if not widths:
        return 0
    return widths[int(0.9 * (len(widths) - 1))]


def _continues(text: str, prev: Unit, nxt: Unit, width: int) -> bool:
    """Does ``prev`` stop mid-sentence with ``nxt`` carrying on (a hard wrap, not a break)?"""
    if prev.heading or nxt.heading:
        return False
    last_line = text[prev.start : prev.end].rsplit("\n", 1)[-1]
    if _TERMINAL_END.search(last_line):
        return False
    if _LIST_START.match(text[nxt.start : nxt.end]):
        return False
    if text[nxt.start : nxt.start + 1].islower():
        return True
    return len(last_line.rstrip()) >= 0.8 * width


def split_sentences(text: str, cleaned: Cleaned) -> list[list[Sentence]]:
    """Sentences of each kept region, in order: one list per region."""
    width = wrap_width(text)
    result: list[list[Sentence]] = []
    for region in cleaned.regions:
        # Group the region's units into paragraphs that sentences may run across.
        groups: list[list[Unit]] = []
        for unit in region.units:
            if groups and _continues(text, groups[-1][-1], unit, width):
                groups[-1].append(unit)
            else:
                groups.append([unit])
        sentences: list[Sentence] = []
        for group in groups:
            for s, e in split_span(text, group[0].start, group[-1].end):
                sentences.append(Sentence(s, e))
        result.append(sentences)
    return result
