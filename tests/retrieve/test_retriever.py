"""Hybrid retrieval over a small index built with the hashing test encoder (no model, no torch)."""

from __future__ import annotations

import pytest

from conftest import milvus_lite_uri, release_milvus_lite
from czqa.index.build import build_index
from czqa.retrieve.aliases import AliasTable
from czqa.retrieve.retriever import HybridRetriever
from czqa.settings import Settings
from doubles import HashingEncoder

DOCS = {
    "harbour.txt": "The Velm harbour was dredged in 1990. Ferries to the islands leave it every hour.",
    "festival.txt": "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower.",
    "agency.txt": "The Maritime Safety Agency (MSA) inspects ferries. The MSA fined one operator in 2021.",
}


@pytest.fixture(params=["faiss", "milvus"])
def index(request, tmp_path):
    """The corpus indexed by each vector backend: every retrieval test here runs on FAISS and on
    Milvus Lite (skipped without the milvus extra; CI requires it)."""
    seeds = tmp_path / "docs"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(text)
    uri = milvus_lite_uri(tmp_path) if request.param == "milvus" else None
    index = {"backend": "milvus", "uri": uri} if uri else {}
    enc = HashingEncoder()
    data, _ = build_index(Settings(seeds_dir=seeds, index_dir=tmp_path / "index", index=index), encoder=enc)
    yield data, enc
    if uri:
        release_milvus_lite(uri)


def search(index, question, top_k=3):
    data, enc = index
    aliases = AliasTable.from_texts(DOCS.values())
    hits = HybridRetriever(data, aliases=aliases).search(enc.encode([question])[0], question, top_k=top_k)
    return [data.chunks[h.chunk] for h in hits], hits


def test_the_passage_sharing_the_rare_words_ranks_first(index):
    chunks, _ = search(index, "Who founded the lantern festival?")
    assert chunks[0].source == "festival.txt"


def test_an_abbreviation_finds_the_passage_that_defines_it(index):
    chunks, _ = search(index, "What does the Maritime Safety Agency inspect?")
    assert chunks[0].source == "agency.txt"


def test_top_k_and_scores_are_ordered(index):
    _, hits = search(index, "ferries", top_k=2)
    assert len(hits) == 2 and hits[0].score >= hits[1].score


def test_passage_ids_are_stable_across_rebuilds(index, tmp_path):
    data, enc = index
    again, _ = build_index(Settings(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "index2"), encoder=enc)
    assert [c.id for c in data.chunks] == [c.id for c in again.chunks]
