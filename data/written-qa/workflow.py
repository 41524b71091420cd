"""Write and check czqa's own look-alike QA data (``data/written-qa/``), one batch at a time.

The written questions are made by people (or helpers) in batches and kept only when a second,
independent reader agrees; this script does the mechanical parts so that neither side has to
count characters or see what it must not:

    python data/written-qa/workflow.py passages --batch 7        # the batch's passages, to write on
    python data/written-qa/workflow.py sheet --batch 7           # passage + questions only, to check
    python data/written-qa/workflow.py merge                     # keep agreed questions, write the set

Files (``work/`` is scratch, not committed; the merged set is):

- ``work/batch-N.passages.jsonl``: ``{"passage", "source", "genre", "context"}`` per passage.
- ``work/batch-N.written.jsonl`` (the writer's): ``{"passage", "question", "answer", "kind"}``;
  ``answer`` is null for an unanswerable question, else the exact answer text, copied from the
  passage so that its *first* occurrence there is the intended one.
- ``work/batch-N.sheet.jsonl``: ``{"qid", "passage", "context", "question"}`` in shuffled order,
  without kinds or answers: what the checker sees.
- ``work/batch-N.checked.jsonl`` (the checker's): ``{"qid", "answer"}``, null for "cannot be
  answered from the passage".
- ``contexts.jsonl`` and ``questions.jsonl``: the kept set, read by
  :func:`czqa.answering.reader.examples.load_written`.

Passages come from every training file of ``../shared/qa-train`` except the validation file;
any passage that shares a 10-word run with a validation article or with a seed document is
left out, so the set can never leak the validation articles or the seeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))

from czqa.answering.reader.examples import VALIDATION_FILE, load_file, training_files  # noqa: E402

WORK = HERE / "work"
PER_BATCH = 40
SEED = 2026

#: Genre of each training file (by name prefix), for a mixed set.
GENRES = {
    "squad2-train": "wikipedia",
    "mrqa_squad11": "wikipedia",
    "squadshifts_new_wiki": "wikipedia",
    "qed_": "wikipedia",
    "squadshifts_reddit": "forum post",
    "molweni": "chat",
    "squadshifts_amazon": "review",
    "subjqa_": "review",
    "policyqa": "policy",
    "cuad": "contract",
    "covidqa": "science",
    "tatqa": "company report",
}
#: Passages drawn per genre, in turn, so no genre dominates (wikipedia weighted as SQuAD's own).
GENRE_WEIGHT = {"wikipedia": 4, "review": 2, "forum post": 2, "policy": 2, "company report": 1,
                "science": 1, "contract": 1, "chat": 1}
KINDS = ("negation", "antonym", "entity_swap", "mutual_exclusion", "impossible_condition",
         "missing_attribute", "other", "answerable")
MIN_CHARS, MAX_CHARS = 350, 1400


def genre_of(source: str) -> str:
    return next(g for prefix, g in GENRES.items() if source.startswith(prefix))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _shingles(text: str, n: int = 10) -> set[int]:
    w = _words(text)
    return {hash(" ".join(w[i:i + n])) for i in range(max(0, len(w) - n + 1))}


def _forbidden(data: Path) -> set[int]:
    """10-word runs of the validation articles and of the seeds: a passage holding one is dropped."""
    out: set[int] = set()
    val = json.loads((data / VALIDATION_FILE).read_text(encoding="utf-8"))["data"]
    for article in val:
        for p in article["paragraphs"]:
            out |= _shingles(p["context"])
    for seeds in (ROOT / "seeds", data.parent / "seeds"):
        if seeds.is_dir():
            for f in seeds.iterdir():
                if f.is_file():
                    out |= _shingles(f.read_text(encoding="utf-8", errors="replace"))
    return out


def _windows(context: str) -> list[str]:
    """The context itself when it is passage-sized, else paragraph-aligned windows of it."""
    context = context.strip()
    if len(context) <= MAX_CHARS:
        return [context] if len(context) >= MIN_CHARS else []
    parts, cur = [], ""
    for para in re.split(r"(?<=[.!?])\s+|\n+", context):
        if cur and len(cur) + len(para) + 1 > MAX_CHARS:
            parts.append(cur)
            cur = ""
        cur = f"{cur} {para}".strip()
    if cur:
        parts.append(cur)
    return [p for p in parts if MIN_CHARS <= len(p) <= MAX_CHARS]


def pool(data: Path) -> list[dict]:
    """Every candidate passage, deterministically ordered: genres interleaved by weight."""
    forbidden = _forbidden(data)
    by_genre: dict[str, list[dict]] = defaultdict(list)
    seen: set[str] = set()
    for path in training_files(data):
        contexts = {}
        for ex in load_file(path):
            contexts.setdefault(ex.context, ex.document)
        for context, document in contexts.items():
            for window in _windows(context):
                key = hashlib.sha1(window.encode()).hexdigest()[:12]
                if key in seen or _shingles(window) & forbidden:
                    continue
                seen.add(key)
                by_genre[genre_of(path.name)].append(
                    {"passage": f"p{key}", "source": path.name, "document": document,
                     "genre": genre_of(path.name), "context": window})
    rng = random.Random(SEED)
    for rows in by_genre.values():
        rng.shuffle(rows)
    order, cursors = [], {g: 0 for g in by_genre}
    while any(cursors[g] < len(by_genre[g]) for g in by_genre):
        for genre in sorted(by_genre):
            for _ in range(GENRE_WEIGHT.get(genre, 1)):
                if cursors[genre] < len(by_genre[genre]):
                    order.append(by_genre[genre][cursors[genre]])
                    cursors[genre] += 1
    return order


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc})") from None
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def cmd_passages(args) -> None:
    rows = pool(args.data)[args.batch * PER_BATCH:(args.batch + 1) * PER_BATCH]
    out = WORK / f"batch-{args.batch:02d}.passages.jsonl"
    _write_jsonl(out, rows)
    print(f"{out}: {len(rows)} passages ({dict(Counter(r['genre'] for r in rows))})")


def _qid(batch: int, n: int) -> str:
    return f"b{batch:02d}q{n:04d}"


def cmd_sheet(args) -> None:
    passages = {p["passage"]: p for p in _read_jsonl(WORK / f"batch-{args.batch:02d}.passages.jsonl")}
    written = _read_jsonl(WORK / f"batch-{args.batch:02d}.written.jsonl")
    rows = [{"qid": _qid(args.batch, n), "passage": w["passage"], "question": w["question"]}
            for n, w in enumerate(written) if w.get("passage") in passages]
    # Grouped by passage (so a checker reads each once), questions shuffled within it.
    rng = random.Random(args.batch)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["passage"]].append(r)
    out = []
    for pid in passages:
        qs = groups.get(pid, [])
        rng.shuffle(qs)
        for r in qs:
            out.append({"qid": r["qid"], "passage": pid, "context": passages[pid]["context"],
                        "question": r["question"]})
    path = WORK / f"batch-{args.batch:02d}.sheet.jsonl"
    _write_jsonl(path, out)
    print(f"{path}: {len(out)} questions on {len(groups)} passages")


def _span(context: str, text: str) -> tuple[int, int] | None:
    text = (text or "").strip()
    if not text:
        return None
    i = context.find(text)
    return None if i < 0 else (i, i + len(text))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merge(work: Path = WORK) -> dict:
    """Keep every question both sides agree on; write ``contexts.jsonl`` and ``questions.jsonl``."""
    contexts: dict[str, dict] = {}
    kept: list[dict] = []
    tally: dict[str, Counter] = defaultdict(Counter)
    problems: Counter = Counter()
    for written_path in sorted(work.glob("batch-*.written.jsonl")):
        batch = int(written_path.name[6:8])
        checked_path = work / f"batch-{batch:02d}.checked.jsonl"
        if not checked_path.exists():
            continue
        passages = {p["passage"]: p for p in _read_jsonl(work / f"batch-{batch:02d}.passages.jsonl")}
        checked = {c["qid"]: c for c in _read_jsonl(checked_path)}
        seen_q: set[tuple[str, str]] = set()
        for n, w in enumerate(_read_jsonl(written_path)):
            qid = _qid(batch, n)
            p = passages.get(w.get("passage"))
            kind = w.get("kind")
            question = " ".join(str(w.get("question", "")).split())
            if p is None or kind not in KINDS or not question:
                problems["bad row"] += 1
                continue
            if (p["passage"], question.lower()) in seen_q:
                problems["duplicate"] += 1
                continue
            seen_q.add((p["passage"], question.lower()))
            answer = w.get("answer")
            if (answer is None) != (kind != "answerable"):
                problems["kind and answer disagree"] += 1
                continue
            span = None if answer is None else _span(p["context"], answer)
            if answer is not None and span is None:
                problems["answer not in passage"] += 1
                continue
            check = checked.get(qid)
            if check is None:
                problems["not checked"] += 1
                continue
            tally[kind]["checked"] += 1
            theirs = check.get("answer")
            if span is None:
                agree = theirs is None or not str(theirs).strip()
            else:
                other = _span(p["context"], theirs) if theirs else None
                agree = other is not None and _overlap(span, other)
            if not agree:
                continue
            tally[kind]["kept"] += 1
            contexts[p["passage"]] = {k: p[k] for k in ("passage", "source", "document", "genre", "context")}
            kept.append({
                "id": qid, "source": p["source"], "context": p["passage"], "question": question,
                "answers": [] if span is None else [{"text": p["context"][span[0]:span[1]], "answer_start": span[0]}],
                "kind": kind,
            })
    _write_jsonl(HERE / "contexts.jsonl", sorted(contexts.values(), key=lambda c: c["passage"]))
    _write_jsonl(HERE / "questions.jsonl", kept)
    genres = Counter(contexts[k["context"]]["genre"] for k in kept)
    summary = {
        "kept": len(kept),
        "unanswerable": sum(not k["answers"] for k in kept),
        "answerable": sum(bool(k["answers"]) for k in kept),
        "contexts": len(contexts),
        "per_kind": {k: dict(v, agreement=round(v["kept"] / v["checked"], 3)) for k, v in sorted(tally.items())},
        "agreement": round(sum(v["kept"] for v in tally.values()) / max(1, sum(v["checked"] for v in tally.values())), 3),
        "per_genre": dict(genres),
        "dropped_before_checking": dict(problems),
    }
    (HERE / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def cmd_merge(args) -> None:
    print(json.dumps(merge(), indent=1))


def cmd_check_written(args) -> None:
    """A writer's self-check: rows that merge would drop before checking, with why."""
    passages = {p["passage"]: p for p in _read_jsonl(WORK / f"batch-{args.batch:02d}.passages.jsonl")}
    bad = 0
    rows = _read_jsonl(WORK / f"batch-{args.batch:02d}.written.jsonl")
    for n, w in enumerate(rows):
        p = passages.get(w.get("passage"))
        why = None
        if p is None:
            why = "unknown passage id"
        elif w.get("kind") not in KINDS:
            why = f"kind must be one of {KINDS}"
        elif (w.get("answer") is None) != (w.get("kind") != "answerable"):
            why = "answer must be null exactly when kind is not 'answerable'"
        elif w.get("answer") is not None and _span(p["context"], w["answer"]) is None:
            why = "answer text is not in the passage verbatim"
        if why:
            bad += 1
            print(f"row {n + 1}: {why}: {json.dumps(w, ensure_ascii=False)[:160]}")
    kinds = Counter(w.get("kind") for w in rows)
    print(f"{len(rows)} rows, {bad} with problems; kinds: {dict(kinds)}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "qa-train")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, fn in (("passages", cmd_passages), ("sheet", cmd_sheet), ("check-written", cmd_check_written)):
        p = sub.add_parser(name)
        p.add_argument("--batch", type=int, required=True)
        p.set_defaults(fn=fn)
    sub.add_parser("merge").set_defaults(fn=cmd_merge)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
