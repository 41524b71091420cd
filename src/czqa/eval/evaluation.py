"""Evaluation over eval/qa.jsonl: load the set, run questions through QA, score, calibrate.

These functions are the library side of ``czqa eval``: the question records, a batch runner over
the public :meth:`czqa.QA.answer` API, per-question scoring and the aggregate figures, importable
from scripts and tests. The pure metric functions live in :mod:`czqa.eval.metrics`; rendering lives in
:mod:`czqa.eval.report`. The abstention threshold in :class:`czqa.settings.Settings` comes from
:func:`calibrate_threshold` on the *dev* split, so figures on the test split are not tuned to
themselves.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from czqa.eval import metrics
from czqa.eval.metrics import contains_answer, normalize_answer  # noqa: F401  (public names, kept here)
from czqa.types import Answer

from czqa.eval.dataset import (  # noqa: F401  (public names, kept importable from here)
    QUESTION_TYPES,
    SPLITS,
    Evidence,
    QARecord,
    QuestionType,
    check_evidence,
    evidence_sides,
    fingerprint,
    gold_spans,
    load_qa,
    select_split,
)

# Retrieval ranks reported as hit@k.
HIT_KS = (1, 5)


# --- running ----------------------------------------------------------------------------------


@dataclass
class Result:
    """One question's record, the Answer czqa gave, how long it took, and where the gold evidence ranked."""

    record: QARecord
    answer: Answer
    seconds: float
    gold_rank: int | None  # 1-based rank of the first passage overlapping gold evidence

    @property
    def correct(self) -> bool:
        """Unanswerable: declined. Answerable: not declined and the reply contains a gold answer."""
        if not self.record.answerable:
            return self.answer.abstained
        return not self.answer.abstained and contains_answer(self.answer.text, self.record.answers)


def run(
    qa,
    records: Sequence[QARecord],
    *,
    mode: str | None = None,
    top_k: int | None = None,
    progress: bool = False,
) -> list[Result]:
    """Answer every record with ``qa`` (a :class:`czqa.QA`) through its public ``answer()``,
    timing each call; ``progress`` shows a tqdm bar on stderr."""
    qa.warm_up()
    mode = mode or qa.default_mode
    from tqdm import tqdm

    results = []
    for rec in tqdm(records, desc=f"eval ({mode})", unit="q", file=sys.stderr, disable=not progress):
        t0 = time.perf_counter()
        ans = qa.answer(rec.question, top_k=top_k, mode=mode)
        dt = time.perf_counter() - t0
        rank = metrics.first_relevant_rank([(p.source, p.start, p.end) for p in ans.passages], gold_spans(rec, qa.texts))
        results.append(Result(rec, ans, dt, rank))
    return results


# --- scoring ----------------------------------------------------------------------------------

FAILURE_GROUPS = {
    "answered_unanswerable": "answered an unanswerable question",
    "declined_retrieved": "declined, though gold evidence was retrieved",
    "declined_not_retrieved": "declined, gold evidence not retrieved",
    "wrong_not_retrieved": "wrong answer, gold evidence not retrieved",
    "wrong_not_quoted": "wrong answer, gold evidence retrieved but not quoted",
    "wrong_quoted": "wrong answer, though a quote overlaps gold evidence",
}


class QuestionScore(BaseModel):
    """How one question went: what was expected, what came back, and each per-question metric.
    Metrics that do not apply to the question (F1 of an unanswerable one) are ``None``."""

    id: str
    type: str
    split: str
    question: str
    expected: list[str]
    answerable: bool
    reply: str
    prediction: str = Field(description="What EM/F1 scored: the short answer, else the first quote, else ''.")
    abstained: bool
    correct: bool
    contains: bool | None
    exact_match: float | None
    f1: float | None
    gold_rank: int | None
    citations: int
    citations_valid: int
    supported: bool | None = Field(description="Answered an answerable question with a quote overlapping gold evidence.")
    sides_cited: int | None = None
    sides: int | None = None
    conflict_flagged: bool
    confidence: float
    seconds: float
    failure: str | None = Field(description="A FAILURE_GROUPS key when not correct.")
    claims_removed: int = Field(0, description="Generated sentences removed because their citations did not verify.")
    replaced: bool = Field(False, description="The generated reply failed verification; another mode's answer was shown.")


