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

from markupsafe import Markup

from czqa.answering.followup.resolver import Resolution
from czqa.types import CLOSEST_MATCHES, DECLINED, Answer, Citation
from czqa.web.copytext import reply_markdown
from czqa.web.markup import Numbering, cite_link, esc, fold, merge_overlapping, numbering, readable, snippet, source_label
from czqa.web.panel import highlight, relevance, render_documents, render_sources
from czqa.web.sources import SourceInfo
from czqa.web.templating import render

__all__ = [  # chat.py and the tests import these from here
    "esc", "highlight", "merge_overlapping", "relevance", "render_answer", "render_documents",
    "render_notice", "render_searching", "render_sources", "render_streaming", "render_user",
]


def _quote(c: Citation, sources: Mapping[str, SourceInfo], numbers: Numbering, *, value: str | None = None) -> dict:
    return {
        "value": value,
        "text": c.shown or readable(c.quote, c.source).strip(),
        "marker": Markup(cite_link(numbers, c, sources)),
        "label": Markup(source_label(c.source, c.start, c.end, sources)),
    }


def _copy(answer: Answer, sources: Mapping[str, SourceInfo], resolution: Resolution | None) -> Markup:
    """The reply's Markdown, hidden, for the copy button; newlines as entities keep the fragment one line."""
    return Markup(esc(reply_markdown(answer, sources=sources, resolution=resolution)).replace("\n", "&#10;"))


def render_answer(
    answer: Answer, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None
) -> str:
    """The chat reply for a final Answer (``templates/answer.html``)."""
    numbers = numbering(answer)
    closest = [
        {"snippet": snippet(p.text), "marker": Markup(cite_link(numbers, p, sources)),
         "label": Markup(source_label(p.source, p.start, p.end, sources))}
        for p in answer.passages[:CLOSEST_MATCHES]
    ] if answer.abstained else []
    prose = [
        # generated sentences, each with the numbers of its sources, as links to them
        {"text": fold(claim.text).strip(),
         "refs": Markup(" ".join(dict.fromkeys(filter(None, (cite_link(numbers, c, sources) for c in claim.citations)))))}
        for claim in answer.claims
    ] if answer.numbered and not answer.short_answer else []
    return render(
        "answer.html",
        resolution=resolution,
        abstained=answer.abstained,
        declined=DECLINED,
        declined_reason=answer.declined_reason,
        closest=closest,
        sides=[_quote(s.citation, sources, numbers, value=s.value) for s in answer.conflicts] if answer.conflict else [],
        short_answer=answer.short_answer,
        prose=prose,
        quotes=[_quote(c, sources, numbers) for c in answer.citations],
        note=answer.note,
        # the mode only: the raw confidence is on a scale no reader of the page can interpret
        # ("evidence score 1.72", "-7.07"); whether it was enough shows as answer or decline
        mode=answer.mode,
        copy=_copy(answer, sources, resolution),
    )


def render_streaming(text: str, *, resolution: Resolution | None = None) -> str:
    """A reply still being generated: the text so far, marked as provisional."""
    return render("progress.html", resolution=resolution, searching=False, draft=fold(text).strip())


def render_searching(*, resolution: Resolution | None = None) -> str:
    """Placeholder while the index is searched."""
    return render("progress.html", resolution=resolution, searching=True, draft="")


def render_notice(message: str) -> str:
    """A polite message about the input (empty, too long) or a failure, in place of a reply."""
    return render("message.html", user=False, text=message)


def render_user(message: str) -> str:
    """The user's own message, escaped like everything else."""
    return render("message.html", user=True, text=fold(message).strip())
