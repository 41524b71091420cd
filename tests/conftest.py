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
