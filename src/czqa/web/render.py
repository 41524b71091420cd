"""Turn an :class:`~czqa.types.Answer` into the HTML the chat page shows.

Everything that comes from a document, a model or the user passes through :func:`html.escape`
before it is placed in markup: a seed file may hold ``<script>`` or ``<img onerror=...>`` (web
pages do), and the page must show such text, never run it. The markup itself is fixed here.

Every fragment is a single line that starts with a block element. The chat component renders
messages as Markdown; a one-line HTML block is passed through untouched, so a ``*`` or ``_`` in a
quote is not read as emphasis. (``$`` is not read as LaTeX either: the page turns that off.)

The reply reads top-down the way a person checks an answer: the short answer, then the quotes
that support it, each labelled with the document and line it comes from. A declined question
says so plainly and offers the nearest passages as "closest matches", visibly not an answer;
disagreeing sources are set side by side. The Sources panel lists every retrieved passage with
the cited words highlighted in their context, and the question that was actually searched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from czqa.answering.followup import Resolution
from czqa.types import DECLINED, Answer, Citation, Passage
from czqa.web.sources import SourceInfo

CLOSEST_MATCHES = 3
SNIPPET_CHARS = 280



def esc(text: str) -> str:
    """HTML-escape ``text`` (quotes too, since values also land in attributes)."""
    return html.escape(text, quote=True)


def _fold(text: str) -> str:
    """White space folded to single spaces (hard-wrapped lines read as one paragraph)."""
    return re.sub(r"\s+", " ", text)


def _info(source: str, sources: Mapping[str, SourceInfo]) -> SourceInfo:
    return sources.get(source) or SourceInfo(source=source)


def source_label(span_source: str, start: int, end: int, sources: Mapping[str, SourceInfo]) -> str:
    """"Title · file · line N" as HTML; the exact character range is in the tooltip."""
    info = _info(span_source, sources)
    parts = []
    if info.title:
        parts.append(f'<span class="czqa-doc-title">{esc(info.title)}</span>')
    parts.append(f'<span class="czqa-file">{esc(info.source)}</span>')
    parts.append(f'<span class="czqa-line">line {info.line(start)}</span>')
    tooltip = esc(f"{info.source}, characters {start}–{end}")
    return f'<span class="czqa-label" title="{tooltip}">{" · ".join(parts)}</span>'


def _quote(c: Citation, sources: Mapping[str, SourceInfo], *, value: str | None = None) -> str:
    head = f'<div class="czqa-value">{esc(value)}</div>' if value else ""
    return (
        f'<blockquote class="czqa-quote">{head}<p>“{esc(_fold(c.quote).strip())}”</p>'
        f"<footer>— {source_label(c.source, c.start, c.end, sources)}</footer></blockquote>"
    )


def _understood(resolution: Resolution | None) -> str:
    if resolution is None or not resolution.rewritten:
        return ""
    return (
        '<p class="czqa-understood">Understood as: '
        f'<span class="czqa-resolved">{esc(resolution.resolved)}</span></p>'
    )


def _meta(answer: Answer) -> str:
    return f'<p class="czqa-meta">{esc(answer.mode)} answer · evidence score {answer.confidence:.2f}</p>'


def render_answer(
    answer: Answer, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None
) -> str:
    """The chat reply for a final Answer."""
    parts = ['<div class="czqa-reply">', _understood(resolution)]
    if answer.abstained:
        parts.append(f'<p class="czqa-abstain">{esc(DECLINED)}</p>')
        if answer.declined_reason:
            parts.append(f'<p class="czqa-abstain-why">{esc(answer.declined_reason)}</p>')
        closest = answer.passages[:CLOSEST_MATCHES]
        if closest:
            parts.append('<div class="czqa-closest"><p class="czqa-closest-head">Closest matches (not an answer):</p><ul>')
            for p in closest:
                snippet = _fold(p.text).strip()
                if len(snippet) > SNIPPET_CHARS:
                    snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
                parts.append(
                    f"<li><span class=\"czqa-snippet\">{esc(snippet)}</span> "
                    f"<small>— {source_label(p.source, p.start, p.end, sources)}</small></li>"
                )
            parts.append("</ul></div>")
    elif answer.conflict:
        parts.append('<p class="czqa-short czqa-disagree">The documents disagree</p>')
        parts.append('<div class="czqa-conflict">')
        for side in answer.conflicts:
            parts.append(_quote(side.citation, sources, value=side.value))
        parts.append("</div>")
    else:
        if answer.short_answer:
            parts.append(f'<p class="czqa-short">{esc(answer.short_answer)}</p>')
        elif answer.numbered:
            # Generated sentences, each with the numbers of the quotes shown below it.
            citations = answer.citations
            for claim in answer.claims:
                refs = " ".join(f"[{citations.index(c) + 1}]" for c in claim.citations)
                parts.append(f'<p class="czqa-prose">{esc(_fold(claim.text).strip())} <span class="czqa-refs">{esc(refs)}</span></p>')
        else:
            parts.append('<p class="czqa-lead">The documents say:</p>')
        for c in answer.citations:
            parts.append(_quote(c, sources))
    if answer.note:
        parts.append(f'<p class="czqa-note">{esc(answer.note)}</p>')
    parts.append(_meta(answer))
    parts.append("</div>")
    return "".join(parts)


def render_streaming(text: str, *, resolution: Resolution | None = None) -> str:
    """A reply still being generated: the text so far, marked as provisional."""
    return (
        f'<div class="czqa-reply czqa-streaming">{_understood(resolution)}'
        f'<p class="czqa-prose">{esc(_fold(text).strip()) or "…"}</p>'
        '<p class="czqa-meta">generating; quotes are checked when it finishes</p></div>'
    )


def render_searching(*, resolution: Resolution | None = None) -> str:
    """Placeholder while the index is searched."""
    return (
        f'<div class="czqa-reply czqa-streaming">{_understood(resolution)}'
        '<p class="czqa-meta">Searching the documents…</p></div>'
    )


def render_notice(message: str) -> str:
    """A polite message about the input (empty, too long) or a failure, in place of a reply."""
    return f'<div class="czqa-reply czqa-notice"><p>{esc(message)}</p></div>'


def render_user(message: str) -> str:
    """The user's own message, escaped like everything else."""
    return f'<div class="czqa-user">{esc(_fold(message).strip())}</div>'


