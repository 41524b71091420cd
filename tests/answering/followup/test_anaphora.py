"""Follow-ups that point back at the previous answer without a pronoun
(czqa.answering.followup.anaphora): "then" after a when-question, "and after that?", "that team";
and how resolve_followup offers them."""

from __future__ import annotations

import pytest

from czqa.answering.followup.resolver import Turn, resolve_followup
from czqa.answering.followup.anaphora import answer_phrase_reading, sequel_rewrite, time_phrase, time_reading


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("2019", "in 2019"),
        ("November 2023", "in November 2023"),
        ("early 2017", "in early 2017"),
        ("March 13, 2025", "on March 13, 2025"),
        ("Friday, March 14", "on Friday, March 14"),
        ("in 2021", "in 2021"),
        ("around the 2024 U.S. election", "around the 2024 U.S. election"),
        # A year that starts a noun phrase is no date: "in 2024 U.S. election" reads wrong.
        ("2024 U.S. election", "at the time of the 2024 U.S. election"),
        ("the pandemic", "at the time of the pandemic"),
    ],
)
def test_time_phrase(answer, phrase):
    assert time_phrase(answer) == phrase


def test_then_is_the_previous_when_answer():
    when = "According to The Daily Ledger, around when did Acme begin courting regulators?"
    assert time_reading("What did Acme form then?", when, "2024 U.S. election") == "What did Acme form at the time of the 2024 U.S. election?"
    assert time_reading("Who led Acme at that time?", "When did Acme enter Japan?", "November 2023") == "Who led Acme in November 2023?"


@pytest.mark.parametrize(
    ("question", "previous", "answer"),
    [
        ("What did Acme form then?", "Who founded Acme?", "Ming Yao"),  # no when-question: "then" is no time
        ("What did Acme form then?", "When did Acme enter Japan?", None),  # declined: nothing to put in
        ("Then?", "When did Acme enter Japan?", "2019"),  # nothing left but the "then"
        ("Then who paid the fine?", "When did Acme pay?", "2019"),  # "then" as "so"
    ],
)
def test_then_left_alone(question, previous, answer):
    assert time_reading(question, previous, answer) is None


def test_after_that_replaces_the_previous_after_phrase():
    previous = "After Japan, where did Acme next relocate its headquarters?"
    assert sequel_rewrite("after that", previous, "Malta") == "After Malta, where did Acme next relocate its headquarters?"
    assert sequel_rewrite("before that?", "Where was Acme based before 2019?", "2017") == "Where was Acme based before 2017?"
    # No "after" phrase to replace: one is added.
    assert sequel_rewrite("after that", "Where did Acme move its headquarters?", "Malta") == "Where did Acme move its headquarters after Malta?"
    assert sequel_rewrite("after that", previous, None) is None
    assert sequel_rewrite("after lunch", previous, "Malta") is None


def test_after_that_through_resolve_followup():
    history = [Turn(question="After Japan, where did Acme next relocate its headquarters?", short_answer="Malta")]
    assert resolve_followup("And after that?", history).resolved == "After Malta, where did Acme next relocate its headquarters?"
    declined = [Turn(question="After Japan, where did Acme next relocate its headquarters?", abstained=True)]
    assert not resolve_followup("And after that?", declined).rewritten


def test_that_noun_is_the_previous_answer():
    assert answer_phrase_reading("What was that team meant to explore?", "a dedicated team") == "What was the dedicated team meant to explore?"
    assert answer_phrase_reading("When was the deal signed?", "a $2 billion deal") == "When was the $2 billion deal signed?"
    assert answer_phrase_reading("What was that team meant to explore?", "team") is None  # the noun says it all
    assert answer_phrase_reading("When was the company founded?", "Acme's parent company") == "When was Acme's parent company founded?"
    assert answer_phrase_reading("What was that team meant to explore?", "Ming Yao") is None
    assert answer_phrase_reading("What was the office like?", "a dedicated team") is None


def test_then_and_that_through_resolve_followup():
    history = [Turn(question="According to The Daily Ledger, around when did Acme begin courting regulators?", short_answer="2024 U.S. election")]
    r = resolve_followup("What did it form then?", history)
    assert r.resolved == "What did Acme form at the time of the 2024 U.S. election?"
    assert [a.question for a in r.alternatives] == ["What did Acme form then?"]
    history.append(Turn(question=r.resolved, short_answer="a dedicated team"))
    assert resolve_followup("What was that team meant to explore?", history).resolved == "What was the dedicated team meant to explore?"
