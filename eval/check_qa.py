#!/usr/bin/env python3
"""Validate the czqa evaluation question set (eval/qa.jsonl).

Standalone, stdlib only.  Usage:
    python3 eval/check_qa.py [path/to/qa.jsonl]

Checks:
  * each line is a JSON object with exactly the fields
    id, question, answers, evidence, type, split (with the right types)
  * ids are unique and follow q001, q002, ... in order
  * type is one of the allowed types, split is dev or test
  * every evidence quote is a verbatim (byte-for-byte) substring of its seed
    file, read from this repository's seeds/<file> (beside eval/), else
    /work/main/seeds/<file> or /work/shared/seeds/<file>
  * unanswerable  <=>  answers == [] and evidence == []
  * for answerable questions, at least one answer string occurs
    (case-insensitive, runs of whitespace treated as one space, since the
    seed files contain hard line breaks) in at least one evidence quote or in
    that quote's file
  * conflict and multi_hop questions carry at least two evidence quotes

Prints counts by type / split / file and exits non-zero on any failure.
"""
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QA = os.path.join(HERE, "qa.jsonl")
# The repository's own seeds first: a fresh clone (CI) must check against the files it ships.
SEED_DIRS = [os.path.join(os.path.dirname(HERE), "seeds"), "/work/main/seeds", "/work/shared/seeds"]
FIELDS = ("id", "question", "answers", "evidence", "type", "split")
TYPES = {"factoid", "numeric", "date", "person", "list",
         "multi_hop", "conflict", "unanswerable"}
SPLITS = {"dev", "test"}


def seed_dir():
    for d in SEED_DIRS:
        if os.path.isdir(d):
            return d
    return None


def norm(s):
    return re.sub(r"\s+", " ", s).strip().lower()


def main(argv):
    qa_path = argv[1] if len(argv) > 1 else DEFAULT_QA
    errors = []
    sdir = seed_dir()
    if sdir is None:
        print("ERROR: no seed folder found (tried %s)" % ", ".join(SEED_DIRS))
        return 2

    texts = {}

    def seed_text(name):
        if name not in texts:
            p = os.path.join(sdir, name)
            if os.path.basename(name) != name or not os.path.isfile(p):
                texts[name] = None
            else:
                with open(p, encoding="utf-8") as f:
                    texts[name] = f.read()
        return texts[name]

    try:
        with open(qa_path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        print("ERROR: cannot read %s: %s" % (qa_path, e))
        return 2

    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append("line %d: invalid JSON: %s" % (n, e))
            continue
        if not isinstance(obj, dict):
            errors.append("line %d: not a JSON object" % n)
            continue
        items.append((n, obj))

    seen_ids = set()
    by_type = collections.Counter()
    by_split = collections.Counter()
    by_type_split = collections.Counter()
    by_file = collections.Counter()          # answerable questions citing file
    by_file_split = collections.Counter()

    for idx, (n, q) in enumerate(items, 1):
        qid = q.get("id", "?")
        where = "line %d (%s)" % (n, qid)

        keys = set(q)
        missing = [k for k in FIELDS if k not in keys]
        extra = sorted(keys - set(FIELDS))
        if missing:
            errors.append("%s: missing field(s) %s" % (where, missing))
        if extra:
            errors.append("%s: unexpected field(s) %s" % (where, extra))
        if missing:
            continue

        # --- field types ---
        if not isinstance(q["id"], str):
            errors.append("%s: id must be a string" % where)
        else:
            if q["id"] in seen_ids:
                errors.append("%s: duplicate id" % where)
            seen_ids.add(q["id"])
            if q["id"] != "q%03d" % idx:
                errors.append("%s: id out of sequence, expected q%03d" % (where, idx))
        if not isinstance(q["question"], str) or not q["question"].strip():
            errors.append("%s: question must be a non-empty string" % where)
        if not isinstance(q["answers"], list) or not all(
                isinstance(a, str) and a.strip() for a in q["answers"]):
            errors.append("%s: answers must be a list of non-empty strings" % where)
            continue
        if not isinstance(q["evidence"], list):
            errors.append("%s: evidence must be a list" % where)
            continue
        if q["type"] not in TYPES:
            errors.append("%s: type %r not in %s" % (where, q["type"], sorted(TYPES)))
        if q["split"] not in SPLITS:
            errors.append("%s: split %r not in %s" % (where, q["split"], sorted(SPLITS)))

        by_type[q["type"]] += 1
        by_split[q["split"]] += 1
        by_type_split[(q["type"], q["split"])] += 1

        unans = q["type"] == "unanswerable"
        if unans:
            if q["answers"] or q["evidence"]:
                errors.append("%s: unanswerable question must have answers == [] and evidence == []" % where)
            continue
        if not q["answers"]:
            errors.append("%s: answerable question has no answers (use type 'unanswerable')" % where)
        if not q["evidence"]:
            errors.append("%s: answerable question has no evidence (use type 'unanswerable')" % where)
        if q["type"] in ("conflict", "multi_hop") and len(q["evidence"]) < 2:
            errors.append("%s: %s question needs evidence from at least two places" % (where, q["type"]))

        # --- evidence ---
        ok_ev = []
        files_here = set()
        for j, ev in enumerate(q["evidence"]):
            if not isinstance(ev, dict) or set(ev) != {"file", "quote"} or not all(
                    isinstance(ev[k], str) for k in ("file", "quote")):
                errors.append("%s: evidence[%d] must be {\"file\": str, \"quote\": str}" % (where, j))
                continue
            text = seed_text(ev["file"])
            if text is None:
                errors.append("%s: evidence[%d] file %r not found in %s" % (where, j, ev["file"], sdir))
                continue
            if not ev["quote"].strip():
                errors.append("%s: evidence[%d] quote is empty" % (where, j))
                continue
            if ev["quote"] not in text:
                errors.append("%s: evidence[%d] quote not found verbatim in %s: %r"
                              % (where, j, ev["file"], ev["quote"][:120]))
                continue
            ok_ev.append(ev)
            files_here.add(ev["file"])
        for fn in files_here:
            by_file[fn] += 1
            by_file_split[(fn, q["split"])] += 1

        # --- answer support ---
        if ok_ev and q["answers"]:
            hay = [norm(ev["quote"]) for ev in ok_ev] + [norm(seed_text(ev["file"])) for ev in ok_ev]
            if not any(norm(a) in h for a in q["answers"] for h in hay):
                errors.append("%s: none of the answers %r occurs in its evidence quotes or their files"
                              % (where, q["answers"]))

    # --- report ---
    print("qa file : %s" % qa_path)
    print("seeds   : %s" % sdir)
    print("total   : %d questions" % sum(by_type.values()))
    print()
    print("%-14s %5s %5s %5s" % ("type", "dev", "test", "all"))
    for t in sorted(TYPES):
        print("%-14s %5d %5d %5d" % (t, by_type_split[(t, "dev")], by_type_split[(t, "test")], by_type[t]))
    print("%-14s %5d %5d %5d" % ("ALL", by_split["dev"], by_split["test"], sum(by_split.values())))
    print()
    print("answerable questions citing each file:")
    print("%-28s %5s %5s %5s" % ("file", "dev", "test", "all"))
    for fn in sorted(by_file):
        print("%-28s %5d %5d %5d" % (fn, by_file_split[(fn, "dev")], by_file_split[(fn, "test")], by_file[fn]))
    print()

    if errors:
        print("FAILED: %d problem(s)" % len(errors))
        for e in errors:
            print("  - " + e)
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
