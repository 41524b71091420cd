"""The lexical side of an index, computed while building it and stored with it.

Analysing every passage (tokenise, drop stop words, stem, expand aliases) is most of what a
start-up cost when it was done at load: 15 s for BM25 alone at 100k chunks. So the build does
it once and stores the results in ``tables.bin`` (:mod:`czqa.index.tables`):

* :class:`SparseBM25`: bm25s's BM25 matrix over the chunks (computed here in numpy from flat
  term ids, bit for bit; term-major CSC: for each term the
  chunks holding it and their scores), so a question's scores read only its terms' postings;
* :class:`TermRows`: for each sentence the terms it holds, and each term's document frequency,
  which the extractive answerer compares questions with;
* the words the documents also write in lower case (:func:`lowercase_words`).

The analysis itself (:func:`terms`) lives here too, so that building and querying share it.
"""

from __future__ import annotations

import math
import re
from array import array
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
    not names, so "Harlow County Prison" is no person. Real names ("Nora Lindqvist") only ever
    appear capitalized. Links and slugs ("/highlights-from-richard-tengs-ama") are skipped:
    a name is lower-cased there."""
    words: set[str] = set()
    for t in texts:
        prose = re.sub(r"\S*[/_@#]\S*", " ", t)
        words.update(re.findall(r"(?<![-\w])[a-z][a-z’']+(?![-\w])", prose))
    return frozenset(words)


class TermIds:
    """Rows of terms, added one row at a time, kept as flat term ids (int32) and row lengths:
    a build of a million passages holds no list of token lists, only these arrays and one
    vocabulary dict (term -> id, in first-seen order)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._ids = array("i")  # C int: 32 bits on every platform numpy builds for
        self._lengths = array("q")

    def add(self, tokens: Iterable[str]) -> None:
        """Append one row (its terms in order; repeats count)."""
        vocab, before = self.vocab, len(self._ids)
        self._ids.extend([vocab.setdefault(t, len(vocab)) for t in tokens])
        self._lengths.append(len(self._ids) - before)

    @classmethod
    def of(cls, token_lists: Iterable[Iterable[str]]) -> TermIds:
        rows = cls()
        for tokens in token_lists:
            rows.add(tokens)
        return rows

    def __len__(self) -> int:
        return len(self._lengths)

    @property
    def ids(self) -> np.ndarray:
        """Every row's term ids back to back (int32, a view of the builder's buffer)."""
        return np.frombuffer(self._ids, dtype=np.intc).astype(np.int32, copy=False) if len(self._ids) else np.zeros(0, np.int32)

    @property
    def lengths(self) -> np.ndarray:
        return np.frombuffer(self._lengths, dtype=np.int64) if len(self._lengths) else np.zeros(0, np.int64)

    def terms(self) -> list[str]:
        return list(self.vocab)


BLOCK = 1 << 22  # term ids sorted at a time: temporaries of tens of MB, whatever the collection


def _blocks(lengths: np.ndarray, block: int):
    """(first row, end row, first id, end id) of runs of whole rows holding about ``block`` ids."""
    at = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=at[1:])
    r = 0
    while r < len(lengths):
        end = min(max(int(np.searchsorted(at, at[r] + block, side="right")) - 1, r + 1), len(lengths))
        yield r, end, int(at[r]), int(at[end])
        r = end


def _pairs(major: np.ndarray, minor: np.ndarray, width: int, *, counts: bool = False):
    """The distinct (major, minor) pairs sorted by major then minor (minor < ``width``), and
    with ``counts`` how often each occurs: one sort of a combined int64 key."""
    key = major.astype(np.int64) * width
    key += minor
    if counts:
        key, count = np.unique(key, return_counts=True)
    else:
        key, count = np.unique(key), None
    high = key // width
    key -= high * width
    return high, key, count


def _postings(ids: np.ndarray, lengths: np.ndarray, block: int):
    """Per block of rows: (term, row, tf) of its distinct (term, row) pairs, by term then row."""
    for r, end, a, z in _blocks(lengths, block):
        owner = np.repeat(np.arange(r, end, dtype=np.int64), lengths[r:end])
        yield _pairs(ids[a:z], owner, len(lengths), counts=True)


