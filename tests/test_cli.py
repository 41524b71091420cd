"""The CLI in a real subprocess: exit codes and messages, as a user sees them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def czqa(*args, env=None, cwd=ROOT):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "czqa.cli", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=300
    )


def test_ask_prints_the_answer_and_its_quote():
    r = czqa("ask", "Who replaced Changpeng Zhao as Binance's CEO?")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Richard Teng.")
    assert "003_a6700be50d59b7d1.txt" in r.stdout
    assert "Traceback" not in r.stderr


def test_ask_json_and_top_k():
    r = czqa("ask", "--json", "--top-k", "3", "How much did Binance agree to pay?")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["conflict"] is True and len(data["passages"]) == 3
    assert {c["source"][:3] for c in data["citations"]} >= {"001", "002"}


def test_declined_question_exits_zero_with_closest_matches():
    r = czqa("ask", "What is the boiling point of mercury?")
    assert r.returncode == 0
    assert r.stdout.startswith("The documents don't say")
    assert "Closest matches:" in r.stdout


@pytest.mark.parametrize("question", ["", "   ", "x" * 100_000])
def test_bad_question_exit_2(question):
    r = czqa("ask", question)
    assert r.returncode == 2
    assert "czqa: error:" in r.stderr and "Traceback" not in r.stderr


def test_missing_seeds_folder_exit_3(tmp_path):
    r = czqa("index", "--seeds", str(tmp_path / "nope"), "--out", str(tmp_path / "idx"))
    assert r.returncode == 3
    assert "Seeds folder not found" in r.stderr


def test_empty_seeds_folder_exit_3(tmp_path):
    (tmp_path / "seeds").mkdir()
    r = czqa("index", "--seeds", str(tmp_path / "seeds"), "--out", str(tmp_path / "idx"))
    assert r.returncode == 3
    assert "no readable text files" in r.stderr


@pytest.mark.slow  # builds an index with the real encoder in a child process
def test_binary_and_non_utf8_files_are_skipped_with_a_warning(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text("The harbour bridge reopened on Monday after a two-year repair programme. " * 2)
    (seeds / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (seeds / "latin1.txt").write_bytes("Café crème, naïve façade.".encode("latin-1"))
    r = czqa("index", "--seeds", str(seeds), "--out", str(tmp_path / "idx"))
    assert r.returncode == 0, r.stderr
    assert "skipped image.txt: binary file" in r.stderr
    assert "skipped latin1.txt: not valid UTF-8 text" in r.stderr
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert list(manifest["files"]) == ["good.txt"]
    r = czqa("ask", "--seeds", str(seeds), "--index", str(tmp_path / "idx"), "When did the bridge reopen?")
    assert r.returncode == 0 and "Monday" in r.stdout


@pytest.mark.slow  # builds an index with the real encoder in a child process
def test_corrupted_index_is_rebuilt_or_refused(tmp_path):
    index = tmp_path / "idx"
    shutil.copytree(ROOT / "embeddings", index)
    (index / "manifest.json").write_text("garbage")
    r = czqa("ask", "--index", str(index), "Who replaced Changpeng Zhao as Binance's CEO?", env={"CZQA_AUTO_BUILD": "0"})
    assert r.returncode == 4
    assert "damaged" in r.stderr and "czqa index" in r.stderr and "Traceback" not in r.stderr
    r = czqa("ask", "--index", str(index), "Who replaced Changpeng Zhao as Binance's CEO?")
    assert r.returncode == 0, r.stderr
    assert "Richard Teng" in r.stdout
    assert "index refreshed" in r.stderr


def test_unknown_mode_is_a_clear_error():
    r = czqa("ask", "--mode", "magic", "Who is CZ?")
    assert r.returncode == 2  # a usage error
    assert "Unknown answer mode 'magic'" in r.stderr


def test_a_closed_pipe_is_not_a_traceback():
    # `czqa ask … | head -1`: the reader leaves before the quotes are printed.
    proc = subprocess.Popen(
        [sys.executable, "-m", "czqa.cli", "ask", "--top-k", "10", "How much did Binance agree to pay?"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    proc.stdout.close()  # nobody will read: the first write raises BrokenPipeError
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in stderr


@pytest.mark.parametrize("top_k", ["0", "-3", "five"])
def test_a_bad_top_k_is_a_usage_error_not_a_traceback(top_k):
    r = czqa("ask", "--top-k", top_k, "Who founded Binance?")
    assert r.returncode == 2
    assert "--top-k" in r.stderr and "Traceback" not in r.stderr


def test_ask_dash_reads_the_question_from_standard_input():
    r = subprocess.run(
        [sys.executable, "-m", "czqa.cli", "ask", "--json", "-"], input="What is the boiling point of mercury?\n",
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["question"] == "What is the boiling point of mercury?"


def test_version_flag():
    r = subprocess.run([sys.executable, "-m", "czqa.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("czqa ")


@pytest.mark.slow  # builds an index with the real encoder in a child process
def test_terminal_sequences_in_documents_are_shown_not_obeyed(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "memo.txt").write_text(
        "The harbour master of Portwell is Ada Quill.\x1b]0;pwned\x07\x1b[2J\x1b[31m She took office in 2019.\u202e"
        " The harbour opened in 1851.\r\nIt handles grain and timber.\n"
    )
    r = czqa("ask", "--mode", "extractive", "--seeds", str(seeds), "--index", str(tmp_path / "index"), "Who is the harbour master of Portwell?")
    assert r.returncode == 0, r.stderr
    assert "Ada Quill" in r.stdout
    for raw in ("\x1b", "\x07", "\u202e", "\r"):
        assert raw not in r.stdout
    j = czqa("ask", "--json", "--mode", "extractive", "--seeds", str(seeds), "--index", str(tmp_path / "index"), "When did the harbour open?")
    assert j.returncode == 0, j.stderr
    assert "\x1b" not in j.stdout and "\u202e" not in j.stdout
    assert "1851" in json.loads(j.stdout)["text"]


def test_terminal_safe_writes_control_characters_out():
    from czqa.cli import json_safe, terminal_safe

    assert terminal_safe("a\x1b[31mb\x9bc\u202ed\r\ne\rf\tg") == "a\\x1b[31mb\\x9bc\\u202ed\ne\\rf\tg"
    assert json.loads(json_safe(json.dumps({"q": "x\u202ey\x85"}, ensure_ascii=False))) == {"q": "x\u202ey\x85"}


def test_schema_describes_the_json_output():
    r = czqa("schema")
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    assert {"question", "abstained", "short_answer", "claims", "citations", "text", "passages"} <= set(schema["properties"])
    answer = json.loads(czqa("ask", "--json", "Who replaced Changpeng Zhao as Binance's CEO?").stdout)
    assert set(answer) <= set(schema["properties"]) and set(schema["required"]) <= set(answer)


@pytest.mark.slow  # builds an index with the real encoder in a child process
def test_quiet_and_verbose_change_logging(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("The harbour of Portwell opened in 1851 and handles grain and timber.\n")
    args = ["ask", "--mode", "extractive", "--seeds", str(seeds), "--index", str(tmp_path / "idx"), "When did the harbour open?"]
    quiet = czqa("-q", *args)
    assert quiet.returncode == 0 and "WARNING" not in quiet.stderr  # the first build's notice is a warning
    (seeds / "a.txt").write_text("The harbour of Portwell opened in 1852 and handles grain and timber.\n")
    loud = czqa("-v", *args)
    assert loud.returncode == 0 and "WARNING" in loud.stderr and "INFO" in loud.stderr


def test_top_k_above_the_limit_is_a_usage_error():
    r = czqa("ask", "--top-k", "51", "Who founded Binance?")
    assert r.returncode == 2 and "at most 50" in r.stderr


def test_a_file_system_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    """Found by bench/fuzz.py: `--index <300 characters>` ended in an OSError traceback."""
    import errno

    import czqa.cli as cli

    def full_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/index/gen-1/chunks.json")

    monkeypatch.setattr(cli, "cmd_schema", full_disk)
    assert cli.main(["schema"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "czqa: error: No space left on device: /data/index/gen-1/chunks.json"
    r = czqa("ask", "--index", "a" * 300, "Who founded Binance?")
    assert r.returncode == 2 and "too long" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--perturb-rate", "1.5"), ("--other-passage-rate", "-0.1"), ("--learning-rate", "0"), ("--answerability-weight", "lots")],
)
def test_train_reader_refuses_bad_recipe_numbers(option, value):
    r = czqa("train-reader", option, value)
    assert r.returncode == 2 and option in r.stderr and "Traceback" not in r.stderr


def test_train_reader_init_from_a_folder_without_weights_is_a_usage_error(tmp_path):
    r = czqa("train-reader", "--init-from", str(tmp_path), "--steps", "1")
    assert r.returncode == 2 and "--init-from" in r.stderr and "reader.safetensors" in r.stderr
