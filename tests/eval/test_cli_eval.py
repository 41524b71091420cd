"""`czqa eval` in a real subprocess over the committed index: the files it writes, the summary it
prints, the baseline it records, and clear errors for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TENG_FILE = "003_a6700be50d59b7d1.txt"
TENG = "However, he was forced to step down from the CEO position at Binance and was replaced with Richard Teng"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def czqa(*args, cwd=ROOT):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "0"}
    return subprocess.run(
        [sys.executable, "-m", "czqa.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def rec(id, question, answers, evidence=(), type="factoid", split="test"):
    return {"id": id, "question": question, "answers": list(answers),
            "evidence": [{"file": f, "quote": q} for f, q in evidence], "type": type, "split": split}


TINY = [
    rec("teng", "Who replaced Changpeng Zhao as Binance's CEO?", ["Richard Teng"], [(TENG_FILE, TENG)], type="person"),
    rec("wrong-expectation", "Who replaced Changpeng Zhao as Binance's CEO?", ["Satoshi Nakamoto"],
        [(TENG_FILE, TENG)], type="person"),
    rec("mercury", "What is the boiling point of mercury?", [], type="unanswerable"),
    rec("dev-only", "Who replaced Changpeng Zhao as Binance's CEO?", ["Richard Teng"], [(TENG_FILE, TENG)],
        type="person", split="dev"),
]


def write_qa(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_writes_report_metrics_and_chart(tmp_path):
    qa_file = write_qa(tmp_path / "qa.jsonl", TINY)
    out = tmp_path / "out"
    r = czqa("eval", "--qa", str(qa_file), "--split", "test", "--out", str(out), "--top-k", "3")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr

    # the compact summary
    assert "test split · 3 questions (2 answerable, 1 unanswerable)" in r.stdout
    assert "hit@5" in r.stdout and "unanswerable declined 100.0%" in r.stdout
    assert str(out / "report.md") in r.stdout

    # metrics.json: the whole run, per question
    data = json.loads((out / "metrics.json").read_text())
    assert {"summary", "per_type", "questions", "split", "mode", "top_k", "qa_fingerprint"} <= set(data)
    assert data["split"] == "test" and data["mode"] == "reader" and data["top_k"] == 3
    s = data["summary"]
    assert s["questions"] == 3 and s["answerable"] == 2 and s["unanswerable"] == 1
    assert s["answer_accuracy"] == 50.0  # teng right, the wrong expectation fails
    assert s["abstention_accuracy"] == 100.0 and s["citation_validity"] == 100.0
    assert set(data["per_type"]) == {"person", "unanswerable"}
    assert {q["id"]: q["correct"] for q in data["questions"]} == {"teng": True, "wrong-expectation": False, "mercury": True}

    # report.md: tables, definitions and the failed question with what was expected and answered
    report = (out / "report.md").read_text()
    assert "## Summary" in report and "## Per question type" in report and "## What the metrics mean" in report
    failed = report.split("## Failed questions (1 of 3)", 1)[1].split("## What the metrics mean")[0]
    assert "**wrong-expectation** (person)" in failed
    assert "expected: “Satoshi Nakamoto”" in failed and "Richard Teng" in failed
    assert "**teng**" not in failed and "**mercury**" not in failed

    # the chart is a real PNG of a sensible size
    png = (out / "per_type.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000


def test_write_baseline_then_compare(tmp_path):
    qa_file = write_qa(tmp_path / "qa.jsonl", TINY)
    r = czqa("eval", "--qa", str(qa_file), "--out", str(tmp_path / "out"), "--write-baseline")
    assert r.returncode == 0, r.stderr
    baseline = json.loads((tmp_path / "baseline.json").read_text())
    assert baseline["split"] == "test" and baseline["metrics"]["questions"] == 3
    assert "latency_p50_ms" not in baseline["metrics"]  # machine speed is not part of the baseline
    r = czqa("eval", "--qa", str(qa_file), "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "no gated metric fell more than its margin" in r.stdout
    assert "no gated metric fell more than its margin" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "rows", "message"),
    [
        (["--split", "dev", "--write-baseline"], TINY, "--write-baseline records the test split"),
        (["--mode", "oracle"], TINY, "Unknown answer mode 'oracle'; available: reader, extractive"),
        (["--split", "test"], [TINY[3]], "No questions in the 'test' split"),
        ([], [TINY[0], "{broken"], "qa.jsonl:2: Invalid JSON"),
        ([], [rec("x", "Who?", ["X"], [(TENG_FILE, "words that are not in the file")])],
         "x: evidence quote not found verbatim in 003_a6700be50d59b7d1.txt"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, args, rows, message):
    qa_file = write_qa(tmp_path / "qa.jsonl", rows)
    r = czqa("eval", "--qa", str(qa_file), "--out", str(tmp_path / "out"), *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_missing_question_file(tmp_path):
    r = czqa("eval", "--qa", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "Question file not found" in r.stderr and "Traceback" not in r.stderr
