"""Read the documents folder: the one place that touches the corpus on disk.

Every file under the folder, at any depth, ends up in exactly one of three lists of the
:class:`IngestReport`, so nothing is dropped without a word:

* **indexed**: a UTF-8 text file (``.txt .md .markdown .html .htm``), however short;
* **skipped**, by design: another file type (``not a text file type: .pdf``), a hidden file or
  folder (``.git/`` is listed once, not file by file), a special file (FIFO, socket, device:
  reading one could hang), a second name for a file or folder already read (a link to it);
* **refused**, because czqa must not or cannot read it: binary, not UTF-8, empty, no visible
  text, larger than ``CZQA_INGEST__MAX_FILE_MB``, unreadable, a broken link, a link loop, or a
  link that leads outside the folder. That last one is the trust boundary: without it any file
  this user can read could be quoted in answers by whoever can put a link in the folder
  (``CZQA_INGEST__FOLLOW_LINKS_OUTSIDE=true`` allows it, for trusted folders).

The index folder, when it lies inside the documents folder, is passed over silently: it is
czqa's own output, not a document. Names (each document's citation ``source``) are POSIX paths
relative to the folder (``sub/notes.md``); a file directly in the folder keeps its bare name, as
before, so existing indexes and citations do not change. The text kept is the file's exact text
(newlines untouched), because every offset czqa hands out points into it.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from czqa.errors import SeedsError
from czqa.ingest.clean import has_visible_text
from czqa.ingest.filenames import citation_name
from czqa.ingest.text import Utf8Text
from czqa.settings import IngestSettings

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
#: The folder's own czqa settings (the page's title, description, example questions): read by
#: :mod:`czqa.web.folder`, listed as skipped here, never indexed as a document.
FOLDER_FILE = "czqa.toml"
#: Where the chat page keeps removed documents, inside the folder: czqa's own, so never read and
#: never reported as a skipped folder.
REMOVED_FOLDER = ".czqa-removed"
# Reasons that mean "not a document, by design" rather than "a document czqa would not read".
_SKIP_REASONS = ("czqa's settings", "not a text file type", "hidden", "same file as", "same folder as", "not a regular file")


class Document:
    """One seed file: its name (the citation source), exact text and content hash.

    The text is held as the file's own UTF-8 bytes (:class:`czqa.ingest.text.Utf8Text`:
    ``content``), a byte per ASCII character where a ``str`` may take four; ``text`` decodes
    it whole, for the build's cleaning and splitting; serving cuts passages from ``content``.
    """

    __slots__ = ("source", "content", "sha256")

    def __init__(self, source: str, text: str | None = None, sha256: str = "", *, content: Utf8Text | None = None) -> None:
        if (text is None) == (content is None):
            raise TypeError("Document takes its text either as text (a str) or as content (Utf8Text)")
        self.source = source
        self.content = content if content is not None else Utf8Text.of(text)  # type: ignore[arg-type]
        self.sha256 = sha256

    @property
    def text(self) -> str:
        return str(self.content)

    @property
    def is_html(self) -> bool:
        return self.source.lower().endswith((".html", ".htm"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return (self.source, self.sha256, self.content) == (other.source, other.sha256, other.content)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Document(source={self.source!r}, {len(self.content.data)} bytes, sha256={self.sha256[:12]!r})"


class FileIssue(BaseModel):
    """A file (or a whole folder, its path ending in ``/``) that was not indexed, and why."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str
    kind: Literal["skipped", "refused"] = "skipped"

    def line(self) -> str:
        return f"{self.kind} {self.path}: {self.reason}"


