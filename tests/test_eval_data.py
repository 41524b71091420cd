"""The eval set is valid: fields, types, split, and every evidence quote verbatim in its file."""

import subprocess
import sys
from pathlib import Path

from czqa.evaluation import QUESTION_TYPES, load_qa

ROOT = Path(__file__).resolve().parents[1]


def test_check_script_passes():
    r = subprocess.run([sys.executable, str(ROOT / "eval" / "check_qa.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_records_load_and_quotes_are_exact():
    records = load_qa(ROOT / "eval" / "qa.jsonl")
    assert len(records) >= 80
    assert {r.type for r in records} <= set(QUESTION_TYPES)
    assert sum(not r.answerable for r in records) >= 12
    for r in records:
        for ev in r.evidence:
            assert ev.quote in (ROOT / "seeds" / ev.file).read_text(encoding="utf-8"), (r.id, ev.quote)
