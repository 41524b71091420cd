#!/usr/bin/env python3
"""Choose how the reader decides "no answer", on validation data only.

Each window the reader reads gives four signals: the margin of its best span over "no answer"
(SQuAD 2.0 style), the answerability head's logit, how much of the question's idf-weighted
wording the passage holds, and the evidence score of the sentence holding the span (the
extractive mode's: :mod:`czqa.answering.evidence`). The answerer's confidence is ``margin + w *
answerable + v * coverage + u * evidence``; this script asks validation questions (the SQuAD 2.0
dev articles, written out as an open corpus) through the same retrieval and reader as ``czqa
ask``, records the signals of every window, and reports for a grid of ``w``, ``v`` and ``u`` the
figures at the best threshold (best overall F1 with at most ``--max-has-declined``, 10%, of
answerable questions declined: the product's bound on false declines) and the AUC of declining
unanswerable questions. One threshold serves every corpus, so each point's threshold is then
capped on the seeds' dev split (at most ``--max-seeds-false-declines``, 8%, of its answerable
questions declined), and the weighting is chosen by what that point does on both sets: the mean
of SQuAD's overall F1 and the dev split's right-over-all (the whole grid in
``--out``/grid.tsv). ``--write`` stores the chosen weights and threshold in the reader's
``reader.json``; check the result with ``czqa eval --split dev``.

    .venv/bin/python eval/calibrate_reader.py --limit 1200 [--write]

Never run it on the seeds test split: those figures must stay unseen by every tuned number.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from czqa.answering.reader.model import CONFIG_FILE, WEIGHTS_DIR
from czqa.eval import metrics, squad
from czqa.qa import QA
from czqa.settings import ReaderSettings, Settings

VALIDATION = Path("../shared/qa-train/squad2-dev-8-articles.json")
GRID = (0.0, 0.5, 1.0, 2.0, 3.0)  # answerability head weight
COVERAGE_GRID = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0)  # question-coverage weight
EVIDENCE_GRID = (0.0, 2.0, 4.0, 8.0, 12.0, 16.0)  # span-sentence evidence weight
ROWS_VERSION = 2  # (margin, answerable, coverage, span, could answer, evidence) per window


def rows_key(config: dict, weights_digest: str, precision: str, question_ids: list[str]) -> str:
    """The row cache's key: what the rows depend on (windows, weights, precision, questions), not
    the decision stored beside them, which ``--write`` rewrites without changing a single row."""
    import hashlib

    reading = {k: v for k, v in config.items() if k != "decision"}
    return hashlib.blake2s(repr((ROWS_VERSION, reading, weights_digest, precision, question_ids)).encode(), digest_size=8).hexdigest()


def collect(qa: QA, questions, cache: Path | None = None) -> list[dict]:
    """Per question: for each window read, (margin, answerable, coverage, span text, whether the
    span could answer: not a restatement, the kind of value asked for, the evidence of the
    sentence holding the span); and the gold answers.

    Reading is the slow part (minutes); ``cache`` keeps the rows, keyed by the reader's weights
    and the questions, so trying weights, thresholds or rules again costs nothing."""
    from tqdm import tqdm

    from czqa.answering.reader.model import WEIGHTS_FILE
    from czqa.embed.export import source_digest

    answerer = qa.answerer("reader")
    # The weights themselves and the precision read them: a checkpoint exported with the same
    # reader.json, or the int8 export, must not reuse another reader's rows.
    weights = source_digest((qa.settings.reader.weights_dir or WEIGHTS_DIR) / WEIGHTS_FILE)
    key = rows_key(answerer.reader.config, weights, answerer.reader.precision, [q.id for q in questions])
    path = cache / f"rows-{key}.json" if cache else None
    if path and path.is_file():
        return json.loads(path.read_text())
    rows = []
    for q in tqdm(questions, file=sys.stderr, desc="reading"):
        query = qa.query(q.question)
        evidence_of = answerer.evidence_of(query)
        windows = []
        for chunk, s in answerer.scores(query):
            text, _, _ = answerer._span(chunk, s)
            # the answerer skips coverage and evidence while their weights are 0; the grid needs
            # them for every window
            windows.append((s.margin, s.answerable, answerer.coverage(q.question, chunk), text,
                            answerer._could_answer(q.question, (chunk, s)), answerer.span_evidence(chunk, s, evidence_of)))
        rows.append({"answers": q.answers, "windows": windows})
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows))
    return rows


def best_window(windows, w: float, v: float, u: float = 0.0, *, typed: bool = True) -> tuple[float, str]:
    """The (confidence, span) the answerer would give: the most confident window, among those
    whose span could answer when ``typed`` (as the answerer does)."""
    return max((((m + w * a + v * c + u * e), t) for m, a, c, t, ok, e in windows if ok or not typed), default=(float("-inf"), ""))


def figures(rows: list[dict], w: float, v: float, u: float = 0.0, *, max_has_declined: float = 15.0, typed: bool = True) -> dict:
    preds = []
    for r in rows:
        if not r["windows"]:
            conf, text = float("-inf"), ""
        else:
            conf, text = best_window(r["windows"], w, v, u, typed=typed)
        answerable = bool(r["answers"])
        preds.append(
            squad.SquadPrediction(
                id="", answerable=answerable, prediction=text, confidence=conf,
                exact=metrics.exact_match(text, r["answers"]) if answerable else 0.0,
                f1=metrics.token_f1(text, r["answers"]) if answerable else 0.0, hit_rank=None, seconds=0.0,
            )
        )
    t = squad.best_threshold(preds, max_has_declined=max_has_declined)
    out = squad.at_threshold(preds, t)
    has = np.array([p.confidence for p in preds if p.answerable])
    no = np.array([p.confidence for p in preds if not p.answerable])
    auc = float(np.mean(has[:, None] > no[None, :]) + 0.5 * np.mean(has[:, None] == no[None, :])) if len(has) and len(no) else None
    out["auc"] = auc
    return out


def figures_at(rows: list[dict], w: float, v: float, u: float, threshold: float, *, typed: bool = True) -> dict:
    preds = []
    for r in rows:
        conf, text = best_window(r["windows"], w, v, u, typed=typed)
        answerable = bool(r["answers"])
        preds.append(squad.SquadPrediction(
            id="", answerable=answerable, prediction=text, confidence=conf,
            exact=metrics.exact_match(text, r["answers"]) if answerable else 0.0,
            f1=metrics.token_f1(text, r["answers"]) if answerable else 0.0, hit_rank=None, seconds=0.0))
    return squad.at_threshold(preds, threshold)


def seeds_dev(weights: Path | None) -> list[tuple[list[str], list[tuple]]]:
    """Per question of the seeds' dev split: its gold answers (none: unanswerable), and each
    window's signals in :func:`collect`'s form, for :func:`best_window`."""
    from czqa.eval.evaluation import load_qa, select_split

    qa = QA(Settings(reader=ReaderSettings(threshold=-1e9, weights_dir=weights)))
    answerer = qa.answerer("reader")
    rows = []
    for r in select_split(load_qa(Path("eval/qa.jsonl")), "dev"):
        query = qa.query(r.question)
        evidence_of = answerer.evidence_of(query)
        rows.append((list(r.answers) if r.answerable else [],
                     [(s.margin, s.answerable, answerer.coverage(r.question, c), answerer._span(c, s)[0],
                       answerer._could_answer(r.question, (c, s)), answerer.span_evidence(c, s, evidence_of))
                      for c, s in answerer.scores(query)]))
    return rows


def seeds_dev_figures(rows, w: float, v: float, u: float, max_false_declines: float) -> tuple[float, float | None]:
    """The highest threshold that declines at most ``max_false_declines`` % of the answerable
    questions of the seeds' dev split (their confidences, with these weights), and the AUC of
    answerable against unanswerable dev questions."""
    has = np.array(sorted(best_window(ws, w, v, u)[0] for answers, ws in rows if answers))
    no = np.array([best_window(ws, w, v, u)[0] for answers, ws in rows if not answers])
    auc = float(np.mean(has[:, None] > no[None, :]) + 0.5 * np.mean(has[:, None] == no[None, :])) if len(has) and len(no) else None
    allowed = int(len(has) * max_false_declines / 100)  # questions that may fall below
    return (float(has[allowed]) if allowed < len(has) else float("inf")), auc


def seeds_dev_accuracy(rows, w: float, v: float, u: float, threshold: float) -> float:
    """``czqa eval``'s right-over-all on the seeds' dev split at this point: an answerable
    question is right when answered with a span holding a gold answer, an unanswerable one when
    declined."""
    right = 0
    for answers, ws in rows:
        conf, text = best_window(ws, w, v, u)
        answered = conf >= threshold
        right += (answered and metrics.contains_answer(text, answers)) if answers else not answered
    return 100.0 * right / max(1, len(rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", type=Path, default=VALIDATION)
    ap.add_argument("--limit", type=int, default=1200)
    ap.add_argument("--out", type=Path, default=Path("eval/runs/calibrate-reader"))
    ap.add_argument("--weights", type=Path, help="reader weights folder (default: the shipped weights)")
    ap.add_argument("--write", action="store_true", help="store the chosen weight and threshold in that folder's reader.json")
    ap.add_argument("--max-has-declined", type=float, default=10.0,
                    help="choose the threshold with the best F1 among those declining at most this %% of SQuAD's answerable questions")
    ap.add_argument("--max-seeds-false-declines", type=float, default=8.0,
                    help="cap the threshold so at most this %% of the seeds' dev-split answerable questions are declined")
    args = ap.parse_args()
    questions = squad.sample(squad.write_documents(args.squad, args.out / "docs"), args.limit)
    qa = QA(Settings(seeds_dir=args.out / "docs", index_dir=args.out / "index", reader=ReaderSettings(threshold=-1e9, weights_dir=args.weights)))
    rows = collect(qa, questions, cache=args.out / "cache")
    dev = seeds_dev(args.weights)
    results = {(w, v, u): figures(rows, w, v, u, max_has_declined=args.max_has_declined) for w in GRID for v in COVERAGE_GRID for u in EVIDENCE_GRID}
    columns = ("threshold", "f1", "HasAns_f1", "HasAns_exact", "HasAns_declined", "NoAns_declined", "auc")
    # The product's own documents (news, letters, scraped pages) score lower than Wikipedia: a
    # threshold that declines 10% of SQuAD's answerable questions declines far more of theirs.
    # So each point's threshold is capped on the seeds' dev split (never the test split), and the
    # weights are chosen by what that shipped point does on both sets: SQuAD's overall F1 and the
    # seeds' dev right-over-all, averaged. Ranking by SQuAD alone picked weights whose threshold
    # the cap then moved, and whose choice of window suited Wikipedia, not the seeds.
    shipped = {}
    for k, r in results.items():
        cap, dev_auc = seeds_dev_figures(dev, *k, args.max_seeds_false_declines)
        t = min(cap, r["threshold"])
        squad_f1 = figures_at(rows, *k, t)["f1"]
        seeds_acc = seeds_dev_accuracy(dev, *k, t)
        shipped[k] = {"threshold": t, "capped": cap < r["threshold"], "squad_f1": squad_f1, "seeds_dev_accuracy": seeds_acc,
                      "seeds_dev_auc": dev_auc, "score": (squad_f1 + seeds_acc) / 2}
    lines = ["w\tv\tu\t" + "\t".join(columns) + "\tshipped_threshold\tshipped_squad_f1\tshipped_seeds_dev_accuracy\tseeds_dev_auc"]
    lines += [f"{w}\t{v}\t{u}\t" + "\t".join(f"{r[c]:.4f}" for c in columns)
              + "\t" + "\t".join(f"{shipped[(w, v, u)][c]:.4f}" for c in ("threshold", "squad_f1", "seeds_dev_accuracy", "seeds_dev_auc"))
              for (w, v, u), r in results.items()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "grid.tsv").write_text("\n".join(lines) + "\n")
    ranked = sorted(results, key=lambda k: -shipped[k]["score"])
    for w, v, u in ranked[:10] + [k for k in ranked if k[2] == 0.0][:3]:
        r, p = results[(w, v, u)], shipped[(w, v, u)]
        print(f"w={w:<4} v={v:<5} u={u:<5} SQuAD best threshold={r['threshold']:.3f} (NoAns declined={r['NoAns_declined']:.1f} "
              f"AUC={r['auc']:.3f}); shipped threshold={p['threshold']:.3f}: SQuAD F1={p['squad_f1']:.1f} "
              f"seeds dev right={p['seeds_dev_accuracy']:.1f} seeds dev AUC={p['seeds_dev_auc']:.3f}")
    best_w, best_v, best_u = ranked[0]
    best = shipped[(best_w, best_v, best_u)]
    threshold, dev_auc = best["threshold"], best["seeds_dev_auc"]
    print(f"chosen: w={best_w}, v={best_v}, u={best_u}, threshold={threshold:.4f}"
          f"{' (capped on the seeds dev split)' if best['capped'] else ''}; SQuAD F1 {best['squad_f1']:.1f}, "
          f"seeds dev right {best['seeds_dev_accuracy']:.1f}, seeds dev AUC {dev_auc:.3f} (whole grid: {args.out / 'grid.tsv'})")
    chosen = figures_at(rows, best_w, best_v, best_u, threshold)
    untyped = figures_at(rows, best_w, best_v, best_u, threshold, typed=False)
    for name, r in (("without the type check", untyped), ("with the type check (shipped)", chosen)):
        print(f"at {threshold:.4f} {name}: HasAns F1={r['HasAns_f1']:.1f} EM={r['HasAns_exact']:.1f} "
              f"HasAns declined={r['HasAns_declined']:.1f} NoAns declined={r['NoAns_declined']:.1f}")
    if args.write:
        path = (args.weights or WEIGHTS_DIR) / CONFIG_FILE
        config = json.loads(path.read_text())
        config["decision"] = {
            "answerable_weight": best_w,
            "coverage_weight": best_v,
            "evidence_weight": best_u,
            "threshold": round(float(threshold), 4),
            "calibrated_on": f"{args.squad.name}, {len(rows)} questions asked as an open corpus, and eval/qa.jsonl's dev split: "
            f"per weighting, SQuAD's best-F1 threshold with at most {args.max_has_declined}% of answerable questions declined, capped so "
            f"that at most {args.max_seeds_false_declines}% of the dev split's answerable questions are declined; the weighting with "
            "the best mean of SQuAD overall F1 and dev right-over-all at that point",
            "validation": {k: round(v, 2) if isinstance(v, float) else v for k, v in chosen.items()},
            "seeds_dev_auc": None if dev_auc is None else round(dev_auc, 3),
            "seeds_dev_accuracy": round(best["seeds_dev_accuracy"], 1),
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
