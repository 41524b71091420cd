"""An index's metadata as numpy columns in one file, read on demand through a memory map.

Loading an index reads no per-passage objects: chunk and sentence offsets, source numbers, ids
and the UTF-8 bytes of their texts are arrays in ``tables.bin``, laid out as ``tables.json``
says (name -> dtype, shape, byte offset), and :class:`ChunkTable` / :class:`SentenceTable` make
the one :class:`~czqa.ingest.chunking.Chunk` or :class:`SentenceRecord` a question asks for
when it asks. Iterating a table (a rebuild, a test) still yields every record.

Nothing is pickled: the JSON names plain dtypes (no ``object``), and the binary file is raw
array bytes at 64-byte aligned offsets.
"""

from __future__ import annotations

import json
import mmap
import os
from array import array as _array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from czqa.ingest.chunking import Chunk
from czqa.index import residency
from czqa.ingest.text import Utf8Text

TABLES_BIN = "tables.bin"
TABLES_JSON = "tables.json"
_ALIGN = 64
_DTYPES = {"int64", "int32", "float32", "uint8"}  # plus fixed-width bytes, "|S<n>"


@dataclass(frozen=True)
class SentenceRecord:
    """One sentence of a seed file (offsets into the original text) and the text that was embedded for it."""

    source: str
    start: int
    end: int
    embed_text: str


def _pool(texts: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """The UTF-8 bytes of ``texts`` back to back, and the n+1 offsets that cut them apart."""
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    at = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=at[1:])
    return b"".join(encoded), at


class StringPool:
    """UTF-8 strings added one at a time into one growing buffer, and the offsets that cut them
    apart: what :func:`_pool` gives for a list, without a list (a million passages are
    gigabytes of text; each string is encoded, copied in and dropped)."""

    def __init__(self) -> None:
        self._bytes = bytearray()
        self._at = _array("q", [0])

    def add(self, text: str) -> None:
        self._bytes += text.encode("utf-8", "surrogatepass")
        self._at.append(len(self._bytes))

    def extend(self, texts: Iterable[str]) -> int:
        """Add each of ``texts``; returns how many."""
        before = len(self._at)
        for t in texts:
            self.add(t)
        return len(self._at) - before

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """(the bytes as a uint8 array, the n+1 offsets); the pool takes no more strings."""
        return np.frombuffer(self._bytes, dtype=np.uint8), np.frombuffer(self._at, dtype=np.int64)


def _text(pool, at: np.ndarray, i: int) -> str:
    return bytes(pool[int(at[i]) : int(at[i + 1])]).decode("utf-8", "surrogatepass")


class Ragged(Sequence):
    """Row i's list of ints: ``values[at[i]:at[i+1]]`` (a CSR matrix without values)."""

    def __init__(self, at: np.ndarray, values: np.ndarray) -> None:
        self.at, self.values = at, values

    def __len__(self) -> int:
        return len(self.at) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return self.values[int(self.at[i]) : int(self.at[i + 1])].tolist()

    def counts(self) -> np.ndarray:
        return np.diff(self.at)


class _Table(Sequence):
    """Rows of (source number, start, end) with the source names; subclasses add texts."""

    rows: np.ndarray
    sources: list[str]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._record(i)

    def __iter__(self) -> Iterator:
        for i in range(len(self)):
            yield self._record(i)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None

    def _record(self, i: int):
        raise NotImplementedError

    @property
    def source_ids(self) -> np.ndarray:
        return self.rows[:, 0]

    @property
    def starts(self) -> np.ndarray:
        return self.rows[:, 1]

    @property
    def ends(self) -> np.ndarray:
        return self.rows[:, 2]

    def source_names(self) -> set[str]:
        """The sources that have at least one row."""
        return {self.sources[int(k)] for k in np.unique(self.source_ids)}


