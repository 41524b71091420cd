"""The Milvus backend (Milvus Lite, in-process) retrieves exactly what FAISS retrieves (the
retrieval tests of tests/retrieve/test_retriever.py also run on both), and says clearly when
its collection, its server or its extra is missing.

Without the milvus extra these tests skip; CI sets CZQA_REQUIRE_MILVUS=1 and then they fail
instead (:func:`conftest.require_milvus`).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, free_port, milvus_lite_uri, release_milvus_lite
from czqa.errors import BuildUnavailable, IndexLocationError, IndexUnusable, SettingsError
from czqa.index.build import build_index, ensure_index
from czqa.index.milvus import MilvusIndex
from czqa.index.store import MANIFEST, load_index
from czqa.retrieve.retriever import HybridRetriever
from czqa.settings import ChunkingSettings, IndexSettings, Settings, load_settings
from doubles import HashingEncoder

DOCS = {
    "harbour.txt": "The Velm harbour was dredged in 1990. Ferries to the islands leave it every hour.",
    "festival.txt": "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower.",
    "agency.txt": "The Maritime Safety Agency (MSA) inspects ferries. The MSA fined one operator in 2021.",
}
WORDS = "harbour ferry lantern festival council budget bridge river mill glass tide court letter vote".split()
QUESTIONS = [f"When did the {a} {b} meet?" for a in WORDS[:6] for b in WORDS[6:10]]
SMALL = ChunkingSettings(max_tokens=16, overlap_tokens=4)


def write(folder, docs):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def prose(files=15, sentences=10, seed=1):
    rng = random.Random(seed)
    return {
        f"doc{f:02d}.txt": " ".join(f"The {rng.choice(WORDS)} of {rng.choice(WORDS)} met {rng.randint(2, 99)} {rng.choice(WORDS)} people."
                                    for _ in range(sentences)) + "\n"
        for f in range(files)
    }


def settings(root, backend, uri=None, **fields):
    index = {"backend": backend, "uri": uri} if backend == "milvus" else {}
    return Settings(seeds_dir=root / "docs", index_dir=root / f"index-{backend}", index=index, **fields)


def manifest(s):
    return json.loads((s.index_dir / MANIFEST).read_text())


# -- the retrieval tests themselves run on both backends in tests/retrieve/test_retriever.py --------


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same 60-odd-chunk corpus indexed by FAISS and by Milvus Lite."""
    root = tmp_path_factory.mktemp("both")
    uri = milvus_lite_uri(root)
    write(root / "docs", prose())
    enc = HashingEncoder()
    faiss, _ = build_index(settings(root, "faiss", chunking=SMALL), encoder=enc)
    milvus, _ = build_index(settings(root, "milvus", uri, chunking=SMALL), encoder=enc)
    assert len(faiss.chunks) >= 60 and isinstance(milvus.vectors, MilvusIndex)
    yield faiss, milvus, enc
    release_milvus_lite(uri)


def test_milvus_retrieves_exactly_what_faiss_retrieves(both):
    faiss, milvus, enc = both
    assert [c.id for c in milvus.chunks] == [c.id for c in faiss.chunks]
    a, b = HybridRetriever(faiss), HybridRetriever(milvus)
    for question in QUESTIONS:
        q = enc.encode([question])[0]
        assert [(h.id, round(h.score, 6)) for h in b.search(q, question, top_k=8)] == [
            (h.id, round(h.score, 6)) for h in a.search(q, question, top_k=8)], question


def test_search_returns_what_faiss_returns_in_the_same_shape(both):
    faiss, milvus, enc = both
    assert np.array_equal(milvus.chunk_vectors(), faiss.chunk_vectors()) and len(milvus.vectors) == len(faiss.vectors)
    for question in QUESTIONS[:5]:
        q = enc.encode([question])[0]
        (fs, fr), (ms, mr) = faiss.vectors.search(q, 10), milvus.vectors.search(q, 10)
        assert (ms.dtype, mr.dtype, ms.shape, mr.shape) == (fs.dtype, fr.dtype, fs.shape, fr.shape)
        assert np.allclose(ms, fs, atol=1e-6) and np.allclose(ms, milvus.vectors.score(q, mr))
        assert set(mr.tolist()) == set(fr.tolist()) or np.isclose(ms[-1], fs[-1], atol=1e-6)  # ties at the cut
    assert milvus.vectors.search(q, 0)[1].shape == (0,) and len(milvus.vectors.search(q, 10_000)[1]) == len(milvus.chunks)


