"""Leftovers in the index folder: crashed writers' temporary files and superseded generations.

A save, and a load that finds no writer busy, remove them; the current generation and the one
before it (readers that read the old manifest a moment before the switch still open it) stay.
"""

from __future__ import annotations

import json
import os

import pytest

from czqa.index.build import build_index
from czqa.index.store import MANIFEST, load_index, sweep
from czqa.settings import Settings
from doubles import HashingEncoder, docs_folder

PROSE = "The harbour bridge reopened on Monday after a two-year repair that cost 84 million euros.\n"


@pytest.fixture
def settings(tmp_path):
    seeds = docs_folder(tmp_path, {"a.txt": PROSE})
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index")


def rebuild_with(settings, text):
    (settings.seeds_dir / "a.txt").write_text(text, encoding="utf-8")
    data, _ = build_index(settings, encoder=HashingEncoder())
    return data.manifest.generation


def leave_leftovers(index_dir):
    """What a writer killed at the wrong moment leaves behind."""
    (index_dir / ".tmp-k1ll3d").mkdir()
    (index_dir / ".tmp-k1ll3d" / "chunks.json").write_text("[]")
    (index_dir / f".{MANIFEST}.0123456789abcdef").write_text("{")
    (index_dir / "gen-0000deadbeef").mkdir()
    return {".tmp-k1ll3d", f".{MANIFEST}.0123456789abcdef", "gen-0000deadbeef"}


def names(index_dir):
    return {p.name for p in index_dir.iterdir()}


def test_a_save_removes_crashed_writers_files_and_old_generations(settings):
    first = rebuild_with(settings, PROSE)
    leftovers = leave_leftovers(settings.index_dir)
    second = rebuild_with(settings, PROSE + "The tunnel closed in May.\n")
    third = rebuild_with(settings, PROSE + "The ferry resumed in June.\n")
    assert len({first, second, third}) == 3
    assert names(settings.index_dir) == {MANIFEST, third, second}  # second: the previous one
    assert not leftovers & names(settings.index_dir)
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    assert manifest["generation"] == third and manifest["previous_generation"] == second


def test_rebuilding_the_same_content_keeps_the_previous_generation(settings):
    first = rebuild_with(settings, PROSE)
    second = rebuild_with(settings, PROSE + "The tunnel closed in May.\n")
    assert rebuild_with(settings, PROSE + "The tunnel closed in May.\n") == second
    assert names(settings.index_dir) == {MANIFEST, first, second}


def test_a_load_removes_leftovers_when_no_writer_is_busy(settings):
    current = rebuild_with(settings, PROSE)
    leave_leftovers(settings.index_dir)
    data = load_index(settings.index_dir)
    assert names(settings.index_dir) == {MANIFEST, current}
    assert data.chunks


@pytest.mark.skipif(os.name != "posix", reason="the writer lock is POSIX flock")
def test_a_load_leaves_a_busy_writers_files_alone(settings):
    import fcntl

    rebuild_with(settings, PROSE)
    leftovers = leave_leftovers(settings.index_dir)
    fd = os.open(settings.index_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer in the middle of its save
        load_index(settings.index_dir)
        assert leftovers <= names(settings.index_dir)
    finally:
        os.close(fd)


def test_with_an_unreadable_manifest_no_generation_is_removed(settings):
    current = rebuild_with(settings, PROSE)
    leave_leftovers(settings.index_dir)
    (settings.index_dir / MANIFEST).write_text("{damaged")
    sweep(settings.index_dir)
    assert {current, "gen-0000deadbeef"} <= names(settings.index_dir)
    assert ".tmp-k1ll3d" not in names(settings.index_dir)
