"""Add documents to the folder from the chat page, and take them out again; free of Gradio.

The documents folder stays the one source of truth: an upload is written into it as a file (so
``czqa index`` and the CLI see it too), a removal moves the file into the folder's hidden
``.czqa-removed/`` subfolder (recoverable by moving it back; ingestion passes hidden folders
over), and after either the index is refreshed from the folder (:meth:`ChatSession.refresh`).

An upload is checked before anything is written, because the page may be reachable by people
who must not be able to touch any other file: the name must be a plain file name (no folder
part, so ``../x.txt`` or ``/etc/passwd`` cannot escape the folder; not hidden; not the folder's
own ``czqa.toml``), the type one czqa reads, the size within ``CZQA_WEB__MAX_UPLOAD_MB``, the
content UTF-8 text with something visible in it. An existing file is never replaced: the same
content again is simply "already there", different content is refused. Each file is written
under a hidden temporary name and linked into place in one step, so ingestion never reads a
half-written file and a race with another upload of the same name cannot overwrite it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from czqa.errors import CzqaError
from czqa.ingest.clean import visible_text
from czqa.ingest.documents import FOLDER_FILE, REMOVED_FOLDER, TEXT_SUFFIXES, decode_text
from czqa.web.chat import ChatSession
from czqa.web.render import render_documents
from czqa.web.templating import part

log = logging.getLogger(__name__)

#: The file types the page's picker offers (the ones ingestion indexes).
UPLOAD_TYPES = TEXT_SUFFIXES
#: Gradio's sweep of uploads no event consumed (sent to the upload route by a script, say):
#: every 10 minutes, files older than an hour; consumed ones go at once (:func:`forget_uploads`).
UPLOAD_SWEEP = (600, 3600)
_MAX_NAME_BYTES = 200  # well under every filesystem's 255, leaving room for a suffix
MB = 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    """A file that was not added (or removed), and why, in words for the page."""

    name: str
    reason: str
    action: str = "added"  # what did not happen to it: "added" or "removed"


@dataclass
class Changes:
    """What one upload or removal did to the folder, for the page's notice."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already in the folder with the same content
    removed: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the folder changed, so the index needs a refresh."""
        return bool(self.added or self.removed)

    def message(self) -> str:
        """What happened, in plain sentences (the page escapes them)."""
        return " ".join(_lines(self))


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a document's file name in the folder, or None when it can.

    Only a bare file name passes: a folder part (either slash), ``..``, a leading dot (hidden,
    and never indexed), control characters, or the folder's settings file are refused.
    """
    if not name or not name.strip():
        return "the file has no name"
    if "/" in name or "\\" in name or name in (".", ".."):
        return "the name has a folder part; only a plain file name is accepted"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the name holds control characters"
    if name.startswith("."):
        return "hidden files (names starting with a dot) are not indexed"
    if name.lower() == FOLDER_FILE:
        return f"{FOLDER_FILE} holds the folder's page settings, not a document"
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        return f"the name is longer than {_MAX_NAME_BYTES} bytes"
    suffix = Path(name).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return f"not a text file type: {suffix or '(no suffix)'}; czqa reads {' '.join(TEXT_SUFFIXES)}"
    return None


def content_problem(name: str, data: bytes) -> str | None:
    """Why ``data`` is not a document czqa can quote, or None when it is."""
    text = decode_text(data)
    if text is None:
        return "not UTF-8 text"
    if not text.strip():
        return "the file is empty"
    if not visible_text(text, is_html=Path(name).suffix.lower() in (".html", ".htm")):
        return "no visible text (only markup, links or images)"
    return None


def _mb(n: float) -> str:
    return f"{n:g} MB"


def save_uploads(
    files: Iterable[tuple[str, Path]], *, folder: Path, max_bytes: int
) -> Changes:
    """Check each ``(name, path of the uploaded copy)`` and write the good ones into ``folder``.

    Refused files are listed with the reason; nothing is written for them. The index is not
    touched here: the caller refreshes when :attr:`Changes.changed`.
    """
    folder = folder.resolve()
    changes = Changes()
    seen: set[str] = set()
    for name, upload in files:
        reason = name_problem(name)
        if reason is None and name.lower() in seen:
            reason = "a file of that name is already in this upload"
        if reason is None:
            reason, data = _read(upload, max_bytes)
            if reason is None:
                reason = content_problem(name, data)
            if reason is None:
                reason = _write(folder, name, data, changes)
        if reason is not None:
            changes.refused.append(Refusal(name=name or "(no name)", reason=reason))
        seen.add(name.lower())
    return changes


