"""Hybrid retrieval: dense (FAISS inner product) and BM25 rankings fused by reciprocal rank.

Dense retrieval finds paraphrases ("took over as chief executive" ~ "replaced ... as CEO");
BM25 finds rare exact terms (names, "Giggle Academy", "$4.35"). Reciprocal rank fusion
(Cormack et al., 2009) combines the two rankings without having to calibrate their scores
against each other.

A chunk's dense score is the mean of the question's similarity to the whole chunk and to its
best sentence. MiniLM was trained on sentence pairs: a one-sentence answer inside a 160-token
chunk is diluted in the chunk's vector but stands out in its own (the sentence vectors are in
the index already, for the answerer). On the eval dev split this lifts hit@1 by about 5 points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from czqa.retrieve.aliases import AliasTable
from czqa.retrieve.lexical import BM25, terms
from czqa.index.store import IndexData

RRF_K = 60
SENTENCE_WEIGHT = 0.5


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: its stable id (a content hash, the same across rebuilds), its row in
    the loaded index's metadata, and the scores that ranked it."""

    id: str  # Chunk.id, stable across rebuilds; what a Passage and a citation carry
    chunk: int  # row in IndexData.chunks (valid for this loaded index only)
    score: float  # fused RRF score
    dense: float  # cosine similarity of the whole chunk with the question
    lexical: float  # BM25 score


class HybridRetriever:
    """Dense + BM25 rankings of the chunks, fused by reciprocal rank (see the module doc)."""

    def __init__(self, data: IndexData, *, aliases: AliasTable | None = None) -> None:
        """``aliases`` lets "SEC" in a question match a passage that says "Securities and Exchange Commission"."""
        self.data = data
        self.aliases = aliases or AliasTable()
        self.bm25 = BM25([self.aliases.expand(c.embed_text) for c in data.chunks])
        # Every (sentence row, chunk) pair, flat, so a chunk's best-sentence similarity is one
        # np.maximum.at over all sentences.
        pairs = [(r, ci) for ci, rows in enumerate(data.chunk_sentences) for r in rows]
        self._rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
        self._owners = np.asarray([ci for _, ci in pairs], dtype=np.int64)

    def dense_scores(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: (chunk similarity, ranking score = its mean with the best-sentence
        similarity; see the module doc)."""
        q = query_vector.astype(np.float32)
        n = len(self.data.chunks)
        scores, ids = self.data.vectors.search(q, n)  # exact inner product, all chunks
        chunk = np.empty(n, dtype=np.float32)
        chunk[ids] = scores
        if not len(self._rows):
            return chunk, chunk
        sent = self.data.sentence_vectors[self._rows] @ q
        best = np.full(len(chunk), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owners, sent)
        best = np.where(best > -1.0, best, chunk)
        return chunk, (1 - SENTENCE_WEIGHT) * chunk + SENTENCE_WEIGHT * best

    def search(self, query_vector: np.ndarray, question: str, *, top_k: int) -> list[Hit]:
        n = len(self.data.chunks)
        if n == 0:
            return []
        depth = min(n, max(top_k * 4, 20))
        chunk_sim, dense_all = self.dense_scores(query_vector)
        lexical = self.bm25.scores(terms(self.aliases.expand(question)))
        fused: dict[int, float] = {}
        for rank, idx in enumerate(np.argsort(-dense_all, kind="stable")[:depth].tolist()):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        lex_order = [i for i in np.argsort(-lexical, kind="stable")[:depth].tolist() if lexical[i] > 0]
        for rank, idx in enumerate(lex_order):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: (-fused[i], -dense_all[i]))[:top_k]
        return [Hit(self.data.chunks[i].id, i, fused[i], float(chunk_sim[i]), float(lexical[i])) for i in best]
