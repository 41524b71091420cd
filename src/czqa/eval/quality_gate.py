"""The CI quality gate: test-split metrics recorded in ``eval/baseline.json``, and the rule that a
change may not make any gated metric worse than its baseline by more than a stated margin.

Why 2 points: the test split has 68 answerable questions, so one of them changing outcome moves an
answerable-question rate by 1.5 points. A 2-point margin lets one borderline question flip (a
near-tie in floating-point scores can go either way on another CPU or BLAS build) and stops two.
Over the 11 unanswerable and 5 conflict test questions one question is 9 to 20 points, so there
the same margin tolerates no loss at all: declining what the documents don't say and showing both
sides of a disagreement are promises, not averages. Citation validity has no margin: a quote that
is not the source text at its offsets is a bug. Latency is not gated (it measures the machine).

Raising the baseline is a deliberate commit: ``czqa eval --split test --write-baseline``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from czqa.eval.evaluation import EvalRun

BASELINE_NAME = "baseline.json"
REFRESH_COMMAND = "czqa eval --split test --write-baseline"


class Gate(BaseModel):
    """The committed baseline metrics of the test split that CI compares each run against."""

    higher_is_better: bool = True
    margin: float = Field(ge=0, description="In the metric's own unit (percentage points; MRR on 0-1).")


POINTS = 2.0
GATES: dict[str, Gate] = {
    "accuracy": Gate(margin=POINTS),
    "answer_accuracy": Gate(margin=POINTS),
    "exact_match": Gate(margin=POINTS),
    "token_f1": Gate(margin=POINTS),
    "hit@1": Gate(margin=POINTS),
    "hit@5": Gate(margin=POINTS),
    "mrr": Gate(margin=POINTS / 100),
    "abstention_accuracy": Gate(margin=POINTS),
    "false_abstention_rate": Gate(higher_is_better=False, margin=POINTS),
    "citation_validity": Gate(margin=0.0),
    "citation_support": Gate(margin=POINTS),
    "conflict_all_sides_cited": Gate(margin=POINTS),
    "conflict_side_recall": Gate(margin=POINTS),
    "conflict_flagged": Gate(margin=POINTS),
}


class Baseline(BaseModel):
    """What ``eval/baseline.json`` holds: the metrics and the conditions they were measured under."""

    about: str = (
        f"Test-split metrics of czqa eval. tests/eval/test_quality_gate.py fails when a gated metric falls more "
        f"than its margin (src/czqa/quality_gate.py) below these. Refresh deliberately: {REFRESH_COMMAND}"
    )
    split: str
    mode: str
    top_k: int
    abstain_threshold: float
    qa_fingerprint: str
    czqa_version: str
    created: str
    metrics: dict[str, float | int | None]


def baseline_from(run: EvalRun) -> Baseline:
    """The baseline a run would record (latency left out: it measures the machine, not czqa)."""
    return Baseline(
        split=run.split,
        mode=run.mode,
        top_k=run.top_k,
        abstain_threshold=run.abstain_threshold,
        qa_fingerprint=run.qa_fingerprint,
        czqa_version=run.czqa_version,
        created=run.created,
        metrics={k: v for k, v in run.summary.items() if not k.startswith("latency")},
    )


def write_baseline(run: EvalRun, path: Path) -> Baseline:
    base = baseline_from(run)
    path.write_text(json.dumps(base.model_dump(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return base


def load_baseline(path: Path) -> Baseline:
    return Baseline.model_validate_json(Path(path).read_text(encoding="utf-8"))


def incomparable(baseline: Baseline, run: EvalRun) -> str | None:
    """Why ``run`` cannot be judged against ``baseline`` (another question set, split, mode or
    top-k), or ``None`` when it can."""
    for name, want, got in (
        ("split", baseline.split, run.split),
        ("mode", baseline.mode, run.mode),
        ("top-k", baseline.top_k, run.top_k),
    ):
        if want != got:
            return f"the baseline was measured with {name} {want}, this run used {got}"
    if baseline.qa_fingerprint != run.qa_fingerprint:
        return "the questions changed since the baseline was recorded"
    return None


def regressions(baseline: dict[str, float | int | None], current: dict[str, float | int | None]) -> list[str]:
    """One message per gated metric that got worse than its baseline by more than its margin."""
    out = []
    for name, gate in GATES.items():
        base, now = baseline.get(name), current.get(name)
        if base is None:
            continue  # not measured when the baseline was recorded (e.g. no such questions)
        if now is None:
            out.append(f"{name}: baseline {base}, now not measured")
            continue
        loss = (base - now) if gate.higher_is_better else (now - base)
        if loss > gate.margin + 1e-9:
            direction = "fell" if gate.higher_is_better else "rose"
            out.append(f"{name} {direction} from baseline {base} to {now} (allowed margin {gate.margin:g})")
    return out
