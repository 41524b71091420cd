"""Hybrid retrieval: dense (FAISS inner product) and BM25 rankings fused by reciprocal rank.

Dense retrieval finds paraphrases ("took over as chief executive" ~ "replaced ... as CEO");
BM25 finds rare exact terms (names, "Giggle Academy", "$4.35"). Reciprocal rank fusion
(Cormack et al., 2009) combines the two rankings without having to calibrate their scores
against each other.

A chunk's dense score is the mean of the question's similarity to the whole chunk and to its
best sentence. MiniLM was trained on sentence pairs: a one-sentence answer inside a 160-token
chunk is diluted in the chunk's vector but stands out in its own (the sentence vectors are in
the index already, for the answerer). On the eval dev split this lifts hit@1 by about 5 points.

Only *candidates* are scored, so a question reads a few thousand vectors, not every sentence
vector of the collection: the chunks the vector index returns first (``candidates`` of them, at
least 4·top_k), the chunks BM25 ranks first (from bm25s's sparse scores, with a partial sort),
and, in a small index, the chunks holding the sentences nearest the question. Small means fewer
than ``exact_sentences_below`` sentence vectors, searched exactly; there a bound proves the
candidates rank exactly as a full scan would (no other chunk can score above the mean of the
last chunk and the last sentence similarity returned), and when it cannot the search is
repeated over everything. Above that the best-sentence term is computed for the candidates
only, and with an IVF index (:mod:`czqa.index.ivf`) the candidates themselves are approximate.
What still grows with the collection: exact chunk search below the IVF threshold, and BM25's
score array (numpy, about 1 ms per 100k chunks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from czqa.index.aliases import AliasTable
from czqa.retrieve.lexical import BM25, terms
from czqa.index.store import DEFAULT_VECTOR_INDEX, IndexData
from czqa.index.vectors import ArrayIndex, inner_products, top_rows

RRF_K = 60
SENTENCE_WEIGHT = 0.5
# Dense candidates per question. Against a full scan of 11.7k real-embedded chunks (223 eval
# questions, bench/scale.py --passages 10000): 50 kept the top hit for 87 % of the questions,
# 200 for 99 % (top 5: 99.6 %), for 0.4 ms more per question.
CANDIDATES = 200
EXACT_SENTENCES_BELOW = 20_000  # 30 MB of vectors read per question at most
SLACK = 1e-5  # rounding allowance in the bound that proves a candidate ranking exact


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: its stable id (a content hash, the same across rebuilds), its row in
    the loaded index's metadata, and the scores that ranked it."""

    id: str  # Chunk.id, stable across rebuilds; what a Passage and a citation carry
    chunk: int  # row in IndexData.chunks (valid for this loaded index only)
    score: float  # fused RRF score
    dense: float  # cosine similarity of the whole chunk with the question
    lexical: float  # BM25 score


@dataclass(frozen=True)
class DenseCandidates:
    """The chunks a question's dense ranking considered, ascending by row, with their scores."""

    rows: np.ndarray
    chunk: np.ndarray  # similarity of the whole chunk
    ranking: np.ndarray  # the mean with the best sentence (see the module doc)
    exact: bool  # proven equal to a full scan's top ranks


