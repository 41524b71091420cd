"""Approximate vector search for large collections: a FAISS inverted-file (IVF) index.

Exact search reads every vector for every question, which is what made answers slow at 100k
chunks. An IVF index groups the vectors into ``nlist`` cells by k-means (trained during the
build, on a fixed sample, so a rebuild of the same vectors gives the same index) and reads only
the ``nprobe`` cells whose centres lie nearest the question: with ``nlist`` ≈ 4·√n and
``nprobe`` 64 that is ~1.6 % of a million vectors, and in FAISS's own measurement here 97.5 % of
the exact top 10.

``-sq8`` kinds store 8-bit scalar-quantized codes in the cells (a quarter of the memory of
float32). Either way, when the exact float32 vectors are at hand (the store keeps them beside
the index as ``chunks.npy``, memory-mapped, so a question reads only the rows it touches), the
rows found are re-scored on them: the index decides which rows are candidates, never their
scores, and :meth:`FaissIVFIndex.vectors` gives back exact vectors for incremental rebuilds
instead of lossy reconstructions.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from czqa.index.vectors import inner_products

_KIND = re.compile(r"faiss-ivf(\d+)(-sq8)?")
TRAIN_PER_CELL = 50  # k-means sample per cell; FAISS asks for at least 39
TRAIN_ITERATIONS = 10  # FAISS's default is 25; cells barely move after 10, and training is the build's cost
DEFAULT_NPROBE = 64


def cells_for(n: int) -> int:
    """``nlist`` for ``n`` vectors: 4·√n rounded to a power of two, at most n / 39 (FAISS wants
    that many training points per cell)."""
    ideal = 2 ** round(math.log2(max(4 * math.sqrt(max(n, 1)), 1)))
    return max(1, min(ideal, n // 39 or 1))


def choose_kind(setting: str, n: int, *, ivf_above: int) -> str:
    """The vector index kind to build for ``n`` vectors under ``IndexSettings.vector_index``."""
    if setting == "flat" or (setting == "auto" and n < ivf_above) or n == 0:
        return "faiss-flat-ip"
    sq8 = setting in ("auto", "ivf-sq8")
    return f"faiss-ivf{cells_for(n)}" + ("-sq8" if sq8 else "")


class FaissIVFIndex:
    """FAISS ``IndexIVFFlat`` or ``IndexIVFScalarQuantizer`` (inner product), re-scored exactly."""

    FILE = "chunks.faiss"

    def __init__(self, dimension: int, *, nlist: int, sq8: bool, index=None, exact: np.ndarray | None = None,
                 nprobe: int | None = None) -> None:
        import faiss

        self.dimension = dimension
        self.nlist = nlist
        self.sq8 = sq8
        if index is None:
            quantizer = faiss.IndexFlatIP(dimension)
            if sq8:
                index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                      faiss.METRIC_INNER_PRODUCT)
            else:
                index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = TRAIN_ITERATIONS
            index.cp.seed = 1234
        self._index = index
        self._exact = exact
        self.nprobe = nprobe or DEFAULT_NPROBE

    @property
    def kind(self) -> str:
        return f"faiss-ivf{self.nlist}" + ("-sq8" if self.sq8 else "")

    @staticmethod
    def parse(kind: str) -> tuple[int, bool] | None:
        """(nlist, sq8) of an IVF kind name; None for any other kind."""
        m = _KIND.fullmatch(kind)
        return (int(m.group(1)), bool(m.group(2))) if m else None

    @classmethod
    def create(cls, kind: str, dimension: int, **_) -> "FaissIVFIndex":
        return cls.from_kind(kind, dimension)

    @classmethod
    def from_kind(cls, kind: str, dimension: int) -> "FaissIVFIndex":
        nlist, sq8 = cls.parse(kind)
        return cls(dimension, nlist=nlist, sq8=sq8)

    def add(self, vectors: np.ndarray) -> None:
        """Add ``vectors``; the first call also trains the cells on a fixed sample of them."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(vectors):
            return
        if not self._index.is_trained:
            take = min(len(vectors), TRAIN_PER_CELL * self.nlist)
            rows = np.sort(np.random.default_rng(0).choice(len(vectors), take, replace=False))
            self._index.train(vectors[rows])
        self._index.add(vectors)
        self._exact = vectors if self._exact is None else np.concatenate([self._exact, vectors])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        self._index.nprobe = self.nprobe
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores, rows = self._index.search(q, k)
        rows = rows[0][rows[0] >= 0]  # fewer than k in the cells read
        if self._exact is None:
            return scores[0][: len(rows)], rows
        exact = self.score(q[0], rows)
        order = np.lexsort((rows, -exact))
        return exact[order], rows[order]

    def score(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        q = np.asarray(query, dtype=np.float32)
        if self._exact is not None:
            return inner_products(self._exact, q, rows)
        self._index.make_direct_map()  # reconstruction needs it; a no-op once made
        return self._index.reconstruct_batch(rows) @ q

    def vectors(self) -> np.ndarray:
        if self._exact is not None:
            return self._exact
        self._index.make_direct_map()
        return self._index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path / self.FILE))

    @classmethod
    def load(cls, path: Path, *, kind: str, exact: np.ndarray | None = None, nprobe: int | None = None, **_) -> "FaissIVFIndex":
        """Open the saved index with its cells memory-mapped (FAISS ``IO_FLAG_MMAP_IFC``): RAM
        holds the cells the questions read, not the whole index."""
        import faiss

        parsed = cls.parse(kind)
        if parsed is None:
            raise ValueError(f"not an IVF kind: {kind!r}")
        index = faiss.read_index(str(path / cls.FILE), faiss.IO_FLAG_MMAP_IFC)
        if index.nlist != parsed[0]:
            raise ValueError(f"{path / cls.FILE} has {index.nlist} cells; the manifest says {kind}")
        return cls(index.d, nlist=parsed[0], sq8=parsed[1], index=index, exact=exact, nprobe=nprobe)

    def __len__(self) -> int:
        return int(self._index.ntotal)
