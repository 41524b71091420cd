import json

import numpy as np
import pytest

from czqa.index.build import build_index, ensure_index
from czqa.errors import IndexUnusable
from czqa.settings import Settings
from czqa.index.store import MANIFEST, load_index, read_manifest
from doubles import docs_folder

LETTER = "Dear reader,\n\nThe bridge reopened on Monday after a two-year repair that cost 84 million euros. " * 3
NEWS = "The city council approved the new budget on Friday. The vote was seven to two in favour of the plan.\n"


@pytest.fixture
def small(tmp_path):
    seeds = docs_folder(tmp_path, {"a.txt": LETTER, "b.md": NEWS})
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "embeddings", auto_build=True)


def test_round_trip(small, st_encoder):
    data, report = build_index(small, encoder=st_encoder)
    assert report.files == 2 and report.embedded > 0
    again = load_index(small.index_dir)
    assert [c.id for c in again.chunks] == [c.id for c in data.chunks]
    assert np.allclose(again.chunk_vectors(), data.chunk_vectors())
    manifest = json.loads((small.index_dir / MANIFEST).read_text())
    assert manifest["model"] == {"name": "sentence-transformers/all-MiniLM-L6-v2", "dimension": 384, "max_wordpieces": 256}
    assert set(manifest["files"]) == {"a.txt", "b.md"}
    assert manifest["chunking"]["max_tokens"] == 160
    assert not list(small.index_dir.glob("*.pkl")) and not list(small.index_dir.rglob("*.pickle"))


def test_only_the_changed_file_is_re_embedded(small, st_encoder):
    build_index(small, encoder=st_encoder)
    with open(small.seeds_dir / "b.md", "a", encoding="utf-8") as f:
        f.write("A second vote is planned for March.\n")
    with pytest.raises(IndexUnusable, match="changed: b.md"):
        ensure_index(small.model_copy(update={"auto_build": False}))
    data, report = ensure_index(small, encoder=st_encoder)
    assert report.files_reused == 1 and report.files_processed == ["b.md"]
    assert 1 <= report.embedded <= 3  # the new sentence and the chunk holding it, not a.txt
    assert any("March" in c.text for c in data.chunks)
    assert ensure_index(small, encoder=st_encoder)[1] is None  # fresh now: nothing rebuilt
    # The default (int8) encoder did not build it: with it, the index is stale and rebuilt.
    assert ensure_index(small)[1].embedded > 0


def test_added_and_removed_files_are_detected(small, st_encoder):
    build_index(small, encoder=st_encoder)
    (small.seeds_dir / "a.txt").unlink()
    (small.seeds_dir / "c.txt").write_text("Tides are highest at the full moon. " * 4, encoding="utf-8")
    with pytest.raises(IndexUnusable, match=r"added: c.txt.*removed: a.txt"):
        ensure_index(small.model_copy(update={"auto_build": False}))
    data, report = ensure_index(small, encoder=st_encoder)
    assert {c.source for c in data.chunks} == {"b.md", "c.txt"}
    assert report.files_removed == ["a.txt"]


def test_damaged_index_is_refused_or_rebuilt(small, st_encoder):
    build_index(small, encoder=st_encoder)
    manifest = read_manifest(small.index_dir)
    data_file = small.index_dir / manifest.generation / "tables.bin"  # where the chunk texts are
    data_file.write_bytes(data_file.read_bytes().replace(b"bridge", b"tunnel"))
    with pytest.raises(IndexUnusable, match="checksum"):
        load_index(small.index_dir)
    (small.index_dir / MANIFEST).write_text("{not json")
    with pytest.raises(IndexUnusable, match="damaged"):
        ensure_index(small.model_copy(update={"auto_build": False}))
    data, report = ensure_index(small, encoder=st_encoder)
    assert report is not None and data.chunks


class Exploding:
    """The real encoder's identity, but the power goes out while it embeds."""

    name, dimension, max_tokens = "sentence-transformers/all-MiniLM-L6-v2", 384, 256

    def encode(self, texts, *, show_progress=False):
        raise RuntimeError("power cut")


def test_a_crash_mid_build_leaves_the_previous_index_usable(small, st_encoder):
    first, _ = build_index(small, encoder=st_encoder)
    (small.seeds_dir / "b.md").write_text(NEWS + "Completely new text about harbours.\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="power cut"):
        build_index(small, encoder=Exploding())
    still = load_index(small.index_dir)
    assert [c.id for c in still.chunks] == [c.id for c in first.chunks]
    assert not [p for p in small.index_dir.iterdir() if p.name.startswith(".tmp-")]


def test_the_committed_index_is_fresh(qa):
    # qa is built with auto_build=False: loading it proves embeddings/ matches seeds/ and the
    # current cleaning/chunking rules. If this fails, run `czqa index` and commit embeddings/.
    assert qa.build_report is None
    assert len(qa.data.chunks) > 50


def test_every_sentence_is_listed_inside_the_chunks_that_hold_it(qa):
    data = qa.data
    listed = set()
    for chunk, rows in zip(data.chunks, data.chunk_sentences):
        assert rows == sorted(rows) and rows
        for r in rows:
            s = data.sentences[r]
            assert s.source == chunk.source and chunk.start <= s.start and s.end <= chunk.end
        listed.update(rows)
    assert listed == set(range(len(data.sentences)))


def test_a_stale_index_hint_is_the_exact_command(tmp_path):
    from doubles import HashingEncoder

    seeds = tmp_path / "my docs"
    seeds.mkdir()
    (seeds / "a.txt").write_text("The harbour opened in 1851 and handles grain.\n")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "idx", auto_build=False)
    build_index(settings, encoder=HashingEncoder())
    (seeds / "a.txt").write_text("The harbour opened in 1852 and handles timber.\n")
    with pytest.raises(IndexUnusable, match="stale") as info:
        ensure_index(settings, encoder=HashingEncoder())
    assert f"czqa index --seeds '{seeds}' --out {tmp_path / 'idx'}" in str(info.value)


def test_a_build_shows_progress_from_reading_to_embedding(tmp_path, capsys):
    from doubles import HashingEncoder

    seeds = tmp_path / "docs"
    seeds.mkdir()
    (seeds / "a.txt").write_text("The harbour opened in 1851. It handles grain and timber.\n" * 20)
    build_index(Settings(seeds_dir=seeds, index_dir=tmp_path / "idx"), encoder=HashingEncoder(), show_progress=True)
    err = capsys.readouterr().err
    assert "Reading and chunking" in err and "Embedding" in err
    assert err.index("Reading and chunking") < err.index("Embedding")
