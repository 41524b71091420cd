"""Does int8 answer as float32 does? The same questions through both precisions, side by side.

Run with the project's virtualenv::

    .venv/bin/python eval/compare_precision.py [--split all] [--modes reader,extractive] [--json out.json]

Each precision gets its own index of the same seeds (int8: ``embeddings/``; fp32: built in a
temporary folder by sentence-transformers), so the comparison covers the whole query path:
the encoder that built the index, the question's vector, the reader. For each mode it reports
the share of ``eval/qa.jsonl`` questions answered the same (the same short answer, or both
declining) and with the same citations, lists the questions that differ, and times both
precisions' answers in this one run (median and 95th percentile, warm). The SQuAD side of the
check is ``czqa eval squad FILE`` run twice, once with ``CZQA_PRECISION=fp32``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def answers(precision: str, index_dir: Path, questions: list[dict], modes: list[str]) -> dict:
    from czqa.qa import QA
    from czqa.settings import Settings

    qa = QA(Settings(seeds_dir=ROOT / "seeds", index_dir=index_dir, precision=precision))
    qa.warm_up()
    out = {}
    for mode in modes:
        for q in questions[:5]:  # warm: lazy start-up work is not a question's cost
            qa.answer(q["question"], mode=mode)
        rows, times = [], []
        for q in questions:
            started = time.perf_counter()
            a = qa.answer(q["question"], mode=mode)
            times.append(1000 * (time.perf_counter() - started))
            cites = sorted((c.source, c.start, c.end) for c in a.citations)
            rows.append({"id": q["id"], "answer": None if a.abstained else (a.short_answer or a.text), "citations": cites})
        times.sort()
        out[mode] = {"rows": rows, "p50_ms": round(statistics.median(times), 1),
                     "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--modes", default="reader,extractive")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    questions = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    questions = [q for q in questions if args.split == "all" or q["split"] == args.split]
    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = answers("fp32", Path(tmp) / "index", questions, modes)
    int8 = answers("int8", ROOT / "embeddings", questions, modes)
    report = {"questions": len(questions), "split": args.split, "modes": {}}
    for mode in modes:
        pairs = list(zip(fp32[mode]["rows"], int8[mode]["rows"]))
        same = [a["answer"] == b["answer"] for a, b in pairs]
        cited = [a["answer"] == b["answer"] and a["citations"] == b["citations"] for a, b in pairs]
        report["modes"][mode] = {
            "same_answer_pct": round(100 * sum(same) / len(pairs), 1),
            "same_answer_and_citations_pct": round(100 * sum(cited) / len(pairs), 1),
            "fp32": {k: fp32[mode][k] for k in ("p50_ms", "p95_ms")},
            "int8": {k: int8[mode][k] for k in ("p50_ms", "p95_ms")},
            "differ": [{"id": a["id"], "fp32": a["answer"], "int8": b["answer"]} for a, b, s in zip(*zip(*pairs), same) if not s],
        }
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
