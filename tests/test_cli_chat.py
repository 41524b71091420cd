"""``czqa chat`` piped, as a script or a user pasting questions would run it, and ``czqa eval JOB``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from czqa.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def chat(lines: str, *args):
    return subprocess.run([sys.executable, "-m", "czqa.cli", "chat", *args], input=lines, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ}, timeout=300)


def test_a_piped_chat_answers_a_pronoun_follow_up_and_says_how_it_understood_it():
    r = chat("Who replaced Changpeng Zhao as Binance's CEO?\n\nWhen did he take over?\n")
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.split("> When did he take over?")
    assert first.startswith("> Who replaced Changpeng Zhao as Binance's CEO?\nRichard Teng.")
    assert second.lstrip("\n").startswith("Understood as: When did Richard Teng take over?\nNovember 2023.")
    assert "Traceback" not in r.stderr


def test_a_bad_line_is_refused_alone_and_reset_forgets_the_conversation():
    r = chat("Who replaced Changpeng Zhao as Binance's CEO?\n???\n/reset\nWhen did he take over?\n")
    assert r.returncode == 0, r.stderr
    assert "czqa: " in r.stderr and "Traceback" not in r.stderr  # "???" has no words: refused, the chat goes on
    after_reset = r.stdout.split("> /reset")[1]
    # read on its own: not rewritten with the forgotten "Richard Teng" (what the reader then makes
    # of a bare "he" is its own affair, and moved when it was retrained)
    assert "Understood as" not in after_reset and "> When did he take over?\n" in after_reset


def test_an_unknown_mode_is_refused_before_reading_any_question():
    r = chat("Who founded Binance?\n", "--mode", "oracle")
    assert r.returncode == 2 and "oracle" in r.stderr and r.stdout == ""


def _eval_args(*argv):
    from czqa.cli import build_parser

    return build_parser().parse_args(["eval", *argv])


@pytest.mark.parametrize(
    ("argv", "squad", "conversations", "qa"),
    [
        (["squad", "dev.json"], Path("dev.json"), None, None),
        (["--squad", "dev.json"], Path("dev.json"), None, None),  # the old flag stays an alias
        (["conversations"], None, Path("eval/conversations.jsonl"), None),
        (["conversations", "talks.jsonl"], None, Path("talks.jsonl"), None),
        (["qa", "mine.jsonl"], None, None, Path("mine.jsonl")),
    ],
)
def test_eval_jobs_stand_for_their_flags(argv, squad, conversations, qa):
    from czqa.cli.evaluate import _eval_job

    args = _eval_args(*argv)
    _eval_job(args)
    assert args.squad == squad and args.conversations == conversations
    if qa is not None:
        assert args.qa == qa


@pytest.mark.parametrize(("argv", "message"), [
    (["squad"], "needs the SQuAD-format file"),
    (["conversations", "--squad", "x.json"], "cannot also take --squad"),
])
def test_eval_jobs_refuse_what_they_cannot_mean(argv, message):
    from czqa.cli.evaluate import _eval_job

    with pytest.raises(UsageError, match=message):
        _eval_job(_eval_args(*argv))


@pytest.mark.parametrize("argv", [["dev.json"], ["qa", "a.jsonl", "extra"]])
def test_a_file_without_a_job_or_one_too_many_is_a_usage_error(argv):
    r = subprocess.run([sys.executable, "-m", "czqa.cli", "eval", *argv], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "usage: czqa" in r.stderr
