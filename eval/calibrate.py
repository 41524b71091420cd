"""Calibrate the abstention threshold on the dev split and report both splits.

    .venv/bin/python eval/calibrate.py

Runs every dev question with the threshold at 0 (nothing declined), picks the threshold that
declines the most unanswerable dev questions while declining at most 5% of the answerable ones
(czqa.eval.evaluation.calibrate_threshold), then reports dev and test figures at that threshold.
Copy the printed threshold into Settings.abstain_threshold when it changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from czqa.eval.evaluation import calibrate_threshold, load_qa, run, summarize
from czqa.qa import QA
from czqa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    records = load_qa(ROOT / "eval" / "qa.jsonl")
    dev = [r for r in records if r.split == "dev"]
    test = [r for r in records if r.split == "test"]
    base = Settings(seeds_dir=ROOT / "seeds", index_dir=ROOT / "embeddings")
    open_qa = QA(base.model_copy(update={"abstain_threshold": 0.0}))
    threshold = calibrate_threshold(run(open_qa, dev))
    print(f"threshold (dev, <=5% false declines): {threshold}")
    qa = QA(base.model_copy(update={"abstain_threshold": threshold}))
    for name, split in (("dev", dev), ("test", test)):
        print(name, json.dumps(summarize(run(qa, split), qa.texts)))


if __name__ == "__main__":
    main()
