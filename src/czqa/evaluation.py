"""Evaluation over eval/qa.jsonl: load the set, run questions through QA, score, calibrate.

These functions are the library side of evaluation: a batch runner and the metrics, importable
from scripts and tests. The abstention threshold in :class:`czqa.settings.Settings` comes from
:func:`calibrate_threshold` on the *dev* split, so figures on the test split are not tuned to
themselves.
"""

from __future__ import annotations

import json
import re
import string
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from czqa.models import Answer

QUESTION_TYPES = ("factoid", "numeric", "date", "person", "list", "multi_hop", "conflict", "unanswerable")


class Evidence(BaseModel):
    file: str
    quote: str


class QARecord(BaseModel):
    id: str
    question: str
    answers: list[str]
    evidence: list[Evidence]
    type: str
    split: str

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_qa(path: Path) -> list[QARecord]:
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(QARecord.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return records


def normalize_answer(text: str) -> str:
    """SQuAD's official normalization: lower-case, drop punctuation and articles, fold spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation) | {"“", "”", "‘", "’", "—", "–"})
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_answer(reply: str, answers: list[str]) -> bool:
    r = normalize_answer(reply)
    return any(normalize_answer(a) and normalize_answer(a) in r for a in answers)


@dataclass
class Result:
    record: QARecord
    answer: Answer
    seconds: float
    gold_rank: int | None  # 1-based rank of the first passage overlapping gold evidence

    @property
    def correct(self) -> bool:
        if not self.record.answerable:
            return self.answer.abstained
        return not self.answer.abstained and contains_answer(self.answer.text, self.record.answers)


def gold_spans(record: QARecord, texts: dict[str, str]) -> list[tuple[str, int, int]]:
    spans = []
    for ev in record.evidence:
        text = texts.get(ev.file, "")
        start = text.find(ev.quote)
        if start >= 0:
            spans.append((ev.file, start, start + len(ev.quote)))
    return spans


def _overlaps(source: str, start: int, end: int, spans: list[tuple[str, int, int]]) -> bool:
    return any(source == f and start < e and s < end for f, s, e in spans)


def run(qa, records: list[QARecord], *, mode: str = "extractive") -> list[Result]:
    """Answer every record with ``qa`` (a czqa.QA) in answer ``mode``, timing each call."""
    qa.warm_up()
    results = []
    for rec in records:
        t0 = time.perf_counter()
        ans = qa.answer(rec.question, mode=mode)
        dt = time.perf_counter() - t0
        spans = gold_spans(rec, qa.texts)
        rank = next((i for i, p in enumerate(ans.passages, 1) if _overlaps(p.source, p.start, p.end, spans)), None)
        results.append(Result(rec, ans, dt, rank))
    return results


def summarize(results: list[Result], texts: dict[str, str]) -> dict[str, float]:
    answerable = [r for r in results if r.record.answerable]
    unanswerable = [r for r in results if not r.record.answerable]
    citations = [c for r in results for c in r.answer.citations]
    latencies = sorted(r.seconds for r in results)

    def pct(xs: list[bool]) -> float:
        return round(100.0 * sum(xs) / len(xs), 1) if xs else 0.0

    def quantile(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    return {
        "questions": len(results),
        "hit@5": pct([r.gold_rank is not None and r.gold_rank <= 5 for r in answerable]),
        "answer_contains_gold": pct([contains_answer(r.answer.text, r.record.answers) for r in answerable]),
        "answered_correctly": pct([r.correct for r in answerable]),
        "unanswerable_declined": pct([r.answer.abstained for r in unanswerable]),
        "false_declines": pct([r.answer.abstained for r in answerable]),
        "citations_exact": pct([texts[c.source][c.start : c.end] == c.quote for c in citations]),
        "latency_p50_ms": quantile(0.5),
        "latency_p95_ms": quantile(0.95),
    }


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
