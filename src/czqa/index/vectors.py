"""The ``VectorIndex`` plug-in point: where passage vectors are stored and searched.

The store and the retriever only call this protocol, so another engine (an approximate FAISS
index, a server) is one new class here with the same five methods; the index manifest records
which one built the index (``Manifest.vector_index``) and :func:`open_index` reopens it by name.
FAISS exact inner-product search is today's implementation: no server, nothing to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorIndex(Protocol):
    """Unit vectors, addressed by row (the row is the chunk's position in the index metadata)."""

    kind: str

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``k`` rows most similar to ``query``, best first."""
        ...

    def vectors(self) -> np.ndarray:
        """Every stored vector, in row order (incremental rebuilds reuse them)."""
        ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


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

    def vectors(self) -> np.ndarray:
        n = len(self)
        return self._index.reconstruct_n(0, n) if n else np.zeros((0, self.dimension), np.float32)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path / self.FILE))

    @classmethod
    def load(cls, path: Path) -> "FaissFlatIndex":
        import faiss

        index = faiss.read_index(str(path / cls.FILE))
        return cls(index.d, index)

    def __len__(self) -> int:
        return int(self._index.ntotal)


BACKENDS: dict[str, type] = {FaissFlatIndex.kind: FaissFlatIndex}


def new_index(kind: str, dimension: int) -> VectorIndex:
    return _backend(kind)(dimension)


def open_index(kind: str, path: Path) -> VectorIndex:
    return _backend(kind).load(path)


def _backend(kind: str):
    try:
        return BACKENDS[kind]
    except KeyError:
        raise ValueError(f"unknown vector index {kind!r}; known: {', '.join(BACKENDS)}") from None
