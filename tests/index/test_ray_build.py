"""A Ray build (``czqa index --ray``) writes the index a local build writes.

Runs a local Ray instance (two CPUs) in this process. Without Ray installed the tests skip, unless
CZQA_REQUIRE_RAY=1 (CI installs ``czqa[ray]`` and sets it, so they cannot silently skip there).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from czqa.settings import Settings

if os.environ.get("CZQA_REQUIRE_RAY") != "1":
    pytest.importorskip("ray")

pytestmark = pytest.mark.slow

HANDBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "handbook"


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(HANDBOOK, docs)
    (docs / ".hidden.txt").write_text("never read\n")
    (docs / "empty.txt").write_text("  \n")
    (docs / "notes").mkdir()
    for n in range(12):  # more files than workers, some long enough for several chunks
        body = " ".join(f"Team {n} met on day {d} of the quarter and agreed on budget line {n * d}." for d in range(1, 40))
        (docs / "notes" / f"meeting-{n:02d}.md").write_text(f"# Meeting {n}\n\n{body}\n")
    return docs


def _generation(index: Path) -> Path:
    manifest = json.loads((index / "manifest.json").read_text())
    return index / manifest["generation"] if "generation" in manifest else next(index.glob("gen-*"))


def test_no_cluster_at_the_address_is_a_clear_error(tmp_path, monkeypatch):
    import ray

    from czqa.errors import UsageError
    from czqa.index import ray_build

    assert not ray.is_initialized()  # first in this file, before the instance the others share
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError, match="ray start --head.*--ray local"):
        ray_build.connect("127.0.0.1:1")
    with pytest.raises(UsageError, match="expected auto, local, host:port"):
        ray_build.connect("my-cluster")
    assert not ray.is_initialized()


def test_czqa_index_ray_says_what_is_wrong_and_builds_nothing(tmp_path, capsys):
    from czqa.cli import main

    assert main(["index", "--seeds", str(HANDBOOK), "--out", str(tmp_path / "index"), "--ray", "127.0.0.1:1", "-q"]) == 2
    assert "no Ray cluster there" in capsys.readouterr().err
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_a_ray_build_is_the_local_build_bit_for_bit(tmp_path, ray_local, int8_encoder):
    from czqa.index.build import build_index
    from czqa.index.ray_build import build_on_ray
    from czqa.qa import QA

    docs = _folder(tmp_path)
    on_ray = Settings(seeds_dir=docs, index_dir=tmp_path / "ray-index")
    local = Settings(seeds_dir=docs, index_dir=tmp_path / "local-index")
    ray_data, ray_report = build_on_ray(on_ray, address="auto")  # joins the instance this test started
    local_data, local_report = build_index(local, encoder=int8_encoder)

    assert ray_report.ingest == local_report.ingest  # the same files indexed, skipped and refused, with the same reasons
    assert {i.path for i in ray_report.ingest.refused} == {"empty.txt"}
    assert (ray_report.chunks, ray_report.sentences, ray_report.embedded) == (local_report.chunks, local_report.sentences, local_report.embedded)
    ray_manifest = json.loads((on_ray.index_dir / "manifest.json").read_text())
    local_manifest = json.loads((local.index_dir / "manifest.json").read_text())
    for m in (ray_manifest, local_manifest):
        m.pop("built_at")
    assert ray_manifest == local_manifest
    ray_gen, local_gen = _generation(on_ray.index_dir), _generation(local.index_dir)
    for f in sorted(p.name for p in local_gen.iterdir()):
        assert (ray_gen / f).read_bytes() == (local_gen / f).read_bytes(), f

    questions = ["How long does a refund take?", "What did team 3 agree on day 7?", "Who approves travel?"]
    ray_qa = QA(on_ray, query_encoder=int8_encoder, build_encoder=int8_encoder)
    local_qa = QA(local, query_encoder=int8_encoder, build_encoder=int8_encoder)
    for q in questions:
        a, b = ray_qa.answer(q, mode="extractive"), local_qa.answer(q, mode="extractive")
        assert (a.text, a.citations) == (b.text, b.citations)


def test_czqa_index_ray_builds_and_reports_like_a_local_build(tmp_path, ray_local, capsys):
    from czqa.cli import main

    docs = _folder(tmp_path)
    assert main(["index", "--seeds", str(docs), "--out", str(tmp_path / "index"), "--ray", "auto", "-q"]) == 0
    out = capsys.readouterr()
    assert "Indexed" in out.out and "18 indexed, 1 skipped, 1 refused" in out.out
    assert "skipped empty.txt: empty file (refused)" in out.err


def test_a_second_ray_build_embeds_only_what_changed(tmp_path, ray_local):
    from czqa.index.ray_build import build_on_ray

    docs = _folder(tmp_path)
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")
    build_on_ray(settings, address="auto")
    with (docs / "notes" / "meeting-03.md").open("a") as f:
        f.write("\nA late item: the office moves to Harbour Street in May.\n")
    data, report = build_on_ray(settings, address="auto")
    assert report.files_reused == len(report.ingest.indexed) - 1
    assert 0 < report.embedded <= 3  # the changed chunk(s) and the new sentence, not the folder
