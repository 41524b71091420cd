"""Benchmark czqa: index build time, cold start, warm answer latency and peak memory.

Run it from anywhere with the project's virtualenv::

    /work/main/.venv/bin/python bench/bench.py [--json]

Every figure comes from this one run. The script prints a table (with the targets and PASS/MISS),
or with ``--json`` the figures as JSON, and writes them to ``bench/results/latest.json``. It takes
about three minutes on the 2-core development machine.

What is measured, and why
-------------------------

1. **Index build, in-process.** Building embeds every chunk and sentence of ``seeds/`` with the
   default (int8, ONNX Runtime) encoder. The model is loaded once (reported separately as
   "model load") and each build gets the same encoder: the build figure is the build work itself
   (read, clean, split, chunk, embed, write, reload). Median of 3 builds, each into a new,
   empty temporary folder, so nothing is reused from a previous index.
2. **Index build, new process.** What a user waits for after ``czqa index``: one subprocess,
   model load included. Plus an *incremental* rebuild: after appending one sentence to one seed
   file, only that file is re-chunked and only texts whose embedding is not already in the index
   are embedded; the report's ``embedded`` count shows how many.
3. **Cold start.** Wall time of a new ``czqa ask`` process against the already-built
   ``embeddings/``. This path never imports torch: questions are embedded by the int8
   encoder (ONNX Runtime), so a one-off question costs process start, index load and one forward
   pass. ``python -c "import czqa"`` is timed too: the package
   imports its heavy modules lazily, so this is the floor of any czqa process. The ask runs with
   ``CZQA_AUTO_BUILD=0`` so a stale index fails loudly instead of being silently rebuilt (and
   timed); the script refreshes a missing or stale index with ``czqa index`` before measuring.
4. **Warm answer latency.** One ``QA`` over ``seeds/`` + ``embeddings/``: warm up, answer every
   question of ``eval/qa.jsonl`` once untimed, then again timing each call with
   ``time.perf_counter``. This runs in the benchmark process *before* torch is imported in it,
   as in a real serving process. Then the same questions per answer mode (reader, extractive)
   and with the float32 reader, over the same retrieval (``modes``: p50/p95 each, and the
   reader/extractive and fp32/int8 ratios), and each build encoder's own rate on the same
   passages beside the int8 build's rate (``encoders``): speed-ups are ratios of one run.
5. **Peak memory.** ``ru_maxrss`` of a subprocess that only serves (warm_up + answer all eval
   questions), of one that serves with the float32 models (``CZQA_PRECISION=fp32``, over an index
   the float32 encoder built first), and, for contrast, of one that builds the index. Linux reports
   KiB; figures here are MiB. Caveat: Linux carries a process's peak RSS across ``exec``, so a
   child started by a large parent reports at least the *parent's* peak. The memory children are
   therefore started first, while this process is still small (its own peak at that moment is
   recorded in the JSON), and each child also reports ``VmHWM`` from ``/proc/self/status`` (the
   peak of its own address space only) as a cross-check.
6. **Targets.** Build ≤ 5 s (the in-process median), warm p50 ≤ 250 ms and p95 ≤ 500 ms, cold
   start ≤ 2.5 s, serving memory ≤ 1 GiB. (Before the trained reader the default answer took
   ~10 ms and the targets were 30/60 ms and 2 s; reading four passages with a six-layer model is
   the price of answers that are right.)

Measurements run one after another (never in parallel) so they do not compete for the two cores.
Other work on the machine does compete, and on two cores it easily doubles every figure. So each
section also records how many cores *other* processes kept busy meanwhile (busy time from
``/proc/stat`` minus this process's and its children's CPU time); the table flags sections where
that exceeds 0.25 cores. ``--wait-quiet SECONDS`` waits (up to that long) for an idle machine
before starting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
CZQA = ROOT / ".venv" / "bin" / "czqa"
SEEDS = ROOT / "seeds"
INDEX = ROOT / "embeddings"
EVAL = ROOT / "eval" / "qa.jsonl"
RESULTS = ROOT / "bench" / "results" / "latest.json"

COLD_QUESTION = "Who replaced Changpeng Zhao as Binance's CEO?"
COLD_EXPECTED = "Teng"  # a sanity check that the cold-start process really answered
APPENDED_SENTENCE = "\n\nThis sentence was appended by the czqa benchmark to test an incremental rebuild.\n"
BUILD_RUNS, COLD_RUNS = 3, 5
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # recorded, not set
BUSY_CORES = 0.25  # other processes' CPU use above which a section is flagged


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without CZQA_* overrides (so they cannot skew a child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CZQA_")}
    env.update(extra)
    return env


def run_timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run a command to completion; return its wall time in seconds and its stdout."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env or clean_env(), cwd=ROOT)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr}")
    return elapsed, proc.stdout


def run_child(mode: str, **env: str) -> dict:
    """Run this script in ``--child MODE`` and return the JSON it prints on its last line."""
    _, stdout = run_timed([str(PYTHON), str(Path(__file__).resolve()), "--child", mode], env=clean_env(**env))
    return json.loads(stdout.strip().splitlines()[-1])


def maxrss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vmhwm_mb() -> float | None:
    """Peak RSS of this process's own address space, from /proc (not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds used by this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        u = resource.getrusage(who)
        total += u.ru_utime + u.ru_stime
    return total