class ChunkTable(_Table):
    """The chunks of an index, row i = chunk i (see the module doc).

    ``documents`` (source -> text; set by the store once the index is verified against them):
    a chunk's ``text`` is then cut from its document at its offsets, so what a passage shows is
    the document's own text; the stored copy (:meth:`stored_text`) serves loads without them.
    """

    def __init__(self, sources: list[str], rows: np.ndarray, ids: np.ndarray, pool, text_at: np.ndarray, embed_at: np.ndarray) -> None:
        self.sources, self.rows, self.ids, self.pool = sources, rows, ids, pool
        self.text_at, self.embed_at = text_at, embed_at
        self.documents: Mapping[str, str | Utf8Text] = {}

    @classmethod
    def from_records(cls, chunks: Sequence[Chunk], sources: list[str] | None = None) -> ChunkTable:
        sources = sources if sources is not None else sorted({c.source for c in chunks})
        number = {s: i for i, s in enumerate(sources)}
        rows = np.array([(number[c.source], c.start, c.end) for c in chunks], dtype=np.int64).reshape(-1, 3)
        ids = np.array([c.id.encode("ascii") for c in chunks], dtype="S16" if not chunks else None).reshape(-1)
        pool, at = _pool([c.text for c in chunks] + [c.embed_text for c in chunks])
        n = len(chunks)
        return cls(sources, rows, ids, pool, at[: n + 1], at[n:])

    @classmethod
    def from_columns(cls, sources: list[str], rows: np.ndarray, ids: np.ndarray, texts: Iterable[str],
                     embed_texts: Iterable[str]) -> ChunkTable:
        """A table from its columns: ``rows`` (source number, start, end) per chunk, ``ids``
        (16 ASCII bytes each), and the texts as iterables (generators: no list of a million
        strings is needed), stored in one pool as :meth:`from_records` stores them."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        n = len(rows)
        pool = StringPool()
        counts = pool.extend(texts), pool.extend(embed_texts)
        if counts != (n, n) or len(ids) != n:
            raise ValueError(f"{n} chunk rows, {len(ids)} ids, {counts[0]} texts and {counts[1]} embedded texts")
        data, at = pool.finish()
        return cls(sources, rows, np.asarray(ids, dtype="S16"), data, at[: n + 1], at[n:])

    def _record(self, i: int) -> Chunk:
        source, start, end = self.rows[i].tolist()
        return Chunk(self.ids[i].decode("ascii"), self.sources[source], start, end, self.text(i), self.embed_text(i))

    def id(self, i: int) -> str:
        return self.ids[i].decode("ascii")

    def text(self, i: int) -> str:
        source, start, end = self.rows[i].tolist()
        document = self.documents.get(self.sources[source])
        return document[start:end] if document is not None else self.stored_text(i)

    def stored_text(self, i: int) -> str:
        return _text(self.pool, self.text_at, i)

    def embed_text(self, i: int) -> str:
        return _text(self.pool, self.embed_at, i)


class SentenceTable(_Table):
    """The sentences of an index, row i = sentence i (see the module doc)."""

    def __init__(self, sources: list[str], rows: np.ndarray, pool, embed_at: np.ndarray) -> None:
        self.sources, self.rows, self.pool, self.embed_at = sources, rows, pool, embed_at

    @classmethod
    def from_records(cls, sentences: Sequence[SentenceRecord], sources: list[str] | None = None) -> SentenceTable:
        sources = sources if sources is not None else sorted({s.source for s in sentences})
        number = {s: i for i, s in enumerate(sources)}
        rows = np.array([(number[s.source], s.start, s.end) for s in sentences], dtype=np.int64).reshape(-1, 3)
        pool, at = _pool([s.embed_text for s in sentences])
        return cls(sources, rows, pool, at)

    @classmethod
    def from_columns(cls, sources: list[str], rows: np.ndarray, embed_texts: Iterable[str]) -> SentenceTable:
        """A table from its columns (see :meth:`ChunkTable.from_columns`)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        pool = StringPool()
        if (count := pool.extend(embed_texts)) != len(rows):
            raise ValueError(f"{len(rows)} sentence rows and {count} embedded texts")
        data, at = pool.finish()
        return cls(sources, rows, data, at)

    def _record(self, i: int) -> SentenceRecord:
        source, start, end = self.rows[i].tolist()
        return SentenceRecord(self.sources[source], start, end, self.embed_text(i))

    def source(self, i: int) -> str:
        return self.sources[int(self.rows[i, 0])]

    def span(self, i: int) -> tuple[int, int]:
        return int(self.rows[i, 1]), int(self.rows[i, 2])

    def embed_text(self, i: int) -> str:
        return _text(self.pool, self.embed_at, i)