def score(result: Result, texts: dict[str, str]) -> QuestionScore:
    rec, ans = result.record, result.answer
    gold = gold_spans(rec, texts)
    cites = [(c.source, c.start, c.end) for c in ans.citations]
    if ans.abstained:
        prediction = ""
    elif ans.short_answer:
        prediction = ans.short_answer
    else:
        prediction = " ".join(ans.citations[0].quote.split()) if ans.citations else ans.text
    answered = rec.answerable and not ans.abstained
    contains = (answered and contains_answer(ans.text, rec.answers)) if rec.answerable else None
    sides = evidence_sides(rec, texts) if rec.type == "conflict" else None
    cited_sides = metrics.sides_cited(cites, sides) if sides is not None else (None, None)
    supported = any(metrics.overlaps_any(c, gold) for c in cites) if answered else None
    correct = result.correct
    return QuestionScore(
        id=rec.id,
        type=rec.type,
        split=rec.split,
        question=rec.question,
        expected=rec.answers,
        answerable=rec.answerable,
        reply=ans.text,
        prediction=prediction,
        abstained=ans.abstained,
        correct=correct,
        contains=contains,
        exact_match=metrics.exact_match(prediction, rec.answers) if rec.answerable else None,
        f1=metrics.token_f1(prediction, rec.answers) if rec.answerable else None,
        gold_rank=result.gold_rank,
        citations=len(ans.citations),
        citations_valid=sum(metrics.citation_is_valid(c.source, c.start, c.end, c.quote, texts) for c in ans.citations),
        supported=supported,
        sides_cited=cited_sides[0],
        sides=cited_sides[1],
        conflict_flagged=ans.conflict,
        confidence=ans.confidence,
        seconds=result.seconds,
        failure=None if correct else _failure(rec.answerable, ans.abstained, result.gold_rank, supported),
        claims_removed=ans.removed_claims,
        replaced=ans.replaced_from is not None,
    )


def _failure(answerable: bool, abstained: bool, gold_rank: int | None, supported: bool | None) -> str:
    if not answerable:
        return "answered_unanswerable"
    if abstained:
        return "declined_retrieved" if gold_rank else "declined_not_retrieved"
    if not gold_rank:
        return "wrong_not_retrieved"
    return "wrong_quoted" if supported else "wrong_not_quoted"


def score_all(results: Sequence[Result], texts: dict[str, str]) -> list[QuestionScore]:
    return [score(r, texts) for r in results]


# --- aggregating --------------------------------------------------------------------------------

