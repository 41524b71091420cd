"""How well a sentence of the retrieved passages matches a question.

    evidence = 0.5 * cosine(question, sentence) + 0.3 * term overlap (idf² weighted)
               + 0.2 * cosine(question, best retrieved chunk holding the sentence)

Squared idf weights make the rare words of a question ("biotech") count far more than common
ones ("say"); the chunk term lends a short sentence the context of its passage. Sentence
embeddings were computed at index time, so scoring costs one matrix-vector product.

The extractive mode quotes the sentences that score best. The reader's decision can weigh the
score of the sentence that holds its span (``evidence_weight`` in ``reader.json``): a span read
from a sentence that matches the question poorly is less likely the answer, the signal that
made the extractive mode right where the reader was wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from czqa.index.lexicon import TermRows
from czqa.retrieve.lexical import terms

if TYPE_CHECKING:
    from czqa.index.store import IndexData
    from czqa.index.aliases import AliasTable
    from czqa.retrieve.retriever import Hit

DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.3
CONTEXT_WEIGHT = 0.2


class SentenceEvidence:
    """Scores the sentences of a question's candidate chunks (read-only after construction)."""

    def __init__(self, data: IndexData, aliases: AliasTable) -> None:
        self.data = data
        self.aliases = aliases
        # Each sentence's terms (aliases expanded) and their document frequencies: stored by the
        # build for the index's own alias table, so starting costs nothing per sentence.
        if aliases == data.aliases:
            self.sentence_terms = data.derived.sentence_terms
        else:
            self.sentence_terms = TermRows.from_tokens([terms(aliases.expand(s.embed_text, s.source)) for s in data.sentences])

    def term_weights(self, question: str) -> dict[str, float]:
        """The question's terms (aliases expanded), each weighted by its idf squared."""
        return {t: self.sentence_terms.idf(t) ** 2 for t in set(terms(self.aliases.expand(question)))}

    def overlap(self, weights: dict[str, float], row: int) -> float:
        """Share of the question's (idf-weighted) terms that the sentence contains."""
        total = sum(weights.values())
        holds, ids = self.sentence_terms.holds(row), self.sentence_terms.id
        have = sum(w for t, w in weights.items() if ids.get(t, -1) in holds)
        return have / total if total else 0.0

    def score(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> dict[int, float]:
        """Evidence of every sentence in the chunks ``hits`` (sentence row → score), in the order
        the chunks were retrieved; a sentence in several takes its best chunk's cosine."""
        weights = self.term_weights(question)
        context: dict[int, float] = {}
        for hit in hits:
            for r in self.data.chunk_sentences[hit.chunk]:
                context[r] = max(context.get(r, -1.0), hit.dense)
        if not context:
            return {}
        rows = list(context)
        dense = self.data.sentence_vectors[rows] @ qvec.astype(np.float32)
        return {r: DENSE_WEIGHT * d + LEXICAL_WEIGHT * self.overlap(weights, r) + CONTEXT_WEIGHT * context[r]
                for r, d in zip(rows, dense.tolist())}
