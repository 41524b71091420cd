"""Fuzz czqa's entry points: every bad input must end in a clear error, never a traceback.

Run with the project's virtualenv (about 10 minutes on the 2-core development machine)::

    .venv/bin/python bench/fuzz.py [--api 4000] [--cli 4000] [--http 2000] [--events 3000] [--names 2000] [--seed 0]

Inputs come from hypothesis strategies (seeded by ``--seed``, so a run is repeatable):

- **API**: ``QA.answer(question, top_k=..., mode=...)`` on the project's index, with questions of
  any Unicode (lone surrogates, control characters, 100k characters, not text at all), ``top_k``
  of any type, and unknown modes. Allowed outcomes: an :class:`czqa.Answer`, or a
  :class:`czqa.errors.CzqaError` subclass. Anything else is counted as a traceback.
- **CLI**: ``czqa.cli.main(argv)`` in-process with random subcommands, options, values and
  ``CZQA_*`` environment variables. Allowed: a return code, or argparse's own usage exit (2).
  Commands that would start long jobs (``serve``, ``eval`` on the full set, ``train-reader``) are
  only given arguments that argparse or validation refuses.
- **HTTP**: random requests (paths, methods, Host/Origin headers, bodies) to a ``czqa serve``
  started on a free loopback port. Allowed: any status but 5xx, and no traceback in the server's
  log.

- **Events**: the chat page's own events, sent to a ``czqa serve`` over a scratch folder the way
  a script (not a browser) can: the upload event with forged ``FileData`` paths (files outside
  the folder, ``..`` walks, links, a planted secret), every event with the wrong number of
  values, values of the wrong type, and bodies up to 5 MB. Allowed: any status but 5xx. Checked
  after the run: no traceback in the server's log, the log under 200 bytes per request, no file
  outside the folder read into it (the secret's sentence appears in no document and no answer)
  and no file written outside it.
- **Names**: folders of files with random byte names (not UTF-8, control characters, direction
  overrides, decomposed accents) and contents in random encodings (UTF-8 with and without BOM,
  UTF-16/32 with BOM, Latin-1, CRLF, NUL bytes) ingested and indexed. Allowed: every file
  indexed or listed as skipped/refused; every citation name printable UTF-8.

It prints the count of inputs and of tracebacks per entry point, with the first few failures
(input and exception), and exits 1 when there was any.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from czqa.errors import CzqaError  # noqa: E402

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
QUESTIONS = st.one_of(
    ANY_TEXT,
    st.sampled_from(["Who founded Binance?", "How much was the fine?", "?", "   ", "\x00", "\ud800", "a" * 100_000]),
    st.builds(lambda a, b: a + " " + b, st.sampled_from(["Who", "When", "How much"]), ANY_TEXT),
    st.integers(), st.none(), st.binary(max_size=20), st.lists(st.text(max_size=5), max_size=3), st.floats(),
)
TOP_K = st.one_of(st.none(), st.integers(-5, 80), st.text(max_size=4), st.floats(allow_nan=True), st.booleans(), st.just([5]))
MODES = st.one_of(st.none(), st.sampled_from(["reader", "extractive", "READER", "", " reader", "poetry"]), ANY_TEXT)

OPTIONS = ["--top-k", "--mode", "--json", "--seeds", "--index", "--out", "--split", "--qa", "--limit", "--squad",
           "--steps", "--batch-size", "--seed", "--port", "--host", "-q", "-v", "--version", "--help", "--calibrate"]
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "5", "abc", "1e9", "", "reader", "extractive", "/nonexistent/x", "/etc/passwd",
                     "README.md", "seeds", "dev", "all", "99999", "\udcff\udcfe"]),
    ANY_TEXT.filter(lambda s: "\x00" not in s),
)


def cli_argv():
    ask = st.tuples(st.just("ask"), st.lists(st.one_of(st.sampled_from(OPTIONS[:5]), VALUES), max_size=5), QUESTIONS.filter(lambda q: isinstance(q, str) and "\x00" not in q))
    other = st.tuples(
        st.sampled_from(["index", "eval", "serve", "train-reader", "bogus", "", "--version"]),
        st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=6),
        st.just(None),
    )
    return st.one_of(ask, other)


ENV = st.dictionaries(
    st.sampled_from(["CZQA_TOP_K", "CZQA_AUTO_BUILD", "CZQA_READER__THRESHOLD", "CZQA_READER__PASSAGES",
                     "CZQA_MAX_QUESTION_CHARS", "CZQA_LLM__MAX_TOKENS", "CZQA_CHUNKING__MAX_TOKENS", "CZQA_SEEDS"]),
    st.one_of(st.sampled_from(["abc", "-1", "0", "5", "maybe", "true", "1e400", "nan", "", "[1]"]), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)),
    max_size=2,
)


def sandbox() -> Path:
    """A scratch copy of the project's seeds and index, made the current folder and the default
    ``CZQA_SEEDS``/``CZQA_INDEX``: fuzzed settings (another chunk size, ``--out .``) may rebuild
    or write an index, and must never touch the project's own."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="czqa-fuzz-"))
    shutil.copytree(ROOT / "seeds", root / "seeds")
    shutil.copytree(ROOT / "embeddings", root / "embeddings")
    os.environ["CZQA_SEEDS"] = str(root / "seeds")
    os.environ["CZQA_INDEX"] = str(root / "embeddings")
    os.chdir(root / "seeds")  # relative paths land in the scratch copy
    return root