# Metric name -> what it measures; report.md prints these, so the definitions live in one place.
METRIC_DEFINITIONS: dict[str, str] = {
    "accuracy": "All questions: an answerable one is correct when not declined and the reply contains a gold "
    "answer; an unanswerable one is correct when declined.",
    "answer_accuracy": "Answerable questions: not declined and the reply (after SQuAD normalization) contains "
    "one of the gold answers. A decline counts as wrong.",
    "exact_match": "Answerable questions: SQuAD exact match of the prediction (the short answer, else the "
    "first quote; '' when declined) with the best gold answer, after lower-casing and stripping "
    "punctuation, articles and extra white space.",
    "token_f1": "Answerable questions: SQuAD token F1 of the same prediction against the best gold answer.",
    "hit@1": "Answerable questions: the first retrieved passage overlaps a gold evidence quote (same file, "
    "at least one shared character).",
    "hit@5": "Answerable questions: one of the first five retrieved passages overlaps gold evidence "
    "(a run with --top-k below 5 can only hit within what it retrieved).",
    "mrr": "Answerable questions: mean of 1/rank of the first passage overlapping gold evidence (0 when none); "
    "on a 0-1 scale.",
    "abstention_accuracy": "Unanswerable questions: share declined (\"The documents don't say\").",
    "false_abstention_rate": "Answerable questions: share declined anyway (lower is better).",
    "citation_validity": "All citations: the quote equals the source file's text at its offsets, character "
    "for character.",
    "citation_support": "Answered answerable questions: at least one citation overlaps a gold evidence quote.",
    "conflict_all_sides_cited": "Conflict questions: every side (each gold evidence quote) is overlapped by "
    "some citation.",
    "conflict_side_recall": "Conflict questions: mean share of sides cited.",
    "conflict_flagged": "Conflict questions: the answer says the documents disagree.",
    "replies_replaced": "Generated (LLM) replies that failed citation checks and were replaced by the "
    "default mode's answer (0 in the other modes).",
    "claims_removed": "Generated sentences removed from replies because their citations did not verify.",
    "latency_p50_ms": "Median wall time of one answer() call, in milliseconds (nearest rank).",
    "latency_p95_ms": "95th percentile of the same (nearest rank).",
}

def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 1)