def idf(n: int, df: int) -> float:
    """Smoothed inverse document frequency; unseen terms (df 0) count as rare."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


K1, B = 1.5, 0.75  # bm25s.BM25()'s defaults


def bm25_matrix(ids: np.ndarray, lengths: np.ndarray, n_terms: int, *, k1: float = K1, b: float = B, block: int = BLOCK):
    """(data, indices, indptr): the term-major (CSC) BM25 matrix of documents whose term ids lie
    back to back in ``ids`` (document i holds ``lengths[i]`` of them, repeats counted).

    The arithmetic is bm25s 0.3's (``BM25.build_index_from_ids``, method "lucene"), done for
    every posting at once instead of document by document, in the same order and precision, so
    the float32 scores are the same bits: ``idf`` = log(1 + (n - df + 0.5) / (df + 0.5)) in
    double, rounded to float32; the average length is the mean of the int64 lengths; per
    posting ``tf / (k1 * ((1 - b) + b * len / avg) + tf)`` in double (a float64 scalar meets
    bm25s's float32 term counts, and NumPy 2 keeps float64), times the float32 idf, rounded to
    float32. Postings are sorted by term, then document, as bm25s's CSC builder leaves them.
    Rows are taken ``block`` ids at a time (twice: document frequencies first), so memory holds
    the ids, the result and one block's temporaries.
    """
    n = len(lengths)
    ids, lengths = np.asarray(ids), np.asarray(lengths, dtype=np.int64)
    df = np.zeros(n_terms, dtype=np.int64)
    for term, _, _ in _postings(ids, lengths, block):  # first pass: document frequencies
        df += np.bincount(term, minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    idf_array = np.array([idf(n, d) if d else 0.0 for d in df.tolist()], dtype=np.float32)
    avg = lengths.mean()
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    heads = indptr[:-1].copy()  # where each term's next posting goes
    for term, doc, tf in _postings(ids, lengths, block):  # second pass: scores, in place
        score = lengths[doc].astype(np.float64)  # per posting: its document's length, then the tf part
        score *= b
        score /= avg
        score += 1 - b
        score *= k1
        tf = tf.astype(np.float64)
        score += tf
        np.divide(tf, score, out=score)
        score *= idf_array[term]
        # blocks come in document order, and a block's postings by term then document
        at = heads[term] + (np.arange(len(term)) - np.searchsorted(term, term))
        data[at] = score
        indices[at] = doc
        heads += np.bincount(term, minlength=n_terms)
    return data, indices, indptr


class SparseBM25:
    """BM25 (bm25s, Lucene variant) of ``n`` documents as a term-major sparse matrix."""

    def __init__(self, vocab: list[str], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n: int) -> None:
        self.vocab = vocab
        self.id = {t: i for i, t in enumerate(vocab)}
        self.data, self.indices, self.indptr, self.n = data, indices, indptr, n

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Sequence[str]]) -> SparseBM25:
        return cls.from_ids(TermIds.of(token_lists))

    @classmethod
    def from_ids(cls, rows: TermIds, *, block: int = BLOCK) -> SparseBM25:
        """The matrix of ``rows``, computed in numpy from the flat term ids: the scores bm25s
        computes (``bm25s.BM25()``: method and idf "lucene", k1 1.5, b 0.75, float32), bit for
        bit, without a token list per document (see :func:`bm25_matrix`)."""
        vocab = rows.terms()
        if not vocab:
            return cls([], np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), len(rows))
        data, indices, indptr = bm25_matrix(rows.ids, rows.lengths, len(vocab), block=block)
        return cls(vocab, data, indices, indptr, len(rows))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """Every document's score for the terms (repeats count), exactly as bm25s's
        ``get_scores`` adds them: term by term, in float32, reading only those terms' postings."""
        if not self.n:
            return np.zeros(0, dtype=np.float32)
        known = [self.id[t] for t in query_terms if t in self.id]
        scores = np.zeros(self.n, dtype=np.float32)
        for i in known:
            a, b = int(self.indptr[i]), int(self.indptr[i + 1])
            # One entry per document and term, so this is ``scores[idx] += data`` (the same float32
            # additions), without its gathered and summed copies: 6 instead of 10 ms at 1M chunks.
            np.add.at(scores, self.indices[a:b], self.data[a:b])
        return scores

    @staticmethod
    def top(scores: np.ndarray, k: int, *, block: int = 1024) -> np.ndarray:
        """The rows of the ``k`` highest positive ``scores``, best first, ties by row: exactly
        ``m[top_rows(scores[m], k)]`` with ``m = flatnonzero(scores > 0)``, without sorting or
        gathering every matched row (most of a million chunks hold some common term).

        The k-th largest of the maxima of ``block``-row blocks is at most the k-th largest score
        (k blocks hold a score at least that high), so the rows scoring at least that much hold
        the top k and every row tied with the k-th; usually a few dozen rows.
        """
        from czqa.index.vectors import top_rows

        full = len(scores) // block * block
        if k > 0 and full // block >= k:
            maxima = scores[:full].reshape(-1, block).max(axis=1)
            bound = np.partition(maxima, len(maxima) - k)[len(maxima) - k]
            if bound > 0:
                rows = np.flatnonzero(scores >= bound)
                return rows[top_rows(scores[rows], k)]
        matched = np.flatnonzero(scores > 0)
        return matched[top_rows(scores[matched], k)]

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
    def from_tokens(cls, token_lists: Iterable[Sequence[str]]) -> TermRows:
        return cls.from_ids(TermIds.of(token_lists))

    @classmethod
    def from_ids(cls, rows: TermIds, *, block: int = BLOCK) -> TermRows:
        """Each row's distinct term ids, ascending, from the flat ids (a sort per block of rows,
        no per-row set)."""
        vocab, n, lengths, ids = rows.terms(), len(rows), rows.lengths, rows.ids
        parts, counts = [], np.zeros(n, dtype=np.int64)
        for r, end, a, z in _blocks(lengths, block):
            owner = np.repeat(np.arange(r, end, dtype=np.int64), lengths[r:end])
            row, distinct, _ = _pairs(owner, ids[a:z], max(len(vocab), 1))
            counts += np.bincount(row, minlength=n)
            parts.append(distinct.astype(np.int32))
        flat = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        at = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=at[1:])
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
