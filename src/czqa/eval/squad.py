"""``czqa eval --squad FILE``: an outside benchmark, asked the way a user asks.

The articles of a SQuAD-format file are written out as an ordinary folder of ``.txt`` documents
(title, then the paragraphs), indexed like any folder, and every question goes through the same
``QA.answer()`` as a user's, with nothing telling czqa which paragraph it was written from.

Scoring follows the official SQuAD 2.0 script: EM and F1 against every gold answer for the
answerable questions (HasAns), the share of unanswerable questions declined (NoAns), and both
together. The questions are asked once with the decline threshold moved out of the way, so each
one has the answer the reader would give and its confidence; the figures at the calibrated
threshold and the whole trade-off curve (answerable questions wrongly declined against
unanswerable ones declined, as the threshold moves) then come from the same run.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from czqa.eval import metrics


class SquadQuestion(BaseModel):
    """A SQuAD question with its gold answers and their offsets in the document it was written to."""

    id: str
    question: str
    answers: list[str]
    source: str  # document file the question's paragraph was written to
    spans: list[tuple[int, int]]  # gold answer offsets in that document


class SquadPrediction(BaseModel):
    """What czqa answered one SQuAD question (when forced to answer), its confidence, and its scores."""

    id: str
    answerable: bool
    prediction: str  # the answer the reader gives when forced to answer
    confidence: float
    exact: float  # of the forced answer (0/1)
    f1: float
    hit_rank: int | None  # rank of the first retrieved passage overlapping a gold answer
    seconds: float


def write_documents(squad_file: Path, folder: Path) -> list[SquadQuestion]:
    """One ``.txt`` per article in ``folder``; the questions with their gold offsets there."""
    data = json.loads(squad_file.read_text(encoding="utf-8"))["data"]
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for n, article in enumerate(data):
        title = str(article.get("title", f"article {n}")).replace("_", " ")
        name = f"{n:03d}_{''.join(c if c.isalnum() else '_' for c in title)[:40]}.txt"
        parts, offset = [title, ""], len(title) + 2
        for paragraph in article["paragraphs"]:
            raw = paragraph["context"]
            context = raw.strip()
            lead = len(raw) - len(raw.lstrip())
            for qa in paragraph["qas"]:
                golds = [] if qa.get("is_impossible") else qa["answers"]
                spans = []
                for a in golds:
                    local = a["answer_start"] - lead
                    if context[local : local + len(a["text"])] != a["text"]:
                        local = context.find(a["text"])
                    if local >= 0:
                        spans.append((offset + local, offset + local + len(a["text"])))
                questions.append(
                    SquadQuestion(id=str(qa["id"]), question=qa["question"], answers=[a["text"] for a in golds], source=name, spans=spans)
                )
            parts += [context, ""]
            offset += len(context) + 2
        (folder / name).write_text("\n".join(parts), encoding="utf-8")
    return questions


def sample(questions: list[SquadQuestion], limit: int | None) -> list[SquadQuestion]:
    """``limit`` questions spread evenly over the file (every k-th), or all of them."""
    if not limit or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def ask_all(qa, questions: Sequence[SquadQuestion], *, mode: str | None = None, progress: bool = False) -> list[SquadPrediction]:
    """Every question through ``qa.answer`` (whose settings must not decline: see the module doc)."""
    from tqdm import tqdm

    qa.warm_up()
    out = []
    for q in tqdm(questions, desc="squad", unit="q", file=sys.stderr, disable=not progress):
        t0 = time.perf_counter()
        ans = qa.answer(q.question, mode=mode)
        dt = time.perf_counter() - t0
        pred = "" if ans.abstained else (ans.short_answer or "")
        rank = metrics.first_relevant_rank([(p.source, p.start, p.end) for p in ans.passages], [(q.source, s, e) for s, e in q.spans])
        answerable = bool(q.answers)
        out.append(
            SquadPrediction(
                id=q.id, answerable=answerable, prediction=pred, confidence=ans.confidence if not ans.abstained else float("-inf"),
                exact=metrics.exact_match(pred, q.answers) if answerable else 0.0,
                f1=metrics.token_f1(pred, q.answers) if answerable else 0.0,
                hit_rank=rank if answerable else None, seconds=dt,
            )
        )
    return out


def at_threshold(preds: Sequence[SquadPrediction], threshold: float) -> dict[str, float]:
    """Official SQuAD 2.0 figures (in %) when answers below ``threshold`` are declined."""
    has = [p for p in preds if p.answerable]
    no = [p for p in preds if not p.answerable]
    declined_has = [p.confidence < threshold for p in has]
    em_has = [0.0 if d else p.exact for p, d in zip(has, declined_has)]
    f1_has = [0.0 if d else p.f1 for p, d in zip(has, declined_has)]
    no_ok = [p.confidence < threshold for p in no]
    n = max(1, len(preds))
    return {
        "threshold": threshold,
        "exact": 100 * (sum(em_has) + sum(no_ok)) / n,
        "f1": 100 * (sum(f1_has) + sum(no_ok)) / n,
        "HasAns_exact": 100 * float(np.mean(em_has)) if has else 0.0,
        "HasAns_f1": 100 * float(np.mean(f1_has)) if has else 0.0,
        "HasAns_declined": 100 * float(np.mean(declined_has)) if has else 0.0,
        "NoAns_declined": 100 * float(np.mean(no_ok)) if no else 0.0,
        "HasAns_total": len(has),
        "NoAns_total": len(no),
    }


def curve(preds: Sequence[SquadPrediction]) -> list[tuple[float, float, float]]:
    """(threshold, % answerable declined, % unanswerable declined) at every distinct confidence."""
    return metrics.abstention_curve([p.confidence for p in preds if p.answerable], [p.confidence for p in preds if not p.answerable])


def best_threshold(preds: Sequence[SquadPrediction], *, max_has_declined: float = 15.0) -> float:
    """The threshold with the best overall F1 among those declining at most ``max_has_declined``
    % of the answerable questions (how a decline threshold is chosen on validation data)."""
    confs = sorted({p.confidence for p in preds if np.isfinite(p.confidence)})
    best, best_f1 = float("-inf"), -1.0
    for t in confs:
        r = at_threshold(preds, t)
        if r["HasAns_declined"] <= max_has_declined and r["f1"] > best_f1:
            best, best_f1 = t, r["f1"]
    return best


def retrieval(preds: Sequence[SquadPrediction]) -> dict[str, float | None]:
    ranks = [p.hit_rank for p in preds if p.answerable]
    pct = lambda v: None if v is None else 100 * v  # noqa: E731
    return {"hit@1": pct(metrics.hit_at_k(ranks, 1)), "hit@5": pct(metrics.hit_at_k(ranks, 5)), "mrr": metrics.mrr(ranks)}


class SquadRun(BaseModel):
    """One open-corpus SQuAD run: the figures at the chosen threshold, the curve, every prediction."""

    summary: dict[str, float | int | str | None]
    threshold: float
    curve: list[tuple[float, float, float]]
    predictions: list[SquadPrediction]


def run(squad_file: Path, out: Path, *, settings, mode: str | None = None, limit: int | None = None,
        calibrate: bool = False, progress: bool = False) -> SquadRun:
    """Write ``squad_file``'s articles under ``out/docs``, index them in ``out/index``, ask the
    questions through ``QA.answer()`` and score them at the decline threshold in ``settings``
    (else the one stored beside the reader's weights; with ``calibrate``, the best one on this run)."""
    from czqa.qa import QA
    from czqa.settings import ReaderSettings

    out.mkdir(parents=True, exist_ok=True)
    questions = sample(write_documents(squad_file, out / "docs"), limit)
    # Never decline while asking: each question gets the reader's answer and its confidence, and
    # the calibrated threshold (or any other) is applied to the same run afterwards.
    never = ReaderSettings(**{**settings.reader.model_dump(), "threshold": -1e9})
    qa = QA(settings.model_copy(update={"seeds_dir": out / "docs", "index_dir": out / "index", "reader": never}))
    preds = ask_all(qa, questions, mode=mode, progress=progress)
    answerer = qa.answerer(mode)
    threshold = settings.reader.threshold
    if threshold is None:
        threshold = getattr(answerer, "calibrated_threshold", float("-inf"))
    if calibrate:
        threshold = best_threshold(preds)
    result = at_threshold(preds, threshold)
    seconds = [p.seconds for p in preds]
    summary = {
        "file": str(squad_file), "questions": len(preds), "mode": answerer.mode, **result, **retrieval(preds),
        "latency_p50_ms": 1000 * (metrics.percentile(seconds, 50) or 0),
        "latency_p95_ms": 1000 * (metrics.percentile(seconds, 95) or 0),
    }
    return SquadRun(summary=summary, threshold=threshold, curve=curve(preds), predictions=preds)


def write_report(result: SquadRun, out: Path, *, title: str) -> list[Path]:
    """report.md (the figures, one per line), metrics.json (with every prediction) and tradeoff.png."""
    from czqa.eval.report import write_tradeoff

    s = result.summary
    write_tradeoff(result.curve, out / "tradeoff.png", marker=(s["HasAns_declined"], s["NoAns_declined"]), title=f"{title}: abstention trade-off")
    (out / "metrics.json").write_text(
        json.dumps({"summary": s, "curve": result.curve, "predictions": [p.model_dump() for p in result.predictions]}, indent=1, default=str)
    )
    (out / "report.md").write_text(
        "# SQuAD open-corpus evaluation\n\n" + "\n".join(f"- {line}" for line in summary_lines(result)) + "\n\n![trade-off](tradeoff.png)\n"
    )
    return [out / "report.md", out / "metrics.json", out / "tradeoff.png"]


def summary_lines(result: SquadRun) -> list[str]:
    return [f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in result.summary.items()]


def store_threshold(result: SquadRun, config_path: Path, *, source: str) -> None:
    """Record the threshold chosen on this run in the reader's config, beside its weights."""
    config = json.loads(config_path.read_text())
    config.setdefault("decision", {})["threshold"] = round(float(result.threshold), 4)
    config["decision"]["calibrated_on"] = (
        f"{source} ({len(result.predictions)} questions): best F1 with at most 15% of answerable questions declined"
    )
    config_path.write_text(json.dumps(config, indent=2) + "\n")
