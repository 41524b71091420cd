"""An index built by one user is readable by another who may read its folder, and a stale-index
message stays one readable line however many files changed."""

from __future__ import annotations

import os
import stat

from czqa.index.build import staleness
from czqa.qa import QA
from czqa.settings import Settings
from doubles import HashingEncoder


def test_generation_folders_take_the_index_folders_permissions(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik.")
    index = tmp_path / "index"
    index.mkdir()
    os.chmod(index, 0o755)
    enc = HashingEncoder()
    QA(Settings(seeds_dir=docs, index_dir=index), query_encoder=enc, build_encoder=enc).answer("Who founded it?", mode="extractive")
    generations = [p for p in index.iterdir() if p.name.startswith("gen-")]
    assert generations
    for gen in generations:
        assert stat.S_IMODE(gen.stat().st_mode) == 0o755  # mkdtemp's 0700 locked other users out
        for f in gen.iterdir():
            assert f.stat().st_mode & stat.S_IROTH, f.name


def test_a_stale_index_lists_a_few_names_and_a_count(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik.")
    enc = HashingEncoder()
    qa = QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc)
    qa.answer("Who founded it?", mode="extractive")
    from czqa.ingest.documents import Document
    from czqa.index.store import read_manifest

    manifest = read_manifest(tmp_path / "index")
    many = [Document(f"new-{n:05d}-{'x' * 10}.txt", text="Some text here.", sha256=str(n)) for n in range(5000)]
    reasons = staleness(manifest, many, qa.settings, enc)
    line = "; ".join(reasons)
    assert "and 4,995 more" in line and len(line) < 1000
