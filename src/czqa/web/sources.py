"""What a reader needs to know about a seed file to judge a quote from it: its title and where.

A file name like ``001_e9bfa794e6e38420.txt`` says nothing to a person; the article's own
headline does. Titles are read from the file itself (an HTML ``<title>``, a first heading, or a
short first line that reads like one: :func:`document_title`), never invented; a file without
one is labelled by its name. Positions
are line numbers, which a person can find in an editor, beside the exact character offsets.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field

from czqa.ingest.clean import clean, visible_text

TITLE_MIN_WORDS = 4
#: A title is looked for in the document's first characters only: cleaning a whole 1 MB file
#: to read its first line cost about 0.2 s, and the headline is at the start.
TITLE_SCAN_CHARS = 65_536
#: SourceInfo kept made (each holds its document's text): the documents cited lately.
KEEP_SOURCES = 64
TITLE_MAX_CHARS = 150


class SourceInfo(BaseModel):
    """A seed file's display name and line index."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="The seed file name (a citation's ``source``).")
    title: str | None = Field(None, description="The document's own headline, when it has one.")
    line_starts: tuple[int, ...] = Field((0,), description="Offset at which each line begins.")
    # The page shows a quote inside its neighbouring sentences and opens the document at the
    # quote, both from this text (the index's own copy, not re-read from disk, so offsets match).
    text: str = Field("", repr=False, description="The file's text, as indexed (offsets point into it).")

    @property
    def label(self) -> str:
        """Title when known, otherwise the file name."""
        return self.title or self.source

    def line(self, offset: int) -> int:
        """The 1-based line holding character ``offset``."""
        return bisect.bisect_right(self.line_starts, offset)

    @property
    def is_html(self) -> bool:
        return self.source.lower().endswith((".html", ".htm"))


# An HTML page's own <title>, and its first <h1>: bounded so a page of unclosed tags scans once.
_HTML_TITLE = re.compile(r"<title\b[^>]{0,200}>([^<]{1,1000})</title\s*>", re.IGNORECASE)
_HTML_H1 = re.compile(r"<h1\b[^>]{0,200}>((?:[^<]|<(?!/?h1\b)){1,1000})</h1\s*>", re.IGNORECASE)
#: A heading is looked for among the first kept units only: a "# Section" deep in a file names
#: that section, not the document.
HEADING_UNITS = 3


def document_title(text: str, *, is_html: bool = False) -> str | None:
    """The document's own title, by one rule for every view (header, Sources, document view).

    In order: an HTML page's ``<title>``; its first heading (an HTML ``<h1>``, or a Markdown ``#``
    line among the first kept units); else its first kept unit when that is short and reads like
    a heading (plain text has no markup to say so: at least :data:`TITLE_MIN_WORDS` words, so a
    date line or an address line is not taken). None when there is none: the file name labels it.
    """
    if is_html:
        for pattern in (_HTML_TITLE, _HTML_H1):
            if (m := pattern.search(text)) and (title := _title(visible_text(m.group(1), is_html=True), min_words=1)):
                return title
    cleaned = clean(text, is_html=is_html)
    units = [u for r in cleaned.regions for u in r.units][:HEADING_UNITS]
    for unit in units:
        if unit.heading and (title := _title(visible_text(text[unit.start : unit.end], is_html=is_html), min_words=1)):
            return title
    if not units or units[0].kind != "short":
        return None
    first = units[0]
    return _title(visible_text(text[first.start : first.end], is_html=is_html), min_words=TITLE_MIN_WORDS)


def _title(candidate: str, *, min_words: int) -> str | None:
    """``candidate`` folded to one line, if it has ``min_words`` words and fits a heading."""
    title = " ".join(candidate.split()).lstrip("#").strip()
    words = re.findall(r"[^\W\d_]{2,}", title)
    if len(words) < min_words or len(title) > TITLE_MAX_CHARS:
        return None
    return title


def source_info(source: str, text: str) -> SourceInfo:
    """Title and line index of one seed file."""
    is_html = source.lower().endswith((".html", ".htm"))
    starts = (0, *(m.end() for m in re.finditer(r"\r\n|\n|\r", text)))
    title = document_title(text[:TITLE_SCAN_CHARS], is_html=is_html)
    return SourceInfo(source=source, title=title, line_starts=starts, text=text)


class SourceMap(Mapping[str, SourceInfo]):
    """:class:`SourceInfo` for every document, keyed by file name, each made when first asked
    for (the page asks for the documents a reply cites) and the last :data:`KEEP_SOURCES` kept.

    Made all at once, a folder of 100 files of 0.9 MB took 19 s and 345 MB before the page could
    start (cleaning every file for its title, holding every text twice); a million passages
    would have taken minutes and gigabytes.
    """

    def __init__(self, texts: Mapping[str, str], *, keep: int = KEEP_SOURCES) -> None:
        self._texts = texts
        self._made = functools.lru_cache(maxsize=keep)(self._make)

    def _make(self, source: str) -> SourceInfo:
        return source_info(source, self._texts[source])  # KeyError for a source not served (not cached)

    def __getitem__(self, source: str) -> SourceInfo:
        return self._made(source)

    def __contains__(self, source: object) -> bool:
        return source in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def describe_sources(texts: Mapping[str, str]) -> SourceMap:
    """:class:`SourceInfo` for every seed file, keyed by file name (made on first use)."""
    return SourceMap(texts)