# -- what is written where, and what loading checks --------------------------------------------


def test_the_manifest_records_the_backend_and_the_folder_keeps_the_rest(milvus_uri, tmp_path):
    write(tmp_path / "docs", DOCS)
    s = Settings(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "index",
                 index={"backend": "milvus", "uri": milvus_uri, "token": "root:Milvus", "collection": "my_docs"})
    data, _ = build_index(s, encoder=HashingEncoder())
    m = manifest(s)
    assert m["vector_index"] == "milvus" and m["vector_store"]["uri"] == milvus_uri
    assert m["vector_store"]["collection"].startswith("my_docs_") and data.vectors.collection == m["vector_store"]["collection"]
    assert "chunks.npy" in m["data"] and "chunks.faiss" not in m["data"]  # the exact vectors stay; no FAISS file
    assert "root:Milvus" not in (s.index_dir / MANIFEST).read_text()  # the token stays in the settings
    again = load_index(s.index_dir)  # default settings: the manifest says where
    assert isinstance(again.vectors, MilvusIndex) and len(again.vectors) == len(data.chunks)


def test_loading_refuses_a_missing_or_foreign_collection(milvus_uri, tmp_path):
    enc = HashingEncoder()
    write(tmp_path / "docs", DOCS)
    s = settings(tmp_path, "milvus", milvus_uri)
    data, _ = build_index(s, encoder=enc)
    other = Settings(seeds_dir=write(tmp_path / "other", {"x.txt": "Tides are highest at the full moon. " * 3}),
                     index_dir=tmp_path / "other-index", index=s.index)
    foreign, _ = build_index(other, encoder=enc)
    same_size = Settings(seeds_dir=write(tmp_path / "same", {k: v.replace("e", "a") for k, v in DOCS.items()}),
                         index_dir=tmp_path / "same-index", index=s.index)
    lookalike, _ = build_index(same_size, encoder=enc)
    assert len(lookalike.chunks) == len(data.chunks) != len(foreign.chunks)

    def pointing_at(collection):
        m = manifest(s)
        m["vector_store"]["collection"] = collection
        (s.index_dir / MANIFEST).write_text(json.dumps(m))

    pointing_at(foreign.vectors.collection)
    with pytest.raises(IndexUnusable, match=r"holds \d+ vectors of 64 dimensions; this index has 3 of 64"):
        load_index(s.index_dir)
    pointing_at(lookalike.vectors.collection)
    with pytest.raises(IndexUnusable, match="does not hold this index's vectors"):
        load_index(s.index_dir)
    pointing_at(data.vectors.collection)
    data.vectors._client.drop_collection(data.vectors.collection)
    with pytest.raises(IndexUnusable, match="does not exist"):
        load_index(s.index_dir)
    rebuilt, report = ensure_index(s, encoder=enc)  # auto_build uploads it again
    assert rebuilt.vectors.collection == data.vectors.collection and len(rebuilt.vectors) == len(data.chunks)


def test_rebuilds_reuse_the_collection_keep_the_previous_and_drop_older_ones(milvus_uri, tmp_path):
    enc = HashingEncoder()
    write(tmp_path / "docs", DOCS)
    s = settings(tmp_path, "milvus", milvus_uri)
    first, _ = build_index(s, encoder=enc)
    same, report = build_index(s, encoder=enc)
    assert same.vectors.collection == first.vectors.collection and report.embedded == 0
    (tmp_path / "docs" / "tide.txt").write_text("Tides are highest at the full moon.")
    second, _ = build_index(s, encoder=enc)
    client = second.vectors._client
    assert manifest(s)["vector_store"]["previous_collection"] == first.vectors.collection
    assert {first.vectors.collection, second.vectors.collection} <= set(client.list_collections())
    (tmp_path / "docs" / "mill.txt").write_text("The mill ground corn until 1952.")
    third, _ = build_index(s, encoder=enc)
    names = set(client.list_collections())
    assert second.vectors.collection in names and third.vectors.collection in names  # a reader of the previous manifest
    assert first.vectors.collection not in names


