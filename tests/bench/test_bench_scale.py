"""bench/scale.py's synthetic index: the tables it builds from columns are the tables that
Chunk and SentenceRecord objects laid out the same way give (what it built before)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from czqa.index import format as fmt
from czqa.index.tables import SentenceRecord
from czqa.ingest.chunking import Chunk, chunk_id
from czqa.ingest.clean import visible_text

ROOT = Path(__file__).resolve().parents[2]


def _scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _from_records(parts, per_file):
    """The bench's former build: one Chunk and one SentenceRecord object per row."""
    chunks, sentences = [], []
    for f in range(0, len(parts), per_file):
        source, at = f"part-{f // per_file:05d}.txt", 0
        for p in parts[f : f + per_file]:
            text = " ".join(p)
            chunks.append(Chunk(chunk_id(source, text), source, at, at + len(text), text, visible_text(text)))
            pos = at
            for s in p:
                sentences.append(SentenceRecord(source, pos, pos + len(s), visible_text(s)))
                pos += len(s) + 1
            at += len(text) + 2
    return fmt.tables(chunks, sentences)


def test_synthetic_tables_from_columns_are_the_record_tables(monkeypatch, tmp_path):
    scale = _scale()
    monkeypatch.setattr(scale, "PER_FILE", 7)  # several files, the last one short
    parts = [["A *first* sentence here.", "Binance’s second one [link](http://x.y).", "Third."][: 1 + i % 3] for i in range(30)]
    chunks, sentences = scale.synthetic_tables(parts)
    expected_chunks, expected_sentences = _from_records(parts, 7)
    assert chunks.sources == expected_chunks.sources == [f"part-{k:05d}.txt" for k in range(5)]
    assert list(chunks) == list(expected_chunks) and list(sentences) == list(expected_sentences)
    for ours, theirs in ((chunks.rows, expected_chunks.rows), (chunks.ids, expected_chunks.ids),
                         (chunks.text_at, expected_chunks.text_at), (chunks.embed_at, expected_chunks.embed_at),
                         (sentences.rows, expected_sentences.rows), (sentences.embed_at, expected_sentences.embed_at)):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert bytes(chunks.pool) == bytes(expected_chunks.pool) and bytes(sentences.pool) == bytes(expected_sentences.pool)
    # and the documents hold the texts at those offsets
    scale.write_docs(tmp_path, parts)
    for i in (0, 6, 7, 29):
        document = (tmp_path / chunks.sources[int(chunks.rows[i, 0])]).read_text(encoding="utf-8")
        assert document[int(chunks.rows[i, 1]) : int(chunks.rows[i, 2])] == chunks.stored_text(i)
