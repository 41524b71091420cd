"""The ingestion report travels with the index: stored in the manifest, exposed on the loaded
index (for the chat page), printed by ``czqa index``."""

from __future__ import annotations

import json

import pytest

from czqa.index import build
from czqa.index.build import build_index, ensure_index
from czqa.index.store import MANIFEST, load_index
from czqa.ingest.documents import FileIssue
from czqa.settings import Settings
from doubles import HashingEncoder

PROSE = "The harbour bridge reopened on Monday after a two-year repair that cost 84 million euros.\n"


@pytest.fixture
def settings(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    (seeds / "a.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "sub" / "b.md").write_text("The tunnel closed in May.\n", encoding="utf-8")
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (seeds / "blob.txt").write_bytes(b"\x00\x01\x02")
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index")


def test_the_report_is_in_the_manifest_and_on_the_loaded_index(settings):
    build_index(settings, encoder=HashingEncoder())
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["a.txt", "sub/b.md"]
    assert manifest["skipped"] == {"photo.jpg": "not a text file type: .jpg"}
    assert manifest["refused"] == {"blob.txt": "binary file"}
    report = load_index(settings.index_dir).ingest_report
    assert report.indexed == ["a.txt", "sub/b.md"]
    assert report.skipped == [FileIssue(path="photo.jpg", reason="not a text file type: .jpg", kind="skipped")]
    assert report.refused == [FileIssue(path="blob.txt", reason="binary file", kind="refused")]


def test_an_older_manifest_without_refused_still_gives_a_report(settings):
    build_index(settings, encoder=HashingEncoder())
    path = settings.index_dir / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["skipped"] = {**manifest.pop("refused"), **manifest["skipped"]}  # the older layout
    del manifest["previous_generation"]
    path.write_text(json.dumps(manifest))
    report = load_index(settings.index_dir).ingest_report
    assert [i.path for i in report.refused] == ["blob.txt"] and [i.path for i in report.skipped] == ["photo.jpg"]


def test_czqa_index_prints_a_summary_and_a_line_per_file_not_indexed(settings, monkeypatch, capsys):
    from czqa.cli import main

    monkeypatch.setattr(build, "default_encoder", lambda settings=None: HashingEncoder())
    code = main(["index", "--seeds", str(settings.seeds_dir), "--out", str(settings.index_dir), "-q"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Files: 2 indexed, 1 skipped, 1 refused" in out
    assert err.splitlines() == [
        "warning: skipped blob.txt: binary file (refused)",
        "note: skipped photo.jpg: not a text file type: .jpg",
    ]


def test_a_short_file_an_older_build_dropped_makes_the_index_stale(settings, monkeypatch):
    (settings.seeds_dir / "tiny.txt").write_text("Hello", encoding="utf-8")
    real = build.process_document

    def older(doc, chunking):  # what czqa did before: cleaning kept nothing, so nothing indexed
        return ([], []) if doc.source == "tiny.txt" else real(doc, chunking)

    monkeypatch.setattr(build, "process_document", older)
    build_index(settings, encoder=HashingEncoder())
    monkeypatch.setattr(build, "process_document", real)
    data, report = ensure_index(settings, encoder=HashingEncoder())
    assert report is not None and report.files_processed == ["tiny.txt"]
    assert "tiny.txt" in {c.source for c in data.chunks}
    assert ensure_index(settings, encoder=HashingEncoder())[1] is None  # and then fresh
