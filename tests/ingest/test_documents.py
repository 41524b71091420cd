"""Reading the documents folder: every file is indexed, skipped or refused, and says which.

Each test builds a small folder by hand; indexing uses the HashingEncoder double (no model).
"""

from __future__ import annotations

import os

import pytest

from czqa.index.build import build_index
from czqa.ingest.documents import ingest
from czqa.settings import IngestSettings, Settings
from doubles import HashingEncoder

PROSE = "The harbour bridge reopened on Monday after a two-year repair that cost 84 million euros.\n"


def _issues(report) -> dict[str, tuple[str, str]]:
    return {i.path: (i.kind, i.reason) for i in report.skipped + report.refused}


def _build(tmp_path, seeds, **extra):
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", **extra)
    return build_index(settings, encoder=HashingEncoder())


@pytest.mark.parametrize("text", ["Paris is the capital of France.", "Hello", "Hello\n", "# A title only\n"])
def test_a_short_file_is_indexed_and_quotable(tmp_path, text):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "short.txt").write_text(text, encoding="utf-8")
    data, report = _build(tmp_path, seeds)
    assert [c.source for c in data.chunks] == ["short.txt"]
    chunk = data.chunks[0]
    assert chunk.text == text[chunk.start : chunk.end] and chunk.text in text
    assert chunk.text.split()[-1] == text.split()[-1]  # the words, whole (a heading's "# " may stay out)
    assert data.sentences and report.ingest.indexed == ["short.txt"]


def test_nested_folders_are_read_with_posix_relative_names(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "2024" / "march").mkdir(parents=True)
    (seeds / "top.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "2024" / "notes.md").write_text("The tunnel closed for a week in February.\n", encoding="utf-8")
    (seeds / "2024" / "march" / "deep.txt").write_text("The ferry doubled its crossings in March.\n", encoding="utf-8")
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["2024/march/deep.txt", "2024/notes.md", "top.txt"]
    data, _ = _build(tmp_path, seeds)
    assert {c.source for c in data.chunks} == {"top.txt", "2024/notes.md", "2024/march/deep.txt"}
    assert not report.skipped and not report.refused


def test_top_level_names_stay_bare(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(PROSE, encoding="utf-8")
    docs, _ = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["a.txt"]


@pytest.mark.parametrize(
    "name, content, kind, reason",
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "refused", "binary file"),
        ("latin1.txt", "Café crème".encode("latin-1"), "refused", "not valid UTF-8 text"),
        ("empty.txt", b"", "refused", "empty file"),
        ("blank.md", b"  \n\n\t\n", "refused", "empty file"),
        ("links.md", b"![logo](logo.png) https://example.com/x", "refused", "no visible text"),
        ("report.pdf", b"%PDF-1.7", "skipped", "not a text file type: .pdf"),
        ("Makefile", b"all:\n", "skipped", "not a text file type: (no suffix)"),
        (".env", b"SECRET=1", "skipped", "hidden file"),
    ],
)
def test_files_not_indexed_are_reported_with_kind_and_reason(tmp_path, name, content, kind, reason):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    (seeds / name).write_bytes(content)
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt"]
    got_kind, got_reason = _issues(report)[name]
    assert got_kind == kind and got_reason.startswith(reason)


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "huge.txt").write_text(PROSE * 20_000, encoding="utf-8")  # about 1.8 MB
    docs, report = ingest(seeds, settings=IngestSettings(max_file_mb=1))
    assert [d.source for d in docs] == ["good.txt"]
    kind, reason = _issues(report)["huge.txt"]
    assert kind == "refused" and "too large" in reason and "CZQA_INGEST__MAX_FILE_MB" in reason
    docs, _ = ingest(seeds, settings=IngestSettings(max_file_mb=4))
    assert {d.source for d in docs} == {"good.txt", "huge.txt"}


def test_the_size_limit_is_read_from_the_environment(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "big.txt").write_text(PROSE * 200, encoding="utf-8")  # about 18 KB
    monkeypatch.setenv("CZQA_INGEST__MAX_FILE_MB", "0.01")
    docs, report = ingest(seeds)
    assert [d.source for d in docs] == ["good.txt"] and "big.txt" in _issues(report)


def test_hidden_folders_are_listed_once_and_the_index_folder_not_at_all(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / ".git" / "objects").mkdir(parents=True)
    (seeds / ".git" / "objects" / "ab.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "embeddings").mkdir()
    (seeds / "a.txt").write_text(PROSE, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=seeds / "embeddings")
    data, report = build_index(settings, encoder=HashingEncoder())
    assert _issues(report.ingest) == {".git/": ("skipped", "hidden folder (not read)")}
    data, report = build_index(settings, encoder=HashingEncoder())  # the index now holds files
    assert _issues(report.ingest) == {".git/": ("skipped", "hidden folder (not read)")}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_listed_and_never_opened(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    os.mkfifo(seeds / "pipe.txt")  # opening it for reading would block forever
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt"]
    assert _issues(report)["pipe.txt"][0] == "skipped"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_an_unreadable_file_and_folder_are_refused(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "locked").mkdir(parents=True)
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "secret.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "secret.txt").chmod(0)
    (seeds / "locked").chmod(0)
    try:
        docs, report = ingest(seeds, settings=IngestSettings())
    finally:
        (seeds / "locked").chmod(0o755)
    issues = _issues(report)
    assert issues["secret.txt"] == ("refused", "unreadable: permission denied")
    assert issues["locked/"] == ("refused", "unreadable folder: permission denied")


def test_a_file_that_cannot_be_opened_is_refused_not_fatal(tmp_path, monkeypatch):
    """The same as the test above, for any user (root may read anything): the open fails."""
    from czqa.ingest import documents

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(PROSE, encoding="utf-8")
    (seeds / "secret.txt").write_text(PROSE, encoding="utf-8")
    real = documents._read_limited

    def read(path, limit):
        if path.name == "secret.txt":
            raise PermissionError(13, "Permission denied")
        return real(path, limit)

    monkeypatch.setattr(documents, "_read_limited", read)
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt"]
    assert _issues(report)["secret.txt"] == ("refused", "unreadable: permission denied")


def test_every_file_is_accounted_for_exactly_once(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "sub" / "deeper").mkdir(parents=True)
    files = {
        "a.txt": PROSE, "b.md": "", "c.csv": "x,y", "sub/d.html": "<p>The museum opened in 1990.</p>",
        "sub/e.json": "{}", "sub/deeper/f.txt": "One more file.", "sub/deeper/g.bin": "\x00",
    }
    for name, text in files.items():
        (seeds / name).write_text(text, encoding="utf-8")
    docs, report = ingest(seeds, settings=IngestSettings())
    listed = report.indexed + [i.path for i in report.skipped + report.refused]
    assert sorted(listed) == sorted(files)
    assert report.summary() == "3 indexed, 3 skipped, 1 refused"
