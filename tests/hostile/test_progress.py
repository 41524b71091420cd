"""A long build whose output is not a terminal still says how far it is (a 60 MB file showed
nothing for many minutes when ``czqa index`` wrote to a log file)."""

from __future__ import annotations

import io

from czqa.index.build import build_index
from czqa.index.progress import ProgressLines
from czqa.settings import Settings
from doubles import HashingEncoder


def test_progress_lines_are_spaced_in_time_and_end_with_the_total():
    out = io.StringIO()
    lines = ProgressLines("Embedding", 100, every=30.0, stream=out)
    clock = iter([1.0, 2.0, 40.0, 41.0, 80.0])
    lines._clock = lambda: next(clock)
    lines.started = lines._last = 0.0
    for _ in range(4):
        lines.update(20)  # at 1 s and 2 s: quiet; at 40 s: a line; at 41 s: quiet
    lines.update(20)  # the last batch: always a line
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("Embedding: 60 of 100 texts (60%)")
    assert printed[1].startswith("Embedding: 100 of 100 texts (100%)") and len(printed) == 2


def test_a_build_without_a_terminal_prints_progress_lines(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(" ".join(f"Sentence number {n} says the kiln was fired in {1900 + n}." for n in range(200)))
    build_index(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), encoder=HashingEncoder(), progress_lines=True)
    err = capsys.readouterr().err
    assert "Embedding: " in err and "(100%)" in err
