"""Read the seed files: the one place that touches the corpus on disk.

A file that cannot be read as UTF-8 text (binary, another encoding) is skipped with a warning
rather than failing the whole build: one bad file must not cost the user the rest of the corpus.
The text kept here is the file's exact text (newlines untouched), because every offset czqa
hands out points into it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from czqa.errors import SeedsError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


@dataclass(frozen=True)
class Document:
    """One seed file: its name (the citation source), exact text and content hash."""

    source: str
    text: str
    sha256: str

    @property
    def is_html(self) -> bool:
        return self.source.lower().endswith((".html", ".htm"))


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seed_paths(seeds_dir: Path) -> list[Path]:
    """Text files directly under ``seeds_dir``, sorted by name so builds are deterministic."""
    if not seeds_dir.exists():
        raise SeedsError(f"Seeds folder not found: {seeds_dir}")
    if not seeds_dir.is_dir():
        raise SeedsError(f"Seeds path is not a folder: {seeds_dir}")
    return sorted(
        p
        for p in seeds_dir.iterdir()
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not p.name.startswith(".")
    )


def decode_text(data: bytes) -> str | None:
    """The file's text, or None when it is not text we can quote (binary or not UTF-8).

    Newlines are read as they are: ``\\r\\n`` stays, so offsets match the bytes a user opens.
    A leading BOM is part of the file's text and simply never lands in a quote.
    """
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_seeds(seeds_dir: Path) -> tuple[list[Document], list[Skipped]]:
    """Read every text file in ``seeds_dir``.

    Raises :class:`SeedsError` when the folder is missing or no file in it is usable, since an
    index over nothing would answer every question with "the documents don't say".
    """
    paths = seed_paths(seeds_dir)
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path in paths:
        data = path.read_bytes()
        text = decode_text(data)
        if text is None:
            reason = "binary file" if b"\x00" in data else "not valid UTF-8 text"
            log.warning("skipping %s: %s", path.name, reason)
            skipped.append(Skipped(path.name, reason))
            continue
        if not text.strip():
            log.warning("skipping %s: empty file", path.name)
            skipped.append(Skipped(path.name, "empty file"))
            continue
        docs.append(Document(source=path.name, text=text, sha256=sha256_bytes(data)))
    if not docs:
        what = f"no readable text files ({', '.join(TEXT_SUFFIXES)})"
        if skipped:
            what += f"; skipped: {', '.join(f'{s.source} ({s.reason})' for s in skipped)}"
        raise SeedsError(f"Seeds folder {seeds_dir} has {what}.")
    return docs, skipped
