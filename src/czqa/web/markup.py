"""What the reply and the Sources panel share: escaping, source labels, and citation numbers.

A reply's citation markers ([1], [2]) must name and link to the Sources panel entry that holds
the quote, yet the two are rendered separately (:mod:`czqa.web.chat` calls
:func:`~czqa.web.render.render_answer` and :func:`~czqa.web.panel.render_sources` with the same
Answer). So both derive the numbers here, from the Answer alone: the entries are the retrieved
passages with overlapping chunks of one document merged, in rank order, and a citation's number
is the first entry that holds it. The anchors carry a key hashed from the answer, so the markers
of an earlier reply keep pointing at that reply's own entries (the page keeps them, folded, under
the current ones) and never at another answer's entry that happens to have the same number.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from czqa.ingest.readable import MARKDOWN_SUFFIXES, fold, readable  # noqa: F401  (the page's modules import them from here)
from czqa.types import Answer, Passage, Span
from czqa.web.sources import SourceInfo
from czqa.web.templating import part


def esc(text: str) -> str:
    """HTML-escape ``text`` (quotes too, since values also land in attributes)."""
    return html.escape(text, quote=True)


def info_for(source: str, sources: Mapping[str, SourceInfo]) -> SourceInfo:
    return sources.get(source) or SourceInfo(source=source)


def source_label(span_source: str, start: int, end: int, sources: Mapping[str, SourceInfo]) -> str:
    """"Title · file · line N" as HTML; the exact character range is in the tooltip."""
    info = info_for(span_source, sources)
    return part("label", info, start, end, info.line(start))


def plain_label(source: str, start: int, sources: Mapping[str, SourceInfo]) -> str:
    """The same label as text, for tooltips and copied Markdown: "Title (file), line N"."""
    info = info_for(source, sources)
    name = f"{info.title} ({info.source})" if info.title else info.source
    return f"{name}, line {info.line(start)}"


def merge_overlapping(passages: Sequence[Passage]) -> list[Passage]:
    """The passages with any that share text with a better-ranked one of the same document
    folded into it: one card per stretch of text, where it ranks best.

    Consecutive chunks share a sentence or two; shown apart, both cards highlighted the same
    quoted sentence and both said "quoted". Merging can make a kept card reach another one, so
    every kept card it now overlaps is folded in too.
    """
    kept: list[Passage] = []
    for p in passages:
        hit = [i for i, k in enumerate(kept) if overlaps(k, p)]
        if not hit:
            kept.append(p)
            continue
        merged = kept[hit[0]]
        for other in [p, *(kept[i] for i in hit[1:])]:
            merged = _union(merged, other)
        kept[hit[0]] = merged
        for i in reversed(hit[1:]):
            del kept[i]
    return kept


def _union(a: Passage, b: Passage) -> Passage:
    """``a`` widened to cover overlapping ``b`` too (both exact slices of one document)."""
    first, last = (a, b) if a.start <= b.start else (b, a)
    text = first.text + last.text[first.end - last.start :] if last.end > first.end else first.text
    return a.model_copy(update={"start": first.start, "end": max(a.end, b.end), "text": text})


def overlaps(a: Span, b: Span) -> bool:
    return a.source == b.source and a.start < b.end and a.end > b.start


@dataclass(frozen=True)
class Numbering:
    """The Sources panel's entries for one answer, and the anchors citation markers link to."""

    key: str
    entries: list[Passage]

    def number(self, span: Span) -> int | None:
        """The 1-based entry that holds ``span`` (a citation or passage), None if none does."""
        for n, entry in enumerate(self.entries, start=1):
            if overlaps(span, entry):
                return n
        return None

    def anchor(self, n: int) -> str:
        return f"czqa-src-{self.key}-{n}"


def numbering(answer: Answer) -> Numbering:
    """Entries and anchor key of ``answer`` (the same on every call for the same answer)."""
    digest = hashlib.blake2s(digest_size=5)
    for piece in (answer.question, answer.mode, answer.text, *(f"{p.source}:{p.start}" for p in answer.passages)):
        digest.update(piece.encode("utf-8", "replace") + b"\0")
    return Numbering(key=digest.hexdigest(), entries=merge_overlapping(answer.passages))


def cite_link(numbers: Numbering, span: Span, sources: Mapping[str, SourceInfo]) -> str:
    """The marker ``[n]`` that links to the Sources entry holding ``span``; empty when none does."""
    n = numbers.number(span)
    if n is None:
        return ""
    return part("cite", numbers.anchor(n), n, f"Source {n}: {plain_label(span.source, span.start, sources)}")


SNIPPET_CHARS = 280


def snippet(text: str) -> str:
    """A passage's text folded and cut at a word boundary, for the "closest matches" list."""
    short = fold(text).strip()
    if len(short) > SNIPPET_CHARS:
        short = short[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return short
