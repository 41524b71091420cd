"""What a generation holds besides its vectors (format 2).

Format 2 (written by this czqa) keeps every chunk's and sentence's metadata as columns of
``tables.bin`` (:mod:`czqa.index.tables`) together with what a start-up used to recompute from
them (:class:`Derived`): the alias table, the chunks' BM25 matrix, the sentences' terms, each
chunk's sentences and the documents' lower-case words. ``tables.json`` holds the JSON parts
(source names, vocabularies, the alias table) and the directory of ``tables.bin``.

An index in the older format 1 (``chunks.json`` and ``sentences.json``) is not read: loading
refuses it, and it is rebuilt (:func:`czqa.index.build.ensure_index`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from czqa.index.aliases import AliasTable
from czqa.index.lexicon import SparseBM25, TermIds, TermRows, lowercase_words, terms
from czqa.index.tables import (
    ChunkTable, Ragged, SentenceTable, TABLES_BIN, TABLES_JSON, chunk_sentences, read_tables, write_tables,
)

log = logging.getLogger(__name__)

FILES = (TABLES_BIN, TABLES_JSON)


@dataclass
class Derived:
    """What the build computes from the texts for every start-up to read (see the module doc)."""

    aliases: AliasTable
    chunk_bm25: SparseBM25  # over each chunk's embedded text, aliases expanded
    sentence_terms: TermRows  # over each sentence's embedded text, aliases expanded
    chunk_sentences: Ragged
    lowercase: frozenset[str]


def tables(chunks, sentences) -> tuple[ChunkTable, SentenceTable]:
    """Chunks and sentences (records or tables already) as tables numbering their sources alike."""
    if isinstance(chunks, ChunkTable) and isinstance(sentences, SentenceTable) and chunks.sources == sentences.sources:
        return chunks, sentences
    sources = sorted({c.source for c in chunks} | {s.source for s in sentences})
    return ChunkTable.from_records(list(chunks), sources), SentenceTable.from_records(list(sentences), sources)


def texts_from_chunks(chunks: ChunkTable) -> dict[str, str]:
    """Stand-in documents for callers that have only the chunks: each source's chunk texts."""
    parts: dict[str, list[str]] = {}
    for i in range(len(chunks)):
        parts.setdefault(chunks.sources[int(chunks.rows[i, 0])], []).append(chunks.text(i))
    return {s: "\n\n".join(p) for s, p in parts.items()}


def derive(chunks: ChunkTable, sentences: SentenceTable, texts: Mapping[str, str] | None = None) -> Derived:
    """Everything :class:`Derived` holds, from the tables and the documents' ``texts`` (source ->
    text; without them, each source's chunk texts stand in). ``texts`` is read twice, a document
    at a time (a mapping that reads each file when asked keeps a big folder out of memory)."""
    texts = texts if texts is not None else texts_from_chunks(chunks)
    started = time.perf_counter()
    aliases = AliasTable.from_documents(texts)
    log.debug("alias table: %.1f s", time.perf_counter() - started)
    chunk_bm25 = SparseBM25.from_ids(_analysed(chunks, aliases, "chunks"))
    sentence_terms = TermRows.from_ids(_analysed(sentences, aliases, "sentences"))
    started = time.perf_counter()
    derived = Derived(
        aliases=aliases,
        chunk_bm25=chunk_bm25,
        sentence_terms=sentence_terms,
        chunk_sentences=chunk_sentences(chunks, sentences),
        lowercase=lowercase_words(texts.values()),
    )
    log.debug("chunk sentences and lower-case words: %.1f s", time.perf_counter() - started)
    return derived


def _analysed(table: ChunkTable | SentenceTable, aliases: AliasTable, name: str) -> TermIds:
    """Each row's embedded text, aliases expanded, as term ids: a row at a time, so a million
    rows hold flat id arrays and one vocabulary, never a token list per row."""
    rows, sources, started = TermIds(), table.sources, time.perf_counter()
    for i, source in enumerate(table.source_ids.tolist()):
        rows.add(terms(aliases.expand(table.embed_text(i), sources[source])))
        if i and not i % 500_000:
            log.debug("%s analysed: %d of %d, %.1f s", name, i, len(table), time.perf_counter() - started)
    log.debug("%s analysed: %d rows, %d terms, %.1f s", name, len(table), len(rows.ids), time.perf_counter() - started)
    return rows


def write(folder: Path, chunks: ChunkTable, sentences: SentenceTable, derived: Derived) -> None:
    arrays = {
        "chunk.rows": chunks.rows, "chunk.ids": chunks.ids, "chunk.text_at": chunks.text_at, "chunk.embed_at": chunks.embed_at,
        "chunk.strings": _bytes(chunks.pool),
        "sentence.rows": sentences.rows, "sentence.embed_at": sentences.embed_at,
        "sentence.strings": _bytes(sentences.pool),
        "chunk.sentences_at": derived.chunk_sentences.at, "chunk.sentences": derived.chunk_sentences.values,
        **derived.chunk_bm25.arrays("chunk.bm25"), **derived.sentence_terms.arrays("sentence.terms"),
    }
    meta = {
        "sources": chunks.sources,
        "aliases": derived.aliases.to_json(),
        "chunk_vocab": derived.chunk_bm25.vocab,
        "sentence_vocab": derived.sentence_terms.vocab,
        "lowercase": sorted(derived.lowercase),
    }
    write_tables(folder, arrays, meta)


def _bytes(pool) -> np.ndarray:
    """A string pool (bytes, bytearray or a uint8 array, memory-mapped too) as a uint8 array, uncopied."""
    return pool.reshape(-1).view(np.uint8) if isinstance(pool, np.ndarray) else np.frombuffer(pool, dtype=np.uint8)


def read(folder: Path) -> tuple[ChunkTable, SentenceTable, Derived]:
    """A format 2 generation's tables (memory-mapped; nothing per row is read)."""
    a, meta = read_tables(folder)
    sources = [str(s) for s in meta["sources"]]
    chunks = ChunkTable(sources, a["chunk.rows"], a["chunk.ids"], a["chunk.strings"], a["chunk.text_at"], a["chunk.embed_at"])
    sentences = SentenceTable(sources, a["sentence.rows"], a["sentence.strings"], a["sentence.embed_at"])
    for table, width in ((chunks.rows, 3), (sentences.rows, 3)):
        if table.ndim != 2 or table.shape[1] != width:
            raise ValueError("a metadata table has the wrong shape")
    derived = Derived(
        aliases=AliasTable.from_json(meta["aliases"]),
        chunk_bm25=SparseBM25.from_arrays(a, "chunk.bm25", meta["chunk_vocab"], len(chunks)),
        sentence_terms=TermRows.from_arrays(a, "sentence.terms", meta["sentence_vocab"]),
        chunk_sentences=Ragged(a["chunk.sentences_at"], a["chunk.sentences"]),
        lowercase=frozenset(meta["lowercase"]),
    )
    return chunks, sentences, derived