def aggregate(scores: Sequence[QuestionScore]) -> dict[str, float | int | None]:
    """The headline figures over ``scores``: rates in percent (1 decimal), MRR on 0-1, latency in
    ms; ``None`` where no question qualifies (e.g. no unanswerable questions in the split)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    answered = [s for s in answerable if not s.abstained]
    conflicts = [s for s in scores if s.type == "conflict" and s.sides]
    ranks = [s.gold_rank for s in answerable]
    latencies = [s.seconds * 1000 for s in scores]
    total_cites = sum(s.citations for s in scores)
    mrr = metrics.mrr(ranks)
    p50, p95 = metrics.percentile(latencies, 50), metrics.percentile(latencies, 95)
    return {
        "questions": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": _pct(metrics.rate(s.correct for s in scores)),
        "answer_accuracy": _pct(metrics.rate(s.correct for s in answerable)),
        "exact_match": _pct(metrics.mean(s.exact_match or 0.0 for s in answerable)),
        "token_f1": _pct(metrics.mean(s.f1 or 0.0 for s in answerable)),
        **{f"hit@{k}": _pct(metrics.hit_at_k(ranks, k)) for k in HIT_KS},
        "mrr": None if mrr is None else round(mrr, 3),
        "abstention_accuracy": _pct(metrics.abstention_accuracy([s.abstained for s in unanswerable])),
        "false_abstention_rate": _pct(metrics.false_abstention_rate([s.abstained for s in answerable])),
        "citation_validity": _pct(sum(s.citations_valid for s in scores) / total_cites) if total_cites else None,
        "citation_support": _pct(metrics.rate(bool(s.supported) for s in answered)),
        "conflict_all_sides_cited": _pct(metrics.rate(s.sides_cited == s.sides for s in conflicts)),
        "conflict_side_recall": _pct(metrics.mean((s.sides_cited or 0) / s.sides for s in conflicts if s.sides)),
        "conflict_flagged": _pct(metrics.rate(s.conflict_flagged for s in scores if s.type == "conflict")),
        "replies_replaced": sum(s.replaced for s in scores),
        "claims_removed": sum(s.claims_removed for s in scores),
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
    }


def by_type(scores: Sequence[QuestionScore]) -> dict[str, dict[str, float | int | None]]:
    """Per question type (in QUESTION_TYPES order): count, accuracy, retrieval, F1, declines."""
    out = {}
    for t in QUESTION_TYPES:
        group = [s for s in scores if s.type == t]
        if not group:
            continue
        ranks = [s.gold_rank for s in group if s.answerable]
        mrr = metrics.mrr(ranks)
        out[t] = {
            "questions": len(group),
            "accuracy": _pct(metrics.rate(s.correct for s in group)),
            "hit@1": _pct(metrics.hit_at_k(ranks, 1)),
            "hit@5": _pct(metrics.hit_at_k(ranks, 5)),
            "mrr": None if mrr is None else round(mrr, 3),
            "token_f1": _pct(metrics.mean(s.f1 or 0.0 for s in group if s.answerable)),
            "declined": _pct(metrics.rate(s.abstained for s in group)),
        }
    return out


def failure_groups(scores: Sequence[QuestionScore]) -> dict[str, list[QuestionScore]]:
    """Failed questions by FAILURE_GROUPS key, largest group first."""
    groups: dict[str, list[QuestionScore]] = {}
    for s in scores:
        if s.failure:
            groups.setdefault(s.failure, []).append(s)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), list(FAILURE_GROUPS).index(kv[0]))))


def summarize(results: Sequence[Result], texts: dict[str, str]) -> dict[str, float | int | None]:
    """The headline figures of a run (see :func:`aggregate`)."""
    return aggregate(score_all(results, texts))


# --- a whole evaluation run -----------------------------------------------------------------------


class EvalRun(BaseModel):
    """Everything one ``czqa eval`` run measured; ``metrics.json`` is this model."""

    qa_file: str
    split: str
    mode: str
    top_k: int
    abstain_threshold: float
    qa_fingerprint: str
    created: str
    czqa_version: str
    summary: dict[str, float | int | None]
    per_type: dict[str, dict[str, float | int | None]]
    questions: list[QuestionScore]


def evaluate(
    qa,
    records: Sequence[QARecord],
    *,
    mode: str | None = None,
    top_k: int | None = None,
    progress: bool = False,
    qa_file: Path | str = "",
    split: str = "all",
) -> EvalRun:
    """Run ``records`` through ``qa`` and score them: the library side of ``czqa eval``."""
    from czqa import __version__

    qa.warm_up()
    check_evidence(records, qa.texts)
    mode = mode or qa.default_mode
    results = run(qa, records, mode=mode, top_k=top_k, progress=progress)
    scores = score_all(results, qa.texts)
    return EvalRun(
        qa_file=str(qa_file),
        split=split,
        mode=mode,
        top_k=top_k or qa.settings.top_k,
        abstain_threshold=float(getattr(qa.answerer(mode), "threshold", qa.settings.abstain_threshold)),
        qa_fingerprint=fingerprint(records),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        czqa_version=__version__,
        summary=aggregate(scores),
        per_type=by_type(scores),
        questions=scores,
    )


# --- calibration ------------------------------------------------------------------------------------


def calibrate_threshold(results: list[Result], *, max_false_declines: float = 0.05) -> float:
    """The abstention threshold that declines the most unanswerable questions while declining at
    most ``max_false_declines`` of the answerable ones (ties: the lower threshold).

    Uses each answer's ``confidence`` (run with the threshold at 0 so nothing is declined yet).
    """
    pos = sorted(r.answer.confidence for r in results if r.record.answerable)
    neg = [r.answer.confidence for r in results if not r.record.answerable]
    best, best_score = 0.0, -1.0
    for t in sorted(set(pos + neg)):
        t = round(t + 1e-4, 4)
        false_declines = sum(c < t for c in pos) / max(1, len(pos))
        if false_declines > max_false_declines:
            break
        declined = sum(c < t for c in neg) / max(1, len(neg))
        if declined > best_score:
            best, best_score = t, declined
    return best


def results_json(results: list[Result]) -> str:
    return json.dumps(
        [
            {"id": r.record.id, "type": r.record.type, "correct": r.correct, "gold_rank": r.gold_rank,
             "confidence": r.answer.confidence, "abstained": r.answer.abstained, "reply": r.answer.text}
            for r in results
        ],
        ensure_ascii=False,
        indent=1,
    )
