"""The manifest records which encoder built an index; another encoder's index is refused."""

from __future__ import annotations

import pytest

from czqa.errors import IndexUnusable, UsageError
from czqa.index.build import build_index, ensure_index
from czqa.settings import Settings
from doubles import HashingEncoder

DOC = "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower."


def _settings(tmp_path, **extra) -> Settings:
    seeds = tmp_path / "docs"
    seeds.mkdir(exist_ok=True)
    (seeds / "festival.txt").write_text(DOC)
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", **extra)


def test_manifest_records_the_encoder_that_built_it(tmp_path):
    enc = HashingEncoder(dimension=32)
    data, _ = build_index(_settings(tmp_path), encoder=enc)
    assert data.manifest.model.name == enc.name and data.manifest.model.dimension == 32
    assert data.sentence_vectors.shape[1] == 32


def test_index_from_another_encoder_is_refused_naming_both(tmp_path):
    build_index(_settings(tmp_path), encoder=HashingEncoder(name="test/one"))
    with pytest.raises(IndexUnusable, match=r"test/one.*test/two"):
        ensure_index(_settings(tmp_path, auto_build=False), encoder=HashingEncoder(name="test/two"))


def test_index_from_another_encoder_is_rebuilt_when_allowed(tmp_path):
    build_index(_settings(tmp_path), encoder=HashingEncoder(name="test/one"))
    data, report = ensure_index(_settings(tmp_path), encoder=HashingEncoder(name="test/two"))
    assert report is not None and data.manifest.model.name == "test/two"


def test_query_and_build_encoders_must_match(tmp_path):
    from czqa.qa import QA

    qa = QA(_settings(tmp_path), query_encoder=HashingEncoder(name="test/a"), build_encoder=HashingEncoder(name="test/b"))
    with pytest.raises(UsageError, match="test/b.*test/a"):
        qa.warm_up()


def test_hashing_encoder_answers_end_to_end_in_extractive_mode(tmp_path):
    from czqa.qa import QA

    enc = HashingEncoder()
    qa = QA(_settings(tmp_path), query_encoder=enc, build_encoder=enc)
    a = qa.answer("Who founded the Quenford Lantern Festival?", mode="extractive")
    assert not a.abstained and "Mira Talvik" in a.citations[0].quote


def test_without_an_encoder_freshness_is_judged_against_the_precisions_own_encoder():
    """The committed index (built by the default, int8 encoder) is fresh for the default settings
    without loading an encoder; with precision fp32 it is stale, naming both encoders. (bench.py's
    check once judged it against the float32 name and rebuilt the seeds' index every run.)"""
    from pathlib import Path

    from czqa.index.build import staleness
    from czqa.index.store import read_manifest
    from czqa.ingest.documents import ingest

    root = Path(__file__).resolve().parents[2]
    settings = Settings(seeds_dir=root / "seeds", index_dir=root / "embeddings")
    manifest = read_manifest(settings.index_dir)
    docs, _ = ingest(settings.seeds_dir, exclude=[settings.index_dir])
    assert staleness(manifest, docs, settings) == []
    reasons = staleness(manifest, docs, settings.model_copy(update={"precision": "fp32"}))
    assert len(reasons) == 1 and "(int8" in reasons[0] and "not sentence-transformers/all-MiniLM-L6-v2 (384-d)" in reasons[0]
