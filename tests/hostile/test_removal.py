"""Removing a document from the page never loses a file: every removal of the same name is kept.

Removed files used to be renamed into ``.czqa-removed/`` with a one-second timestamp, and a
rename replaces: nine removals of the same name within seconds each said "kept", three survived.
"""

from __future__ import annotations

import threading

from czqa.web.uploads import REMOVED_FOLDER, remove_document


def test_nine_removals_of_one_name_keep_nine_files(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "other.txt").write_text("Another document, so the folder is never emptied.")
    for n in range(9):
        (folder / "notes.txt").write_text(f"version {n}")
        done = remove_document("notes.txt", folder=folder, indexed=["notes.txt", "other.txt"])
        assert done.removed == ["notes.txt"] and not done.refused
    kept = sorted(p.read_text() for p in (folder / REMOVED_FOLDER).iterdir())
    assert kept == [f"version {n}" for n in range(9)]


def test_removals_racing_for_one_name_replace_nothing(tmp_path):
    folders = []
    for n in range(8):  # eight folders' files removed into one shared trash name at once
        folder = tmp_path / "docs"
        sub = folder / f"s{n}"
        sub.mkdir(parents=True)
        (sub / "a.txt").write_text(f"copy {n}")
        folders.append(sub)
    (tmp_path / "docs" / "keep.txt").write_text("keep")
    from czqa.web import uploads

    barrier = threading.Barrier(8)
    errors = []

    def remove(n):
        barrier.wait()
        try:
            uploads._move_aside(folders[n] / "a.txt", tmp_path / "docs" / REMOVED_FOLDER / "a.txt")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=remove, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    kept = sorted(p.read_text() for p in (tmp_path / "docs" / REMOVED_FOLDER).iterdir())
    assert kept == [f"copy {n}" for n in range(8)]
