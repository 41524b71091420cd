"""The reply as Markdown: what the chat's copy button puts on the clipboard.

Gradio's chatbot copies a message's content verbatim, and the content here is HTML (the page's
look and its escaping live in it). A person pasting an answer into notes or an e-mail wants the
words and where they come from, so each final reply carries this Markdown in a hidden element
(``<div class="czqa-copy" hidden>``, see :func:`czqa.web.render.render_answer`), and the page's
script (:mod:`czqa.web.script`) hands it to the clipboard instead of the HTML. The citation
markers keep the numbers the reply shows, and a "Sources" list at the end says what each number
is, by document title, file and line, since a link into the page means nothing once pasted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from czqa.answering.followup.resolver import Resolution
from czqa.types import CLOSEST_MATCHES, DECLINED, Answer, Span
from czqa.web.markup import fold, numbering, plain_label, readable, snippet
from czqa.web.sources import SourceInfo


# Characters Markdown reads as markup; "_" only at a word's edge (CommonMark ignores it inside
# words), so file names such as 003_a6700be5.txt paste as they are.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<]|(?<![^\W_])_|_(?![^\W_])")


def md(text: str) -> str:
    """``text`` on one line with the characters Markdown would read as markup backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), fold(text).strip())


def reply_markdown(answer: Answer, *, sources: Mapping[str, SourceInfo], resolution: Resolution | None = None) -> str:
    """The final reply for ``answer`` as Markdown, with its citation numbers and their sources."""
    numbers = numbering(answer)
    first_use: dict[int, Span] = {}

    def ref(span: Span) -> str:
        n = numbers.number(span)
        if n is None:
            return ""
        first_use.setdefault(n, span)
        return f" [{n}]"

    blocks: list[str] = []
    if resolution is not None and resolution.rewritten:
        blocks.append(f"Understood as: *{md(resolution.resolved)}*")
    if answer.abstained:
        blocks.append(md(f"{DECLINED} {answer.declined_reason or ''}"))
        closest = answer.passages[:CLOSEST_MATCHES]
        if closest:
            items = "\n".join(f"- “{md(snippet(p.text))}”{ref(p)}" for p in closest)
            blocks.append(f"Closest matches (not an answer):\n\n{items}")
    elif answer.conflict:
        blocks.append("**The documents disagree**")
        for side in answer.conflicts:
            blocks.append(f"> **{md(side.value)}**: “{md(_shown(side.citation))}”{ref(side.citation)}")
    else:
        if answer.short_answer:
            blocks.append(f"**{md(answer.short_answer)}**")
        elif answer.numbered:
            blocks.append(" ".join(
                md(claim.text) + "".join(dict.fromkeys(ref(c) for c in claim.citations))
                for claim in answer.claims
                if claim.text
            ))
        else:
            blocks.append("The documents say:")
        blocks.extend(f"> “{md(_shown(c))}”{ref(c)}" for c in answer.citations)
    if answer.note:
        blocks.append(f"*{md(answer.note)}*")
    if first_use:
        listed = "\n".join(
            f"- [{n}] {md(plain_label(span.source, span.start, sources))}" for n, span in sorted(first_use.items())
        )
        blocks.append(f"Sources:\n\n{listed}")
    return "\n\n".join(blocks)


def _shown(c) -> str:
    """A quote as its reader sees it (HTML and Markdown marks read as text), as the reply shows it."""
    return c.shown or readable(c.quote, c.source).strip()
