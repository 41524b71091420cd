"""Compare the llm answer mode with the extractive one on a split of eval/qa.jsonl.

    .venv/bin/python eval/llm_compare.py [--split test|dev] [--prompt-version v1] [--out FILE]

Needs the llm extra and a model (see README). Both modes run over the same QA, one question at
a time, through czqa.eval.evaluation.run/summarize, so their figures are comparable; the llm line
adds how its answers ended: verified LLM replies (``llm_verified``), of which some had sentences
removed (``llm_trimmed``), and extractive fallbacks (``fallback``, with the model's own "not in
sources" counted apart in ``model_said_not_in_sources``). Latency is per answer, whole reply
(the model generates the full reply before it is verified), on whatever else the machine is
doing: the load average is printed beside it. Prompt changes are tuned on dev, reported on test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from czqa.eval.evaluation import load_qa, results_json, run, summarize
from czqa.qa import QA
from czqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--prompt-version", default=None, help="prompts/{system,answer}.<version>.txt")
    parser.add_argument("--out", type=Path, help="write per-question llm results (JSON) here")
    args = parser.parse_args()

    records = [r for r in load_qa(ROOT / "eval" / "qa.jsonl") if r.split == args.split]
    settings = Settings.from_env(seeds_dir=ROOT / "seeds", index_dir=ROOT / "embeddings", auto_build=False)
    if args.prompt_version:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"prompt_version": args.prompt_version})})
    qa = QA(settings)
    qa.warm_up()
    backend = qa.generative().backend
    if hasattr(backend, "load"):
        backend.load()  # the model loads once, before anything is timed

    extractive = run(qa, records)
    load_before = os.getloadavg()[0]
    llm = run(qa, records, mode="llm")
    load_after = os.getloadavg()[0]

    print(f"{args.split} split, {len(records)} questions, model: {backend.description}, prompt {settings.llm.prompt_version}")
    print("extractive", json.dumps(summarize(extractive, qa.texts)))
    fallbacks = [r for r in llm if r.answer.mode != "llm"]
    outcome = {
        "llm_verified": sum(r.answer.mode == "llm" for r in llm),
        "llm_trimmed": sum(r.answer.mode == "llm" and r.answer.note is not None for r in llm),
        "fallback": len(fallbacks),
        "model_said_not_in_sources": sum("found no answer" in (r.answer.note or "") for r in fallbacks),
        "llm_verified_correct": sum(r.answer.mode == "llm" and r.correct for r in llm if r.record.answerable),
        "latency_median_s": round(statistics.median(r.seconds for r in llm), 2),
        "latency_max_s": round(max(r.seconds for r in llm), 2),
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
    }
    print("llm       ", json.dumps(summarize(llm, qa.texts)))
    print("llm outcome", json.dumps(outcome))
    if args.out:
        rows = json.loads(results_json(llm))
        for row, r in zip(rows, llm):
            row.update(mode=r.answer.mode, note=r.answer.note, seconds=round(r.seconds, 2))
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