class Tally:
    def __init__(self, name: str) -> None:
        self.name, self.inputs, self.failures = name, 0, []

    def fail(self, what: str) -> None:
        self.failures.append(what)

    def report(self) -> str:
        lines = [f"{self.name}: {self.inputs} inputs, {len(self.failures)} tracebacks"]
        lines += [f"    {f}" for f in self.failures[:5]]
        return "\n".join(lines)


def fuzz_api(n: int, seed_: int) -> Tally:
    from czqa.qa import QA

    qa = QA()
    qa.warm_up()
    tally = Tally("API  QA.answer()")

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(seed_)
    @given(QUESTIONS, TOP_K, MODES)
    def one(question, top_k, mode):
        if mode == "llm":
            return
        tally.inputs += 1
        try:
            qa.answer(question, top_k=top_k, mode=mode)
        except CzqaError:
            pass
        except Exception as exc:  # noqa: BLE001 - what we are counting
            tally.fail(f"answer({question!r:.60}, top_k={top_k!r}, mode={mode!r:.30}): {type(exc).__name__}: {exc}"[:300])

    one()
    return tally


def _refused_long_jobs(command: str, args: list[str]) -> bool:
    """True when argv would start a long job that fuzzing must not run (a server, a full eval)."""
    if "--help" in args or "--version" in args:
        return False
    return command in ("serve", "eval", "train-reader", "index")


def fuzz_cli(n: int, seed_: int) -> Tally:
    from czqa.cli import main

    tally = Tally("CLI  czqa …")

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(seed_)
    @given(cli_argv(), ENV)
    def one(spec, env):
        command, args, question = spec
        argv = [command, *args] + ([question] if question is not None else [])
        if _refused_long_jobs(command, args):
            # Long jobs get one bad value that validation must refuse before any work starts.
            argv = [command, *args, "--port" if command == "serve" else "--limit", "not-a-number"]
        if "--mode" in argv and "llm" in argv:
            return
        tally.inputs += 1
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main(argv)
        except SystemExit as exc:
            if exc.code not in (0, 2, None):
                tally.fail(f"{argv!r:.120} env={env!r:.80}: SystemExit({exc.code})")
        except Exception as exc:  # noqa: BLE001
            tally.fail(f"{argv!r:.120} env={env!r:.80}: {type(exc).__name__}: {exc}"[:300])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        if "Traceback" in err.getvalue():
            tally.fail(f"{argv!r:.120}: traceback printed")

    one()
    return tally


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fuzz_http(n: int, seed_: int) -> Tally:
    import httpx

    tally = Tally("HTTP czqa serve")
    port = _free_port()
    log = open("/tmp/czqa-fuzz-serve.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "czqa.cli", "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                httpx.get(base + "/", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        paths = st.one_of(
            st.sampled_from(["/", "/config", "/gradio_api/info", "/gradio_api/queue/join", "/gradio_api/upload",
                             "/gradio_api/call/ask", "/gradio_api/file=/etc/passwd", "/file=../../etc/passwd",
                             "/static/../../x", "/%2e%2e/%2e%2e/etc/passwd", "/theme.css", "/gradio_api/queue/data"]),
            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40).map(lambda s: "/" + s),
        )
        hosts = st.sampled_from([f"127.0.0.1:{port}", f"localhost:{port}", "evil.example", "", "127.0.0.1:1", "x" * 300])
        bodies = st.one_of(st.none(), st.binary(max_size=200), st.sampled_from([
            b'{"data": ["Who founded Binance?"], "fn_index": 0, "session_hash": "abc"}', b'{"data": [null]}', b"[]", b"{",
            b'{"data": ["' + b"x" * 5000 + b'"], "event_data": null, "fn_index": 999, "trigger_id": 1, "session_hash": "z"}',
        ]))

        @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @seed(seed_)
        @given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]), paths, hosts,
               st.sampled_from([None, "http://evil.example", f"http://127.0.0.1:{port}", "null"]), bodies)
        def one(method, path, host, origin, body):
            tally.inputs += 1
            headers = {"Host": host} if host else {}
            if origin:
                headers["Origin"] = origin
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                r = httpx.request(method, base + path, headers=headers, content=body, timeout=30)
            except httpx.HTTPError as exc:
                tally.fail(f"{method} {path!r:.60} host={host!r:.30}: no response ({type(exc).__name__})")
                return
            if r.status_code >= 500:
                tally.fail(f"{method} {path!r:.60} host={host!r:.30} origin={origin!r}: HTTP {r.status_code}")

        one()
    finally:
        _stop(server, log, tally, "/tmp/czqa-fuzz-serve.log")
    return tally


