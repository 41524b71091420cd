"""Refuse index metadata that cannot be right, with array operations rather than per-row Python.

Checksums prove the files are the ones the manifest lists, not that they are right: a
hand-edited index with updated checksums can hold offsets that are consistent but point at
other text, which an answer would quote. So on every load:

* the tables must be well formed: offsets into the texts ascending and inside them, every
  source number, sentence row and term id inside its table (a foreign or tampered
  ``tables.bin`` is refused here rather than failing a question later);
* ranges must be well formed (start >= 0, end > start; a chunk's stored text as long as its
  range where its document is not given, since that text is then what a passage shows),
  sentences of a file in text order without overlaps, sources listed in the manifest and
  sentence vectors finite;
* for each given document whose sha256 matches the manifest: every range lies inside it, and
  each chunk's stored text is its slice and each sentence's embedded text its slice's visible
  text: every one in a table of up to ``FULL_CHECK`` rows, an even sample above that.

Nothing a user reads comes from the index's own copy of the text once the documents are given:
a passage's text and a quote are cut from the document at the index's offsets
(``ChunkTable.documents``). So a text changed by hand that a sample misses costs ranking
quality (the vectors and terms describe other words), never a wrong quote, as a few flipped
bytes in a vector file do (:mod:`czqa.index.digest`); a consistent shift is caught by any
sample, and the order check catches a single range moved over its neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from czqa.errors import IndexUnusable
from czqa.index.digest import finite
from czqa.ingest.clean import visible_text
from czqa.ingest.documents import Document

FULL_CHECK = 20_000  # chunks, or sentences, checked one by one against the documents
SAMPLE = 2_048  # how many are checked above that
_BLOCK = 1 << 22  # bytes of text per step when counting characters (8 times that of scratch)


def _ascending_inside(at: np.ndarray, size: int, rows: int) -> bool:
    """Offsets ``at`` cut ``rows`` pieces from something of ``size``: n+1 values from 0, never falling, ending inside."""
    return at.ndim == 1 and len(at) == rows + 1 and (rows == 0 or (int(at[0]) >= 0 and int(at[-1]) <= size)) and bool(np.all(np.diff(at) >= 0))


def _inside(values: np.ndarray, bound: int) -> bool:
    return not len(values) or (int(values.min()) >= 0 and int(values.max()) < bound)


def structure_faults(data) -> str | None:
    """What is malformed in the loaded tables (None when nothing is)."""
    chunks, sentences, derived = data.chunks, data.sentences, data.derived
    n, m, k = len(chunks), len(sentences), len(chunks.sources)
    bm25, rows, owned = derived.chunk_bm25, derived.sentence_terms, derived.chunk_sentences
    checks = {
        "chunk texts": _ascending_inside(chunks.text_at, len(chunks.pool), n) and _ascending_inside(chunks.embed_at, len(chunks.pool), n),
        "chunk ids": chunks.ids.shape == (n,),
        "sentence texts": _ascending_inside(sentences.embed_at, len(sentences.pool), m),
        "source numbers": _inside(chunks.source_ids, k) and _inside(sentences.source_ids, k),
        "chunk sentences": _ascending_inside(owned.at, len(owned.values), n) and _inside(owned.values, m),
        "BM25 matrix": len(bm25.vocab) + 1 == len(bm25.indptr) and _ascending_inside(bm25.indptr, len(bm25.indices), len(bm25.vocab))
        and len(bm25.data) == len(bm25.indices) and _inside(bm25.indices, n) and bm25.n == n,
        "sentence terms": _ascending_inside(rows.at, len(rows.ids), m) and _inside(rows.ids, len(rows.vocab)) and len(rows.df) == len(rows.vocab),
        "alias table": all(0 <= g < len(derived.aliases.groups) for g in derived.aliases.names.values())
        and all(0 <= g < len(derived.aliases.groups) for s in derived.aliases.scoped.values() for g in s.values()),
    }
    bad = [name for name, ok in checks.items() if not ok]
    return bad[0] if bad else None


def _char_counts(pool, at: np.ndarray) -> np.ndarray:
    """Characters of each UTF-8 text ``pool[at[i]:at[i+1]]``: its bytes less those that continue
    a character (found a block at a time, so the scratch stays small)."""
    if len(at) < 2:
        return np.zeros(0, dtype=np.int64)
    pool = np.frombuffer(pool, dtype=np.uint8) if isinstance(pool, (bytes, bytearray)) else pool
    lo, hi = int(at[0]), int(at[-1])
    found = [np.flatnonzero((pool[i : min(i + _BLOCK, hi)] & 0xC0) == 0x80) + i for i in range(lo, hi, _BLOCK)]
    cont = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return np.diff(at) - (np.searchsorted(cont, at[1:]) - np.searchsorted(cont, at[:-1]))


def _sample(count: int) -> np.ndarray:
    """Every row of a small table, an even sample of ``SAMPLE`` rows (first and last included) of a large one."""
    if count <= FULL_CHECK:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, SAMPLE).astype(np.int64))


def verify(data, documents: Iterable[Document] | None = None) -> None:
    """Refuse metadata that cannot be right, naming the first fault (IndexUnusable); see the module doc."""
    m, chunks, sentences = data.manifest, data.chunks, data.sentences
    where = f"The index ({m.generation})"
    if len(chunks) != m.chunks or len(sentences) != m.sentences:
        raise IndexUnusable(f"{where} holds {len(chunks)} chunks and {len(sentences)} sentences; its manifest says {m.chunks} and {m.sentences}.")
    fault = structure_faults(data)
    if fault:
        raise IndexUnusable(f"{where} is damaged: its {fault} do not fit together.")
    c, s = chunks.rows, sentences.rows
    docs = {d.source: d for d in documents or () if m.files.get(d.source) == d.sha256}
    bad_c = (c[:, 1] < 0) | (c[:, 2] <= c[:, 1])
    # A stored text is shown only for a chunk whose document is not given: its length must be
    # its range's (the others are compared with their document below, and shown from it).
    shown = ~np.isin(c[:, 0], [k for k, name in enumerate(chunks.sources) if name in docs])
    if shown.any():
        bad_c |= shown & (c[:, 2] - c[:, 1] != _char_counts(chunks.pool, chunks.text_at))
    bad_c = np.flatnonzero(bad_c)
    bad_s = np.flatnonzero((s[:, 1] < 0) | (s[:, 2] <= s[:, 1]))
    if bad_c.size or bad_s.size:
        t, row = (c, bad_c[0]) if bad_c.size else (s, bad_s[0])
        raise IndexUnusable(f"{where} is damaged: a passage of {chunks.sources[int(t[row, 0])]} has impossible offsets {int(t[row, 1])}-{int(t[row, 2])}.")
    same = s[1:, 0] == s[:-1, 0]
    overlap = np.flatnonzero(same & (s[1:, 1] < s[:-1, 2]))
    if overlap.size:
        row = int(overlap[0]) + 1
        raise IndexUnusable(f"{where} is damaged: the sentence at chars {int(s[row, 1])}-{int(s[row, 2])} of {sentences.source(row)} overlaps the one before it.")
    used = sorted(set(chunks.sources) - set(m.files))
    if used:
        raise IndexUnusable(f"{where} is damaged: it quotes {used[0]}, a file its manifest does not list.")
    sv = data.sentence_vectors
    if sv.ndim != 2 or (len(sv) and sv.shape[1] != m.model.dimension) or not finite(sv):
        raise IndexUnusable(f"{where} is damaged: its sentence vectors are not finite {m.model.dimension}-d vectors.")
    if docs:
        try:
            _against_documents(data, docs, where)
        except UnicodeDecodeError as exc:  # ingestion trusted the manifest's hash and did not decode the file
            raise IndexUnusable(f"{where} does not match its documents: a file it lists is not UTF-8 text ({exc.reason}).") from exc


def _against_documents(data, docs: dict[str, Document], where: str) -> None:
    chunks, sentences = data.chunks, data.sentences
    number = {name: k for k, name in enumerate(chunks.sources)}
    size = np.full(len(chunks.sources), np.iinfo(np.int64).max, dtype=np.int64)
    for name, d in docs.items():
        if name in number:
            size[number[name]] = len(d.content)
    outside = np.flatnonzero(chunks.ends > size[chunks.source_ids])
    if outside.size:
        _other_text(where, chunks, int(outside[0]))
    outside = np.flatnonzero(sentences.ends > size[sentences.source_ids])
    if outside.size:
        _not_embedded(where, sentences, int(outside[0]))
    for row in _sample(len(chunks)).tolist():
        d = docs.get(chunks.sources[int(chunks.rows[row, 0])])
        if d is not None and chunks.stored_text(row) != d.content.cut(int(chunks.rows[row, 1]), int(chunks.rows[row, 2])):
            _other_text(where, chunks, row)
    for row in _sample(len(sentences)).tolist():
        d = docs.get(sentences.source(row))
        a, b = sentences.span(row)
        if d is not None and visible_text(d.content.cut(a, b), is_html=d.is_html) != sentences.embed_text(row):
            _not_embedded(where, sentences, row)


def _other_text(where: str, chunks, row: int):
    c = chunks.rows[row]
    raise IndexUnusable(
        f"{where} does not match its documents: chunk {chunks.id(row)} quotes other text than {chunks.sources[int(c[0])]} holds at chars {int(c[1])}-{int(c[2])}."
    )


def _not_embedded(where: str, sentences, row: int):
    a, b = sentences.span(row)
    raise IndexUnusable(
        f"{where} does not match its documents: the sentence at chars {a}-{b} of {sentences.source(row)} is not the text that was embedded for it."
    )
