"""Vector index kinds at scale: IVF chosen above the threshold, recorded, reopened, memory-mapped."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from czqa.errors import IndexUnusable
from czqa.index import digest
from czqa.index.build import build_index
from czqa.index.ivf import FaissIVFIndex, cells_for, choose_kind
from czqa.index.store import MANIFEST, load_index
from czqa.index.backends import open_index
from czqa.index.vectors import FaissFlatIndex, top_rows
from czqa.settings import ChunkingSettings, IndexSettings, Settings, load_settings
from doubles import HashingEncoder

WORDS = "harbour ferry lantern festival council budget bridge river mill glass tide court letter vote".split()


def write_corpus(folder, files=12, sentences=8, seed=0):
    """Deterministic prose: enough short chunks (16-token budget) for an index with dozens of rows."""
    rng = random.Random(seed)
    folder.mkdir()
    for f in range(files):
        lines = [f"The {rng.choice(WORDS)} of {rng.choice(WORDS)} met {rng.randint(2, 99)} {rng.choice(WORDS)} people." for _ in range(sentences)]
        (folder / f"doc{f:02d}.txt").write_text(" ".join(lines) + "\n", encoding="utf-8")


def settings_for(tmp_path, **index):
    write_corpus(tmp_path / "docs")
    return Settings(
        seeds_dir=tmp_path / "docs",
        index_dir=tmp_path / "index",
        chunking=ChunkingSettings(max_tokens=16, overlap_tokens=4),
        index=index,
    )


def clustered(n, d=32, centres=20, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, d))
    x = c[rng.integers(0, centres, n)] + 0.4 * rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_the_kind_follows_the_size_and_the_setting():
    assert choose_kind("auto", 49_999, ivf_above=50_000) == "faiss-flat-ip"
    assert choose_kind("auto", 1_000_000, ivf_above=50_000) == "faiss-ivf4096-sq8"
    assert choose_kind("ivf", 100_000, ivf_above=50_000) == "faiss-ivf1024"
    assert choose_kind("flat", 10**6, ivf_above=50_000) == "faiss-flat-ip"
    assert cells_for(100) == 2  # never more cells than n / 39 training points allow


def test_ivf_is_built_above_the_threshold_and_recorded(tmp_path):
    settings = settings_for(tmp_path, ivf_above=10)
    data, _ = build_index(settings, encoder=HashingEncoder())
    n = len(data.chunks)
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    assert n >= 40 and manifest["vector_index"] == f"faiss-ivf{cells_for(n)}-sq8"
    assert "chunks.npy" in manifest["data"]  # the exact vectors, beside the lossy codes
    again = load_index(settings.index_dir)
    assert isinstance(again.vectors, FaissIVFIndex) and again.vectors.kind == manifest["vector_index"]
    assert isinstance(again.sentence_vectors, np.memmap) and isinstance(again.chunk_vectors(), np.memmap)
    assert np.array_equal(again.chunk_vectors(), data.chunk_vectors())  # exact, not reconstructed


def test_below_the_threshold_the_index_stays_exact_and_memory_mapped(tmp_path):
    settings = settings_for(tmp_path)
    data, _ = build_index(settings, encoder=HashingEncoder())
    assert data.manifest.vector_index == "faiss-flat-ip" and "chunks.npy" not in data.manifest.data
    assert isinstance(data.sentence_vectors, np.memmap)


def test_environment_overrides_the_kind_and_nprobe(tmp_path, monkeypatch):
    monkeypatch.setenv("CZQA_INDEX", str(tmp_path / "index"))  # the folder: the same name as the group
    monkeypatch.setenv("CZQA_INDEX__VECTOR_INDEX", "ivf")
    monkeypatch.setenv("CZQA_INDEX__NPROBE", "3")
    write_corpus(tmp_path / "docs")
    settings = load_settings(seeds_dir=tmp_path / "docs", chunking=ChunkingSettings(max_tokens=16, overlap_tokens=4))
    assert settings.index_dir == tmp_path / "index" and settings.index.nprobe == 3
    data, _ = build_index(settings, encoder=HashingEncoder())
    assert data.manifest.vector_index.startswith("faiss-ivf") and not data.manifest.vector_index.endswith("sq8")
    assert data.vectors.nprobe == 3


def test_a_reopened_ivf_index_finds_the_exact_top_hits(tmp_path):
    x = clustered(4000)
    exact = FaissFlatIndex(x.shape[1])
    exact.add(x)
    ivf = FaissIVFIndex.from_kind(choose_kind("ivf-sq8", len(x), ivf_above=1), x.shape[1])
    ivf.add(x)
    ivf.save(tmp_path)
    np.save(tmp_path / "exact.npy", x)
    loaded = open_index(ivf.kind, tmp_path, exact=np.load(tmp_path / "exact.npy", mmap_mode="r"), nprobe=8)
    queries = clustered(50, seed=1)
    found = [set(loaded.search(q, 10)[1].tolist()) & set(exact.search(q, 10)[1].tolist()) for q in queries]
    assert sum(map(len, found)) / (10 * len(queries)) >= 0.9
    scores, rows = loaded.search(queries[0], 10)
    assert np.allclose(scores, x[rows] @ queries[0], atol=1e-6)  # re-scored on the exact vectors


def test_top_rows_is_a_stable_sort_prefix():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.integers(0, 5, rng.integers(1, 40)).astype(np.float32)  # many ties
        k = int(rng.integers(1, 45))
        assert top_rows(a, k).tolist() == np.argsort(-a, kind="stable")[:k].tolist()


def test_large_files_are_spot_checked_on_load(tmp_path, monkeypatch):
    monkeypatch.setattr(digest, "FULL_CHECK_BYTES", 1024)
    settings = settings_for(tmp_path)
    data, _ = build_index(settings, encoder=HashingEncoder())
    assert "sentences.npy" in data.manifest.spot_checks
    path = settings.index_dir / data.manifest.generation / "sentences.npy"
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 4)
    with pytest.raises(IndexUnusable, match="damaged"):
        load_index(settings.index_dir)


def test_switching_kinds_rebuilds_from_the_exact_vectors_without_embedding(tmp_path):
    settings = settings_for(tmp_path, ivf_above=10)
    ivf, _ = build_index(settings, encoder=HashingEncoder())
    flat, report = build_index(settings.model_copy(update={"index": IndexSettings(vector_index="flat")}), encoder=HashingEncoder())
    assert flat.manifest.vector_index == "faiss-flat-ip" and report.embedded == 0
    assert np.array_equal(flat.chunk_vectors(), ivf.chunk_vectors())