def test_moving_an_index_between_faiss_and_milvus_embeds_nothing(milvus_uri, tmp_path):
    enc = HashingEncoder()
    write(tmp_path / "docs", DOCS)
    local = Settings(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "index")
    faiss, _ = build_index(local, encoder=enc)
    remote = Settings(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "index", index={"backend": "milvus", "uri": milvus_uri})
    milvus, report = build_index(remote, encoder=enc)
    assert milvus.manifest.vector_index == "milvus" and report.embedded == 0
    assert np.array_equal(milvus.chunk_vectors(), faiss.chunk_vectors())
    back, report = build_index(local, encoder=enc)
    assert back.manifest.vector_index == "faiss-flat-ip" and back.manifest.vector_store == {} and report.embedded == 0


def test_milvus_lite_serves_one_process_at_a_time_and_says_so(milvus_uri, tmp_path):
    write(tmp_path / "docs", DOCS)
    s = settings(tmp_path, "milvus", milvus_uri)
    data, _ = build_index(s, encoder=HashingEncoder())
    child = [sys.executable, "-c", f"from czqa.index.store import load_index; print(len(load_index(__import__('pathlib').Path({str(s.index_dir)!r})).vectors))"]
    busy = subprocess.run(child, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert busy.returncode != 0 and "one process at a time" in busy.stderr
    data.vectors.close()  # stops this process's Milvus Lite server for the file
    free = subprocess.run(child, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert free.returncode == 0 and free.stdout.strip() == str(len(data.chunks)), free.stderr[-2000:]


# -- settings and missing pieces ---------------------------------------------------------------


def test_settings_read_the_milvus_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("CZQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("CZQA_INDEX__BACKEND", "milvus")
    monkeypatch.setenv("CZQA_INDEX__URI", "http://milvus.lan:19530")
    monkeypatch.setenv("CZQA_INDEX__COLLECTION", "team_docs")
    monkeypatch.setenv("CZQA_INDEX__TOKEN", "root:Milvus")
    s = load_settings()
    assert (s.index_dir, s.index.backend, s.index.uri, s.index.collection) == (tmp_path / "index", "milvus", "http://milvus.lan:19530", "team_docs")
    assert s.index.token.get_secret_value() == "root:Milvus" and "root:Milvus" not in repr(s)
    assert IndexSettings(backend="faiss").uri is None  # FAISS needs no address


@pytest.mark.parametrize("env, variable, says", [
    ({"CZQA_INDEX__BACKEND": "milvus"}, "CZQA_INDEX__URI", "needs an address"),
    ({"CZQA_INDEX__BACKEND": "milvus", "CZQA_INDEX__URI": "milvus.lan"}, "CZQA_INDEX__URI", "http://host:19530"),
    ({"CZQA_INDEX__BACKEND": "elastic"}, "CZQA_INDEX__BACKEND", "'faiss' or 'milvus'"),
    ({"CZQA_INDEX__COLLECTION": "my-docs"}, "CZQA_INDEX__COLLECTION", "pattern"),
])
def test_a_milvus_setting_that_cannot_work_is_a_settings_error(monkeypatch, env, variable, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(variable + "=") and says in str(info.value) and "\n" not in str(info.value)


def test_the_cli_refuses_milvus_without_an_address_with_exit_2(tmp_path):
    env = {"CZQA_INDEX__BACKEND": "milvus", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "czqa.cli", "index"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "CZQA_INDEX__URI" in proc.stderr and "Traceback" not in proc.stderr


class NoEncoding(HashingEncoder):
    def encode(self, texts, *, show_progress=False):
        raise AssertionError("embedded before the Milvus server was checked")


def test_an_unreachable_server_fails_before_any_embedding(milvus_uri, tmp_path):  # milvus_uri: the extra is there
    write(tmp_path / "docs", DOCS)
    s = settings(tmp_path, "milvus", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexLocationError, match="Cannot open the Milvus index at http://127.0.0.1"):
        build_index(s, encoder=NoEncoding())


def test_without_pymilvus_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # import pymilvus raises ImportError
    write(tmp_path / "docs", DOCS)
    with pytest.raises(BuildUnavailable, match=r"pip install 'czqa\[milvus\]'"):
        build_index(settings(tmp_path, "milvus", str(tmp_path / "m.db")), encoder=NoEncoding())
