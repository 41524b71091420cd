"""BM25 over chunks and sentences (bm25s), plus the stemmed term sets the answerer compares.

Built in memory when an index is loaded (milliseconds for a corpus this size), so nothing about
it needs to be kept in sync on disk.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    # Question words carry no topic; bm25s's list keeps some of them.
    return frozenset(STOPWORDS_EN) | {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "did", "does", "do"}


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Snowball-stemmed terms: the same analysis BM25 uses."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _stopwords()]
    return _stemmer().stemWords(words)


class BM25:
    """A bm25s index over ``texts`` that scores every document for a query."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG; its per-index messages are not our users' business.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._n = len(texts)
        corpus = [terms(t) for t in texts]
        self._df: dict[str, int] = {}
        for doc in corpus:
            for t in set(doc):
                self._df[t] = self._df.get(t, 0) + 1
        self._model = bm25s.BM25()
        if self._n:
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus]
            self._model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        if not self._n:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in query_terms if t in self._df]
        if not known:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms count as rare."""
        df = self._df.get(term, 0)
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))
