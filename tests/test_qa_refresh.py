"""QA.refresh: documents added to or removed from the folder while serving, without mixing states."""

from __future__ import annotations

import threading

import pytest

from czqa.qa import QA
from czqa.settings import Settings
from doubles import HashingEncoder

FESTIVAL = "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower."
BRIDGE = "The Ostrava Copper Bridge was designed by Lukas Brenner. It opened to traffic in 1931."
ORCHARD = "The Hallow Pear Orchard was planted by Edda Vinter. It covers nine hectares near the river."


def make_qa(tmp_path) -> QA:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festival.txt").write_text(FESTIVAL)
    (docs / "bridge.txt").write_text(BRIDGE)
    enc = HashingEncoder()
    return QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc)


def test_a_new_file_is_answerable_after_refresh(tmp_path):
    qa = make_qa(tmp_path)
    assert "orchard.txt" not in qa.texts
    (qa.settings.seeds_dir / "orchard.txt").write_text(ORCHARD)
    report = qa.refresh()
    assert "orchard.txt" in report.ingest.indexed and report.files_processed == ["orchard.txt"]
    a = qa.answer("Who planted the Hallow Pear Orchard?", mode="extractive")
    assert not a.abstained and a.citations[0].source == "orchard.txt" and "Edda Vinter" in a.citations[0].quote
    assert qa.texts["orchard.txt"] == ORCHARD and "orchard.txt" in qa.data.ingest_report.indexed


def test_a_removed_file_is_gone_after_refresh(tmp_path):
    qa = make_qa(tmp_path)
    assert qa.answer("Who designed the Ostrava Copper Bridge?", mode="extractive").citations[0].source == "bridge.txt"
    (qa.settings.seeds_dir / "bridge.txt").unlink()
    report = qa.refresh()
    assert report.ingest.indexed == ["festival.txt"] and "bridge.txt" not in qa.texts
    a = qa.answer("Who designed the Ostrava Copper Bridge?", mode="extractive")
    assert all(p.source == "festival.txt" for p in a.passages)


def test_refresh_with_nothing_changed_reports_the_files_as_they_are(tmp_path):
    qa = make_qa(tmp_path)
    report = qa.refresh()
    assert report.ingest.indexed == ["bridge.txt", "festival.txt"] and report.embedded == 0 and report.files == 2


def test_refresh_builds_even_when_auto_build_is_off(tmp_path):
    qa = make_qa(tmp_path)
    qa.warm_up()
    strict = QA(qa.settings.model_copy(update={"auto_build": False}), query_encoder=qa.encoder, build_encoder=qa.encoder)
    strict.warm_up()
    (qa.settings.seeds_dir / "orchard.txt").write_text(ORCHARD)
    assert "orchard.txt" in strict.refresh().ingest.indexed


def test_a_failed_refresh_keeps_the_previous_state(tmp_path):
    from czqa.errors import CzqaError

    qa = make_qa(tmp_path)
    before = qa.texts
    for f in qa.settings.seeds_dir.iterdir():
        f.unlink()
    with pytest.raises(CzqaError):
        qa.refresh()
    assert qa.texts is before
    assert not qa.answer("Who founded the Quenford Lantern Festival?", mode="extractive").abstained


def test_answers_during_refreshes_never_fail_or_mix_states(tmp_path):
    """One thread adds and removes a file and refreshes, over and over, while others ask: every
    answer's quotes and passages are exact slices of a text that existed in one snapshot."""
    qa = make_qa(tmp_path)
    qa.warm_up()
    docs = qa.settings.seeds_dir
    texts_seen = {"festival.txt": FESTIVAL, "bridge.txt": BRIDGE, "orchard.txt": ORCHARD}
    stop = threading.Event()
    errors: list[BaseException] = []

    def refresher():
        try:
            for i in range(6):
                if i % 2 == 0:
                    (docs / "orchard.txt").write_text(ORCHARD)
                else:
                    (docs / "orchard.txt").unlink()
                qa.refresh()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            stop.set()

    def asker(question):
        try:
            while not stop.is_set():
                a = qa.answer(question, mode="extractive")
                for c in a.citations:
                    assert texts_seen[c.source][c.start : c.end] == c.quote
                for p in a.passages:
                    assert texts_seen[p.source][p.start : p.end] == p.text
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=refresher)] + [
        threading.Thread(target=asker, args=(q,))
        for q in ("Who planted the Hallow Pear Orchard?", "Who founded the Quenford Lantern Festival?")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert "orchard.txt" not in qa.texts  # the last step removed it


def test_an_answer_reads_one_snapshot_even_if_a_refresh_lands_mid_question(tmp_path, monkeypatch):
    """A refresh swapped in between retrieval and answering does not reach the answer in flight."""
    qa = make_qa(tmp_path)
    qa.warm_up()
    old = qa._loaded
    real = old.retriever.search

    def search_then_refresh(*args, **kwargs):
        hits = real(*args, **kwargs)
        (qa.settings.seeds_dir / "orchard.txt").write_text(ORCHARD)
        qa.refresh()
        return hits

    monkeypatch.setattr(old.retriever, "search", search_then_refresh)
    a = qa.answer("Who founded the Quenford Lantern Festival?", mode="extractive")
    assert qa._loaded is not old and "Mira Talvik" in a.citations[0].quote
    for p in a.passages:
        assert old.texts[p.source][p.start : p.end] == p.text
