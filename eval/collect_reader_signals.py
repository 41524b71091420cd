#!/usr/bin/env python3
"""Record what the reader and the retriever saw for each question: the raw material for studying
(and tuning, on validation and dev data only) how the reader decides "no answer".

Questions are asked as ``czqa ask`` asks them (open corpus: retrieval, then the reader over the top
passages, never declining). For every window read we keep the span, its scores, the sentence
holding it and the passage, the idf of the question's terms, and the retrieval scores of the top
hits. One JSON line per question.

    .venv/bin/python eval/collect_reader_signals.py --squad ../shared/qa-train/squad2-dev-8-articles.json --limit 600 --out /tmp/sig/val
    .venv/bin/python eval/collect_reader_signals.py --squad ../shared/qa-train/squad2-train-10-articles.json --answerable 260 --out /tmp/sig/train
    .venv/bin/python eval/collect_reader_signals.py --seeds dev --out /tmp/sig/seeds-dev

The reader was trained on every training file, so its scores on training questions are inflated
(AUC of "no answer" 0.83–0.86 there against 0.67 on validation): fit nothing on them that weighs
the reader's own scores. Never collect the seeds' test split for tuning.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from czqa.eval import squad
from czqa.qa import QA
from czqa.retrieve.lexical import terms
from czqa.settings import ReaderSettings, Settings


def signals(qa: QA, question: str, *, hits: int = 8) -> dict:
    """The retrieval scores of the top hits and every window the reader read, best first."""
    answerer = qa.answerer("reader")
    query = qa.query(question)
    data = answerer.corpus.data
    windows = []
    for chunk, s in answerer.scores(query):
        text, start, end = answerer._span(chunk, s)
        windows.append({
            "chunk": chunk, "source": data.chunks[chunk].source, "span": text,
            "span_score": s.span_score, "null_score": s.null_score, "answerable": s.answerable,
            "sentence": answerer._citations(chunk, start, end)[0].quote,
            "could_answer": answerer._could_answer(question, (chunk, s)),
        })
    frequencies = answerer.frequencies
    return {
        "idf": {t: frequencies.idf(t) for t in set(terms(question))},
        "documents": frequencies.n,
        "hits": [{"chunk": h.chunk, "dense": h.dense, "lexical": h.lexical, "score": h.score} for h in query.hits[:hits]],
        "windows": windows,
        "passages": {str(h.chunk): data.chunks[h.chunk].text for h in query.hits[: answerer.passages]},
    }


def main() -> int:
    from tqdm import tqdm

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", type=Path)
    ap.add_argument("--seeds", choices=("dev",), help="the seeds' dev split of eval/qa.jsonl")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--answerable", type=int, help="SQuAD: every unanswerable question, and this many answerable ones (spread evenly)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    never = ReaderSettings(threshold=-1e9)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.squad:
        questions = squad.write_documents(args.squad, args.out / "docs")
        if args.answerable is not None:
            keep = {q.id for q in squad.sample([q for q in questions if q.answers], args.answerable)}
            questions = [q for q in questions if not q.answers or q.id in keep]
        questions = squad.sample(questions, args.limit)
        qa = QA(Settings(seeds_dir=args.out / "docs", index_dir=args.out / "index", reader=never))
        items = [(q.id, q.question, q.answers) for q in questions]
    else:
        from czqa.eval.dataset import load_qa, select_split

        qa = QA(Settings(reader=never))
        items = [(r.id, r.question, list(r.answers)) for r in select_split(load_qa(Path("eval/qa.jsonl")), args.seeds)]
    with (args.out / "signals.jsonl").open("w", encoding="utf-8") as fh:
        for qid, question, answers in tqdm(items, file=sys.stderr, desc="signals"):
            fh.write(json.dumps({"id": qid, "question": question, "answers": answers, **signals(qa, question)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