@contextmanager
def watch(name: str, log: dict):
    """Record a section's wall time and the cores other processes used during it."""
    wall0, busy0, own0 = time.perf_counter(), machine_busy_s(), own_cpu_s()
    yield
    wall = time.perf_counter() - wall0
    other = max(0.0, (machine_busy_s() - busy0) - (own_cpu_s() - own0))
    log[name] = {"wall_s": round(wall, 2), "other_cpu_cores": round(other / wall, 2) if wall else 0.0}


def wait_for_quiet(max_wait: float, *, window: float = 3.0, threshold: float = BUSY_CORES) -> float:
    """Wait until other processes use < threshold cores over a short window; return seconds waited."""
    started = time.perf_counter()
    while True:
        busy0 = machine_busy_s()
        time.sleep(window)
        if (machine_busy_s() - busy0) / window < threshold:
            return time.perf_counter() - started
        if time.perf_counter() - started > max_wait:
            print(f"machine still busy after {max_wait:.0f} s; measuring anyway", file=sys.stderr)
            return time.perf_counter() - started


def eval_questions() -> list[str]:
    lines = EVAL.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def qa_settings(seeds: Path = SEEDS, index: Path = INDEX):
    from czqa.settings import Settings

    # auto_build off: a serving measurement must never turn into a silent rebuild.
    return Settings(seeds_dir=seeds, index_dir=index, auto_build=False)


# --------------------------------------------------------------------------------------------
# Child processes (memory measurements)
# --------------------------------------------------------------------------------------------


def child_serve() -> dict:
    """A serving process: load QA and answer every eval question once; nothing else."""
    from czqa.qa import QA

    # BENCH_PRECISION=fp32 (with BENCH_INDEX, an index that precision built): the float32 models.
    precision = os.environ.get("BENCH_PRECISION", "int8")
    settings = qa_settings(index=Path(os.environ.get("BENCH_INDEX", INDEX))).model_copy(update={"precision": precision})
    qa = QA(settings)
    qa.warm_up()
    questions = eval_questions()
    for q in questions:
        qa.answer(q)
    return {
        "maxrss_mb": maxrss_mb(),
        "vmhwm_mb": vmhwm_mb(),
        "questions": len(questions),
        "torch_imported": "torch" in sys.modules,
        "precision": precision,
    }


def child_build() -> dict:
    """A build process: build the full index from the seeds (the default, int8 encoder)."""
    from czqa.index.build import build_index
    from czqa.settings import Settings

    with tempfile.TemporaryDirectory(prefix="czqa-bench-build-") as tmp:
        _, report = build_index(Settings(seeds_dir=SEEDS, index_dir=Path(tmp) / "index"))
    return {"maxrss_mb": maxrss_mb(), "vmhwm_mb": vmhwm_mb(), "embedded": report.embedded}


