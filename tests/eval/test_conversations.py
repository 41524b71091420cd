"""The multi-turn set (eval/conversations.jsonl): valid, and loaded with clear errors; the replay
of the three ways, scored with scripted answers; the report; and one dev conversation end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from czqa.errors import EvalSetError
from czqa.eval.conversation_report import render_markdown, targets, terminal_summary, write_report
from czqa.eval.conversations import (
    WAYS,
    Conversation,
    ConversationRun,
    load_conversations,
    STANDALONE,
    replay,
    replay_standalone,
    score_conversation,
    select_conversations,
    summarize,
)
from czqa.eval.metrics import normalize_answer
from czqa.types import Answer

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "eval" / "conversations.jsonl"


@pytest.fixture(scope="module")
def convs() -> list[Conversation]:
    return load_conversations(FILE)


# --- the set ----------------------------------------------------------------------------------


def test_the_set_meets_the_issue(convs):
    assert len(convs) >= 30
    assert all(2 <= len(c.turns) <= 4 for c in convs)
    splits = Counter(c.split for c in convs)
    # Both splits big enough to measure; dev may grow (new conversations to tune on go there, so
    # the test split stays unseen by every rule).
    assert set(splits) == {"dev", "test"} and min(splits.values()) >= 15
    for split in ("dev", "test"):
        chosen = [c for c in convs if c.split == split]
        # Both kinds in each split: follow-ups that need the earlier turns, and ones that don't.
        assert any(c.needs_context for c in chosen) and any(not c.needs_context for c in chosen)
    followups = [t for c in convs for t in c.turns[1:]]
    assert any(not t.answerable for t in followups), "some follow-ups are unanswerable"
    # What a perfect rewrite reaches is measured on every follow-up that needs context.
    assert all(t.standalone and t.standalone != t.question for t in followups if t.needs_context)


def test_gold_answers_are_in_the_documents(convs):
    seeds = normalize_answer(" ".join(p.read_text(encoding="utf-8") for p in (ROOT / "seeds").glob("*.txt")))
    missing = [(c.id, a) for c in convs for t in c.turns for a in t.answers if normalize_answer(a) not in seeds]
    assert not missing


def line(**fields) -> str:
    base = {"id": "x1", "split": "dev", "turns": [{"question": "Who?", "answers": ["A"]}, {"question": "And he?", "answers": []}]}
    return json.dumps({**base, **fields})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (line(turns=[{"question": "Who?", "answers": ["A"]}]), "turns: List should have at least 2 items"),
        (line(split="train"), "split must be one of dev, test"),
        (line(turns=[{"question": "Who?", "answers": ["A"], "needs_context": True}, {"question": "He?", "answers": []}]),
         "the first turn has no earlier turns"),
        (line(turns=[{"question": "", "answers": ["A"]}, {"question": "He?", "answers": []}]), "turns.0.question"),
        ("{not json", "Invalid JSON"),
        (line() + "\n" + line(), "duplicate id 'x1' (first on line 1)"),
        ("\n\n", "holds no conversations"),
        (line(turns=[{"question": "Who?", "answers": ["A"]}, {"question": "He?", "answers": [], "standalone": ""}]),
         "turns.1.standalone"),
    ],
)
def test_bad_file_is_refused_clearly(tmp_path, content, message):
    path = tmp_path / "conv.jsonl"
    path.write_text(content + "\n", encoding="utf-8")
    with pytest.raises(EvalSetError) as err:
        load_conversations(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_bad_line_is_named_by_number(tmp_path):
    path = tmp_path / "conv.jsonl"
    path.write_text(line() + "\n" + line(id="x2", split="train") + "\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"conv\.jsonl:2: "):
        load_conversations(path)


def test_missing_file_and_empty_split(tmp_path, convs):
    with pytest.raises(EvalSetError, match="Conversation file not found"):
        load_conversations(tmp_path / "nope.jsonl")
    with pytest.raises(EvalSetError, match="Unknown split 'train'"):
        select_conversations(convs, "train")
    with pytest.raises(EvalSetError, match="No conversations in the 'test' split"):
        select_conversations([c for c in convs if c.split == "dev"], "test")


def test_cli_refuses_a_bad_file_before_loading_anything(tmp_path):
    path = tmp_path / "conv.jsonl"
    path.write_text(line(split="train") + "\n", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "0"}
    r = subprocess.run([sys.executable, "-m", "czqa.cli", "eval", "--conversations", str(path), "--split", "dev"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == EvalSetError.exit_code
    assert "split must be one of dev, test" in r.stderr and "Traceback" not in r.stderr


# --- replay and scoring, with scripted answers ------------------------------------------------

CONV = Conversation.model_validate(
    {"id": "s1", "split": "dev", "turns": [
        {"question": "Who replaced Changpeng Zhao as Binance's CEO?", "answers": ["Richard Teng"]},
        {"question": "When did he take over?", "answers": ["November 2023"], "needs_context": True},
        {"question": "How many users did he report?", "answers": ["178 million"]},
    ]}
)


def scripted(question: str) -> Answer:
    """Right about the CEO and the date only when the name is searched; the user count is right
    as typed but lost when rewritten (the complaint the selection rule answers)."""
    table = {
        "Who replaced Changpeng Zhao as Binance's CEO?": ("Richard Teng", 4.0),
        "When did he take over?": (None, -1.6),
        "When did Richard Teng take over?": ("November 2023", 4.8),
        "How many users did he report?": ("178 million", 4.4),
        "How many users did Richard Teng report?": (None, -0.5),
    }
    short, conf = table[question]
    return Answer(question=question, abstained=short is None, short_answer=short, confidence=conf)


def test_each_way_replays_the_page_path():
    runs = {way: replay(CONV, ask=scripted, policy=way) for way in WAYS}
    assert [t.correct for t in runs["typed"]] == [True, False, True]
    assert [t.correct for t in runs["rewrite"]] == [True, True, False]
    assert [t.correct for t in runs["best"]] == [True, True, True]
    assert runs["best"][1].searched == "When did Richard Teng take over?"
    assert runs["best"][2].searched == "How many users did he report?"  # the typed question won
    assert runs["best"][2].proposed == "How many users did Richard Teng report?"

    score = score_conversation(CONV, runs)
    assert score.correct == {"typed": 1, "rewrite": 1, "best": 2}
    assert score.rewrite_worse_than_typed and not score.rewrite_beats_typed
    assert score.best_beats_typed and not score.best_worse_than_typed

    summary = summarize([score])
    assert summary["best"]["followups_correct"] == 2 and summary["best"]["rewrites_searched"] == 1
    assert summary["rewrite"]["conversations_worse_than_typed"] == 1
    assert summary["best"]["needs_context_better_share"] == 100.0 and summary["typed"]["needs_context_better_share"] is None
    assert score.typed_misses_context and summary["best"]["needs_context_typed_missed"] == 1
    assert summary["best"]["missed_better_share"] == 100.0 and summary["typed"]["missed_better_share"] is None


def test_a_conversation_typed_gets_right_has_nothing_to_win():
    """Marked as needing context, but the typed question already gets it right: it counts among
    the conversations needing context and not among those where no rewriting misses."""
    def lucky(question: str) -> Answer:
        return scripted(question) if question != "When did he take over?" else Answer(
            question=question, abstained=False, short_answer="November 2023", confidence=3.0)

    score = score_conversation(CONV, {way: replay(CONV, ask=lucky, policy=way) for way in WAYS})
    assert score.needs_context and not score.typed_misses_context and not score.best_beats_typed
    summary = summarize([score])
    assert summary["best"]["needs_context_better_share"] == 0.0
    assert summary["best"]["needs_context_typed_missed"] == 0 and summary["best"]["missed_better_share"] is None


def test_report_and_table(tmp_path):
    runs = {way: replay(CONV, ask=scripted, policy=way) for way in WAYS}
    scores = [score_conversation(CONV, runs)]
    run = ConversationRun(conversations_file="conv.jsonl", split="dev", mode="reader", decision_mode="reader",
                          typed_margin=1.0, fingerprint="0" * 64, created="now", czqa_version="0",
                          summary=summarize(scores), conversations=scores)
    assert targets(run) == {"never_worse": True, "better_where_needed": True}
    table = terminal_summary(run)
    assert "dev split · 1 conversations, 2 follow-up turns" in table
    assert "best (when it helps)" in table and "2/2 (100.0%)" in table and "never worse met" in table
    assert "misses a follow-up that needs context (1 of 1 conversations), best is better on 1 (100.0%)" in table
    md = render_markdown(run)
    assert "## Summary" in md and "| s1 | yes | 2 | 1 | 1 | 2 | better |" in md
    assert "searched “How many users did he report?” → “178 million” (right;" in md
    paths = write_report(run, tmp_path / "out")
    assert json.loads(paths["metrics"].read_text())["summary"]["best"]["followups_correct"] == 2
    assert paths["report"].read_text() == md


def test_standalone_questions_measure_a_perfect_rewrite(tmp_path):
    """Each follow-up asked as its hand-written standalone question (as typed where none is
    written), never through the follow-up path; the summary says how much of what they win 'best'
    reaches, and the report shows it as its own row."""
    data = CONV.model_dump()
    data["turns"][1]["standalone"] = "When did Richard Teng take over?"
    conv = Conversation.model_validate(data)
    asked: list[str] = []

    def ask(question: str) -> Answer:
        asked.append(question)
        return scripted(question)

    perfect = replay_standalone(conv, ask=ask)
    assert asked == [t.question for t in CONV.turns[:1]] + ["When did Richard Teng take over?", "How many users did he report?"]
    assert [t.correct for t in perfect] == [True, True, True]
    assert perfect[1].reason == "hand-written standalone question" and perfect[2].reason == "no standalone question written"

    runs = {way: replay(conv, ask=scripted, policy=way) for way in WAYS} | {STANDALONE: perfect}
    score = score_conversation(conv, runs)
    assert score.correct[STANDALONE] == 2 and score.standalone_beats_typed
    summary = summarize([score])
    assert summary[STANDALONE]["needs_context_better_than_typed"] == 1
    assert summary[STANDALONE]["best_better_where_standalone_better"] == 1 and summary[STANDALONE]["best_share_where_standalone_better"] == 100.0

    run = ConversationRun(conversations_file="conv.jsonl", split="dev", mode="reader", decision_mode="reader",
                          typed_margin=1.0, fingerprint="0" * 64, created="now", czqa_version="0",
                          summary=summary, conversations=[score])
    assert "best is better on 1 of those (100.0%)" in terminal_summary(run)
    md = render_markdown(run)
    assert "| standalone (hand-written: a perfect rewrite) | 2/2 (100.0%) | — | — | 1 of 1 (100.0%) |" in md
    assert "| s1 | yes | 2 | 1 | 1 | 2 | better | 2 |" in md
    assert "  - standalone: searched “When did Richard Teng take over?”" in md
    # Without standalone questions nothing of the kind is reported.
    plain = summarize([score_conversation(CONV, {way: replay(CONV, ask=scripted, policy=way) for way in WAYS})])
    assert STANDALONE not in plain


# --- end to end, real models ------------------------------------------------------------------


def test_a_dev_conversation_end_to_end(qa, convs):
    """c17 (dev): "What does it teach?" cannot be answered as typed; the rewrite can."""
    from czqa.eval.conversations import evaluate_conversations

    conv = next(c for c in convs if c.id == "c17")
    assert conv.split == "dev" and conv.needs_context
    run = evaluate_conversations(qa, [conv], split="dev")
    score = run.conversations[0]
    best = score.turns["best"]
    assert best[1].searched == "What does Giggle Academy teach?" and best[1].correct
    assert not score.best_worse_than_typed and score.correct["best"] >= score.correct["typed"]
    assert run.summary["best"]["conversations_worse_than_typed"] == 0
