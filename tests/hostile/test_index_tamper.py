"""A hand-edited index whose checksums were updated to match: load must still refuse it.

Checksums only prove the data files are the ones the manifest lists. Offsets that are
consistent but wrong would make czqa quote the wrong text with a correct-looking citation, so
loading checks every chunk and sentence against the documents; a failed check is
IndexUnusable, and with auto_build the index is rebuilt.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from czqa.errors import IndexUnusable
from czqa.index.build import build_index, ensure_index
from czqa.index.store import MANIFEST, load_index
from czqa.ingest.documents import read_seeds
from czqa.settings import IngestSettings, Settings
from doubles import HashingEncoder, docs_folder

DOC = "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower.\n"
FOUNDED = "It was founded by Mira Talvik, a glassblower."


@pytest.fixture
def built(tmp_path):
    seeds = docs_folder(tmp_path, {"festival.txt": DOC}, name="docs")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", auto_build=False)
    build_index(settings, encoder=HashingEncoder())
    return settings


def edit(index_dir, name, change) -> None:
    """Rewrite one data file of the current generation and fix its checksum, as an attacker would."""
    manifest = json.loads((index_dir / MANIFEST).read_text())
    path = index_dir / manifest["generation"] / name
    path.write_text(json.dumps(change(json.loads(path.read_text()))), encoding="utf-8")
    manifest["data"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def docs(settings):
    return read_seeds(settings.seeds_dir, settings=IngestSettings())[0]


def shift_sentences(rows, by=3):
    return [[src, start + by, end + by, text] for src, start, end, text in rows]


def test_sentence_offsets_shifted_consistently_are_refused(built):
    edit(built.index_dir, "sentences.json", shift_sentences)
    load_index(built.index_dir)  # the files themselves are well formed
    with pytest.raises(IndexUnusable, match="does not match its documents.*festival.txt"):
        load_index(built.index_dir, documents=docs(built))
    with pytest.raises(IndexUnusable, match="does not match its documents"):
        ensure_index(built, encoder=HashingEncoder())


def test_chunk_offsets_pointing_at_other_text_are_refused(built):
    def shift(chunks):
        for c in chunks:
            c["start"], c["end"] = c["start"] + 2, c["end"] + 2  # same length, other text
        return chunks

    edit(built.index_dir, "chunks.json", shift)
    with pytest.raises(IndexUnusable, match="chunk .* quotes other text than festival.txt holds"):
        load_index(built.index_dir, documents=docs(built))


def test_impossible_offsets_are_refused_even_without_the_documents(built):
    def stretch(chunks):
        chunks[0]["end"] += 5  # no longer the length of its text
        return chunks

    edit(built.index_dir, "chunks.json", stretch)
    with pytest.raises(IndexUnusable, match="impossible offsets"):
        load_index(built.index_dir)


def test_a_source_the_manifest_does_not_list_is_refused(built):
    edit(built.index_dir, "sentences.json", lambda rows: [["/etc/passwd", *row[1:]] for row in rows])
    with pytest.raises(IndexUnusable, match="/etc/passwd, a file its manifest does not list"):
        load_index(built.index_dir)


def test_a_tampered_index_is_rebuilt_and_the_answer_quotes_the_right_text(built):
    from czqa.qa import QA

    edit(built.index_dir, "sentences.json", shift_sentences)
    enc = HashingEncoder()
    qa = QA(built.model_copy(update={"auto_build": True}), query_encoder=enc, build_encoder=enc)
    answer = qa.answer("Who founded the Quenford Lantern Festival?", mode="extractive")
    assert qa.build_report is not None  # rebuilt, not used
    assert answer.citations[0].quote == FOUNDED
