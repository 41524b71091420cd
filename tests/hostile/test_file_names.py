"""File names as the operating system gives them: not UTF-8, with newlines, escape sequences,
direction overrides, or differing only in Unicode normalisation. Each is indexed under a name
that is printable and says which file it is, and none stops the folder.

One name that was not UTF-8 used to stop ``czqa index``, ``ask`` and ``serve`` with a
UnicodeEncodeError until the file was renamed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from czqa.ingest.documents import ingest
from czqa.ingest.filenames import citation_name
from czqa.qa import QA
from czqa.settings import Settings
from doubles import HashingEncoder

NAMES = {
    b"caf\xe9 notes.txt": "caf\\xe9 notes.txt",  # Latin-1, not UTF-8
    b"line\nbreak.txt": "line\\x0abreak.txt",  # would fake a citation line
    b"esc\x1b[31mred.txt": "esc\\x1b[31mred.txt",  # a terminal escape sequence
    "x\u202etxt.md".encode(): "x\\u202etxt.md",  # shows as "xdm.txt" unescaped
    "cafe\u0301.txt".encode(): "cafe\\u0301.txt",  # decomposed: looks like the next one
    "caf\u00e9.txt".encode(): "caf\u00e9.txt",  # composed: an ordinary name, unchanged
    "a\u00a0b.txt".encode(): "a\\xa0b.txt",  # a no-break space looks like a plain one (found by bench/fuzz.py --names)
}

posix_bytes = pytest.mark.skipif(os.name != "posix", reason="byte file names are a POSIX matter")


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, raw in enumerate(NAMES):
        with open(os.path.join(os.fsencode(docs), raw), "wb") as f:
            f.write(f"Document {n} says the kiln was fired in {1900 + n}.".encode())
    return docs


def test_ordinary_names_are_unchanged():
    for name in ("notes.txt", "Quarterly report (final).md", "日本語.html", "café.txt"):
        assert citation_name(name) == name


@posix_bytes
def test_every_strange_name_is_indexed_under_a_printable_distinct_name(folder):
    docs, report = ingest(folder)
    assert sorted(d.source for d in docs) == sorted(NAMES.values())
    assert not report.refused and not report.skipped
    for doc in docs:
        doc.source.encode("utf-8")  # never a lone surrogate
        assert doc.source.isprintable()


@posix_bytes
def test_a_name_escaping_like_another_is_skipped_with_a_reason(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "line\\x0abreak.txt").write_text("A literal backslash name.")
    with open(os.path.join(os.fsencode(docs), b"line\nbreak.txt"), "wb") as f:
        f.write(b"A newline name.")
    found, report = ingest(docs)
    assert [d.source for d in found] == ["line\\x0abreak.txt"]
    assert "shows the same as another file" in report.skipped[0].reason


@posix_bytes
def test_the_folder_indexes_and_answers_with_strange_names(folder, tmp_path):
    enc = HashingEncoder()
    qa = QA(Settings(seeds_dir=folder, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc)
    answer = qa.answer("When was the kiln fired according to Document 0?", mode="extractive")
    assert answer.passages and all(p.source in NAMES.values() for p in answer.passages)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text()) if (tmp_path / "index" / "manifest.json").exists() else None
    assert manifest is None or set(manifest.get("files", {})) <= set(NAMES.values())


@posix_bytes
def test_the_cli_prints_no_raw_control_characters(folder, tmp_path):
    env = {**os.environ, "CZQA_AUTO_BUILD": "1", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "czqa.cli", "ask", "--seeds", str(folder), "--index", str(tmp_path / "index"),
         "--mode", "extractive", "When was the kiln fired according to Document 1?"],
        capture_output=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    text = out.stdout.decode("utf-8")
    assert "\x1b" not in text and "\u202e" not in text
    assert any(f"— {name}" in text for name in NAMES.values()), text  # the citation names the file, escaped
