"""BM25 over chunks and sentences (bm25s), plus the stemmed term sets the answerer compares.

Built in memory when an index is loaded (milliseconds for the seeds; seconds at 100k chunks,
where analysing every chunk's text is most of the load time), so nothing about it needs to be
kept in sync on disk. A question's scores come from bm25s's sparse matrix (only the postings of
its terms are read) and its best documents from a partial sort (:meth:`BM25.top`).
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from collections.abc import Iterable, Sequence

import numpy as np

from czqa.index.vectors import top_rows

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """czqa's one stop-word list, short form: bm25s's English list plus question words (which
    carry no topic). Kept short on purpose: BM25 should still see "after" or "first"."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "did", "does", "do"}


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


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Snowball-stemmed terms: the same analysis BM25 uses."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words)


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
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))


class BM25:
    """A bm25s index over ``texts`` that scores every document for a query."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG; its per-index messages are not our users' business.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._n = len(texts)
        corpus = [terms(t) for t in texts]
        self.frequencies = DocumentFrequencies(corpus)
        self._df = self.frequencies.df
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

    def top(self, scores: np.ndarray, k: int) -> np.ndarray:
        """The rows of the ``k`` best documents with a positive score, best first, ties by row
        (as a stable full sort would order them), from :meth:`scores`' array."""
        matched = np.flatnonzero(scores > 0)
        return matched[top_rows(scores[matched], k)]

    def idf(self, term: str) -> float:
        return self.frequencies.idf(term)
