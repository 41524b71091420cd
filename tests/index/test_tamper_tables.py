"""A hand-edited format 2 index whose checksums were updated to match: load must still refuse it.

The cases the format 1 tamper tests covered (they edited its JSON files); here
the offsets, sources and texts are edited where format 2 keeps them (``tables.bin``).
"""

from __future__ import annotations


import numpy as np
import pytest

from czqa.errors import IndexUnusable
from czqa.index.build import build_index, ensure_index
from czqa.index.store import load_index
from czqa.ingest.documents import ingest
from czqa.settings import IngestSettings, Settings
from doubles import HashingEncoder, docs_folder, rewrite_tables

DOC = "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower.\n"
FOUNDED = "It was founded by Mira Talvik, a glassblower."


@pytest.fixture
def built(tmp_path):
    seeds = docs_folder(tmp_path, {"festival.txt": DOC}, name="docs")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", auto_build=False)
    build_index(settings, encoder=HashingEncoder())
    return settings


def docs(settings):
    return ingest(settings.seeds_dir, settings=IngestSettings())[0]


def shift(name, by=3):
    def change(arrays, meta):
        arrays[name][:, 1:] += by

    return change


def test_sentence_offsets_shifted_consistently_are_refused(built):
    rewrite_tables(built.index_dir, shift("sentence.rows"))
    load_index(built.index_dir)  # the tables themselves are well formed
    with pytest.raises(IndexUnusable, match="does not match its documents.*festival.txt"):
        load_index(built.index_dir, documents=docs(built))
    with pytest.raises(IndexUnusable, match="does not match its documents"):
        ensure_index(built, encoder=HashingEncoder())


def test_a_sentence_moved_over_its_neighbour_is_refused_even_without_the_documents(built):
    def change(arrays, meta):
        arrays["sentence.rows"][1, 1] = arrays["sentence.rows"][0, 2] - 1

    rewrite_tables(built.index_dir, change)
    with pytest.raises(IndexUnusable, match="overlaps the one before it"):
        load_index(built.index_dir)


def test_chunk_offsets_pointing_at_other_text_are_refused(built):
    rewrite_tables(built.index_dir, shift("chunk.rows", by=2))  # same length, other text
    with pytest.raises(IndexUnusable, match="chunk .* quotes other text than festival.txt holds"):
        load_index(built.index_dir, documents=docs(built))


def test_a_chunk_text_changed_in_place_is_refused(built):
    def change(arrays, meta):
        strings = arrays["chunk.strings"]
        strings[:] = np.frombuffer(bytes(strings).replace(b"Mira", b"Nora"), dtype=np.uint8)

    rewrite_tables(built.index_dir, change)
    with pytest.raises(IndexUnusable, match="chunk .* quotes other text than festival.txt holds"):
        load_index(built.index_dir, documents=docs(built))


def test_impossible_offsets_are_refused_even_without_the_documents(built):
    def stretch(arrays, meta):
        arrays["chunk.rows"][0, 2] += 5  # no longer the length of its text

    rewrite_tables(built.index_dir, stretch)
    with pytest.raises(IndexUnusable, match="impossible offsets"):
        load_index(built.index_dir)


def test_a_source_the_manifest_does_not_list_is_refused(built):
    rewrite_tables(built.index_dir, lambda arrays, meta: meta.__setitem__("sources", ["/etc/passwd"]))
    with pytest.raises(IndexUnusable, match="/etc/passwd, a file its manifest does not list"):
        load_index(built.index_dir)


def test_a_tampered_index_is_rebuilt_and_the_answer_quotes_the_right_text(built):
    from czqa.qa import QA

    rewrite_tables(built.index_dir, shift("sentence.rows"))
    enc = HashingEncoder()
    qa = QA(built.model_copy(update={"auto_build": True}), query_encoder=enc, build_encoder=enc)
    answer = qa.answer("Who founded the Quenford Lantern Festival?", mode="extractive")
    assert qa.build_report is not None  # rebuilt, not used
    assert answer.citations[0].quote == FOUNDED


def test_above_the_full_check_size_a_sample_still_catches_a_consistent_shift(built, monkeypatch):
    from czqa.index import verify

    monkeypatch.setattr(verify, "FULL_CHECK", 0)  # as in an index of over 20,000 chunks and sentences
    monkeypatch.setattr(verify, "SAMPLE", 2)
    load_index(built.index_dir, documents=docs(built))
    rewrite_tables(built.index_dir, shift("sentence.rows"))
    with pytest.raises(IndexUnusable, match="does not match its documents.*festival.txt"):
        load_index(built.index_dir, documents=docs(built))


def test_a_listed_file_that_is_not_utf8_is_refused_not_crashed_on(built):
    """Ingestion trusts a file whose hash the manifest lists and does not decode it; a manifest
    edited to list bytes that are not UTF-8 is reported as a damaged index, not a traceback."""
    import hashlib
    import json

    from czqa.index.store import indexed_files
    from czqa.ingest.documents import ingest

    path = built.seeds_dir / "festival.txt"
    bad = DOC.encode().replace(b"Mira", b"M\xffra")
    path.write_bytes(bad)
    manifest_path = built.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["festival.txt"] = hashlib.sha256(bad).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    documents = ingest(built.seeds_dir, known=indexed_files(built.index_dir))[0]
    with pytest.raises(IndexUnusable, match="not UTF-8 text"):
        load_index(built.index_dir, documents=documents)
