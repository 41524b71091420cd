"""A whole document, opened at a passage: where "Open the document at line N" leads.

The Sources panel shows a passage with a sentence either side; a reader who doubts it needs the
rest of the document too, the way the file reads. This page is the file's indexed text, escaped,
with its lines kept and the passage marked; the link's ``#czqa-here`` fragment makes the browser
scroll to the mark, so the page needs no script. It opens in a tab of its own, so the
conversation stays as it was. Only documents in the index can be shown, by name: the name is a
key into the loaded texts, never a path, so nothing else on the disk can be reached through it.
"""

from __future__ import annotations

from markupsafe import Markup

from czqa.web.markup import MARKDOWN_SUFFIXES, esc, readable
from czqa.web.sources import SourceInfo
from czqa.web.templating import render

_STYLE = (
    "body{margin:0;font:16px/1.6 'IBM Plex Sans',system-ui,sans-serif;color:#1e293b;background:#f8fafc}"
    "header{padding:16px 20px;background:#fff;border-bottom:1px solid #cbd5e1}"
    "h1{font-size:1.3rem;margin:0 0 4px 0}header p{margin:0;color:#475569;font-size:.9rem}"
    "main{max-width:56rem;margin:0 auto;padding:16px 20px 60vh 20px}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;font:inherit;margin:0}"
    "mark{background:#fde68a;color:inherit;border-radius:2px;scroll-margin-top:30vh;"
    "box-shadow:0 0 0 2px #fde68a}"
    "code{font-family:ui-monospace,monospace;font-size:.9em}"
)


def render_document(info: SourceInfo, start: int, end: int) -> str:
    """The page for ``info``'s document with ``start:end`` marked (clamped to the text)."""
    text = info.text
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    first, last = info.line(start), info.line(max(start, end - 1))
    heading = info.title or info.source
    return render(
        "document.html", one_line=False, missing=False, title=f"{heading} · czqa", style=Markup(_STYLE),
        heading=heading, source=info.source, where=f"line {first}" if first == last else f"lines {first}–{last}",
        before=_shown(text[:start], info.source), passage=_shown(text[start:end], info.source),
        after=_shown(text[end:], info.source),
    )


def _shown(text: str, source: str) -> Markup:
    """A stretch of the document as HTML: its lines kept, and in an HTML or Markdown file each
    line as its reader sees it (tags, marks and link targets removed, see ``readable``)."""
    if not source.lower().endswith((".html", ".htm", *MARKDOWN_SUFFIXES)):
        return Markup(esc(text))
    lines = [readable(line, source).strip() for line in text.split("\n")]
    return Markup(esc("\n".join(line for n, line in enumerate(lines) if line or (n and lines[n - 1]))))


def render_missing(source: str) -> str:
    """The page for a name that is not a document of the index."""
    return render("document.html", one_line=False, missing=True, title="No such document · czqa", style=Markup(_STYLE), source=source)
