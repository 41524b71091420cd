"""Load test of the chat page: N visitors ask at the same moment; does every one get a reply?

Run it with the project's virtualenv (it takes a few minutes on 2 cores for 200 users)::

    .venv/bin/python bench/load.py [--users 200] [--mode reader] [--json out.json]

Why: an attacker's test with 200 simultaneous users got 68 answers and 132 "queue full" errors
from the old 64-place queue. The page must give **every** visitor either an answer or a clear
"busy, retry in N s" reply (:class:`czqa.web.app.BusyReply`), never an error.

What it does, loopback only and bounded in time:

1. Starts ``czqa serve`` as a subprocess on a free 127.0.0.1 port over ``seeds/`` and
   ``embeddings/`` (the index is built first if it is missing or stale), with the default web
   settings unless ``CZQA_WEB__*`` variables say otherwise, and waits until the page answers.
2. Creates one ``gradio_client.Client`` per user (its own session, as a browser tab would
   have), all in parallel; then releases them together at a barrier, each asking one question
   of ``eval/qa.jsonl`` (cycled) through the page's ``/ask`` API.
3. Sorts each reply: **answered** (the page's reply markup came back), **busy** (HTTP 429 with
   the retry message, or Gradio's 503 "queue full"), or **error** (anything else, including no
   reply before ``--timeout``, which is also each HTTP call's timeout: a browser waits as long
   as the server takes, where httpx would give up after 5 s). Latency is from the barrier to
   the reply; wall time is from the barrier to the last reply.

The client threads share the two cores with the server, so the figures are pessimistic for a
real deployment, where browsers run elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
INDEX = ROOT / "embeddings"
EVAL = ROOT / "eval" / "qa.jsonl"
REPLY_MARK = 'class="czqa-reply"'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions() -> list[str]:
    with open(EVAL, encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def start_server(port: int, log_path: Path, *, limit: float) -> subprocess.Popen:
    """``czqa serve`` on 127.0.0.1:``port``; returns once the page answers 200 (or exits with its log)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "czqa.cli", "serve", "--port", str(port), "--seeds", str(SEEDS), "--index", str(INDEX)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"czqa serve exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    sys.exit(f"czqa serve was not ready within {limit:.0f} s:\n{log_path.read_text()[-3000:]}")


def classify(exc: BaseException) -> str:
    """"busy" for the server's queue-full replies (429 with Retry-After, or Gradio's 503), else "error"."""
    from gradio_client.utils import QueueError

    seen = exc
    while seen is not None:
        if isinstance(seen, QueueError):
            return "busy"
        response = getattr(seen, "response", None)
        if getattr(response, "status_code", None) == 429:
            return "busy"
        seen = seen.__cause__ or seen.__context__
    return "error"


def failed_request(exc: BaseException) -> str:
    """" (POST /gradio_api/queue/join)" for an httpx error that knows its request, else ""."""
    try:
        request = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return ""
    return f" ({request.method} {request.url.path})"


def run_users(url: str, *, users: int, mode: str, timeout: float) -> tuple[list[dict], float]:
    """Every user connects, waits at a barrier, then asks; returns one record per user and the wall time."""
    from gradio_client import Client

    asked = questions()
    barrier = threading.Barrier(users + 1)
    records: list[dict] = [{"outcome": "error", "detail": "no reply before the timeout"} for _ in range(users)]

    def user(i: int) -> None:
        record = records[i]
        try:
            # A browser's fetch waits as long as the server takes; httpx's default gives up after 5 s.
            client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": timeout})
        except Exception as exc:  # noqa: BLE001 - recorded, counted as an error
            record["detail"] = f"connect: {exc!r}"[:300]
            barrier.wait()
            return
        barrier.wait()
        start = time.perf_counter()
        try:
            history, _, _ = client.predict(asked[i % len(asked)], [], mode, api_name="/ask")
            content = history[-1]["content"] if history else ""
            text = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
            record.update(outcome="answered" if REPLY_MARK in text else "error", detail=text[:200])
        except Exception as exc:  # noqa: BLE001
            record.update(outcome=classify(exc), detail=(repr(exc) + failed_request(exc))[:300])
        record["latency_s"] = time.perf_counter() - start
        client.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    barrier.wait(timeout=timeout)
    released = time.perf_counter()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    return records, time.perf_counter() - released


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(records: list[dict], wall_s: float, *, users: int, mode: str) -> dict:
    counts = Counter(r["outcome"] for r in records)
    answered = [r["latency_s"] for r in records if r["outcome"] == "answered"]
    busy = [r["latency_s"] for r in records if r["outcome"] == "busy"]
    return {
        "users": users,
        "mode": mode,
        "cpus": os.cpu_count(),
        "answered": counts["answered"],
        "busy": counts["busy"],
        "errors": counts["error"],
        "p50_s": percentile(answered, 50),
        "p95_s": percentile(answered, 95),
        "max_s": max(answered, default=None),
        "busy_reply_p95_s": percentile(busy, 95),
        "wall_s": wall_s,
        "error_samples": sorted({r["detail"] for r in records if r["outcome"] == "error"})[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simultaneous users (default 200)")
    parser.add_argument("--mode", default="reader", help="answer mode each user asks in (default reader)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before an unanswered user counts as an error")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"czqa-load-{port}.log"
    server = start_server(port, log, limit=600)
    try:
        records, wall_s = run_users(f"http://127.0.0.1:{port}/", users=args.users, mode=args.mode, timeout=args.timeout)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    result = summary(records, wall_s, users=args.users, mode=args.mode)

    def secs(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} s"

    print(f"{result['users']} simultaneous users, mode {result['mode']}, {result['cpus']} CPUs")
    print(f"  answered      {result['answered']}")
    print(f"  busy replies  {result['busy']}")
    print(f"  errors        {result['errors']}")
    print(f"  latency p50   {secs(result['p50_s'])}")
    print(f"  latency p95   {secs(result['p95_s'])}  (max {secs(result['max_s'])})")
    print(f"  busy reply p95 {secs(result['busy_reply_p95_s'])}")
    print(f"  wall time     {secs(result['wall_s'])}")
    for sample in result["error_samples"]:
        print(f"  error: {sample}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
