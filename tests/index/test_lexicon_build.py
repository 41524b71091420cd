"""The index-time lexical tables are computed from flat term ids, a row at a time.

The BM25 matrix is computed in numpy (no bm25s at index time) and must hold bm25s's own
scores bit for bit; the sentence terms must be what the per-row computation gave; a build
analyses each row once and keeps no token list per row.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from czqa.index import format as fmt
from czqa.index import lexicon
from czqa.index.lexicon import SparseBM25, TermIds, TermRows, bm25_matrix
from czqa.index.tables import ChunkTable, SentenceRecord, SentenceTable
from czqa.ingest.chunking import Chunk, chunk_id


def _corpus(seed: int, n: int = 300, words: int = 60) -> list[list[str]]:
    """Documents with repeated terms (a Zipf-like draw), empty documents and one-term ones."""
    rng = random.Random(seed)
    vocab = [f"t{i}" for i in range(words)]
    weights = [1 / (i + 1) for i in range(words)]
    docs = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.08:
            docs.append([])
        elif kind < 0.12:
            docs.append([rng.choice(vocab)] * rng.randint(1, 9))
        else:
            docs.append(rng.choices(vocab, weights, k=rng.randint(1, 40)))
    return docs


def _bm25s(docs: list[list[str]]):
    import bm25s

    rows = TermIds.of(docs)
    vocab = rows.vocab
    model = bm25s.BM25()
    model.index(bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in d] for d in docs], vocab=dict(vocab)), show_progress=False)
    return model, vocab


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("block", [1, 37, 1 << 22])  # rows taken a few ids at a time, or all at once
def test_the_numpy_matrix_is_bm25s_matrix_bit_for_bit(seed, block):
    docs = _corpus(seed, n=50 + 97 * seed)
    model, vocab = _bm25s(docs)
    ours = SparseBM25.from_ids(TermIds.of(docs), block=block)
    assert ours.vocab == list(vocab) and ours.n == len(docs)
    assert ours.data.dtype == np.float32 and ours.indices.dtype == np.int32 and ours.indptr.dtype == np.int64
    assert np.array_equal(ours.indptr, model.scores["indptr"])
    assert np.array_equal(ours.indices, model.scores["indices"])
    assert ours.data.tobytes() == np.asarray(model.scores["data"], np.float32).tobytes()  # exact, not within a tolerance
    rng = random.Random(seed)
    for _ in range(30):  # queries with repeated and unknown terms
        query = rng.choices(list(vocab), k=rng.randint(1, 6)) + ["never-seen"] * rng.randint(0, 2)
        known = [t for t in query if t in vocab]
        expected = model.get_scores(known) if known else np.zeros(len(docs), np.float32)
        assert ours.scores(query).tobytes() == np.asarray(expected, np.float32).tobytes()


def test_bm25_matrix_edge_cases():
    # every document empty but one; a document holding one term many times
    docs = [[], [], ["a"] * 50, []]
    model, _ = _bm25s(docs)
    ours = SparseBM25.from_tokens(docs)
    assert ours.data.tobytes() == np.asarray(model.scores["data"], np.float32).tobytes()
    empty = SparseBM25.from_tokens([[], []])
    assert empty.vocab == [] and empty.n == 2 and not len(empty.data) and empty.scores(["a"]).tolist() == [0.0, 0.0]
    assert SparseBM25.from_tokens([]).n == 0
    data, indices, indptr = bm25_matrix(np.array([0, 1, 0], np.int32), np.array([3]), 2)
    assert indices.tolist() == [0, 0] and indptr.tolist() == [0, 1, 2]


def _reference_term_rows(docs):
    """The per-row computation earlier versions ran: a sorted set per row."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in d] for d in docs]
    unique = [sorted(set(d)) for d in ids]
    flat = np.array([i for u in unique for i in u], dtype=np.int32)
    at = np.concatenate([[0], np.cumsum([len(u) for u in unique])]).astype(np.int64)
    return list(vocab), np.bincount(flat, minlength=len(vocab)).astype(np.int64), at, flat


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("block", [1, 37, 1 << 22])
def test_term_rows_from_flat_ids_match_the_per_row_sets(seed, block):
    docs = _corpus(seed, n=40 + 71 * seed)
    vocab, df, at, flat = _reference_term_rows(docs)
    rows = TermRows.from_ids(TermIds.of(docs), block=block)
    assert rows.vocab == vocab
    for ours, theirs in ((rows.df, df), (rows.at, at), (rows.ids, flat)):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert TermRows.from_tokens([]).n == 0 and TermRows.from_tokens([[], []]).holds(1) == set()


