"""Tables built from columns (row arrays and string pools, no record per row) are the tables
built from records, and the store saves them, with memory-mapped vectors, without making a
record per row or a copy of the vectors in memory."""

from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import pytest
from numpy.lib.format import open_memmap

from czqa import __version__
from czqa.index import format as fmt
from czqa.index.store import PIPELINE_VERSION, ManifestDraft, ModelInfo, load_index, save_index
from czqa.index.tables import ChunkTable, SentenceRecord, SentenceTable, StringPool, _pool, read_tables
from czqa.ingest.chunking import Chunk, chunk_id
from czqa.settings import ChunkingSettings

TEXTS = {"a.txt": "Binance’s first 100 days. The SEC sued in March.", "b.txt": "Ming Yao came. Yao Ming left — twice."}


def _records():
    chunks, sentences = [], []
    for source, text in TEXTS.items():
        chunks.append(Chunk(chunk_id(source, text), source, 0, len(text), text, text.upper()))
        at = 0
        for part in text.split(". "):
            sentences.append(SentenceRecord(source, at, at + len(part), part))
            at += len(part) + 2
    return chunks, sentences


def test_string_pool_is_the_list_pool():
    texts = ["", "abc", "Binance’s", "\ud800 lone surrogate", "x" * 1000]
    pool = StringPool()
    assert pool.extend(iter(texts)) == len(texts)
    data, at = pool.finish()
    expected, expected_at = _pool(texts)
    assert data.tobytes() == expected and np.array_equal(at, expected_at) and at.dtype == np.int64


def test_tables_from_columns_are_the_tables_from_records(tmp_path):
    chunks, sentences = _records()
    sources = sorted(TEXTS)
    by_records = fmt.tables(chunks, sentences)
    number = {s: i for i, s in enumerate(sources)}
    chunk_table = ChunkTable.from_columns(
        sources, [(number[c.source], c.start, c.end) for c in chunks], np.array([c.id.encode() for c in chunks]),
        (c.text for c in chunks), (c.embed_text for c in chunks))
    sentence_table = SentenceTable.from_columns(
        sources, [(number[s.source], s.start, s.end) for s in sentences], (s.embed_text for s in sentences))
    assert list(chunk_table) == chunks and list(sentence_table) == sentences
    for table, name in ((by_records, "records"), ((chunk_table, sentence_table), "columns")):
        (tmp_path / name).mkdir()
        fmt.write(tmp_path / name, *table, fmt.derive(*table, TEXTS))
    assert (tmp_path / "records" / "tables.bin").read_bytes() == (tmp_path / "columns" / "tables.bin").read_bytes()
    assert (tmp_path / "records" / "tables.json").read_bytes() == (tmp_path / "columns" / "tables.json").read_bytes()
    arrays, _ = read_tables(tmp_path / "columns")
    assert arrays["chunk.strings"].tobytes() == bytes(chunk_table.pool)


def test_from_columns_refuses_columns_of_different_lengths():
    with pytest.raises(ValueError, match="2 chunk rows"):
        ChunkTable.from_columns(["a"], [(0, 0, 1), (0, 2, 3)], np.array([b"0" * 16] * 2), ["x", "y"], ["x"])
    with pytest.raises(ValueError, match="1 sentence rows and 2"):
        SentenceTable.from_columns(["a"], [(0, 0, 1)], ["x", "y"])


def test_save_index_takes_tables_and_memory_mapped_vectors(tmp_path, monkeypatch):
    """A million-passage build passes tables and memory-mapped vectors: saving them makes no
    Chunk per row (the ids come from the id column) and copies no vector matrix into memory."""
    n, m, dim = 2400, 7200, 384  # three sentences a chunk, one document
    parts = [[f"Passage {i} opens.", f"Its middle names Ming Yao {i}.", "It ends."] for i in range(n)]
    text = "\n\n".join(" ".join(p) for p in parts)
    chunk_rows, sentence_rows, at = [], [], 0
    for p in parts:
        chunk_rows.append((0, at, at + len(" ".join(p))))
        for sentence in p:
            sentence_rows.append((0, at, at + len(sentence)))
            at += len(sentence) + 1
        at += 1
    chunk_table = ChunkTable.from_columns(["a.txt"], chunk_rows, np.array([chunk_id("a.txt", " ".join(p)).encode() for p in parts]),
                                          (" ".join(p) for p in parts), (" ".join(p) for p in parts))
    sentence_table = SentenceTable.from_columns(["a.txt"], sentence_rows, (s for p in parts for s in p))
    rng = np.random.default_rng(0)
    chunk_vectors = open_memmap(tmp_path / "c.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    sentence_vectors = open_memmap(tmp_path / "s.npy", mode="w+", dtype=np.float32, shape=(m, dim))
    for matrix in (chunk_vectors, sentence_vectors):
        for i in range(0, len(matrix), 1000):
            block = rng.standard_normal((min(1000, len(matrix) - i), dim)).astype(np.float32)
            matrix[i : i + 1000] = block / np.linalg.norm(block, axis=1, keepdims=True)
    monkeypatch.setattr(ChunkTable, "_record", lambda *a: pytest.fail("a Chunk made per row to save a table"))
    fields = ManifestDraft(czqa_version=__version__, pipeline_version=PIPELINE_VERSION, vector_index="faiss-ivf16-sq8",
                  model=ModelInfo(name="test", dimension=dim, max_wordpieces=256), chunking=ChunkingSettings(),
                  files={"a.txt": hashlib.sha256(text.encode()).hexdigest()})
    save_index(tmp_path / "warm", draft=fields, chunks=chunk_table, chunk_vectors=chunk_vectors,
               sentences=sentence_table, sentence_vectors=sentence_vectors, texts={"a.txt": text})  # imports, caches
    tracemalloc.start()
    try:
        save_index(tmp_path / "index", draft=fields, chunks=chunk_table, chunk_vectors=chunk_vectors,
                   sentences=sentence_table, sentence_vectors=sentence_vectors, texts={"a.txt": text})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < sentence_vectors.nbytes / 2  # numpy's allocations are traced: no copy of the matrices
    monkeypatch.undo()
    from czqa.ingest.documents import ingest

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(text, encoding="utf-8")
    data = load_index(tmp_path / "index", documents=ingest(tmp_path / "docs")[0])  # offsets verified against the text
    assert np.array_equal(data.sentence_vectors, sentence_vectors)
    assert np.array_equal(data.chunk_vectors(), chunk_vectors)
    assert data.chunks[5].text == " ".join(parts[5]) and data.chunks.id(5) == chunk_id("a.txt", " ".join(parts[5]))
