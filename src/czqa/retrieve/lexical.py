"""BM25 over chunks and sentences, plus the stemmed term sets the answerer compares.

The analysis (:func:`terms`) and the BM25 matrix of the chunks are computed when the index is
built and stored with it (:mod:`czqa.index.lexicon`); a retriever reads the stored matrix, so a
start-up analyses no passage. A question's scores come from the sparse matrix (only the
postings of its terms are read) and its best documents from a partial sort (:meth:`BM25.top`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from czqa.index.lexicon import SparseBM25, idf, terms

__all__ = ["BM25", "DocumentFrequencies", "FUNCTION_WORDS", "terms"]

#: The same list, long form: also pronouns, auxiliaries and other function words that carry no
#: claim (the LLM reply check compares content words only).
FUNCTION_WORDS = frozenset(
    """he him his himself she her hers herself it its itself they them their theirs themselves we us our
    you your i me my this that these those also then there here one about above after again against all am
    any because been before being below between both could did do does doing down during each few from
    further had has have having how into just more most nor now off once only other out over own same
    should so some than too under until up very were what when where which while who whom why would
    went go goes got get gets can may might must shall yet still even ever""".split()
)


class DocumentFrequencies:
    """How many documents hold each term, and the smoothed idf that follows: czqa's one idf,
    used by BM25's callers and by the LLM reply check alike."""

    def __init__(self, documents: Iterable[Iterable[str]]) -> None:
        self.n = 0
        self.df: dict[str, int] = {}
        for doc in documents:
            self.n += 1
            for t in set(doc):
                self.df[t] = self.df.get(t, 0) + 1

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms count as rare."""
        return idf(self.n, self.df.get(term, 0))


class BM25:
    """BM25 scores of every document for a query: over a stored matrix (:meth:`from_matrix`), or
    over ``texts`` analysed now."""

    def __init__(self, texts: Sequence[str] | None = None, *, matrix: SparseBM25 | None = None) -> None:
        self.matrix = matrix if matrix is not None else SparseBM25.from_tokens([terms(t) for t in texts or ()])
        self._n = self.matrix.n

    @classmethod
    def from_matrix(cls, matrix: SparseBM25) -> BM25:
        return cls(matrix=matrix)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        return self.matrix.scores(query_terms)

    def top(self, scores: np.ndarray, k: int) -> np.ndarray:
        """The rows of the ``k`` best documents with a positive score, best first, ties by row
        (as a stable full sort would order them), from :meth:`scores`' array."""
        return SparseBM25.top(scores, k)

    def idf(self, term: str) -> float:
        return self.matrix.idf(term)