class HybridRetriever:
    """Dense + BM25 rankings of the candidate chunks, fused by reciprocal rank (see the module doc)."""

    def __init__(
        self,
        data: IndexData,
        *,
        aliases: AliasTable | None = None,
        candidates: int = CANDIDATES,
        exact_sentences_below: int = EXACT_SENTENCES_BELOW,
    ) -> None:
        """``aliases`` lets "SEC" in a question match a passage that says "Securities and Exchange
        Commission": by default the index's own table, whose BM25 matrix the build stored; any
        other table gets a BM25 computed now over the chunks expanded with it."""
        self.data = data
        self.aliases = data.aliases if aliases is None else aliases
        if self.aliases == data.aliases:
            self.bm25 = BM25.from_matrix(data.derived.chunk_bm25)
        else:
            self.bm25 = BM25([self.aliases.expand(c.embed_text, c.source) for c in data.chunks])
        self.candidates = max(1, candidates)
        self._sentences: ArrayIndex | None = None
        if data.vectors.kind == DEFAULT_VECTOR_INDEX and len(data.sentence_vectors) < exact_sentences_below:
            self._sentences = ArrayIndex(data.sentence_vectors)
            # The chunks holding each sentence (overlapping chunks share sentences), as CSR rows.
            owned = data.chunk_sentences
            sentence_rows = np.asarray(owned.values, dtype=np.int64)
            chunk_rows = np.repeat(np.arange(len(owned), dtype=np.int64), owned.counts())
            order = np.lexsort((chunk_rows, sentence_rows))  # by sentence, then chunk
            self._owner_rows = chunk_rows[order]
            self._owner_start = np.searchsorted(sentence_rows[order], np.arange(len(data.sentences) + 1))

    def _owners(self, sentence_rows: np.ndarray) -> np.ndarray:
        parts = [self._owner_rows[self._owner_start[r] : self._owner_start[r + 1]] for r in sentence_rows.tolist()]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def _score(self, q: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chunk similarity, ranking score) of candidate ``rows``: computed here for every
        candidate alike, with :func:`inner_products` (a row's value does not depend on the others)."""
        chunk = self.data.vectors.score(q, rows)
        owned = self.data.chunk_sentences
        starts, counts = owned.at[rows], owned.at[rows + 1] - owned.at[rows]
        if not counts.sum():
            return chunk, chunk
        flat = owned.values[np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))].astype(np.int64)
        sent = inner_products(self.data.sentence_vectors, q, flat)
        best = np.full(len(rows), -1.0, dtype=np.float32)
        np.maximum.at(best, np.repeat(np.arange(len(rows)), counts), sent)
        best = np.where(best > -1.0, best, chunk)
        return chunk, (1 - SENTENCE_WEIGHT) * chunk + SENTENCE_WEIGHT * best

    def dense_candidates(self, query_vector: np.ndarray, depth: int, *, also: np.ndarray | None = None) -> DenseCandidates:
        """The candidates of the dense ranking for its first ``depth`` ranks, plus the chunks
        ``also`` (BM25's, so every fused chunk has a dense score). Reads ``candidates`` rows of
        the vector index, not all of them, except when a small index's bound fails."""
        q = np.asarray(query_vector, dtype=np.float32)
        n = len(self.data.chunks)
        k = max(self.candidates, depth)
        while True:
            found = self.data.vectors.search(q, k)
            parts = [found[1], np.zeros(0, np.int64) if also is None else also]
            sentences = self._sentences.search(q, k) if self._sentences is not None and k < n else None
            if sentences is not None:
                parts.append(self._owners(sentences[1]))
            rows = np.unique(np.concatenate(parts).astype(np.int64))
            chunk, ranking = self._score(q, rows)
            if len(found[1]) >= n:
                return DenseCandidates(rows, chunk, ranking, exact=self.data.vectors.kind == DEFAULT_VECTOR_INDEX)
            if sentences is None:
                return DenseCandidates(rows, chunk, ranking, exact=False)
            # The best a chunk not returned can score, on the candidates' arithmetic (FAISS's
            # own may round the last place differently: SLACK covers it).
            last_chunk = float(self.data.vectors.score(q, found[1][-1:])[0]) + SLACK
            bound = last_chunk  # a chunk never returned, without sentences
            if len(sentences[1]) < len(self.data.sentences):  # or with none of its sentences returned
                bound = max(bound, (1 - SENTENCE_WEIGHT) * last_chunk + SENTENCE_WEIGHT * (float(sentences[0][-1]) + SLACK))
            kth = np.partition(-ranking, depth - 1)[depth - 1] if len(rows) >= depth else None
            if kth is not None and -kth > bound:
                return DenseCandidates(rows, chunk, ranking, exact=True)
            k = n  # not provable from these: scan it all (small indexes only)

    def search(self, query_vector: np.ndarray, question: str, *, top_k: int) -> list[Hit]:
        n = len(self.data.chunks)
        if n == 0:
            return []
        depth = min(n, max(top_k * 4, 20))
        lexical = self.bm25.scores(terms(self.aliases.expand(question)))
        lex_order = self.bm25.top(lexical, depth)
        dense = self.dense_candidates(query_vector, depth, also=lex_order)
        fused: dict[int, float] = {}
        for rank, idx in enumerate(dense.rows[top_rows(dense.ranking, depth)].tolist()):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, idx in enumerate(lex_order.tolist()):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        at = {row: i for i, row in enumerate(dense.rows.tolist())}
        best = sorted(fused, key=lambda i: (-fused[i], -dense.ranking[at[i]]))[:top_k]
        return [Hit(self.data.chunks.id(i), i, fused[i], float(dense.chunk[at[i]]), float(lexical[i])) for i in best]
