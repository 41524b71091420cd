"""The CI quality gate: the test split, run with the committed index, may not fall below
eval/baseline.json by more than each metric's margin (czqa/quality_gate.py says why 2 points).

When a change makes answers better on purpose, record the new figures deliberately:
    czqa eval --split test --write-baseline   (then commit eval/baseline.json)
"""

from pathlib import Path

import pytest

from czqa.eval.evaluation import evaluate, load_qa, select_split
from czqa.eval.quality_gate import GATES, REFRESH_COMMAND, incomparable, load_baseline, regressions

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "eval" / "baseline.json"


def test_regressions_rule():
    base = {"hit@5": 90.0, "mrr": 0.75, "false_abstention_rate": 3.0, "citation_validity": 100.0,
            "abstention_accuracy": None, "accuracy": 70.0}
    assert regressions(base, {"hit@5": 88.0, "mrr": 0.73, "false_abstention_rate": 5.0, "citation_validity": 100.0,
                              "accuracy": 70.0}) == []  # exactly the margin is allowed
    assert regressions(base, {**base, "hit@5": 95.0, "false_abstention_rate": 0.0}) == []  # improvements pass
    found = regressions(base, {"hit@5": 87.9, "mrr": 0.72, "false_abstention_rate": 5.1, "citation_validity": 99.9,
                               "abstention_accuracy": 10.0, "accuracy": None})
    assert found == [
        "accuracy: baseline 70.0, now not measured",
        "hit@5 fell from baseline 90.0 to 87.9 (allowed margin 2)",
        "mrr fell from baseline 0.75 to 0.72 (allowed margin 0.02)",
        "false_abstention_rate rose from baseline 3.0 to 5.1 (allowed margin 2)",
        "citation_validity fell from baseline 100.0 to 99.9 (allowed margin 0)",
    ]  # abstention_accuracy had no baseline value: not judged


def test_baseline_covers_every_gated_metric():
    baseline = load_baseline(BASELINE)
    assert baseline.split == "test"
    assert set(GATES) <= set(baseline.metrics)


def test_test_split_does_not_regress(qa):
    baseline = load_baseline(BASELINE)
    records = select_split(load_qa(ROOT / "eval" / "qa.jsonl"), "test")
    run = evaluate(qa, records, mode=baseline.mode, top_k=baseline.top_k, split="test")
    why = incomparable(baseline, run)
    if why:
        pytest.fail(f"{BASELINE.name} does not match this run ({why}); re-record it with `{REFRESH_COMMAND}`.")
    found = regressions(baseline.metrics, run.summary)
    assert not found, (
        "Answer quality fell below eval/baseline.json on the test split:\n  " + "\n  ".join(found)
        + f"\nIf the change is intended, re-record the baseline deliberately: `{REFRESH_COMMAND}`."
    )
