"""The vector-backend registry: which engine stores and searches an index's passage vectors.

A backend is a class with the :class:`~czqa.index.vectors.VectorIndex` methods and two class
methods, ``create(kind, dimension, **options)`` and ``load(path, *, kind, exact, nprobe,
**options)``, registered here with :func:`register_backend`: the kind names it answers to, and
whether it keeps the exact float32 vectors beside its own files (``chunks.npy``: an approximate
or server-held index re-scores candidates and rebuilds incrementally from them). The store asks
this registry and nothing else, so a new engine is one module and one registration. The
built-in backends are an explicit table, loaded on first use (FAISS and pymilvus are imported
only by the backend that needs them):

* ``faiss-flat-ip``: exact inner product (:class:`czqa.index.vectors.FaissFlatIndex`);
* ``faiss-ivf<nlist>[-sq8]``: approximate, for large collections (:class:`czqa.index.ivf.FaissIVFIndex`);
* ``milvus``: a collection on a Milvus server or in a Milvus Lite file (:class:`czqa.index.milvus.MilvusIndex`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from czqa.index.vectors import VectorIndex


@dataclass(frozen=True)
class BackendSpec:
    """A registered vector backend: the kind names it answers to and where its class lives."""

    name: str  # as listed in messages and docs ("faiss-ivf<nlist>[-sq8]")
    target: str  # "module:Class", imported on first use
    matches: Callable[[str], bool]  # whether a manifest's kind name is this backend's
    keeps_exact_vectors: bool  # store chunks.npy beside it (approximate or server-held vectors)
    _loaded: list = field(default_factory=list, repr=False, compare=False)

    @property
    def cls(self):
        if not self._loaded:
            module, name = self.target.split(":")
            self._loaded.append(getattr(importlib.import_module(module), name))
        return self._loaded[0]


_IVF_KIND = re.compile(r"faiss-ivf\d+(?:-sq8)?")

BUILTIN: tuple[BackendSpec, ...] = (
    BackendSpec("faiss-flat-ip", "czqa.index.vectors:FaissFlatIndex", "faiss-flat-ip".__eq__, keeps_exact_vectors=False),
    BackendSpec("faiss-ivf<nlist>[-sq8]", "czqa.index.ivf:FaissIVFIndex", lambda k: bool(_IVF_KIND.fullmatch(k)),
                keeps_exact_vectors=True),
    BackendSpec("milvus", "czqa.index.milvus:MilvusIndex", "milvus".__eq__, keeps_exact_vectors=True),
)
_REGISTERED: list[BackendSpec] = list(BUILTIN)


def register_backend(spec: BackendSpec) -> None:
    """Add a backend; it is asked before the built-in ones, so it may also replace one."""
    _REGISTERED.insert(0, spec)


def backends() -> list[BackendSpec]:
    """Every registered backend, the most recently registered first."""
    return list(_REGISTERED)


def backend_for(kind: str) -> BackendSpec:
    """The backend that handles ``kind``; a ValueError naming the known kinds for any other."""
    for spec in _REGISTERED:
        if spec.matches(kind):
            return spec
    raise ValueError(f"unknown vector index {kind!r}; known: {', '.join(s.name for s in _REGISTERED)}")


def new_index(kind: str, dimension: int, **options) -> VectorIndex:
    """An empty index of ``kind`` (an IVF kind is trained on the vectors of its first ``add``).
    ``options``: what a server-held kind needs (``milvus``: settings, chunk ids, the previous
    manifest's ``vector_store``); the FAISS kinds ignore them."""
    return backend_for(kind).cls.create(kind, dimension, **options)


def open_index(kind: str, path: Path, *, exact: np.ndarray | None = None, nprobe: int | None = None, **options) -> VectorIndex:
    """Reopen the index a manifest names. ``exact``: the float32 vectors kept beside it, when its
    backend keeps them; ``nprobe``: IVF cells read per search; ``options``: where a server holds
    the vectors (``milvus``: the manifest's ``vector_store`` and the settings)."""
    return backend_for(kind).cls.load(path, kind=kind, exact=exact, nprobe=nprobe, **options)
