"""czqa eval --squad: a SQuAD file becomes a document folder, every question goes through answer(),
and the report holds the official figures and the trade-off curve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from czqa.eval import squad

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "qa-formats" / "squad_v2_tiny.json"


def test_documents_hold_the_gold_answers_at_their_offsets(tmp_path):
    questions = squad.write_documents(TINY, tmp_path)
    assert [q.answers == [] for q in questions] == [False, False, True, False]
    for q in questions:
        text = (tmp_path / q.source).read_text()
        for (s, e), answer in zip(q.spans, q.answers):
            assert text[s:e] == answer


def test_threshold_decides_each_side():
    P = squad.SquadPrediction
    preds = [P(id="a", answerable=True, prediction="x", confidence=2.0, exact=1.0, f1=1.0, hit_rank=1, seconds=0.1),
             P(id="b", answerable=False, prediction="y", confidence=0.5, exact=0.0, f1=0.0, hit_rank=None, seconds=0.1)]
    r = squad.at_threshold(preds, 1.0)
    assert (r["HasAns_exact"], r["NoAns_declined"], r["exact"]) == (100.0, 100.0, 100.0)
    r = squad.at_threshold(preds, 3.0)
    assert (r["HasAns_declined"], r["exact"]) == (100.0, 50.0)


def test_cli_squad_run_writes_report_metrics_and_curve(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "czqa.cli", "eval", "--squad", str(TINY), "--out", str(out), "-q"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert summary["questions"] == 4 and summary["mode"] == "reader"
    assert summary["HasAns_total"] == 3 and summary["NoAns_total"] == 1
    assert summary["hit@5"] == 100.0
    assert (out / "tradeoff.png").stat().st_size > 5_000 and "HasAns_f1" in r.stdout
