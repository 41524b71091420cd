"""Symbolic links in the documents folder: the folder is a trust boundary.

A link that leads outside the folder must not pull another file of the machine into the index
(and so into quoted answers) unless the user allows it; a link loop must be reported, not
followed forever; every link ends up in the ingestion report.
"""

from __future__ import annotations

import os

import pytest

from czqa.index.build import build_index
from czqa.index.store import load_index
from czqa.ingest.documents import ingest
from czqa.settings import IngestSettings, Settings
from doubles import HashingEncoder, docs_folder

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="needs symbolic links")

PROSE = "The harbour bridge reopened on Monday after a two-year repair that cost 84 million euros.\n"
SECRET = "The vault code is 7391 and the spare key hangs behind the boiler.\n"


@pytest.fixture
def folder(tmp_path):
    """seeds/ with one document, and a private file beside it (outside the folder)."""
    seeds = docs_folder(tmp_path, {"good.txt": PROSE})
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.txt").write_text(SECRET, encoding="utf-8")
    return seeds, private


def _issues(report) -> dict[str, tuple[str, str]]:
    return {i.path: (i.kind, i.reason) for i in report.skipped + report.refused}


def test_a_link_to_a_file_outside_is_refused_and_never_quoted(tmp_path, folder):
    seeds, private = folder
    (seeds / "notes.txt").symlink_to(private / "secret.txt")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    data, report = build_index(settings, encoder=HashingEncoder())
    assert all("vault" not in c.text for c in data.chunks)
    kind, reason = _issues(report.ingest)["notes.txt"]
    assert kind == "refused" and "outside the documents folder" in reason
    assert load_index(settings.index_dir).ingest_report.refused[0].path == "notes.txt"


def test_a_link_to_a_folder_outside_is_refused(folder):
    seeds, private = folder
    (seeds / "more").symlink_to(private, target_is_directory=True)
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt"]
    assert _issues(report)["more/"][0] == "refused"


def test_links_outside_are_followed_when_the_setting_allows_it(tmp_path, folder, monkeypatch):
    seeds, private = folder
    (seeds / "notes.txt").symlink_to(private / "secret.txt")
    (seeds / "more").symlink_to(private, target_is_directory=True)
    monkeypatch.setenv("CZQA_INGEST__FOLLOW_LINKS_OUTSIDE", "true")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    assert settings.ingest.follow_links_outside
    data, report = build_index(settings, encoder=HashingEncoder())
    # One file, two names: read once, under the first name; the other is listed as the same file.
    assert sorted(report.ingest.indexed) == ["good.txt", "more/secret.txt"]
    assert _issues(report.ingest) == {"notes.txt": ("skipped", "same file as more/secret.txt")}
    assert any("vault" in c.text for c in data.chunks)


def test_link_loops_are_reported_and_not_followed(folder):
    seeds, _ = folder
    (seeds / "sub").mkdir()
    (seeds / "sub" / "deep.txt").write_text(PROSE.replace("bridge", "tunnel"), encoding="utf-8")
    (seeds / "sub" / "up").symlink_to("..", target_is_directory=True)  # seeds/sub/up -> seeds
    (seeds / "self.txt").symlink_to("self.txt")  # a link to itself
    (seeds / "ping.txt").symlink_to("pong.txt")
    (seeds / "pong.txt").symlink_to("ping.txt")
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt", "sub/deep.txt"]
    issues = _issues(report)
    for name in ("sub/up/", "self.txt", "ping.txt", "pong.txt"):
        kind, reason = issues[name]
        assert kind == "refused" and reason.startswith("link loop"), name


def test_a_link_inside_the_folder_is_read_once_under_the_real_name(folder):
    seeds, _ = folder
    (seeds / "real").mkdir()
    (seeds / "real" / "doc.md").write_text(PROSE, encoding="utf-8")
    (seeds / "a-alias").symlink_to("real", target_is_directory=True)  # sorts before real/
    (seeds / "a-copy.txt").symlink_to("good.txt")
    docs, report = ingest(seeds, settings=IngestSettings())
    assert [d.source for d in docs] == ["good.txt", "real/doc.md"]
    assert _issues(report) == {
        "a-alias/": ("skipped", "same folder as real/"),
        "a-copy.txt": ("skipped", "same file as good.txt"),
    }


def test_a_broken_link_is_refused(folder):
    seeds, _ = folder
    (seeds / "gone.txt").symlink_to("nowhere.txt")
    _, report = ingest(seeds, settings=IngestSettings())
    assert _issues(report)["gone.txt"] == ("refused", "broken link (its target does not exist)")