def _read(upload: Path, max_bytes: int) -> tuple[str | None, bytes]:
    try:
        size = upload.stat().st_size
        if size > max_bytes:
            return f"{size / MB:.1f} MB, larger than the {_mb(max_bytes / MB)} limit (CZQA_WEB__MAX_UPLOAD_MB)", b""
        with open(upload, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        return f"the upload could not be read ({exc.strerror or exc})", b""
    if len(data) > max_bytes:
        return f"larger than the {_mb(max_bytes / MB)} limit (CZQA_WEB__MAX_UPLOAD_MB)", b""
    return None, data


def _write(folder: Path, name: str, data: bytes, changes: Changes) -> str | None:
    """Put ``data`` at ``folder/name`` without ever replacing a file; None when done (or already there)."""
    target = folder / name
    if target.parent != folder:  # name_problem already refuses this; the check stays as a guard
        return "the name would leave the documents folder"
    if os.path.lexists(target):
        return _existing(target, name, data, changes)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".czqa-upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, target)  # fails if the name was taken meanwhile: never overwrites
        except FileExistsError:
            return _existing(target, name, data, changes)
        except OSError:  # a filesystem without hard links: rename, having checked just above
            if os.path.lexists(target):
                return _existing(target, name, data, changes)
            os.replace(tmp, target)
    except OSError as exc:
        return f"it could not be written to the documents folder ({exc.strerror or exc})"
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    changes.added.append(name)
    return None


def _existing(target: Path, name: str, data: bytes, changes: Changes) -> str | None:
    try:
        same = target.is_file() and not target.is_symlink() and target.read_bytes() == data
    except OSError:
        same = False
    if same:
        changes.unchanged.append(name)
        return None
    return "a different file of that name is already in the folder; rename the upload or remove the old one first"


def remove_document(source: str, *, folder: Path, indexed: Sequence[str]) -> Changes:
    """Move the indexed document ``source`` (its citation name, maybe ``sub/notes.md``) into the
    folder's ``.czqa-removed/`` subfolder, keeping its sub-path; the caller then refreshes.

    Only a name in ``indexed`` (the current report) is moved, and never the last document: the
    index needs at least one, and an emptied folder would stop the page from answering at all.
    """
    changes = Changes()
    folder = folder.resolve()
    if source not in indexed:
        why = "not an indexed document (the list may be out of date; reload the page)"
        changes.refused.append(Refusal(source or "(none)", why, action="removed"))
        return changes
    if len(indexed) < 2:
        changes.refused.append(Refusal(source, "it is the only document; add another before removing it", action="removed"))
        return changes
    path = folder / source
    if ".." in Path(source).parts or not path.parent.resolve().is_relative_to(folder):
        changes.refused.append(Refusal(source, "the name would leave the documents folder", action="removed"))
        return changes
    if not os.path.lexists(path):
        changes.refused.append(Refusal(source, "the file is no longer in the folder", action="removed"))
        return changes
    try:
        kept = _move_aside(path, folder / REMOVED_FOLDER / source)
    except OSError as exc:
        changes.refused.append(Refusal(source, f"it could not be moved ({exc.strerror or exc})", action="removed"))
        return changes
    log.info("removed %s from the page: kept as %s", source, kept)
    changes.removed.append(source)
    return changes


def _move_aside(path: Path, dest: Path) -> Path:
    """Move ``path`` to ``dest``, or to ``dest`` with a number added when that name is taken;
    never replaces a file (every removal of the same name is kept). Returns where it went.

    The move is a hard link then an unlink: linking fails when the name exists, so two removals
    racing for one name cannot overwrite each other (a rename would silently replace).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        target = dest if n == 1 else dest.with_name(f"{dest.stem}.{n}{dest.suffix}")
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network or FAT file systems): check, then rename
            if os.path.lexists(target):
                continue
            os.rename(path, target)
            return target
        os.unlink(path)
        return target
    raise OSError(f"{dest.parent} already holds 10,000 removed copies of {dest.name}")


def forget_uploads(files: Iterable[str | Path], *, upload_folder: Path, received: set[str]) -> None:
    """Delete the uploaded copies once read: the folder now holds what was kept, and the upload
    folder would otherwise keep every upload until the server stops. A path is no longer
    ``received`` either, so replaying it is refused. Only files inside ``upload_folder`` go."""
    cache = upload_folder.resolve()
    for name in files:
        path = Path(name)
        received.discard(str(name))
        if path.resolve().is_relative_to(cache) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # its hash folder, when empty


# --- the page's steps over a ChatSession (the Gradio layer only hands these to its components) ---


@dataclass(frozen=True)
class Shown:
    """One state of the page after (or while) the folder changes."""

    documents: str  # the documents panel's HTML
    status: str  # the notice under the add/remove controls (HTML)
    message: str  # the same notice as plain text, for a toast
    ok: bool = True  # False: something was refused or failed (a warning, not an info toast)
    busy: bool = False  # True: indexing is still running; a final Shown follows


def indexed(session: ChatSession) -> list[str]:
    """The documents the session answers from now (the remove list's choices)."""
    return list(session.qa.data.ingest_report.indexed)


def documents_html(session: ChatSession, *, busy: str | None = None) -> str:
    """The documents panel: the current ingestion report, led by ``busy`` while indexing."""
    report = render_documents(session.qa.data.ingest_report)
    if busy is None:
        return report
    return part("indexing", busy, Markup(report))


def _status(changes: Changes, error: str | None) -> str:
    return part("notice", _lines(changes), error)


def _lines(changes: Changes) -> list[str]:
    lines = []
    if changes.added:
        lines.append(f"Added {_names(changes.added)}.")
    if changes.unchanged:
        lines.append(f"Already in the folder, unchanged: {_names(changes.unchanged)}.")
    if changes.removed:
        lines.append(f"Removed {_names(changes.removed)} (kept in {REMOVED_FOLDER}/ in the documents folder).")
    lines.extend(f"Not {r.action}: {r.name}: {r.reason}." for r in changes.refused)
    return lines or ["Nothing to do."]


def _finish(session: ChatSession, changes: Changes) -> Shown:
    """Refresh the index when the folder changed, and say what happened."""
    error = None
    if changes.changed:
        try:
            report = session.refresh()
            log.info("documents changed from the page: %s; index: %s", changes.message(), report.summary())
        except CzqaError as exc:
            error = f"The index could not be refreshed: {exc}"
        except Exception:  # the page must answer with a message, never a traceback
            log.exception("refreshing the index failed")
            error = "The index could not be refreshed; see the server's log."
    message = changes.message() if error is None else f"{changes.message()} {error}"
    return Shown(documents=documents_html(session), status=_status(changes, error), message=message,
                 ok=error is None and not changes.refused)


def add_files(session: ChatSession, paths: Sequence[str | Path]) -> Iterator[Shown]:
    """Add the uploaded files (Gradio's copies, named as uploaded) to the session's folder.

    Yields a busy state first when there is indexing to wait for, then the final state.
    """
    web = session.qa.settings.web
    changes = save_uploads(((Path(p).name, Path(p)) for p in paths), folder=Path(session.qa.settings.seeds_dir),
                           max_bytes=int(web.max_upload_mb * MB))
    if changes.changed:
        busy = f"Adding {len(changes.added)} file(s)… indexing"
        yield Shown(documents=documents_html(session, busy=busy), status="", message=busy, busy=True)
    yield _finish(session, changes)


def remove_file(session: ChatSession, source: str) -> Shown:
    """Move ``source`` out of the session's folder (into ``.czqa-removed/``) and refresh."""
    changes = remove_document(source, folder=Path(session.qa.settings.seeds_dir), indexed=indexed(session))
    return _finish(session, changes)