class IngestReport(BaseModel):
    """What became of every file in the documents folder: indexed, skipped or refused."""

    indexed: list[str] = []
    skipped: list[FileIssue] = []
    refused: list[FileIssue] = []

    @classmethod
    def from_parts(cls, indexed: Iterable[str], issues: Iterable[FileIssue]) -> "IngestReport":
        issues = sorted(issues, key=lambda i: i.path)
        return cls(
            indexed=sorted(indexed),
            skipped=[i for i in issues if i.kind == "skipped"],
            refused=[i for i in issues if i.kind == "refused"],
        )

    def summary(self) -> str:
        return f"{len(self.indexed)} indexed, {len(self.skipped)} skipped, {len(self.refused)} refused"

    def lines(self) -> list[str]:
        """One line per file that was not indexed, refused ones first (they need a look)."""
        return [i.line() for i in self.refused + self.skipped]


def issue_kind(reason: str) -> Literal["skipped", "refused"]:
    """The kind of a reason written by this module (for callers that kept only path -> reason)."""
    return "skipped" if reason.startswith(_SKIP_REASONS) else "refused"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Byte-order marks of the Unicode encodings other than UTF-8 that text files are saved in
#: (Windows tools write UTF-16 with a BOM). Longest first: UTF-32 LE starts like UTF-16 LE.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def utf8_bytes(data: bytes) -> bytes | None:
    """The file's text as UTF-8 bytes, or None when it is not text we can quote.

    UTF-8 is taken as it is. A file that starts with a UTF-16 or UTF-32 byte-order mark is
    decoded by it (the mark is not text) and re-encoded. Anything else with a NUL byte is
    binary, and bytes that are not UTF-8 are refused rather than guessed at.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeError:
                return None
            return None if "\x00" in text else text.encode("utf-8")
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def decode_text(data: bytes) -> str | None:
    """The file's text, or None when it is not text we can quote (see :func:`utf8_bytes`).

    This is the text citation offsets count characters of: newlines as they are in the file
    (``\\r\\n`` stays, as ``open(path, newline="")`` reads it), a UTF-8 BOM as its one
    character (it never lands in a quote), a UTF-16/32 file without its byte-order mark.
    """
    utf8 = utf8_bytes(data)
    return None if utf8 is None else utf8.decode("utf-8")


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or type(exc).__name__


class _Walk:
    """One walk of the folder: real (link-free) paths first, links after, each file and folder
    read once. Links wait until the real tree is walked so that a file keeps its real name and
    its links are the ones reported as second names; folders are tracked by resolved path, so
    a link loop is reported and never followed."""

    def __init__(self, root: Path, settings: IngestSettings, excluded: set[Path]) -> None:
        self.root, self.settings, self.excluded = root, settings, excluded
        self.files: list[tuple[str, Path]] = []  # (source name, real path), in walk order
        self.issues: list[FileIssue] = []
        self._file_names: dict[Path, str] = {}
        self._folders: dict[Path, str] = {root: "./"}
        self._queue: list[tuple[Path, str]] = [(root, "")]
        self._links: list[tuple[str, Path]] = []

    def run(self) -> None:
        self._drain()
        while self._links:
            self._links.sort(key=lambda item: item[0])
            rel, link = self._links.pop(0)
            self._follow(rel, link)
            self._drain()

    def _issue(self, path: str, reason: str, kind: Literal["skipped", "refused"]) -> None:
        log.info("%s %s: %s", kind, path, reason)  # the report is the channel: no warning per ask
        self.issues.append(FileIssue(path=path, reason=reason, kind=kind))

    def _drain(self) -> None:
        while self._queue:
            folder, prefix = self._queue.pop(0)  # breadth first, in name order
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self._issue(prefix or "./", f"unreadable folder: {_why(exc)}", "refused")
                continue
            shown: dict[str, str] = {}
            for entry in entries:
                name = citation_name(entry.name)  # printable and unambiguous; the file is read by its path
                path, rel = Path(entry.path), prefix + name
                if path in self.excluded:
                    continue
                if name in shown:  # two names escaping alike (a real "\\x0a" beside a newline)
                    self._issue(rel, f"its name shows the same as another file's ({prefix}{shown[name]!r}); rename one", "skipped")
                    continue
                shown[name] = entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_link = entry.is_symlink()
                except OSError:
                    is_dir = is_link = False
                if entry.name == REMOVED_FOLDER and is_dir and not prefix:
                    continue
                if entry.name.startswith("."):
                    what = "hidden folder (not read)" if is_dir else "hidden file"
                    self._issue(rel + "/" if is_dir else rel, what, "skipped")
                elif is_link:
                    self._links.append((rel, path))
                else:
                    self._add(rel, path)

    def _follow(self, rel: str, link: Path) -> None:
        try:
            target = link.resolve(strict=True)
        except FileNotFoundError:
            return self._issue(rel, "broken link (its target does not exist)", "refused")
        except (RuntimeError, OSError) as exc:  # Python <3.13 says RuntimeError, later ELOOP
            if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
                return self._issue(rel, "link loop (the link leads back to itself)", "refused")
            return self._issue(rel, f"unreadable link: {_why(exc)}", "refused")
        if target in self.excluded:
            return None
        is_dir = target.is_dir()
        name = rel + "/" if is_dir else rel
        if is_dir and link.parent.is_relative_to(target):
            return self._issue(name, "link loop (leads back to a folder that holds it)", "refused")
        if not target.is_relative_to(self.root) and not self.settings.follow_links_outside:
            what = "folder" if is_dir else "file"
            reason = f"link to a {what} outside the documents folder (CZQA_INGEST__FOLLOW_LINKS_OUTSIDE=true allows it)"
            return self._issue(name, reason, "refused")
        self._add(rel, target)

    def _add(self, rel: str, path: Path) -> None:
        try:
            st = os.stat(path)
        except OSError as exc:
            return self._issue(rel, f"unreadable: {_why(exc)}", "refused")
        if stat.S_ISDIR(st.st_mode):
            if path in self._folders:
                return self._issue(rel + "/", f"same folder as {self._folders[path]}", "skipped")
            self._folders[path] = rel + "/"
            self._queue.append((path, rel + "/"))
            return None
        if not stat.S_ISREG(st.st_mode):
            return self._issue(rel, "not a regular file (a device, FIFO or socket)", "skipped")
        if path in self._file_names:
            return self._issue(rel, f"same file as {self._file_names[path]}", "skipped")
        self._file_names[path] = rel
        suffix = Path(rel).suffix.lower()  # the cited name decides, as it decides HTML handling
        if rel == FOLDER_FILE:  # czqa's own settings for the folder: not a document left out, so not reported
            return None
        if suffix not in TEXT_SUFFIXES:
            return self._issue(rel, f"not a text file type: {suffix or '(no suffix)'}", "skipped")
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        if st.st_size > limit:
            mb = st.st_size / (1024 * 1024)
            reason = f"too large ({mb:.1f} MB; the limit is {self.settings.max_file_mb:g} MB, CZQA_INGEST__MAX_FILE_MB)"
            return self._issue(rel, reason, "refused")
        self.files.append((rel, path))
        return None


def _read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, opened without following a link swapped in since the walk and without
    blocking on a FIFO; ValueError when it is no longer a regular file or grew past ``limit``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError("not a regular file (it changed while being read)")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError("too large (it grew while being read)")
    return data


def _document(rel: str, path: Path, limit: int, known: Mapping[str, str]) -> Document | FileIssue:
    try:
        data = _read_limited(path, limit)
    except OSError as exc:
        return FileIssue(path=rel, reason=f"unreadable: {_why(exc)}", kind="refused")
    except ValueError as exc:
        return FileIssue(path=rel, reason=str(exc), kind="refused")
    digest = sha256_bytes(data)
    if known.get(rel) == digest and not data.startswith(tuple(bom for bom, _ in _BOMS)):
        return Document(rel, sha256=digest, content=Utf8Text(data))  # read, checked and indexed before
    utf8 = utf8_bytes(data)
    if known.get(rel) == digest and utf8 is not None:
        return Document(rel, sha256=digest, content=Utf8Text(utf8))
    if utf8 is None:
        reason = "binary file" if b"\x00" in data else "not valid UTF-8 text"
        return FileIssue(path=rel, reason=reason, kind="refused")
    text = utf8.decode("utf-8")
    if not text or text.isspace():  # (not text.strip(), without copying the text)
        return FileIssue(path=rel, reason="empty file", kind="refused")
    doc = Document(rel, sha256=digest, content=Utf8Text(utf8))
    if not has_visible_text(text, is_html=doc.is_html):
        return FileIssue(path=rel, reason="no visible text (only markup, links or images)", kind="refused")
    return doc


def ingest(
    seeds_dir: Path, *, settings: IngestSettings | None = None, exclude: Sequence[Path] = (),
    known: Mapping[str, str] | None = None,
) -> tuple[list[Document], IngestReport]:
    """Read every file under ``seeds_dir`` (recursively): the documents, and the report that
    accounts for every other file. ``exclude`` names folders to pass over silently (the index).
    ``known`` (source → sha256, an index manifest's ``files``): a file whose bytes hash to its
    entry there was checked as text when it was indexed, so it is not decoded again here (for a
    large folder, decoding was most of the time a load took).

    ``settings`` default to the environment's (``CZQA_INGEST__*``), so callers that pass only a
    folder still honour them. Raises :class:`SeedsError` when the folder is missing or no file
    in it is usable, since an index over nothing would answer every question with "the
    documents don't say".
    """
    if settings is None:
        from czqa.settings import load_settings

        settings = load_settings().ingest
    files, issues = list_files(seeds_dir, settings=settings, exclude=exclude)
    limit = int(settings.max_file_mb * 1024 * 1024)
    return collect(seeds_dir, [read_file(rel, path, limit=limit, known=known or {}) for rel, path in files], issues)


def list_files(seeds_dir: Path, *, settings: IngestSettings, exclude: Sequence[Path] = ()) -> tuple[list[tuple[str, Path]], list[FileIssue]]:
    """The files to read, as (source name, path) in name order, and the ones passed over with why
    (hidden, links, types, sizes): the walk :func:`ingest` starts with, for a caller that reads
    the files elsewhere (a Ray build's workers)."""
    if not seeds_dir.exists():
        raise SeedsError(f"Seeds folder not found: {seeds_dir}. Pass the folder to answer from with --seeds DIR "
                         "(or set CZQA_SEEDS).")
    if not seeds_dir.is_dir():
        raise SeedsError(f"Seeds path is not a folder: {seeds_dir}")
    walk = _Walk(seeds_dir.resolve(), settings, {p.resolve() for p in exclude})
    walk.run()
    return sorted(walk.files), list(walk.issues)


def read_file(rel: str, path: Path, *, limit: int, known: Mapping[str, str]) -> Document | FileIssue:
    """One listed file read and checked as text: a Document, or the FileIssue saying why not."""
    got = _document(rel, path, limit, known)
    if isinstance(got, FileIssue):
        log.info("refused %s: %s", got.path, got.reason)
    return got


def collect(seeds_dir: Path, results: Iterable[Document | FileIssue], issues: Sequence[FileIssue]) -> tuple[list[Document], IngestReport]:
    """The documents read and the report of every file not indexed; SeedsError when none is usable."""
    results = list(results)
    docs = [r for r in results if isinstance(r, Document)]
    issues = list(issues) + [r for r in results if isinstance(r, FileIssue)]
    report = IngestReport.from_parts((d.source for d in docs), issues)
    if not docs:
        what = f"no readable text files ({', '.join(TEXT_SUFFIXES)})"
        if issues:
            what += "; " + "; ".join(report.lines())
        raise SeedsError(f"Seeds folder {seeds_dir} has {what}.")
    return docs, report
