"""The lexical side of an index, computed while building it and stored with it.

Analysing every passage (tokenise, drop stop words, stem, expand aliases) is most of what a
start-up cost when it was done at load: 15 s for BM25 alone at 100k chunks. So the build does
it once and stores the results in ``tables.bin`` (:mod:`czqa.index.tables`):

* :class:`SparseBM25`: bm25s's BM25 matrix over the chunks (term-major CSC: for each term the
  chunks holding it and their scores), so a question's scores read only its terms' postings;
* :class:`TermRows`: for each sentence the terms it holds, and each term's document frequency,
  which the extractive answerer compares questions with;
* the words the documents also write in lower case (:func:`lowercase_words`).

The analysis itself (:func:`terms`) lives here too, so that building and querying share it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

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


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Snowball-stemmed terms: the same analysis BM25 uses."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words)


def lowercase_words(texts: Iterable[str]) -> frozenset[str]:
    """Words the documents also write in lower case: "Prison", "Federal", "Crime" are words,
    not names, so "Lompoc Federal Prison" is no person. Real names ("Richard Teng") only ever
    appear capitalized. Links and slugs ("/highlights-from-richard-tengs-ama") are skipped:
    a name is lower-cased there."""
    words: set[str] = set()
    for t in texts:
        prose = re.sub(r"\S*[/_@#]\S*", " ", t)
        words.update(re.findall(r"(?<![-\w])[a-z][a-z’']+(?![-\w])", prose))
    return frozenset(words)


def _ids(token_lists: Sequence[Sequence[str]]) -> tuple[list[str], list[list[int]]]:
    """The vocabulary in first-seen order, and each document's terms as ids into it."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in token_lists]
    return list(vocab), ids


def idf(n: int, df: int) -> float:
    """Smoothed inverse document frequency; unseen terms (df 0) count as rare."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


class SparseBM25:
    """BM25 (bm25s, Lucene variant) of ``n`` documents as a term-major sparse matrix."""

    def __init__(self, vocab: list[str], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n: int) -> None:
        self.vocab = vocab
        self.id = {t: i for i, t in enumerate(vocab)}
        self.data, self.indices, self.indptr, self.n = data, indices, indptr, n

    @classmethod
    def from_tokens(cls, token_lists: Sequence[Sequence[str]]) -> SparseBM25:
        vocab, ids = _ids(token_lists)
        if not vocab:
            return cls([], np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), len(token_lists))
        import bm25s

        # bm25s sets its own logger to DEBUG; its per-index messages are not our users' business.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25()
        model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=dict(zip(vocab, range(len(vocab))))), show_progress=False)
        s = model.scores
        return cls(vocab, np.asarray(s["data"], np.float32), np.asarray(s["indices"]), np.asarray(s["indptr"], np.int64), len(token_lists))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """Every document's score for the terms (repeats count), exactly as bm25s's
        ``get_scores`` adds them: term by term, in float32, reading only those terms' postings."""
        if not self.n:
            return np.zeros(0, dtype=np.float32)
        known = [self.id[t] for t in query_terms if t in self.id]
        scores = np.zeros(self.n, dtype=np.float32)
        for i in known:
            a, b = int(self.indptr[i]), int(self.indptr[i + 1])
            scores[self.indices[a:b]] += self.data[a:b]  # one entry per document and term
        return scores

    def idf(self, term: str) -> float:
        i = self.id.get(term)
        return idf(self.n, 0 if i is None else int(self.indptr[i + 1] - self.indptr[i]))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.data": self.data, f"{prefix}.indices": self.indices, f"{prefix}.indptr": self.indptr}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, vocab: list[str], n: int) -> SparseBM25:
        return cls(vocab, arrays[f"{prefix}.data"], arrays[f"{prefix}.indices"], arrays[f"{prefix}.indptr"], n)


class TermRows:
    """For each of ``n`` documents the distinct terms it holds (ids into ``vocab``), and each
    term's document frequency."""

    def __init__(self, vocab: list[str], df: np.ndarray, at: np.ndarray, ids: np.ndarray) -> None:
        self.vocab = vocab
        self.id = {t: i for i, t in enumerate(vocab)}
        self.df, self.at, self.ids = df, at, ids
        self.n = len(at) - 1

    @classmethod
    def from_tokens(cls, token_lists: Sequence[Sequence[str]]) -> TermRows:
        vocab, ids = _ids(token_lists)
        unique = [sorted(set(doc)) for doc in ids]
        at = np.zeros(len(unique) + 1, dtype=np.int64)
        np.cumsum([len(u) for u in unique], out=at[1:])
        flat = np.fromiter((i for u in unique for i in u), dtype=np.int32, count=int(at[-1]))
        return cls(vocab, np.bincount(flat, minlength=len(vocab)).astype(np.int64), at, flat)

    def idf(self, term: str) -> float:
        i = self.id.get(term)
        return idf(self.n, 0 if i is None else int(self.df[i]))

    def holds(self, row: int) -> set[int]:
        """The term ids of document ``row``."""
        return set(self.ids[int(self.at[row]) : int(self.at[row + 1])].tolist())

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.df": self.df, f"{prefix}.at": self.at, f"{prefix}.ids": self.ids}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, vocab: list[str]) -> TermRows:
        return cls(vocab, arrays[f"{prefix}.df"], arrays[f"{prefix}.at"], arrays[f"{prefix}.ids"])
