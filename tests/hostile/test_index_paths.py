"""Index locations that cannot hold an index: one clear line and exit code 4, never a traceback,
never a deleted user file, and no embedding work spent first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from czqa.errors import IndexLocationError, IndexUnusable
from czqa.index.build import build_index, ensure_index
from czqa.index.store import MANIFEST
from czqa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROSE = "The harbour bridge reopened on Monday after a two-year repair that cost 84 million euros.\n"


def czqa(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "czqa.cli", *args], capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=300
    )


class NeverEncode:
    """An encoder that fails the test if a build gets as far as embedding."""

    name, dimension, max_tokens = "test/never", 8, 256

    def encode(self, texts, *, show_progress=False):
        raise AssertionError("embedding started before the index folder was checked")


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "a.txt").write_text(PROSE, encoding="utf-8")
    return folder


def test_out_naming_a_file_is_one_clear_line(tmp_path, seeds):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    r = czqa("index", "--seeds", str(seeds), "--out", str(target))
    assert r.returncode == 4
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert f"The index folder {target} is a file" in r.stderr
    assert target.read_text() == "keep me"


def test_out_inside_a_file_is_one_clear_line(tmp_path, seeds):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    with pytest.raises(IndexLocationError, match="Cannot create the index folder"):
        build_index(Settings(seeds_dir=seeds, index_dir=target / "index"), encoder=NeverEncode())


def test_a_manifest_that_is_a_folder_is_one_clear_line(tmp_path, seeds):
    index = tmp_path / "index"
    (index / MANIFEST).mkdir(parents=True)
    (index / MANIFEST / "mine.txt").write_text("keep me")
    r = czqa("index", "--seeds", str(seeds), "--out", str(index))
    assert r.returncode == 4
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "manifest.json is a folder" in r.stderr
    r = czqa("ask", "--seeds", str(seeds), "--index", str(index), "When did the bridge reopen?", env={"CZQA_AUTO_BUILD": "0"})
    assert r.returncode == 4 and "Traceback" not in r.stderr and "is a folder" in r.stderr
    assert (index / MANIFEST / "mine.txt").read_text() == "keep me"


def test_a_manifest_folder_fails_before_embedding_in_the_library(tmp_path, seeds):
    index = tmp_path / "index"
    (index / MANIFEST).mkdir(parents=True)
    settings = Settings(seeds_dir=seeds, index_dir=index)
    with pytest.raises(IndexLocationError, match="is a folder"):
        build_index(settings, encoder=NeverEncode())
    with pytest.raises(IndexUnusable, match="is a folder"):  # auto_build tries, and says why not
        ensure_index(settings, encoder=NeverEncode())


def test_an_index_is_never_written_among_other_files(tmp_path):
    """`--out .` (or an empty CZQA_INDEX, which means the current folder) once scattered a
    generation and a manifest among the user's files."""
    from czqa.errors import IndexLocationError
    from czqa.index.store import check_index_location

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(IndexLocationError, match="holds other files \\(notes.txt\\) and no index"):
        check_index_location(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    empty = tmp_path / "new"
    check_index_location(empty)  # a new folder is fine
    assert empty.is_dir()