CHILDREN = {"serve": child_serve, "build": child_build}


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def prepare_index() -> str:
    """Make sure embeddings/ exists and matches the seeds; say what had to be done."""
    from czqa.index.build import staleness
    from czqa.ingest.documents import ingest
    from czqa.index.store import read_manifest

    manifest = read_manifest(INDEX) if (INDEX / "manifest.json").exists() else None
    if manifest is None:
        state = "built (manifest.json was missing)"
    else:
        docs, _ = ingest(SEEDS)
        reasons = staleness(manifest, docs, qa_settings())
        if not reasons:
            return "fresh"
        state = "refreshed (stale: " + "; ".join(reasons) + ")"
    run_timed([str(CZQA), "index", "--seeds", str(SEEDS), "--out", str(INDEX), "-q"])
    return state


def measure_memory(tmp: Path) -> dict:
    """The serving and building children's peaks; and a serving child with the float32 models,
    over an index the float32 encoder built (``czqa index`` in its own process first)."""
    parent = maxrss_mb()
    serve, build = run_child("serve"), run_child("build")
    fp32_index = tmp / "fp32-index"
    run_timed([str(CZQA), "index", "--seeds", str(SEEDS), "--out", str(fp32_index), "-q"], env=clean_env(CZQA_PRECISION="fp32"))
    serve_fp32 = run_child("serve", BENCH_PRECISION="fp32", BENCH_INDEX=str(fp32_index))
    return {"parent_maxrss_mb_at_spawn": parent, "serving": serve, "serving_fp32": serve_fp32, "building": build}


def measure_cold_start() -> dict:
    ask = [str(CZQA), "ask", COLD_QUESTION, "--seeds", str(SEEDS), "--index", str(INDEX)]
    env = clean_env(CZQA_AUTO_BUILD="0")
    times, answer = [], ""
    for _ in range(COLD_RUNS):
        elapsed, answer = run_timed(ask, env=env)
        times.append(elapsed)
    imports = [run_timed([str(PYTHON), "-c", "import czqa"])[0] for _ in range(COLD_RUNS)]
    return {
        "ask_runs_s": times,
        "ask_median_s": statistics.median(times),
        "answer_first_line": answer.strip().splitlines()[0] if answer.strip() else "",
        "answer_ok": COLD_EXPECTED in answer,
        "import_runs_s": imports,
        "import_median_s": statistics.median(imports),
    }


def measure_cli_build(tmp: Path) -> dict:
    elapsed, stdout = run_timed([str(CZQA), "index", "--seeds", str(SEEDS), "--out", str(tmp / "cli-index")])
    return {"wall_s": elapsed, "output": stdout.strip()}


def measure_warm_latency() -> dict:
    from czqa.qa import QA

    questions = eval_questions()
    qa = QA(qa_settings())
    started = time.perf_counter()
    qa.warm_up()
    warm_up_s = time.perf_counter() - started
    for q in questions:  # untimed pass: first-call allocations, caches
        qa.answer(q)
    latencies_ms = []
    abstained = 0
    for q in questions:
        t0 = time.perf_counter()
        result = qa.answer(q)
        latencies_ms.append((time.perf_counter() - t0) * 1000)
        abstained += result.abstained
    lat = np.array(latencies_ms)
    return {
        "n": len(lat),
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": float(lat.max()),
        "mean_ms": float(lat.mean()),
        "warm_up_s": warm_up_s,
        "abstained": abstained,
        "torch_imported": "torch" in sys.modules,
    }


