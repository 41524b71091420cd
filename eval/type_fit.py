#!/usr/bin/env python3
"""How often a right answer passes the reader's type check (czqa.answering.spans.fits).

The check rules out spans that cannot be the kind of value a question asks for; this measures
what it would cost on right answers: for every answerable question of the training files whose
type czqa recognises (who, when, how many, ...), whether any of its gold answers passes. Run on
training files only (never the validation file or the seeds):

    .venv/bin/python eval/type_fit.py [--data ../shared/qa-train] [--show 5]
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

from czqa.answering.reader.examples import load_file
from czqa.answering.spans import answer_type, fits

FILES = (
    "squad2-train-10-articles.json", "squadshifts_new_wiki_v1.0.json", "mrqa_squad11_dev_filtered.jsonl.gz",
    "qed_dev.jsonl", "squadshifts_reddit_v1.0.json", "squadshifts_amazon_reviews_v1.0.json",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/qa-train"))
    parser.add_argument("--show", type=int, default=0, help="print this many failing answers per type")
    args = parser.parse_args()
    total: collections.Counter[str] = collections.Counter()
    failed: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for name in FILES:
        for ex in load_file(args.data / name):
            kind = answer_type(ex.question)
            if not ex.answers or kind is None:
                continue
            total[kind] += 1
            if not any(fits(ex.question, a.text) for a in ex.answers):
                failed[kind].append((ex.question, ex.answers[0].text))
    print(f"{'type':10} {'questions':>9} {'pass':>7}")
    for kind, n in total.most_common():
        print(f"{kind:10} {n:9,} {100 * (1 - len(failed[kind]) / n):6.1f}%")
        for question, answer in failed[kind][: args.show]:
            print(f"    {question[:70]} -> {answer[:40]}")


if __name__ == "__main__":
    main()