def chunk_sentences(chunks: _Table, sentences: _Table) -> Ragged:
    """For each chunk, the rows of the sentences lying wholly inside it, in text order.

    Per source the sentences are in text order (as a build writes them); a chunk's are those
    from the first starting at or after its start up to the first starting at or after its end,
    less any that end after it. Both tables must number their sources alike.
    """
    if chunks.sources != sentences.sources:
        raise ValueError("chunks and sentences number their sources differently")
    order = np.lexsort((sentences.starts, sentences.source_ids))  # stable: by source, then start
    key_source, key_start = sentences.source_ids[order], sentences.starts[order]
    # Searching a (source, start) pair among pairs sorted the same way: one combined key.
    width = int(max(sentences.ends.max(initial=0), chunks.ends.max(initial=0))) + 1
    keys = key_source * width + key_start
    lo = np.searchsorted(keys, chunks.source_ids * width + chunks.starts, side="left")
    hi = np.searchsorted(keys, chunks.source_ids * width + chunks.ends, side="left")
    counts = np.maximum(hi - lo, 0)
    flat = order[np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))]
    inside = sentences.ends[flat] <= np.repeat(chunks.ends, counts)
    owner = np.repeat(np.arange(len(chunks)), counts)[inside]
    at = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(chunks)), out=at[1:])
    return Ragged(at, flat[inside].astype(np.int64))


def write_tables(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """``arrays`` into ``tables.bin`` and their directory, with ``meta``, into ``tables.json``."""
    directory, offset = {}, 0
    with open(folder / TABLES_BIN, "wb") as f:
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            pad = -offset % _ALIGN
            f.write(b"\0" * pad)
            offset += pad
            directory[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
            f.write(array.reshape(-1).view(np.uint8))  # its bytes, without a copy (pools are gigabytes)
            offset += array.nbytes
        f.flush()
        os.fsync(f.fileno())
    with open(folder / TABLES_JSON, "w", encoding="utf-8") as f:
        json.dump({**meta, "arrays": directory}, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())


def read_tables(folder: Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays of ``tables.bin`` (read-only views of one memory map) and ``tables.json``'s other keys."""
    meta = json.loads((folder / TABLES_JSON).read_text(encoding="utf-8"))
    directory = meta.pop("arrays")
    size = (folder / TABLES_BIN).stat().st_size
    buffer: mmap.mmap | bytes = b""
    if size:  # the kernel's usual read-ahead: load verification reads several arrays through
        with open(folder / TABLES_BIN, "rb") as f:
            buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        residency.track(buffer)  # the load's checks read much of it once: czqa.index.residency
    arrays = {}
    for name, spec in directory.items():
        dtype = np.dtype(spec["dtype"])
        if dtype.name not in _DTYPES and dtype.kind != "S":
            raise ValueError(f"{name}: dtype {dtype} is not one an index holds")
        shape = tuple(int(n) for n in spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        offset = int(spec["offset"])
        if offset < 0 or offset + count * dtype.itemsize > size:
            raise ValueError(f"{name}: bytes {offset}+{count * dtype.itemsize} lie outside {TABLES_BIN} ({size} bytes)")
        arrays[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).reshape(shape)
    return arrays, meta
