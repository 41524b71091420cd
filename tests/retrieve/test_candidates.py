"""Retrieval scores candidates only, and on a small index ranks exactly as a full scan does."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from czqa.index.build import build_index
from czqa.index.vectors import inner_products
from czqa.retrieve import retriever as retriever_module
from czqa.retrieve.lexical import terms
from czqa.retrieve.retriever import RRF_K, SENTENCE_WEIGHT, HybridRetriever
from czqa.settings import ChunkingSettings, Settings
from doubles import HashingEncoder

WORDS = "harbour ferry lantern festival council budget bridge river mill glass tide court letter vote".split()
QUESTIONS = [f"When did the {a} {b} meet?" for a in WORDS[:6] for b in WORDS[6:10]]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("candidates")
    rng = random.Random(1)
    (root / "docs").mkdir()
    for f in range(15):
        text = " ".join(f"The {rng.choice(WORDS)} of {rng.choice(WORDS)} met {rng.randint(2, 99)} {rng.choice(WORDS)} people." for _ in range(10))
        (root / "docs" / f"doc{f:02d}.txt").write_text(text + "\n", encoding="utf-8")
    enc = HashingEncoder()
    settings = Settings(seeds_dir=root / "docs", index_dir=root / "index", chunking=ChunkingSettings(max_tokens=16, overlap_tokens=4))
    data, _ = build_index(settings, encoder=enc)
    assert len(data.chunks) >= 60
    return data, enc


def full_scan(retriever, qvec, question, top_k):
    """The retriever before candidates: every chunk and every sentence scored, full sorts."""
    data = retriever.data
    q = qvec.astype(np.float32)
    n = len(data.chunks)
    scores, ids = data.vectors.search(q, n)
    chunk = np.empty(n, dtype=np.float32)
    chunk[ids] = scores
    best = np.full(n, -1.0, dtype=np.float32)
    for ci, rows in enumerate(data.chunk_sentences):
        if rows:
            best[ci] = inner_products(data.sentence_vectors, q, rows).max()
    dense = (1 - SENTENCE_WEIGHT) * chunk + SENTENCE_WEIGHT * np.where(best > -1.0, best, chunk)
    lexical = retriever.bm25.scores(terms(retriever.aliases.expand(question)))
    depth = min(n, max(top_k * 4, 20))
    fused: dict[int, float] = {}
    for rank, i in enumerate(np.argsort(-dense, kind="stable")[:depth].tolist()):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, i in enumerate([i for i in np.argsort(-lexical, kind="stable")[:depth].tolist() if lexical[i] > 0]):
        fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(fused, key=lambda i: (-fused[i], -dense[i]))[:top_k]


class SpyIndex:
    """Records how many rows each call asked the vector index for."""

    def __init__(self, inner):
        self.inner, self.kind, self.asked, self.scored = inner, inner.kind, [], []

    def search(self, q, k):
        self.asked.append(k)
        return self.inner.search(q, k)

    def score(self, q, rows):
        self.scored.append(len(rows))
        return self.inner.score(q, rows)

    def __len__(self):
        return len(self.inner)


@pytest.mark.parametrize("candidates", [3, 50])
def test_small_index_ranks_exactly_as_a_full_scan(built, candidates):
    data, enc = built
    retriever = HybridRetriever(data, candidates=candidates)
    for question in QUESTIONS:
        qvec = enc.encode([question])[0]
        hits = retriever.search(qvec, question, top_k=8)
        assert [h.chunk for h in hits] == full_scan(retriever, qvec, question, 8), question


def test_a_large_index_reads_only_candidates(built, monkeypatch):
    data, enc = built
    spy = SpyIndex(data.vectors)
    reads = []

    def sentence_rows(matrix, q, rows=None):
        reads.append(len(matrix) if rows is None else len(rows))
        return inner_products(matrix, q, rows)

    monkeypatch.setattr(retriever_module, "inner_products", sentence_rows)
    retriever = HybridRetriever(dataclasses.replace(data, vectors=spy), candidates=10, exact_sentences_below=0)  # as above the threshold
    n = len(data.chunks)
    for question in QUESTIONS:
        assert retriever.search(enc.encode([question])[0], question, top_k=5)
    depth = 20  # top_k * 4, at least 20
    assert spy.asked and max(spy.asked) == depth < n
    assert max(spy.scored) <= 2 * depth  # the dense candidates and BM25's
    per_chunk = max(len(rows) for rows in data.chunk_sentences)
    assert reads and max(reads) <= 2 * depth * per_chunk < len(data.sentences)
