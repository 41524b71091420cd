"""Follow-up resolution: real conversations about the seeds, and questions that must stay as typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from czqa.answering.followup import Turn, resolve_followup
from czqa.answering.names import find_names as entities

FOUNDER = Turn(question="Who founded Binance?", short_answer="Changpeng Zhao")
# The short answer the extractive answerer actually gives today: a name inside a longer span.
FOUNDER_AS_EXTRACTED = Turn(question="Who founded Binance?", short_answer="Zhao Changpeng’s Early-Stage Binance")
CEO = Turn(question="Who replaced Changpeng Zhao as Binance's CEO?", short_answer="Richard Teng")
SENTENCED = Turn(question="When was Changpeng Zhao sentenced?", short_answer="April 30, 2024")
PARDON = Turn(question="Who pardoned Changpeng Zhao?", short_answer="Donald Trump")
FINE = Turn(question="How much did Binance agree to pay?", short_answer="$4.32 billion")


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("When was he sentenced?", [FOUNDER], "When was Changpeng Zhao sentenced?"),
        ("When was he sentenced?", [FOUNDER_AS_EXTRACTED], "When was Zhao Changpeng sentenced?"),
        ("When was it founded?", [FOUNDER], "When was Binance founded?"),
        # Only the first mention of a referent is replaced; "his" stays readable.
        ("Where did he serve his sentence?", [SENTENCED], "Where did Changpeng Zhao serve his sentence?"),
        ("What did his letter to the judge say?", [FOUNDER], "What did Changpeng Zhao's letter to the judge say?"),
        # Subject and object are two different people.
        ("Why did he pardon him?", [PARDON], "Why did Donald Trump pardon Changpeng Zhao?"),
        # An object pronoun is never the clause's own subject.
        ("Why did Trump pardon him?", [SENTENCED], "Why did Trump pardon Changpeng Zhao?"),
        ("What did he say about his first 100 days?", [CEO], "What did Richard Teng say about his first 100 days?"),
        ("How much did they pay?", [Turn(question="What was Binance accused of?")], "How much did Binance pay?"),
        (
            "When did they meet?",
            [Turn(question="Who co-founded Binance?", short_answer="Changpeng Zhao and He Yi")],
            "When did Changpeng Zhao and He Yi meet?",
        ),
        (
            "What is her role at Binance?",
            [Turn(question="Who is the co-founder of Binance?", short_answer="He Yi")],
            "What is He Yi's role at Binance?",
        ),
        # Two-letter initials are a person: "him" may mean CZ.
        ("Why did he pardon him?", [Turn(question="Who pardoned CZ?", short_answer="Trump")], "Why did Trump pardon CZ?"),
        # Elliptical follow-ups ask the previous question about a new name of the same kind.
        ("What about He Yi?", [SENTENCED], "When was He Yi sentenced?"),
        ("And Coinbase?", [FOUNDER], "Who founded Coinbase?"),
        # The most recent turn wins over older ones.
        ("When did he take over?", [FOUNDER, CEO], "When did Richard Teng take over?"),
    ],
)
def test_follow_up_is_resolved(question, history, expected):
    r = resolve_followup(question, history)
    assert r.resolved == expected
    assert r.rewritten and r.asked == question and r.substitutions


@pytest.mark.parametrize(
    ("question", "history"),
    [
        # Self-contained questions, whatever came before.
        ("How much did Binance agree to pay?", [FOUNDER]),
        ("Who replaced Changpeng Zhao as Binance's CEO?", [SENTENCED]),
        ("When was Changpeng Zhao sentenced?", [CEO]),
        # The question names its own referent.
        ("Did Changpeng Zhao say he was sorry?", [PARDON]),
        ("Did CZ say he was sorry?", [PARDON]),
        ("How much did Binance say it paid?", [Turn(question="Who founded OKCoin?", short_answer="Star Xu")]),
        # Expletive or event "it" is not a stand-in for a name.
        ("Is it true that Binance paid a fine?", [FOUNDER]),
        ("When did it happen?", [FOUNDER]),
        # "He Yi" is a name, not a pronoun.
        ("He Yi co-founded which company?", [CEO]),
        # Nothing earlier to refer to.
        ("When was he sentenced?", []),
        # After an amount, "it" is that amount (the fine), not the company asked about.
        ("Who paid it?", [FINE]),
    ],
)
def test_question_is_left_alone(question, history):
    r = resolve_followup(question, history)
    assert r.resolved == question
    assert not r.rewritten and r.substitutions == []


def test_a_second_person_must_be_a_person():
    """"her" after "he" took He Yi: no other person is known, and "Binance" is not one."""
    history = [Turn(question="Who is the co-founder of Binance?", short_answer="He Yi")]
    assert resolve_followup("When did he meet her?", history).resolved == "When did He Yi meet her?"


def test_abstained_turn_offers_only_its_question():
    declined = Turn(question="Who won the 1998 chess olympiad?", short_answer="Garry Kasparov", abstained=True)
    assert resolve_followup("When was he born?", [declined]).resolved == "When was he born?"


def test_chained_turns_use_the_resolved_question():
    """A follow-up of a follow-up: the stored turn holds what was searched, not what was typed."""
    first = resolve_followup("What did he say about his first 100 days?", [CEO])
    second = resolve_followup("Where is he based?", [CEO, Turn(question=first.resolved)])
    assert second.resolved == "Where is Richard Teng based?"


def test_white_space_is_folded():
    assert resolve_followup("  When was   he sentenced? ", [FOUNDER]).resolved == "When was Changpeng Zhao sentenced?"


def test_entities_split_possessives_and_keep_connectors():
    names = entities("Zhao Changpeng’s Early-Stage Binance met the Department of Justice and He Yi in Dubai.")
    assert [(e.text, e.kind) for e in names] == [
        ("Zhao Changpeng", "person"),
        ("Early-Stage Binance", "person"),
        ("Department of Justice", "org"),
        ("He Yi", "person"),
        ("Dubai", "unknown"),
    ]


_WORDS = ["Who", "When", "did", "Binance", "Changpeng", "Zhao", "pay", "the", "fine", "CEO", "sentenced", "was", "Richard", "Teng", "in", "2024", "what", "how", "much"]


@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12))
def test_questions_without_pronouns_are_never_rewritten(words):
    question = " ".join(words) + "?"
    assert resolve_followup(question, [FOUNDER, CEO, PARDON]).resolved == question
