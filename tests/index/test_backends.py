"""The vector-backend registry: every built-in kind is one entry, and a new engine is one registration."""

from __future__ import annotations

import numpy as np
import pytest

from czqa.index.backends import BUILTIN, BackendSpec, backend_for, backends, new_index, open_index, register_backend
from czqa.index.vectors import ArrayIndex


def test_each_kind_name_has_one_backend_that_says_whether_it_keeps_exact_vectors():
    assert [s.name for s in BUILTIN] == ["faiss-flat-ip", "faiss-ivf<nlist>[-sq8]", "milvus"]
    assert backend_for("faiss-flat-ip").keeps_exact_vectors is False
    assert backend_for("faiss-ivf64").keeps_exact_vectors is True
    assert backend_for("faiss-ivf1024-sq8").keeps_exact_vectors is True
    assert backend_for("milvus").keeps_exact_vectors is True
    with pytest.raises(ValueError, match=r"unknown vector index 'faiss-ivf'; known: faiss-flat-ip, faiss-ivf<nlist>\[-sq8\], milvus"):
        backend_for("faiss-ivf")


class SavedArray(ArrayIndex):
    """A toy engine: a numpy matrix saved as one .npy file (what a third-party backend would be)."""

    kind = "toy-array"

    @classmethod
    def create(cls, kind, dimension, **_):
        return cls(np.zeros((0, dimension), np.float32))

    def add(self, vectors):
        self._matrix = np.concatenate([self._matrix, vectors.astype(np.float32)])

    def save(self, path):
        np.save(path / "toy.npy", self._matrix)

    @classmethod
    def load(cls, path, **_):
        return cls(np.load(path / "toy.npy"))


def test_a_new_engine_is_one_registration(tmp_path, monkeypatch):
    import czqa.index.backends as registry

    monkeypatch.setattr(registry, "_REGISTERED", list(registry._REGISTERED))
    spec = BackendSpec("toy-array", f"{__name__}:SavedArray", "toy-array".__eq__, keeps_exact_vectors=False)
    register_backend(spec)
    assert backends()[0] is spec
    index = new_index("toy-array", 3)
    index.add(np.eye(3, dtype=np.float32))
    index.save(tmp_path)
    again = open_index("toy-array", tmp_path)
    scores, rows = again.search(np.array([0, 1, 0], np.float32), 1)
    assert rows.tolist() == [1] and scores.tolist() == [1.0]


def test_an_index_built_with_a_registered_engine_is_saved_and_reopened_by_the_store(tmp_path, monkeypatch):
    """The store asks the registry, not a list of kinds: an index of the toy engine builds and loads."""
    import czqa.index.backends as registry
    from czqa.qa import QA
    from czqa.settings import Settings
    from doubles import HashingEncoder

    monkeypatch.setattr(registry, "_REGISTERED", list(registry._REGISTERED))
    register_backend(BackendSpec("toy-array", f"{__name__}:SavedArray", "toy-array".__eq__, keeps_exact_vectors=True))
    import czqa.index.build as build

    monkeypatch.setattr(build, "choose_kind", lambda *a, **k: "toy-array")  # what the settings would choose
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The harbour at Velm was dredged in 1990 so that larger ferries could dock.")
    enc = HashingEncoder()
    qa = QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc)
    assert qa.data.manifest.vector_index == "toy-array"
    generation = tmp_path / "index" / qa.data.manifest.generation
    assert (generation / "toy.npy").is_file() and (generation / "chunks.npy").is_file()
    assert qa.answer("When was the harbour dredged?", mode="extractive").short_answer == "1990"
