"""Turn an :class:`~czqa.types.Answer` into the HTML the chat page shows.

Everything that comes from a document, a model or the user passes through :func:`html.escape`
before it is placed in markup: a seed file may hold ``<script>`` or ``<img onerror=...>`` (web
pages do), and the page must show such text, never run it. The markup itself is fixed here.

Every fragment is a single line that starts with a block element. The chat component renders
messages as Markdown; a one-line HTML block is passed through untouched, so a ``*`` or ``_`` in a
quote is not read as emphasis. (``$`` is not read as LaTeX either: the page turns that off.)

The reply reads top-down the way a person checks an answer: the short answer, then the quotes
that support it, each labelled with the document and line it comes from and marked with the
number of its entry in the Sources panel ([1], a link there: :mod:`czqa.web.markup`). A declined
question says so plainly and offers the nearest passages as "closest matches", visibly not an
answer; disagreeing sources are set side by side. A final reply also carries its Markdown form,
hidden, for the copy button (:mod:`czqa.web.copytext`). The Sources panel is :mod:`czqa.web.panel`.
"""

from __future__ import annotations

from collections.abc import Mapping

from czqa.answering.followup.resolver import Resolution
from czqa.types import DECLINED, Answer, Citation
from czqa.web.copytext import CLOSEST_MATCHES, reply_markdown
from czqa.web.markup import Numbering, cite_link, esc, fold, merge_overlapping, numbering, readable, snippet, source_label
from czqa.web.panel import highlight, relevance, render_documents, render_sources
from czqa.web.sources import SourceInfo

__all__ = [  # chat.py and the tests import these from here
    "esc", "highlight", "merge_overlapping", "relevance", "render_answer", "render_documents",
    "render_notice", "render_searching", "render_sources", "render_streaming", "render_user",
]


def _quote(c: Citation, sources: Mapping[str, SourceInfo], numbers: Numbering, *, value: str | None = None) -> str:
    head = f'<div class="czqa-value">{esc(value)}</div>' if value else ""
    marker = cite_link(numbers, c, sources)
    return (
        f'<blockquote class="czqa-quote">{head}<p>“{esc(c.shown or readable(c.quote, c.source).strip())}”{" " + marker if marker else ""}</p>'
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
    # The mode only: the raw confidence is on a scale no reader of the page can interpret
    # ("evidence score 1.72", "-7.07"); whether it was enough shows as answer or decline.
    return f'<p class="czqa-meta">{esc(answer.mode)} answer</p>'


def _copy(answer: Answer, sources: Mapping[str, SourceInfo], resolution: Resolution | None) -> str:
    """The reply's Markdown, hidden, for the copy button; newlines as entities keep the fragment one line."""
    text = esc(reply_markdown(answer, sources=sources, resolution=resolution)).replace("\n", "&#10;")
    return f'<div class="czqa-copy" hidden>{text}</div>'


def render_answer(
    answer: Answer, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None
) -> str:
    """The chat reply for a final Answer."""
    numbers = numbering(answer)
    parts = ['<div class="czqa-reply">', _understood(resolution)]
    if answer.abstained:
        parts.append(f'<p class="czqa-abstain">{esc(DECLINED)}</p>')
        if answer.declined_reason:
            parts.append(f'<p class="czqa-abstain-why">{esc(answer.declined_reason)}</p>')
        closest = answer.passages[:CLOSEST_MATCHES]
        if closest:
            parts.append('<div class="czqa-closest"><p class="czqa-closest-head">Closest matches (not an answer):</p><ul>')
            for p in closest:
                marker = cite_link(numbers, p, sources)
                parts.append(
                    f"<li><span class=\"czqa-snippet\">{esc(snippet(p.text))}</span>{' ' + marker if marker else ''} "
                    f"<small>— {source_label(p.source, p.start, p.end, sources)}</small></li>"
                )
            parts.append("</ul></div>")
    elif answer.conflict:
        parts.append('<p class="czqa-short czqa-disagree">The documents disagree</p>')
        parts.append('<div class="czqa-conflict">')
        for side in answer.conflicts:
            parts.append(_quote(side.citation, sources, numbers, value=side.value))
        parts.append("</div>")
    else:
        if answer.short_answer:
            parts.append(f'<p class="czqa-short">{esc(answer.short_answer)}</p>')
        elif answer.numbered:
            # Generated sentences, each with the numbers of its sources, as links to them.
            for claim in answer.claims:
                refs = " ".join(dict.fromkeys(filter(None, (cite_link(numbers, c, sources) for c in claim.citations))))
                parts.append(f'<p class="czqa-prose">{esc(fold(claim.text).strip())} <span class="czqa-refs">{refs}</span></p>')
        else:
            parts.append('<p class="czqa-lead">The documents say:</p>')
        for c in answer.citations:
            parts.append(_quote(c, sources, numbers))
    if answer.note:
        parts.append(f'<p class="czqa-note">{esc(answer.note)}</p>')
    parts.append(_meta(answer))
    parts.append(_copy(answer, sources, resolution))
    parts.append("</div>")
    return "".join(parts)


def render_streaming(text: str, *, resolution: Resolution | None = None) -> str:
    """A reply still being generated: the text so far, marked as provisional."""
    return (
        f'<div class="czqa-reply czqa-streaming">{_understood(resolution)}'
        f'<p class="czqa-prose">{esc(fold(text).strip()) or "…"}</p>'
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
    return f'<div class="czqa-user">{esc(fold(message).strip())}</div>'