def _stop(server, log, tally: Tally, where) -> None:
    """Stop a fuzzed server and count the tracebacks its log holds as failures."""
    server.terminate()
    server.wait(timeout=30)
    log.seek(0)
    tracebacks = len(re.findall(r"^Traceback", log.read(), re.MULTILINE))
    if tracebacks:
        tally.fail(f"{tracebacks} traceback(s) in the server log ({where})")


SECRET = "The vault code is 4417-ZETA and nobody outside this machine may read it."


def fuzz_events(n: int, seed_: int) -> Tally:
    """The page's events with forged, malformed and huge values (see the module doc)."""
    import json
    import shutil
    import tempfile

    import httpx

    tally = Tally("EVENTS page events")
    root = Path(tempfile.mkdtemp(prefix="czqa-fuzz-events-"))
    docs, outside = root / "docs", root / "outside"
    shutil.copytree(ROOT / "seeds", docs)
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET)
    (outside / "secret.md").write_text(SECRET)
    (root / "link.txt").symlink_to(secret)
    before_outside = sorted(p.name for p in outside.iterdir())
    port = _free_port()
    log_path = root / "serve.log"
    log = open(log_path, "w+")
    env = {**os.environ, "CZQA_SEEDS": str(docs), "CZQA_INDEX": str(root / "index"), "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "-m", "czqa.cli", "serve", "--port", str(port)], stdout=log,
                              stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/config", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        deps = httpx.get(base + "/config", timeout=10).json()["dependencies"]
        arity = [len(d["inputs"]) for d in deps]
        start_log = log_path.stat().st_size
        forged_paths = st.sampled_from([
            str(secret), str(outside / "secret.md"), str(root / "link.txt"), f"{docs}/../outside/secret.txt",
            "/etc/passwd", "/etc/hostname", "../../../../etc/passwd", "/proc/self/environ", str(docs / "czqa.toml"),
            "/tmp/gradio/../../etc/passwd", "", ".", "/", "\x00", "C:\\Windows\\win.ini",
        ])
        file_value = st.fixed_dictionaries({"path": forged_paths}, optional={
            "orig_name": st.sampled_from(["notes.txt", "secret.txt", "../x.txt", ".hidden.md", "a.html"]),
            "meta": st.just({"_type": "gradio.FileData"}), "size": st.integers(-1, 10**9), "url": st.text(max_size=20)})
        junk = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
                            lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                            max_leaves=12)
        value = st.one_of(junk, file_value, st.lists(file_value, min_size=1, max_size=3), st.sampled_from(
            ["Who founded Binance?", "reader", "extractive", [], [{"role": "user", "content": "hi"}]]))
        huge = st.sampled_from([0, 0, 0, 10_000, 1_200_000, 5_000_000])

        @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @seed(seed_)
        @given(st.integers(0, len(deps) + 2), st.integers(-1, 2), st.lists(value, max_size=7), huge,
               st.sampled_from(["join", "call", "run"]))
        def one(fn_index, arity_shift, values, pad, route):
            tally.inputs += 1
            if 0 <= fn_index < len(deps) and arity_shift == 0:
                values = (values + [None] * arity[fn_index])[: arity[fn_index]]
            if pad:
                values = values + ["x" * pad]
            body = {"data": values, "fn_index": fn_index, "session_hash": f"fuzz{tally.inputs}", "event_data": None}
            name = deps[fn_index].get("api_name") if 0 <= fn_index < len(deps) else "nope"
            url = {"join": f"{base}/gradio_api/queue/join", "call": f"{base}/gradio_api/call/{name}",
                   "run": f"{base}/gradio_api/run/{name}"}[route]
            try:
                r = httpx.post(url, content=json.dumps(body, default=str), timeout=60,
                               headers={"Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                tally.fail(f"{route} fn={fn_index}: no response ({type(exc).__name__})")
                return
            if r.status_code >= 500:
                tally.fail(f"{route} fn={fn_index} values={str(values)[:80]}: HTTP {r.status_code}")

        one()
        time.sleep(3)  # let queued events finish before the folder and log are read
        for doc in docs.rglob("*"):
            if doc.is_file() and SECRET in doc.read_text(errors="replace"):
                tally.fail(f"the planted secret was copied into the folder as {doc.relative_to(docs)}")
        if sorted(p.name for p in outside.iterdir()) != before_outside:
            tally.fail("a file was written outside the documents folder")
        grown = log_path.stat().st_size - start_log
        if grown > 200 * max(1, tally.inputs):
            tally.fail(f"the server log grew {grown:,} bytes for {tally.inputs} requests")
    finally:
        _stop(server, log, tally, log_path)
    return tally


class _HashingEncoder:
    """Words hashed into a vector: indexing without a model, so names and encodings are what is
    exercised (the real encoder's own inputs are fuzzed by the API target)."""

    name, dimension, max_tokens = "fuzz/hashing", 32, 256

    def encode(self, texts, *, show_progress: bool = False):
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                out[row, hash(word) % self.dimension] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def fuzz_names(n: int, seed_: int) -> Tally:
    """Folders of files with hostile names and encodings, ingested and indexed (see the module doc)."""
    import codecs
    import shutil
    import tempfile

    from czqa.ingest.documents import ingest
    from czqa.qa import QA
    from czqa.settings import Settings

    tally = Tally("NAMES file names and encodings")
    text = "The kiln at Quenford was fired in 1911 by Mira Talvik.\nIt burned for nine days.\n"
    encodings = st.sampled_from(["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-be-bom", "utf-32-bom", "latin-1", "crlf", "nul"])
    piece = st.one_of(st.binary(min_size=1, max_size=12), st.text(st.characters(codec="utf-8"), min_size=1, max_size=8).map(
        lambda t: t.encode("utf-8", "surrogatepass")), st.sampled_from(
        [b"\n", b"\x1b[31m", "\u202e".encode(), "e\u0301".encode(), b"\\x0a", b"\xff\xfe", b"~", b" "]))
    names = st.builds(lambda parts, ext: b"".join(parts).replace(b"/", b"_").replace(b"\x00", b"_")[:150] + ext,
                      st.lists(piece, min_size=1, max_size=4), st.sampled_from([b".txt", b".md", b".html", b".TXT", b""]))

    def encode(kind: str) -> bytes:
        return {"utf-8": text.encode(), "utf-8-bom": codecs.BOM_UTF8 + text.encode(),
                "utf-16-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
                "utf-32-bom": codecs.BOM_UTF32_LE + text.encode("utf-32-le"), "latin-1": "Café kiln fired 1911.".encode("latin-1"),
                "crlf": text.replace("\n", "\r\n").encode(), "nul": b"kiln\x00fired"}[kind]

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @seed(seed_)
    @given(st.lists(st.tuples(names, encodings), min_size=1, max_size=5))
    def one(files):
        tally.inputs += 1
        root = Path(tempfile.mkdtemp(prefix="czqa-fuzz-names-"))
        try:
            folder = os.path.join(os.fsencode(root), b"docs")
            os.mkdir(folder)
            for raw, kind in files:
                if raw.startswith(b".") or raw in (b"", b".", b".."):
                    continue
                try:
                    with open(os.path.join(folder, raw), "wb") as f:
                        f.write(encode(kind))
                except OSError:
                    continue  # a name this file system refuses (too long)
            docs, report = ingest(Path(os.fsdecode(folder)))
            names_seen = [d.source for d in docs] + [i.path for i in report.refused + report.skipped]
            for name in names_seen:
                name.encode("utf-8")
                if not name.rstrip("/").isprintable():
                    tally.fail(f"unprintable citation name {name!r}")
            if docs:
                enc = _HashingEncoder()
                qa = QA(Settings(seeds_dir=Path(os.fsdecode(folder)), index_dir=root / "index"), query_encoder=enc, build_encoder=enc)
                qa.answer("When was the kiln fired?", mode="extractive")
        except CzqaError:
            pass
        except Exception as exc:  # noqa: BLE001
            tally.fail(f"{[f[0] for f in files]!r:.120}: {type(exc).__name__}: {exc}"[:300])
        finally:
            shutil.rmtree(root, ignore_errors=True)

    one()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description="Fuzz czqa's API, CLI, HTTP, page-event and file-name entry points.")
    parser.add_argument("--api", type=int, default=4000)
    parser.add_argument("--cli", type=int, default=4000)
    parser.add_argument("--http", type=int, default=2000)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"scratch copy of seeds and index: {sandbox()}")
    started = time.perf_counter()
    tallies = []
    for n, fn in ((args.api, fuzz_api), (args.cli, fuzz_cli), (args.http, fuzz_http), (args.events, fuzz_events),
                  (args.names, fuzz_names)):
        if n:
            t = fn(n, args.seed)
            tallies.append(t)
            print(t.report(), flush=True)
    total = sum(t.inputs for t in tallies)
    bad = sum(len(t.failures) for t in tallies)
    print(f"total: {total} inputs, {bad} tracebacks, {time.perf_counter() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