def highlight(passage: Passage, citations: Sequence[Citation]) -> str:
    """The passage's text as HTML, with the words it shares with a citation in ``<mark>``.

    Offsets are file offsets, so a citation marks exactly its own characters even when the same
    words occur elsewhere in the passage.
    """
    ranges = sorted(
        (max(c.start, passage.start) - passage.start, min(c.end, passage.end) - passage.start)
        for c in citations
        if c.source == passage.source and c.start < passage.end and c.end > passage.start
    )
    merged: list[list[int]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out.append(esc(_fold(passage.text[pos:a])))
        out.append(f"<mark>{esc(_fold(passage.text[a:b]))}</mark>")
        pos = b
    out.append(esc(_fold(passage.text[pos:])))
    return "".join(out).strip()


# A passage ranked near the top by both the meaning (dense) and the keyword (BM25) search scores
# close to the best one; a passage only one of them ranks high scores about half of it (the
# fused score sums 1/(60 + rank) over the two rankings, so its absolute value means nothing).
STRONG_MATCH = 0.75


def relevance(score: float, top: float) -> tuple[str, str]:
    """A plain label for a retrieved passage's score, and what it means (for the tooltip)."""
    if top > 0 and score >= STRONG_MATCH * top:
        return "strong match", "ranked high by both the meaning and the keyword search"
    return "partial match", "ranked high by only one of the meaning and keyword searches"


def merge_overlapping(passages: Sequence[Passage]) -> list[Passage]:
    """The passages with any that mostly repeat a better-ranked one (overlapping chunks of the
    same document share sentences) folded into it: one card per stretch of text."""
    kept: list[Passage] = []
    for p in passages:
        for i, k in enumerate(kept):
            overlap = min(p.end, k.end) - max(p.start, k.start)
            if k.source == p.source and overlap > 0.5 * min(p.end - p.start, k.end - k.start):
                start, end = min(p.start, k.start), max(p.end, k.end)
                first, last = (p, k) if p.start <= k.start else (k, p)
                text = first.text + last.text[first.end - last.start :] if last.end > first.end else first.text
                kept[i] = k.model_copy(update={"start": start, "end": end, "text": text})
                break
        else:
            kept.append(p)
    return kept


def render_documents(report) -> str:
    """The folder's ingestion report (:class:`czqa.ingest.documents.IngestReport`): how many
    files were indexed, and every file that was not, with why, refused ones first."""
    if report is None:
        return ""
    issues = list(report.refused) + list(report.skipped)
    items = "".join(
        f'<li class="czqa-doc-{i.kind}"><span class="czqa-doc-path">{esc(i.path)}</span>: {esc(i.kind)}, {esc(i.reason)}</li>'
        for i in issues
    )
    summary = esc(report.summary())
    if not issues:
        return f'<div class="czqa-documents"><p class="czqa-meta">Documents: {summary}.</p></div>'
    return (
        f'<details class="czqa-documents"><summary>Documents: {summary}</summary>'
        f'<ul class="czqa-doc-issues">{items}</ul></details>'
    )


def render_sources(
    answer: Answer | None, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None
) -> str:
    """The Sources panel: what was searched, and every retrieved passage with cited words marked."""
    if answer is None and resolution is None:
        return (
            '<div class="czqa-sources czqa-empty"><p>Ask a question: the passages the answer '
            "comes from will appear here, with the quoted words highlighted.</p></div>"
        )
    parts = ['<div class="czqa-sources">']
    if resolution is not None:
        parts.append(
            '<div class="czqa-searched"><span class="czqa-k">Searched for</span> '
            f'<span class="czqa-resolved">{esc(resolution.resolved)}</span>'
        )
        if resolution.rewritten:
            parts.append(f'<div class="czqa-asked">You asked: {esc(resolution.asked)}</div>')
        parts.append("</div>")
    if answer is None:
        parts.append('<p class="czqa-meta">Searching…</p></div>')
        return "".join(parts)
    cited = answer.citations
    if not answer.passages:
        parts.append('<p class="czqa-meta">No passages were retrieved.</p>')
    parts.append('<ol class="czqa-passages">')
    passages = merge_overlapping(answer.passages)
    top = max((p.score for p in passages), default=0.0)
    for rank, p in enumerate(passages, start=1):
        is_cited = any(c.source == p.source and c.start < p.end and c.end > p.start for c in cited)
        cls = "czqa-passage czqa-cited" if is_cited else "czqa-passage"
        badge = '<span class="czqa-badge">quoted</span>' if is_cited else ""
        label, why = relevance(p.score, top)
        parts.append(
            f'<li class="{cls}"><div class="czqa-passage-head"><span class="czqa-rank">{rank}</span>{badge}'
            f'<span class="czqa-score" title="{why}">{label}</span></div>'
            f'<div class="czqa-passage-source">{source_label(p.source, p.start, p.end, sources)}</div>'
            f'<div class="czqa-passage-text">{highlight(p, cited)}</div></li>'
        )
    parts.append("</ol></div>")
    return "".join(parts)