def test_term_ids_stream_into_flat_arrays():
    rows = TermIds()
    for doc in (["b", "a", "b"], [], ["c"]):
        rows.add(doc)
    assert rows.vocab == {"b": 0, "a": 1, "c": 2}
    assert rows.ids.dtype == np.int32 and rows.ids.tolist() == [0, 1, 0, 2]
    assert rows.lengths.tolist() == [3, 0, 1] and len(rows) == 3


def _tables():
    text = "The Securities and Exchange Commission (SEC) sued. The SEC said so. Ming Yao came."
    chunks = [Chunk(chunk_id("a.txt", text), "a.txt", 0, len(text), text, text)]
    sentences = [SentenceRecord("a.txt", 0, 50, text[:50]), SentenceRecord("a.txt", 51, len(text), text[51:])]
    return ChunkTable.from_records(chunks), SentenceTable.from_records(sentences)


def test_the_build_needs_no_bm25s_and_analyses_each_row_once(monkeypatch):
    import bm25s

    monkeypatch.setattr(bm25s, "BM25", lambda *a, **k: pytest.fail("bm25s used at index time"))
    analysed = []
    real = lexicon.terms

    def counting(text):
        analysed.append(text)
        return real(text)

    monkeypatch.setattr(fmt, "terms", counting)
    chunks, sentences = _tables()
    derived = fmt.derive(chunks, sentences)
    assert len(analysed) == len(chunks) + len(sentences)
    assert derived.chunk_bm25.n == 1 and derived.sentence_terms.n == 2
    assert "sec" not in derived.chunk_bm25.id  # the alias table expanded "SEC" before analysis


def _top_reference(scores, k):
    """What BM25.top computed before: every matched row gathered and partially sorted."""
    from czqa.index.vectors import top_rows

    matched = np.flatnonzero(scores > 0)
    return matched[top_rows(scores[matched], k)]


@pytest.mark.parametrize("seed", range(40))
def test_top_from_block_maxima_is_the_full_partial_sort(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 6000))
    levels = rng.integers(1, 50)  # few distinct values: many ties, also across the k-th place
    scores = (rng.integers(0, levels, n) * rng.random() * 3).astype(np.float32)
    scores[rng.random(n) < rng.random()] = 0  # rows holding no query term
    for k in (0, 1, 5, 32, 100, 7000):
        for block in (1, 16, 1024):
            got = SparseBM25.top(scores, k, block=block)
            assert got.tolist() == _top_reference(scores, k).tolist(), (n, k, block)


def test_scores_add_postings_as_bm25s_does():
    """``np.add.at`` adds each term's postings in float32, term by term: the fancy-index sum's bits."""
    docs = _corpus(11, n=2000)
    matrix = SparseBM25.from_tokens(docs)
    for query in (["t0", "t1", "t0", "t5"], ["t3"], ["nothing"], []):
        expected = np.zeros(matrix.n, np.float32)
        for t in query:
            if t in matrix.id:
                i = matrix.id[t]
                a, b = matrix.indptr[i], matrix.indptr[i + 1]
                expected[matrix.indices[a:b]] += matrix.data[a:b]
        assert matrix.scores(query).tobytes() == expected.tobytes()