def _latencies(qa, questions: list[str], mode: str) -> dict:
    for q in questions:  # untimed pass: first-call allocations, caches
        qa.answer(q, mode=mode)
    lat = []
    for q in questions:
        t0 = time.perf_counter()
        qa.answer(q, mode=mode)
        lat.append((time.perf_counter() - t0) * 1000)
    lat = np.array(lat)
    return {"n": len(lat), "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95))}


def measure_modes() -> dict:
    """Warm p50/p95 of each answer mode and of the reader in both precisions, on the same
    questions, in this one process, over the same retrieval (the int8 encoder embeds the questions
    for all of them, so only the answer step differs): the speed-ups are ratios of this run."""
    from czqa.embed.encoder import OnnxMiniLM
    from czqa.qa import QA

    questions = eval_questions()
    encoder = OnnxMiniLM()
    out: dict = {}
    for precision, modes in (("int8", ("reader", "extractive")), ("fp32", ("reader",))):
        qa = QA(qa_settings().model_copy(update={"precision": precision}), query_encoder=encoder, build_encoder=encoder)
        qa.warm_up()
        for mode in modes:
            out[f"{mode}_{precision}"] = _latencies(qa, questions, mode)
    out["reader_over_extractive_p50"] = out["reader_int8"]["p50_ms"] / out["extractive_int8"]["p50_ms"]
    out["reader_fp32_over_int8_p50"] = out["reader_fp32"]["p50_ms"] / out["reader_int8"]["p50_ms"]
    return out


def measure_encoders(tmp: Path) -> dict:
    """Each build encoder's own rate on the same passages, and a whole build's rate with the
    int8 encoder (reading, chunking, embedding chunks and sentences, writing), in this run."""
    from czqa.embed.encoder import OnnxMiniLM, SentenceTransformerEncoder
    from czqa.index.store import load_index

    passages = [c.embed_text for c in load_index(INDEX).chunks] * 2
    rates = {}
    for name, encoder in (("torch_fp32", SentenceTransformerEncoder()), ("int8", OnnxMiniLM())):
        encoder.encode(passages[:8])  # loads the model: not part of the rate
        started = time.perf_counter()
        encoder.encode(passages)
        rates[name] = len(passages) / (time.perf_counter() - started)
    elapsed, report = timed_build(SEEDS, tmp / "int8-build", OnnxMiniLM())
    build_rate = report.chunks / elapsed
    return {"passages": len(passages), "torch_fp32_passages_per_s": rates["torch_fp32"], "int8_passages_per_s": rates["int8"],
            "build_s": elapsed, "build_chunks": report.chunks, "build_texts_embedded": report.embedded,
            "build_passages_per_s": build_rate, "build_over_torch_rate": build_rate / rates["torch_fp32"],
            "int8_over_torch_rate": rates["int8"] / rates["torch_fp32"]}


def load_encoder():
    """Load the default (int8) build encoder once; return (encoder, seconds)."""
    started = time.perf_counter()
    from czqa.embed.encoder import OnnxMiniLM

    encoder = OnnxMiniLM()
    encoder.encode(["warm up"])
    return encoder, time.perf_counter() - started


def timed_build(seeds: Path, index: Path, encoder) -> tuple[float, object]:
    from czqa.index.build import build_index
    from czqa.settings import Settings

    started = time.perf_counter()
    _, report = build_index(Settings(seeds_dir=seeds, index_dir=index), encoder=encoder)
    return time.perf_counter() - started, report


def measure_inprocess_builds(tmp: Path, encoder) -> dict:
    runs, report = [], None
    for i in range(BUILD_RUNS):
        elapsed, report = timed_build(SEEDS, tmp / f"build-{i}", encoder)
        runs.append(elapsed)
    return {
        "runs_s": runs,
        "median_s": statistics.median(runs),
        "chunks": report.chunks,
        "sentences": report.sentences,
        "embedded": report.embedded,
    }


def measure_incremental(tmp: Path, encoder) -> dict:
    seeds, index = tmp / "inc-seeds", tmp / "inc-index"
    shutil.copytree(SEEDS, seeds)
    full_s, full = timed_build(seeds, index, encoder)
    target = sorted(p for p in seeds.iterdir() if p.is_file())[0]
    with target.open("a", encoding="utf-8") as f:
        f.write(APPENDED_SENTENCE)
    rebuild_s, report = timed_build(seeds, index, encoder)
    return {
        "full_build_s": full_s,
        "full_embedded": full.embedded,
        "changed_file": target.name,
        "rebuild_s": rebuild_s,
        "rebuild_report_s": report.seconds,
        "embedded": report.embedded,
        "files_reused": report.files_reused,
        "files": report.files,
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def verdicts(r: dict) -> list[dict]:
    """Each target beside its figure."""
    checks = [
        ("Index build (in-process, median)", r["build_inprocess"]["median_s"], 5.0, "s"),
        ("Warm answer p50", r["warm_latency"]["p50_ms"], 250.0, "ms"),
        ("Warm answer p95", r["warm_latency"]["p95_ms"], 500.0, "ms"),
        ("Cold start (czqa ask, median)", r["cold_start"]["ask_median_s"], 2.5, "s"),
        ("Serving peak memory", r["memory"]["serving"]["maxrss_mb"], 1024.0, "MiB"),
    ]
    return [
        {"name": n, "value": v, "target": t, "unit": u, "pass": v <= t} for n, v, t, u in checks
    ]


def table_rows(r: dict) -> list[tuple[str, str, str]]:
    """(label, value, target+verdict) rows in the order of the brief."""
    ok = {v["name"]: v for v in r["targets"]}

    def verdict(name: str) -> str:
        v = ok[name]
        return f"≤ {v['target']:g} {v['unit']}  {'PASS' if v['pass'] else 'MISS'}"

    b, inc, cli = r["build_inprocess"], r["build_incremental"], r["build_cli"]
    c, w, m = r["cold_start"], r["warm_latency"], r["memory"]
    runs = ", ".join(f"{x:.2f}" for x in b["runs_s"])
    return [
        ("1. Index build", "", ""),
        ("   model load (once)", f"{r['model_load_s']:.2f} s", ""),
        (f"   build, pre-warmed encoder (median of {BUILD_RUNS})", f"{b['median_s']:.2f} s",
         verdict("Index build (in-process, median)")),
        ("     each run (s)", runs, ""),
        (f"     index: {b['chunks']} chunks, {b['sentences']} sentences", f"{b['embedded']} embedded", ""),
        ("2. Index build, new process", "", ""),
        ("   `czqa index` wall time (incl. model load)", f"{cli['wall_s']:.2f} s", ""),
        ("   incremental rebuild after 1 appended sentence", f"{inc['rebuild_s']:.2f} s", ""),
        ("     texts embedded by the rebuild", f"{inc['embedded']} of {inc['full_embedded']}", ""),
        ("3. Cold start", "", ""),
        (f"   `czqa ask` wall time (median of {COLD_RUNS})", f"{c['ask_median_s']:.2f} s",
         verdict("Cold start (czqa ask, median)")),
        (f"   `python -c 'import czqa'` (median of {COLD_RUNS})", f"{c['import_median_s'] * 1000:.0f} ms", ""),
        ("4. Warm answer latency", f"n = {w['n']}", ""),
        ("   p50", f"{w['p50_ms']:.1f} ms", verdict("Warm answer p50")),
        ("   p95", f"{w['p95_ms']:.1f} ms", verdict("Warm answer p95")),
        ("   max", f"{w['max_ms']:.1f} ms", ""),
        ("   reader p50 / extractive p50 (int8, same questions)", f"{r['modes']['reader_over_extractive_p50']:.1f}x", "≤ 5x"),
        ("   reader p50, fp32 / int8", f"{r['modes']['reader_fp32_over_int8_p50']:.1f}x", ""),
        ("   encoders' own rate: torch fp32 / int8", f"{r['encoders']['torch_fp32_passages_per_s']:.0f} / "
         f"{r['encoders']['int8_passages_per_s']:.0f} passages/s", ""),
        ("   int8 build rate / torch encoder's own rate", f"{r['encoders']['build_over_torch_rate']:.1f}x", "≥ 1.8x"),
        ("5. Peak memory (ru_maxrss)", "", ""),
        ("   serving process (warm_up + all questions)", f"{m['serving']['maxrss_mb']:.0f} MiB",
         verdict("Serving peak memory")),
        ("   serving process, float32 models", f"{m['serving_fp32']['maxrss_mb']:.0f} MiB", ""),
        ("   build process", f"{m['building']['maxrss_mb']:.0f} MiB", ""),
    ]


def print_table(r: dict) -> None:
    rows = table_rows(r)
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    print(f"czqa benchmark  {r['timestamp']}  ({r['cpus']} CPUs, Python {r['python']})")
    print(f"index: {r['index_state']}")
    print()
    print(f"{'Measurement':<{w0}}  {'Value':>{w1}}  Target")
    print("-" * (w0 + w1 + 24))
    for label, value, target in rows:
        print(f"{label:<{w0}}  {value:>{w1}}  {target}".rstrip())
    passed = sum(v["pass"] for v in r["targets"])
    print("-" * (w0 + w1 + 24))
    busy = ", ".join(f"{k} {v['other_cpu_cores']:.2f}" for k, v in r["sections"].items())
    print(f"{passed}/{len(r['targets'])} targets met.  Run took {r['bench_seconds']:.0f} s.  "
          f"Results: {RESULTS.relative_to(ROOT)}")
    print(f"Other processes' CPU use (cores) per section: {busy}")
    for note in r["notes"]:
        print(f"note: {note}")


def notes(r: dict) -> list[str]:
    """Anything that makes a figure less trustworthy than it looks."""
    out = []
    if not r["cold_start"]["answer_ok"]:
        out.append(f"cold-start answer did not mention {COLD_EXPECTED!r}: {r['cold_start']['answer_first_line']!r}")
    if r["warm_latency"]["torch_imported"]:
        out.append("torch was already imported when warm latency was measured")
    if r["memory"]["serving"]["torch_imported"]:
        out.append("the serving process imported torch")
    for kind in ("serving", "serving_fp32", "building"):
        if r["memory"][kind]["maxrss_mb"] <= r["memory"]["parent_maxrss_mb_at_spawn"]:
            out.append(f"{kind} ru_maxrss may only be this process's inherited peak; see vmhwm_mb in the JSON")
    # Contention inflates times, not peak memory, so the memory section is recorded but not flagged.
    busy = [n for n, s in r["sections"].items() if n != "memory" and s["other_cpu_cores"] > BUSY_CORES]
    if busy:
        out.append(
            f"other processes used more than {BUSY_CORES} of {r['cpus']} cores during: {', '.join(busy)}; "
            "those figures are likely inflated (rerun on an idle machine, e.g. --wait-quiet 300)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for other processes to leave the CPUs idle")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child]()))
        return 0

    r: dict = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "waited_for_quiet_s": round(wait_for_quiet(args.wait_quiet), 1) if args.wait_quiet else 0.0,
        "sections": {},
    }
    sections = r["sections"]
    started = time.perf_counter()
    # Order matters: memory children first (while this process is small, see the docstring),
    # subprocess timings next, warm latency before torch enters this process, torch builds last.
    r["index_state"] = prepare_index()
    with tempfile.TemporaryDirectory(prefix="czqa-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with watch("memory", sections):
            r["memory"] = measure_memory(tmp)
        with watch("cold_start", sections):
            r["cold_start"] = measure_cold_start()
        with watch("build_cli", sections):
            r["build_cli"] = measure_cli_build(tmp)
        with watch("warm_latency", sections):
            r["warm_latency"] = measure_warm_latency()
        with watch("modes", sections):
            r["modes"] = measure_modes()
        with watch("encoders", sections):
            r["encoders"] = measure_encoders(tmp)
        with watch("build_inprocess", sections):
            encoder, r["model_load_s"] = load_encoder()
            r["build_inprocess"] = measure_inprocess_builds(tmp, encoder)
        with watch("build_incremental", sections):
            r["build_incremental"] = measure_incremental(tmp, encoder)
    r["targets"] = verdicts(r)
    r["notes"] = notes(r)
    r["bench_seconds"] = round(time.perf_counter() - started, 1)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print_table(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
