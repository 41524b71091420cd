"""The cap on mapped index pages: past it, pages leave the process and the data stays readable."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from czqa.index import residency
from czqa.index.vectors import open_matrix

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")


@linux_only
def test_pages_read_through_a_matrix_are_released_past_the_budget(tmp_path):
    path = tmp_path / "m.npy"
    values = np.random.default_rng(0).standard_normal((64 * 1024, 128)).astype(np.float32)  # 32 MiB
    np.save(path, values)
    del values
    matrix = open_matrix(path)
    before = residency.mapped_bytes()
    total = float(matrix[::16].sum())  # touches every page (fault-around maps the rest)
    touched = residency.mapped_bytes()
    assert touched - before > 16 * 2**20
    assert not residency.enforce((touched + 2**30) / 2**20)  # under budget: nothing released
    assert residency.enforce(1)  # over a 1 MB budget: released
    assert residency.mapped_bytes() < touched - 16 * 2**20
    assert float(matrix[::16].sum()) == total  # still the file's values, read again from the page cache


def test_mappings_are_held_weakly(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.ones((1024, 4), np.float32))
    matrix = open_matrix(path)
    held = len(residency._mappings)
    del matrix
    import gc

    gc.collect()
    assert len(residency._mappings) < held


def test_every_answer_keeps_the_budget(qa, monkeypatch):
    budgets = []
    monkeypatch.setattr(residency, "enforce", lambda mb: budgets.append(mb) or False)
    qa.answer("When was Binance founded?", mode="extractive")
    assert budgets == [qa.settings.index.mapped_mb]
