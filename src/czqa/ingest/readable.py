"""A stretch of a document as its reader sees it: for display only, never for quotes.

Citations point at a file's own characters (an HTML file's tags and entities, a Markdown file's
marks); what a person reads is the text those characters show. Answers and the page show this
readable form, cut from exact offsets first (so it always matches a quote's own range).
"""

from __future__ import annotations

import html
import re

from czqa.ingest.clean import visible_text


def fold(text: str) -> str:
    """White space folded to single spaces (hard-wrapped lines read as one paragraph)."""
    return re.sub(r"\s+", " ", text)


_PARTIAL_TAG_START = re.compile(r"^[^<>]*>")  # the end of a tag cut off at a segment's start
_PARTIAL_TAG_END = re.compile(r"<[^<>]*$")  # a tag cut off at a segment's end
MARKDOWN_SUFFIXES = (".md", ".markdown")
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|h[1-6]|li|ul|ol|tr|td|th|table|section|article|header|footer|nav|main|aside|"
    r"blockquote|pre|dd|dt|dl|figure|figcaption|title|head|body|html)\b[^<>]*>", re.IGNORECASE)
_INLINE_TAG = re.compile(r"<[^<>]*>")


def readable(text: str, source: str) -> str:
    """A stretch of ``source``'s text as its reader sees it, white space folded: HTML without
    tags (a block element's edge reads as a space, an inline one's as nothing) and with entities
    decoded, Markdown without its marks and link targets; plain text as it is. Only the display
    changes: quotes and offsets keep pointing at the file's own characters, so a highlighted
    stretch is cut by offsets first and made readable after."""
    name = source.lower()
    if name.endswith((".html", ".htm")):
        text = _PARTIAL_TAG_END.sub(" ", _PARTIAL_TAG_START.sub(" ", text))
        text = html.unescape(_INLINE_TAG.sub("", _BLOCK_TAG.sub(" ", text)))
        shown = " ".join(text.split())
    elif name.endswith(MARKDOWN_SUFFIXES):
        shown = visible_text(text, is_html=False)
    else:
        return fold(text)
    lead = " " if text[:1].isspace() and shown else ""
    trail = " " if text[-1:].isspace() and shown else ""
    return f"{lead}{shown}{trail}"
