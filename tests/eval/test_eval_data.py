"""The eval set is valid and meets issue 4's list: fields, types, split, coverage of every seed
file, enough unanswerable and conflict questions, and every evidence quote verbatim in its file."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from czqa.eval.evaluation import QUESTION_TYPES, SPLITS, load_qa

ROOT = Path(__file__).resolve().parents[2]
SEED_FILES = sorted(p.name for p in (ROOT / "seeds").iterdir() if p.is_file())


@pytest.fixture(scope="module")
def records():
    return load_qa(ROOT / "eval" / "qa.jsonl")


def test_check_script_passes():
    r = subprocess.run([sys.executable, str(ROOT / "eval" / "check_qa.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"seeds   : {ROOT / 'seeds'}" in r.stdout  # checked against this checkout's seeds


def test_counts_per_type_and_split(records):
    assert len(records) >= 80
    types = Counter(r.type for r in records)
    assert set(types) == set(QUESTION_TYPES), f"every question type is represented: {types}"
    assert types["unanswerable"] >= 12
    assert types["conflict"] >= 5
    assert {r.split for r in records} == set(SPLITS)
    # the headline split has each type too, so the per-type table on test has every row
    assert {r.type for r in records if r.split == "test"} == set(QUESTION_TYPES)


def test_every_seed_file_is_covered(records):
    cited = {ev.file for r in records for ev in r.evidence}
    assert cited == {f for f in SEED_FILES if f.endswith(".txt")}


def test_ids_unique_and_answers_match_type(records):
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert (r.type == "unanswerable") == (r.answers == [] and r.evidence == []), r.id
        if r.type in ("conflict", "multi_hop"):
            assert len(r.evidence) >= 2, r.id


def test_records_load_and_quotes_are_exact(records):
    texts = {name: (ROOT / "seeds" / name).read_text(encoding="utf-8") for name in SEED_FILES}
    for r in records:
        for ev in r.evidence:
            assert ev.quote in texts[ev.file], (r.id, ev.quote)
