"""Hybrid retrieval: dense (FAISS inner product) and BM25 rankings fused by reciprocal rank.

Dense retrieval finds paraphrases ("took over as chief executive" ~ "replaced ... as CEO");
BM25 finds rare exact terms (names, "Giggle Academy", "$4.35"). Reciprocal rank fusion
(Cormack et al., 2009) combines the two rankings without having to calibrate their scores
against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from czqa.lexical import BM25, terms
from czqa.store import IndexData

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    chunk: int  # row in IndexData.chunks
    score: float  # fused RRF score
    dense: float  # cosine similarity with the question
    lexical: float  # BM25 score


class HybridRetriever:
    def __init__(self, data: IndexData) -> None:
        self.data = data
        self.bm25 = BM25([c.embed_text for c in data.chunks])

    def search(self, query_vector: np.ndarray, question: str, *, top_k: int) -> list[Hit]:
        n = len(self.data.chunks)
        if n == 0:
            return []
        depth = min(n, max(top_k * 4, 20))
        dense_scores, dense_ids = self.data.faiss_index.search(query_vector.reshape(1, -1).astype(np.float32), n)
        dense = dict(zip(dense_ids[0].tolist(), dense_scores[0].tolist()))
        lexical = self.bm25.scores(terms(question))
        fused: dict[int, float] = {}
        for rank, idx in enumerate(dense_ids[0][:depth].tolist()):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        lex_order = [i for i in np.argsort(-lexical, kind="stable")[:depth].tolist() if lexical[i] > 0]
        for rank, idx in enumerate(lex_order):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: (-fused[i], -dense[i]))[:top_k]
        return [Hit(i, fused[i], float(dense[i]), float(lexical[i])) for i in best]
