"""The ``VectorIndex`` plug-in point: where passage vectors are stored and searched.

The store and the retriever only call this protocol, so another engine (a server, another
library) is one new class with the same methods, registered in :mod:`czqa.index.backends`; the
index manifest records which kind built the index (``Manifest.vector_index``) and
:func:`czqa.index.backends.open_index` reopens it by that name.
The FAISS kinds need no server, nothing to start. The kinds:

* ``faiss-flat-ip`` (:class:`FaissFlatIndex`): exact inner product, every vector read per
  question. Built below ``IndexSettings.ivf_above`` vectors (the committed seeds index is one).
* ``faiss-ivf<nlist>`` and ``faiss-ivf<nlist>-sq8`` (:class:`czqa.index.ivf.FaissIVFIndex`):
  approximate, trained during the build, for large collections.
* ``array-ip`` (:class:`ArrayIndex`): exact search over a numpy matrix that is already on disk
  (memory-mapped ``sentences.npy``); never saved, so it adds no file to an index.
* ``milvus`` (:class:`czqa.index.milvus.MilvusIndex`): a collection on a Milvus server (or a
  Milvus Lite file), for collections past one machine; the manifest's ``vector_store`` says where.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from czqa.index import residency


@runtime_checkable
class VectorIndex(Protocol):
    """Unit vectors, addressed by row (the row is the chunk's position in the index metadata)."""

    kind: str

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``k`` rows most similar to ``query``, best first."""
        ...

    def score(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact similarity of ``query`` to each of ``rows``: what candidates found by any
        ranking are compared on, at a cost that grows with the candidates, not the index."""
        ...

    def vectors(self) -> np.ndarray:
        """Every stored vector, in row order, exactly as added (incremental rebuilds reuse them)."""
        ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


def open_matrix(path: Path) -> np.ndarray:
    """A ``.npy`` matrix memory-mapped read-only: memory holds the rows that questions read.

    Rows are read at random (a question's candidates), so the kernel is told not to read ahead
    (``MADV_RANDOM``): with the default read-ahead a cold file would read megabytes per row.
    """
    matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    handle = getattr(matrix, "_mmap", None)  # numpy's mmap object; None for an empty file
    if handle is not None and hasattr(mmap, "MADV_RANDOM"):
        handle.madvise(mmap.MADV_RANDOM)
    residency.track(handle)  # its pages are unmapped past the process's budget (czqa.index.residency)
    return matrix


def inner_products(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """``matrix[rows] @ query``, reading only those rows (of a memory-mapped matrix too).

    ``einsum`` computes each row's sum by itself, so a row's value is the same bits whichever
    rows are computed with it (a BLAS product's rounding depends on the batch), and scoring
    candidates ranks them exactly as a full scan would; and it runs in the calling thread
    (FAISS's row kernels start an OpenMP team per call: milliseconds on a busy machine).
    """
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros(0, np.float32)
        matrix = matrix[rows]
    return np.einsum("ij,j->i", matrix, q).astype(np.float32, copy=False)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest scores, best first, ties by row: exactly
    ``np.argsort(-scores, kind="stable")[:k]``, in O(n + k log k) instead of O(n log n)."""
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64)
    if k < n:
        cut = scores[np.argpartition(-scores, k - 1)[k - 1]]  # the k-th highest value
        above = np.flatnonzero(scores > cut)
        tied = np.flatnonzero(scores == cut)[: k - len(above)]  # the lowest rows, as a stable sort keeps
        rows = np.concatenate([above, tied])
    else:
        rows = np.arange(n)
    return rows[np.lexsort((rows, -scores[rows]))]


class FaissFlatIndex:
    """Exact inner-product search with FAISS ``IndexFlatIP`` (cosine, for unit vectors)."""

    kind = "faiss-flat-ip"
    FILE = "chunks.faiss"

    def __init__(self, dimension: int, index=None) -> None:
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, rows = self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
        return scores[0], rows[0]

    def score(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return inner_products(self._stored(), query, rows)

    def _stored(self) -> np.ndarray:
        """The index's own vectors as a read-only numpy view (no copy)."""
        import faiss

        n = len(self)
        if not n:
            return np.zeros((0, self.dimension), np.float32)
        view = faiss.rev_swig_ptr(self._index.get_xb(), n * self.dimension).reshape(n, self.dimension)
        view.flags.writeable = False
        return view

    def vectors(self) -> np.ndarray:
        return self._stored().copy()

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path / self.FILE))

    @classmethod
    def create(cls, kind: str, dimension: int, **_) -> "FaissFlatIndex":
        return cls(dimension)

    @classmethod
    def load(cls, path: Path, **_) -> "FaissFlatIndex":
        import faiss

        index = faiss.read_index(str(path / cls.FILE))
        return cls(index.d, index)

    def __len__(self) -> int:
        return int(self._index.ntotal)


class ArrayIndex:
    """Exact search over a matrix that is stored elsewhere (read-only; nothing to save).

    Searching reads the whole matrix, so the retriever uses it only below the IVF threshold.
    """

    kind = "array-ip"

    def __init__(self, matrix: np.ndarray) -> None:
        self._matrix = matrix

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = inner_products(self._matrix, query)
        rows = top_rows(scores, k)
        return scores[rows], rows

    def score(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return inner_products(self._matrix, query, rows)

    def vectors(self) -> np.ndarray:
        return np.asarray(self._matrix)

    def __len__(self) -> int:
        return len(self._matrix)
