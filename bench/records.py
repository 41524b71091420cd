"""Answers over a folder of near-identical records: does czqa cite the right one?

Run with the project's virtualenv (a few minutes on the 2-core development machine)::

    .venv/bin/python bench/records.py [--records 60] [--modes reader extractive] [--json FILE]

Ledgers, invoices and numbered items are the hardest folders for retrieval and reading alike:
every record uses the same words, and only an identifier tells them apart. This makes such a
folder: ``--records`` invoices in three files (one line each: number, customer, date, amount,
item) and one question per record about one of its fields, keyed by the invoice number ("Who
was invoice 1017 billed to?"). It builds the index with the real encoder, asks every question in
each mode, and reports per mode:

- **right**: the short answer is the asked record's field;
- **right record cited**: the first citation quotes the asked record's line;
- **other record**: the answer is another record's value for that field (the failure this
  measures);
- **disagree**: the reply claims the documents disagree (they never do here: each record is
  stated once);
- **declined**.

Names, items and amounts are generated from fixed lists with a fixed seed; no corpus word list.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

FIRST = ["Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jana", "Kofi", "Lena"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Silva", "Brandt", "Kowalski", "Reyes"]
ITEMS = ["steel brackets", "oak panels", "copper wire", "glass tiles", "pine beams", "brass hinges", "wool felt"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
FIELDS = {
    "customer": "Who was invoice {n} billed to?",
    "date": "When was invoice {n} issued?",
    "amount": "What was the amount of invoice {n}?",
    "item": "What did invoice {n} cover?",
}


def make_records(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [{
        "n": 1001 + k,
        "customer": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "date": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, 2024",
        "amount": f"${rng.randint(100, 9999):,}",
        "item": rng.choice(ITEMS),
    } for k in range(count)]


def write_folder(folder: Path, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for part in range(3):
        lines = [f"Ledger, part {part + 1}", ""]
        for r in records[part::3]:
            lines.append(f"Invoice {r['n']} was billed to {r['customer']} on {r['date']} for {r['amount']}, "
                         f"covering {r['item']}.")
        (folder / f"ledger-{part + 1}.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--modes", nargs="+", default=["reader", "extractive"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from czqa.qa import QA
    from czqa.settings import Settings

    records = make_records(args.records)
    root = Path(tempfile.mkdtemp(prefix="czqa-records-"))
    write_folder(root / "docs", records)
    qa = QA(Settings(seeds_dir=root / "docs", index_dir=root / "index"))
    qa.warm_up()
    rng = random.Random(1)
    asks = [(r, field) for r in records for field in [rng.choice(list(FIELDS))]]
    results = {}
    for mode in args.modes:
        tally = {"questions": 0, "right": 0, "right_record_cited": 0, "other_record": 0, "disagree": 0, "declined": 0}
        started = time.perf_counter()
        for r, field in asks:
            answer = qa.answer(FIELDS[field].format(n=r["n"]), mode=mode)
            tally["questions"] += 1
            short = (answer.short_answer or "").strip().rstrip(".")
            if answer.abstained:
                tally["declined"] += 1
            if answer.conflict:
                tally["disagree"] += 1
            if short and short == r[field]:
                tally["right"] += 1
            elif short and any(short == other[field] for other in records if other is not r):
                tally["other_record"] += 1
            cites = answer.citations
            if cites and f"Invoice {r['n']} " in cites[0].quote:
                tally["right_record_cited"] += 1
        tally["seconds_per_question"] = round((time.perf_counter() - started) / max(1, len(asks)), 3)
        results[mode] = tally
        shares = ", ".join(f"{k} {100 * v / tally['questions']:.0f}%" for k, v in tally.items()
                           if k not in ("questions", "seconds_per_question"))
        print(f"{mode}: {tally['questions']} questions: {shares} ({tally['seconds_per_question']} s each)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"records": args.records, "results": results}, indent=2))


if __name__ == "__main__":
    main()
