"""No silent fallbacks: a missing documents folder is one line with the flag that fixes it, a
misspelt ``CZQA_*`` variable is named with the closest real one, and Ctrl-C during a build says
what was kept and how to resume."""

from __future__ import annotations

import subprocess
import sys

from czqa.cli import main
from czqa.index import build as build_module
from czqa.settings import load_settings, unknown_variables
from doubles import HashingEncoder


def test_ask_in_a_folder_without_seeds_does_not_answer_from_the_bundled_corpus(tmp_path):
    r = subprocess.run([sys.executable, "-m", "czqa.cli", "ask", "Who founded Binance?"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 3 and r.stdout == ""
    assert f"Seeds folder not found: {tmp_path}/seeds" in r.stderr and "--seeds DIR" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_misspelt_variable_is_named_with_the_closest_setting(monkeypatch, caplog):
    monkeypatch.setenv("CZQA_TOPK", "3")
    monkeypatch.setenv("CZQA_READER__TRESHOLD", "1")
    load_settings()
    assert "CZQA_TOPK is not a czqa setting and is ignored; did you mean CZQA_TOP_K?" in caplog.text
    assert "did you mean CZQA_READER__THRESHOLD?" in caplog.text
    quiet = unknown_variables({"CZQA_TOP_K": "3", "CZQA_SEEDS": "x", "CZQA_LLM__PROMPTS": "p", "CZQA_REQUIRE_LLM": "1"})
    assert quiet == []
    assert unknown_variables({"CZQA_FOO": "1"}) == ["CZQA_FOO is not a czqa setting and is ignored; see the settings table in the README"]


def test_ctrl_c_during_a_build_says_what_was_kept_and_how_to_resume(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(" ".join(f"Sentence {n} says the kiln was fired in {1900 + n}." for n in range(300)))
    calls = []

    class Interrupted(HashingEncoder):
        def encode(self, texts, *, show_progress=False):
            calls.append(len(texts))
            if len(calls) == 3:
                raise KeyboardInterrupt
            return super().encode(texts)

    real = build_module.build_index
    monkeypatch.setattr(build_module, "build_index",
                        lambda settings, **kw: real(settings, encoder=Interrupted(), embed_batch=16, **kw))
    code = main(["index", "--seeds", str(docs), "--out", str(tmp_path / "index")])
    err = capsys.readouterr().err
    assert code == 130
    assert "Stopped: 32 of the" in err and "were embedded and are kept" in err
    assert "czqa index --seeds" in err and "Run the same command again" in err


def test_the_cli_names_the_line_the_page_shows(tmp_path):
    from czqa.qa import QA
    from czqa.settings import Settings
    from czqa.web.sources import source_info

    docs = tmp_path / "docs"
    docs.mkdir()
    text = "Harbour history\r\n\r\nThe harbour was dredged in 1790.\nIt opened in 1851, a year late.\n"
    (docs / "h.txt").write_bytes(text.encode())
    enc = HashingEncoder()
    answer = QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc).answer(
        "When did the harbour open?", mode="extractive")
    page = source_info("h.txt", text)
    for c in answer.citations:
        assert c.line == page.line(c.start)  # the page's line index, CRLF counted once
        assert f"— h.txt, line {c.line}" in answer.text
