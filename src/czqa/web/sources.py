"""What a reader needs to know about a seed file to judge a quote from it: its title and where.

A file name like ``001_e9bfa794e6e38420.txt`` says nothing to a person; the article's own
headline does. Titles are read from the file itself (its first kept line, when that line is
short like a heading), never invented; a file without one is labelled by its name. Positions
are line numbers, which a person can find in an editor, beside the exact character offsets.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from czqa.ingest.clean import clean, visible_text

TITLE_MIN_WORDS = 4
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


def document_title(text: str, *, is_html: bool = False) -> str | None:
    """The document's headline: its first kept unit when that reads like a heading, not prose.

    The cleaner already finds where the content starts (after menus and banners); a short first
    unit of a few words there is the title ("A Letter From Our CEO: ..."). A date line, an
    address or a first paragraph of prose is not, and gives None.
    """
    cleaned = clean(text, is_html=is_html)
    units = [u for r in cleaned.regions for u in r.units]
    if not units:
        return None
    first = units[0]
    if first.kind != "short" and not first.heading:
        return None
    title = " ".join(visible_text(text[first.start : first.end], is_html=is_html).split())
    title = title.lstrip("#").strip()
    words = re.findall(r"[^\W\d_]{2,}", title)
    if len(words) < TITLE_MIN_WORDS or len(title) > TITLE_MAX_CHARS:
        return None
    return title


def source_info(source: str, text: str) -> SourceInfo:
    """Title and line index of one seed file."""
    is_html = source.lower().endswith((".html", ".htm"))
    starts = (0, *(m.end() for m in re.finditer(r"\r\n|\n|\r", text)))
    return SourceInfo(source=source, title=document_title(text, is_html=is_html), line_starts=starts, text=text)


def describe_sources(texts: Mapping[str, str]) -> dict[str, SourceInfo]:
    """:class:`SourceInfo` for every seed file, keyed by file name."""
    return {source: source_info(source, text) for source, text in texts.items()}
