"""Ray build benchmark: a folder built locally and on a Ray cluster; the same index? how fast?

Run it with the project's virtualenv (the ``ray`` extra installed)::

    .venv/bin/python bench/ray_build.py [--passages 2000] [--ray local|auto|ADDRESS] [--json out.json]

1. Writes ``--passages`` passages (``bench/scale.py``'s corpus: four to seven of the seeds'
   sentences each, 1,000 per file) into a temporary folder.
2. Builds it locally (``build_index``, the int8 encoder), timing the embedding apart from the
   rest: ``driver_s`` (listing, reading, chunking, the index write: what stays on the driver in
   a Ray build, reading and chunking aside) and ``embed_s``.
3. Builds it on Ray (``build_on_ray``; ``--ray local`` starts an instance on this machine's cores)
   and compares: every index file byte for byte, the manifest but its time stamp, and the
   extractive answers and citations of the eval questions.
4. Prints the throughput model for N workers (one CPU each): a build of P passages takes about
   ``driver_s + overhead_s + embed_cpu_s / N`` (``embed_cpu_s``: the CPU seconds the local build's
   embedding took, all threads; it spreads over the workers, the driver's share and Ray's start-up
   and transfers do not, ``overhead_s`` being what the Ray run took beyond the other two), so it
   stops scaling once ``embed_cpu_s / N`` is small next to ``driver_s + overhead_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from scale import passages, write_docs  # noqa: E402

from czqa.settings import Settings  # noqa: E402


class TimedEncoder:
    """An encoder that counts the wall seconds and the CPU seconds (all its threads) of ``encode``."""

    def __init__(self, encoder) -> None:
        self.inner, self.seconds, self.cpu_seconds = encoder, 0.0, 0.0
        self.name, self.dimension, self.max_tokens = encoder.name, encoder.dimension, encoder.max_tokens

    def encode(self, texts, *, show_progress: bool = False):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu


def compare(a: Path, b: Path) -> dict:
    ma, mb = (json.loads((x / "manifest.json").read_text()) for x in (a, b))
    ma.pop("built_at"), mb.pop("built_at")
    ga, gb = next(a.glob("gen-*")), next(b.glob("gen-*"))
    files = sorted(p.name for p in ga.iterdir())
    return {"manifest_equal": ma == mb, "files": files,
            "files_equal": all((ga / f).read_bytes() == (gb / f).read_bytes() for f in files)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--ray", default="local", help="local (default), auto, or a cluster address")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from czqa.embed.encoder import OnnxMiniLM
    from czqa.index.build import build_index
    from czqa.index.ray_build import build_on_ray, connect
    from czqa.qa import QA

    result: dict = {"passages": args.passages, "cpus_here": os.cpu_count(), "load_avg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="czqa-ray-bench-") as tmp_name:
        tmp = Path(tmp_name)
        write_docs(tmp / "docs", passages(args.passages))
        local = Settings(seeds_dir=tmp / "docs", index_dir=tmp / "local")
        on_ray = Settings(seeds_dir=tmp / "docs", index_dir=tmp / "ray")
        encoder = TimedEncoder(OnnxMiniLM())
        encoder.encode(["warm up"])
        encoder.seconds = encoder.cpu_seconds = 0.0
        started = time.perf_counter()
        _, report = build_index(local, encoder=encoder)
        local_s = time.perf_counter() - started
        result["local"] = {"build_s": round(local_s, 1), "embed_s": round(encoder.seconds, 1), "embed_cpu_s": round(encoder.cpu_seconds, 1),
                           "driver_s": round(local_s - encoder.seconds, 1),
                           "passages_per_s": round(args.passages / local_s, 1), "chunks": report.chunks, "texts": report.embedded}
        started = time.perf_counter()
        workers = connect(args.ray)
        result["ray_connect_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        build_on_ray(on_ray, address=args.ray)
        ray_s = time.perf_counter() - started
        result["ray"] = {"workers": workers, "build_s": round(ray_s, 1), "passages_per_s": round(args.passages / ray_s, 1),
                         "overhead_s": round(ray_s - result["local"]["driver_s"] - encoder.cpu_seconds / workers, 1)}
        result["same_index"] = compare(local.index_dir, on_ray.index_dir)
        questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()][:60]
        qa_local = QA(local, query_encoder=encoder.inner, build_encoder=encoder.inner)
        qa_ray = QA(on_ray, query_encoder=encoder.inner, build_encoder=encoder.inner)
        same = [(a.text, a.citations) == (b.text, b.citations) for q in questions
                for a, b in [(qa_local.answer(q, mode="extractive"), qa_ray.answer(q, mode="extractive"))]]
        result["same_answers"] = f"{sum(same)}/{len(same)}"
    d, e, o = result["local"]["driver_s"], result["local"]["embed_cpu_s"], result["ray"]["overhead_s"]
    result["model_s"] = {f"{n}_workers": round(d + max(o, 0) + e / n, 1) for n in (1, 2, 4, 8, 16, 32)}
    result["load_avg_end"] = os.getloadavg()[0]
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
