"""The Sources panel: every retrieved passage, where it sits in its document, and how to open it.

A reader checks a quote by seeing it in place. Each entry therefore shows the passage with the
quoted words in ``<mark>``, a sentence or so of the document before and after it (dimmed, so the
passage itself stands out), a plain relevance label, and a link that opens the whole document at
that place (:mod:`czqa.web.document`). Entries carry the anchors the reply's citation markers link
to (:mod:`czqa.web.markup`); the panels of earlier answers are kept, folded, under the current one
so that an earlier reply's markers still lead somewhere true.

As everywhere on the page, every piece of document text is HTML-escaped before it is placed in
markup, and every fragment is a single line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from markupsafe import Markup

from czqa.answering.followup.resolver import Resolution
from czqa.ingest.sentences import split_span
from czqa.types import Answer, Citation, Passage
from czqa.web.markup import esc, info_for, numbering, overlaps, readable, source_label
from czqa.web.sources import SourceInfo
from czqa.web.templating import part, render

# How far to look around a passage for its neighbouring sentences, and the least a neighbour
# should hold: a short heading line is not context.
CONTEXT_CHARS = 320
CONTEXT_MIN_CHARS = 40
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# A passage ranked near the top by both the meaning (dense) and the keyword (BM25) search scores
# close to the best one; a passage only one of them ranks high scores about half of it (the
# fused score sums 1/(60 + rank) over the two rankings, so its absolute value means nothing).
STRONG_MATCH = 0.75

# Earlier answers whose panels stay on the page (folded), so old citation markers still work.
EARLIER_PANELS = 8

DOCUMENT_PATH = "czqa/document"
"""Relative URL of the document page (:mod:`czqa.web.document`), served beside the chat page."""


def document_href(source: str, start: int, end: int) -> str:
    """Link to ``source`` opened at ``start:end`` (relative, so it works under any mount path)."""
    return f"{DOCUMENT_PATH}?{urlencode({'source': source, 'start': start, 'end': end})}#czqa-here"


def context(info: SourceInfo, start: int, end: int) -> tuple[str, str]:
    """About one sentence of the document before ``start`` and after ``end`` (plain text).

    The text before opens at a sentence start (a partial sentence just before the passage is
    completed with the whole sentence before it); the text after runs to the end of the sentence
    the passage leaves off in, or the next one. An ellipsis marks a cut inside a sentence.
    """
    text = info.text
    if not text or end > len(text):
        return "", ""
    lo, hi = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
    # Sentence starts and ends come from the indexing splitter (abbreviations and initials do
    # not end a sentence); a paragraph break is a cut too. The window's first (last) piece is cut
    # by the window, not by a sentence, unless the window reaches the document's edge.
    pieces = split_span(text, lo, start)
    starts = [b for i, (b, _) in enumerate(pieces) if i > 0 or lo == 0]
    starts += [m.end() for m in _PARAGRAPH_BREAK.finditer(text, lo, start)]
    starts = [b for b in starts if start - b >= CONTEXT_MIN_CHARS]
    if starts:
        before = text[max(starts) : start]
    else:
        before = text[lo:start] if lo == 0 else "… " + text[lo:start].split(" ", 1)[-1]
    pieces = split_span(text, end, hi)
    ends = [e for i, (_, e) in enumerate(pieces) if i < len(pieces) - 1 or hi == len(text)]
    ends += [m.start() for m in _PARAGRAPH_BREAK.finditer(text, end, hi)]
    ends = [e for e in ends if e - end >= CONTEXT_MIN_CHARS]
    if ends:
        after = text[end : min(ends)]
    else:
        after = text[end:hi] if hi == len(text) else text[end:hi].rsplit(" ", 1)[0] + " …"
    return readable(before, info.source).strip(), readable(after, info.source).strip()


def highlight(passage: Passage, citations: Sequence[Citation]) -> str:
    """The passage's text as HTML, with the words it shares with a citation in ``<mark>``.

    Offsets are file offsets, so a citation marks exactly its own characters even when the same
    words occur elsewhere in the passage.
    """
    ranges = sorted(
        (max(c.start, passage.start) - passage.start, min(c.end, passage.end) - passage.start)
        for c in citations
        if overlaps(c, passage)
    )
    merged: list[list[int]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    shown = passage.text
    for a, b in merged:  # cut by offsets first, then each piece made readable (HTML, Markdown)
        out.append(esc(readable(shown[pos:a], passage.source)))
        out.append(f"<mark>{esc(readable(shown[a:b], passage.source))}</mark>")
        pos = b
    out.append(esc(readable(shown[pos:], passage.source)))
    return "".join(out).strip()


CLOSEST = "closest match"


def relevance(score: float, top: float) -> tuple[str, str]:
    """A plain label for a retrieved passage's score, and what it means (for the tooltip)."""
    if top > 0 and score >= STRONG_MATCH * top:
        return "strong match", "ranked high by both the meaning and the keyword search"
    return "partial match", "ranked high by only one of the meaning and keyword searches"


def render_documents(report) -> str:
    """The folder's ingestion report (:class:`czqa.ingest.documents.IngestReport`): how many
    files were indexed, and every file that was not, with why, refused ones first."""
    if report is None:
        return ""
    return part("documents", report.summary(), list(report.refused) + list(report.skipped))


def _entry(n: int, anchor: str, p: Passage, cited: Sequence[Citation], top: float, sources, *, declined: bool = False) -> dict:
    """The values of one Sources entry (``templates/sources.html``)."""
    info = info_for(p.source, sources)
    # A declined answer's passages are what came closest, not matches: never called "strong".
    label, why = (CLOSEST, "nearest to the question, but it does not answer it") if declined else relevance(p.score, top)
    before, after = context(info, p.start, p.end)
    return {
        "number": n, "anchor": anchor, "cited": any(overlaps(c, p) for c in cited), "label": label, "why": why,
        "source": Markup(source_label(p.source, _head(p, cited), p.end, sources)),
        "before": before, "text": Markup(highlight(p, cited)), "after": after,
        "href": document_href(p.source, p.start, p.end) if info.text else None, "line": info.line(p.start),
    }


def _head(p: Passage, cited: Sequence[Citation]) -> int:
    """Where an entry's label points: the quoted sentence when the reply quotes this passage (so
    the entry says the line the reply's quote says), else the passage's start."""
    starts = [max(c.start, p.start) for c in cited if overlaps(c, p)]
    return min(starts) if starts else p.start


def render_sources(
    answer: Answer | None, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None
) -> str:
    """The Sources panel: what was searched, and every retrieved passage with cited words marked."""
    if answer is None and resolution is None:
        return part("empty_sources")
    entries = []
    if answer is not None:
        numbers = numbering(answer)
        top = max((p.score for p in numbers.entries), default=0.0)
        entries = [_entry(n, numbers.anchor(n), p, answer.citations, top, sources, declined=answer.abstained)
                   for n, p in enumerate(numbers.entries, start=1)]
    return render("sources.html", resolution=resolution, searching=answer is None,
                  retrieved=bool(answer and answer.passages), entries=entries)


def stack_panels(current: str, earlier: Sequence[str]) -> str:
    """The panel to show: the current answer's sources, then earlier answers' panels folded.

    The whole stack is one labelled region that can take keyboard focus, since it scrolls.
    """
    older = [Markup(p) for p in earlier if p != current][:EARLIER_PANELS]
    return part("panels", Markup(current), older)
