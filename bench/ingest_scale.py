"""Indexing time per megabyte, from 0.1 MB to 50 MB: is everything but the embedding linear?

Run with the project's virtualenv (about 3 minutes on the 2-core development machine)::

    .venv/bin/python bench/ingest_scale.py [--sizes 0.1 1 10 50] [--json bench/results/ingest_scale.json]

For each size, a plain-text document of that many bytes is made from the seeds' own sentences
(shuffled paragraphs, so the splitter and chunker see real prose), and the work of indexing it
other than the embedding is timed: clean, split into sentences, chunk, and the alias table that
every start-up builds. Embedding is measured once on a sample of the chunks with the numpy
MiniLM encoder (chunks per second), and the embedding time of each size is estimated from it, so
the 50 MB row does not spend an hour embedding to show what the sample already shows.

Printed per size: seconds, seconds per MB (flat when the work is linear), chunks, and the share
of a whole build that is not embedding (target ≤ 10%). A 1 MB single-token file's cost at
start-up (alias table) is printed last (target ≤ 1 s).

``--adversarial`` runs the size sweep on hostile text instead: long runs of the characters every
pattern over document text starts with (markdown images and links, HTML tags, comments and
declarations, entities, sentence ends, parentheses, URLs), in ``.txt``, ``.md`` and ``.html``
files, at 32, 128 and 512 KB. Work linear in the size keeps seconds per MB flat; the largest
size's seconds/MB over the smallest's is printed per case (a quadratic pattern shows 16).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from czqa.index.build import process_document  # noqa: E402
from czqa.ingest.documents import Document, ingest  # noqa: E402
from czqa.retrieve.aliases import AliasTable  # noqa: E402
from czqa.settings import ChunkingSettings  # noqa: E402


def prose(size: int, *, seed: int = 0) -> str:
    """``size`` bytes of paragraphs of four to seven of the seeds' sentences, each paragraph a
    new combination (the cleaner indexes a repeated paragraph once, as it should, so repeating
    the seeds would shrink the work instead of growing it)."""
    docs, _ = ingest(ROOT / "seeds")
    sentences = [s for d in docs if not d.is_html for s in re.split(r"(?<=[.!?])\s+", d.text) if len(s.split()) > 6]
    sentences = [" ".join(s.split()) for s in sentences]
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        p = " ".join(rng.sample(sentences, rng.randint(4, 7)))
        out.append(p)
        total += len(p.encode()) + 2
    return "\n\n".join(out)[:size]


#: Hostile repeating units: each is the start of a pattern that cleaning, splitting, chunking or
#: the alias table matches, repeated with no end (the case that makes a backtracking scan
#: quadratic).
ADVERSARIAL = {
    "![": "![", "[": "[", "[x](": "[x](", "<": "<", "<a ": "<a ", '<a x="': '<a x="', "<!--": "<!--",
    "<![CDATA[": "<![CDATA[", "<?": "<?", "</": "</", "&#": "&#", "&amp": "&amp", "(": "(", "((A": "((A ",
    "A. ": "A. ", "...": "...", "!?": "!?", "http://": "http://x", "*_`": "*_`", "# ": "# ", "- ": "\n- ",
    "Aa (": "Aa (", "Long Form (LF)": "Long Form (LF) ", "\\n": "\n",
}


def adversarial(sizes_kb: list[int]) -> list[dict]:
    """Seconds per MB of cleaning, splitting and chunking hostile text, per case and file type."""
    chunking = ChunkingSettings()
    rows = []
    print(f"{'case':>16} {'type':>5} " + " ".join(f"{kb:>6}KB s/MB" for kb in sizes_kb) + "   ratio")
    for name, unit in ADVERSARIAL.items():
        for suffix in (".txt", ".md", ".html"):
            per_mb = []
            for kb in sizes_kb:
                text = "Intro sentence here. " + unit * (kb * 1000 // len(unit)) + " end"
                started = time.perf_counter()
                process_document(Document(source="x" + suffix, text=text, sha256="0"), chunking)
                AliasTable.from_texts([text])
                per_mb.append((time.perf_counter() - started) / (len(text) / 1e6))
            ratio = per_mb[-1] / max(per_mb[0], 1e-9)
            rows.append({"case": name, "type": suffix, "seconds_per_mb": [round(x, 3) for x in per_mb], "ratio": round(ratio, 2)})
            print(f"{name:>16} {suffix:>5} " + " ".join(f"{x:>12.2f}" for x in per_mb) + f"   {ratio:5.2f}", flush=True)
    worst = max(rows, key=lambda r: r["ratio"])
    print(f"worst growth: {worst['case']} {worst['type']}: s/MB x{worst['ratio']} from {sizes_kb[0]} to {sizes_kb[-1]} KB "
          f"(linear: about 1; quadratic: {sizes_kb[-1] / sizes_kb[0]:g})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1, 10, 50], help="document sizes in MB")
    parser.add_argument("--adversarial", action="store_true", help="the size sweep on hostile text (see above)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    chunking = ChunkingSettings()
    if args.adversarial:
        rows = adversarial([32, 128, 512])
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"adversarial": rows}, indent=2))
        return

    from czqa.embed.encoder import NumpyMiniLM

    encoder = NumpyMiniLM()
    sample_doc = Document(source="sample.txt", text=prose(200_000, seed=1), sha256="0")
    sample = [c.embed_text for c in process_document(sample_doc, chunking)[0]][:96]
    encoder.encode(sample[:8])
    started = time.perf_counter()
    encoder.encode(sample)
    chunks_per_s = len(sample) / (time.perf_counter() - started)

    rows = []
    print(f"embedding: {chunks_per_s:.1f} chunks/s (numpy MiniLM, {len(sample)} chunks)")
    print(f"{'MB':>6} {'seconds':>8} {'s/MB':>7} {'chunks':>8} {'embed est. s':>13} {'non-embed share':>16}")
    for mb in args.sizes:
        text = prose(int(mb * 1_000_000))
        started = time.perf_counter()
        chunks, sentences = process_document(Document(source="big.txt", text=text, sha256="0"), chunking)
        AliasTable.from_texts([text])
        seconds = time.perf_counter() - started
        embed_s = (len(chunks) + len(sentences)) / chunks_per_s
        row = {
            "mb": mb, "seconds": round(seconds, 3), "seconds_per_mb": round(seconds / mb, 3), "chunks": len(chunks),
            "sentences": len(sentences), "embed_estimate_s": round(embed_s, 1),
            "non_embedding_share": round(seconds / (seconds + embed_s), 4),
        }
        rows.append(row)
        print(f"{mb:>6g} {seconds:>8.2f} {row['seconds_per_mb']:>7.2f} {len(chunks):>8} {embed_s:>13.0f} {100 * row['non_embedding_share']:>15.1f}%", flush=True)
    token = "A" * 1_000_000
    started = time.perf_counter()
    AliasTable.from_texts([token])
    token_s = time.perf_counter() - started
    print(f"1 MB single-token file at start-up (alias table): {token_s:.3f} s (target ≤ 1 s)")
    per_mb = [r["seconds_per_mb"] for r in rows if r["mb"] >= 1]
    if per_mb:
        print(f"s/MB spread over sizes ≥ 1 MB: max/min = {max(per_mb) / min(per_mb):.2f} (flat is 1.0)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"chunks_per_s": chunks_per_s, "rows": rows, "token_1mb_s": token_s}, indent=2))


if __name__ == "__main__":
    main()
