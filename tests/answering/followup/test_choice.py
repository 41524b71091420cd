"""Choosing among a follow-up's readings and the question as typed (czqa.answering.followup.choice):
several readings, answers that only repeat the referent, the kind of answer asked for, and
rewrites whose answers say nothing about what the question itself asked."""

from __future__ import annotations

import pytest

from czqa.answering.followup.choice import (
    best_reading,
    choose_question,
    fits,
    next_turn,
    not_again,
    prefer_rewrite,
    restates,
)
from czqa.answering.followup.resolver import Reading, Resolution, Turn
from czqa.answering.followup.conversation import answer_followup
from czqa.types import Answer, Citation, Claim


def said(question: str, short: str | None = "an answer", *, confidence: float = 1.0, quote: str = "") -> Answer:
    """A scripted answer: ``short=None`` declines; ``quote`` is the sentence it rests on."""
    claims = [Claim(text=short, citations=[Citation(source="a.txt", start=0, end=len(quote), quote=quote)])] if quote else []
    return Answer(question=question, abstained=short is None, short_answer=short, confidence=confidence, claims=claims)


class Scripted:
    def __init__(self, *answers: Answer) -> None:
        self.answers = {a.question: a for a in answers}
        self.asked: list[str] = []

    def __call__(self, question: str) -> Answer:
        self.asked.append(question)
        return self.answers[question]


# --- several readings ---------------------------------------------------------------------------

HOW_MUCH = Resolution(
    asked="How much was it?",
    resolved="How much MGX invested in Acme?",
    about=["MGX"],
    alternatives=[Reading(question="How much was MGX?", about=["MGX"])],
)


def test_every_reading_is_answered_and_the_best_supported_is_compared_with_the_typed_question():
    ask = Scripted(
        said("How much was it?", None, confidence=-2.0),
        said("How much MGX invested in Acme?", "$2 billion", confidence=3.0),
        said("How much was MGX?", "$2 billion", confidence=5.0),
    )
    choice = choose_question(HOW_MUCH, decide=ask)
    assert sorted(ask.asked) == sorted(["How much was it?", "How much MGX invested in Acme?", "How much was MGX?"])
    assert choice.kept_rewrite and choice.searched.resolved == "How much was MGX?"
    assert choice.searched.asked == "How much was it?" and choice.searched.about == ["MGX"]
    assert choice.proposed == HOW_MUCH and choice.rewrite_confidence == 5.0
    # What the conversation remembers is the reading that was searched.
    assert next_turn(choice, choice.answer).question == "How much was MGX?"


def test_the_fixed_rewrite_policy_searches_only_the_first_reading():
    ask = Scripted(said("How much MGX invested in Acme?", "$2 billion"))
    choice = choose_question(HOW_MUCH, decide=ask, policy="rewrite")
    assert choice.searched.resolved == "How much MGX invested in Acme?" and ask.asked == []
    _, answer = answer_followup("How much was it?", [Turn(question="Which firm invested in Acme?", short_answer="MGX")], ask=ask, policy="rewrite")
    assert ask.asked == ["How much MGX invested in Acme?"] and answer.short_answer == "$2 billion"


def test_an_answer_that_repeats_the_referent_answers_nothing():
    """"What did OKCoin later become?" "OKCoin": confident, and no answer at all."""
    assert restates(said("q", "OKCoin"), ["OKCoin"])
    assert restates(said("q", "UAE firm MGX"), ["MGX"])  # the referent and a word or two
    assert not restates(said("q", "OKEX"), ["OKCoin"])
    assert not restates(said("q", "April to September 2024, he served his sentence at Lompoc"), ["Lompoc"])
    assert not restates(said("q", None), ["OKCoin"])


def test_a_restating_reading_loses_to_one_that_answers():
    resolution = Resolution(
        asked="What did it later become?",
        resolved="What did OKCoin later become?",
        about=["OKCoin"],
        alternatives=[Reading(question="What did the exchange that Zhao left later become?", about=["OKCoin"])],
    )
    ask = Scripted(
        said("What did it later become?", "big shots", confidence=4.3),
        said("What did OKCoin later become?", "OKEX", confidence=3.8),
        said("What did the exchange that Zhao left later become?", "OKCoin", confidence=5.1),
    )
    choice = choose_question(resolution, decide=ask)
    assert choice.searched.resolved == "What did OKCoin later become?" and choice.answer.short_answer == "OKEX"


def test_when_every_reading_restates_the_typed_question_is_searched():
    resolution = Resolution(asked="What did it become?", resolved="What did OKCoin become?", about=["OKCoin"])
    ask = Scripted(said("What did it become?", None, confidence=-1.0), said("What did OKCoin become?", "OKCoin", confidence=5.0))
    choice = choose_question(resolution, decide=ask)
    assert not choice.kept_rewrite and "repeats" in choice.reason


# --- the kind of answer asked for ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (said("When did it launch?", "January"), True),
        (said("When did it launch?", "in 2024"), True),
        (said("When did it launch?", "at that time"), False),
        (said("How much was the fine?", "$4.3 billion"), True),
        (said("How many charges?", "thirteen"), True),
        (said("How many charges?", "the SEC"), False),
        (said("How long was the term?", "four months"), True),
        (said("Which court sentenced him?", "U.S. District Court"), True),
        (said("Which court sentenced him?", "Lompoc Federal Prison"), False),
        # The kind may be named in the quote rather than the short answer.
        (said("Which court sentenced him?", "Seattle", quote="the District Court in Seattle sentenced him"), True),
        # No expectation: "who", "what" without a noun, or no answer.
        (said("Who ran it?", "underprivileged children"), None),
        (said("What did it provide?", "wallets"), None),
        (said("When did it launch?", None), None),
    ],
)
def test_fits(answer, expected):
    assert fits(answer) is expected


def test_the_answer_of_the_kind_asked_for_wins_over_confidence():
    """"Which court sentenced him?": the typed question found a court, the rewrite a prison."""
    typed = said("Which court sentenced him?", "U.S. District Court", confidence=3.9)
    rewritten = said("Which court sentenced Ming Yao?", "Lompoc Federal Prison", confidence=5.2)
    assert prefer_rewrite(typed, rewritten).keep == "typed"
    typed = said("When did it launch?", "at that time", confidence=5.0)
    rewritten = said("When did Gulf Acme launch?", "January", confidence=2.0)
    assert prefer_rewrite(typed, rewritten).keep == "rewrite"


def test_readings_are_ranked_by_the_kind_of_answer_before_confidence():
    answers = [said("When did Acme launch?", "at that time", confidence=2.7), said("When did the venture launch?", "January", confidence=2.5)]
    assert best_reading(answers) == 1
    assert best_reading([said("q", None, confidence=9.0), said("q", "x", confidence=1.0)]) == 1
    assert best_reading([said("q", "x", confidence=9.0), said("q", "y", confidence=1.0)], [True, False]) == 1


# --- a rewrite's answer must be about what the question itself asked ----------------------------


def test_a_reading_whose_answer_is_about_what_was_asked_wins_over_a_more_confident_one():
    """"What about June?": "... in June 2023?" found the March sentence, "... in June?" the June one."""
    resolution = Resolution(
        asked="What about June?",
        resolved="Which agency sued Acme in June 2023?",
        alternatives=[Reading(question="Which agency sued Acme in June?")],
    )
    ask = Scripted(
        said("What about June?", None, confidence=-7.0),
        said("Which agency sued Acme in June 2023?", "CFTC", confidence=4.8, quote="In March 2023 the CFTC sued Acme."),
        said("Which agency sued Acme in June?", "SEC", confidence=4.7, quote="Then in June, the SEC filed 13 charges."),
    )
    choice = choose_question(resolution, decide=ask)
    assert choice.kept_rewrite and choice.answer.short_answer == "SEC"
    assert best_reading([ask.answers["Which agency sued Acme in June 2023?"], ask.answers["Which agency sued Acme in June?"]]) == 0


@pytest.mark.parametrize(
    ("typed_q", "rewritten_q", "short", "quote"),
    [
        # "What about June?": the answer rests on a sentence about March.
        ("What about June?", "Which agency sued Acme in June 2023?", "CFTC", "In March 2023 the CFTC sued Acme."),
        ("What about the SEC?", "When did the SEC sue Acme?", "March 2023", "In March 2023 the CFTC sued Acme."),
        # A noun the question asks about that the answer never mentions.
        ("What about his cellmate?", "In which state is Ming Yao's cellmate?", "a venture capitalist", "Ming Yao met a venture capitalist."),
    ],
)
def test_a_decline_stands_when_the_rewrite_answers_something_else(typed_q, rewritten_q, short, quote):
    typed = said(typed_q, None, confidence=-2.0)
    rewritten = said(rewritten_q, short, confidence=4.8, quote=quote)
    verdict = prefer_rewrite(typed, rewritten)
    assert verdict.keep == "typed" and "says nothing about" in verdict.reason


@pytest.mark.parametrize(
    ("typed_q", "rewritten_q", "short", "quote"),
    [
        ("What about June?", "Which agency sued Acme in June 2023?", "SEC", "Then in June, the SEC filed 13 charges."),
        ("And in 2021?", "What was Acme's valuation in 2021?", "$200 billion", "the rumored $200 billion in 2021"),
        ("When did he take over?", "When did Richard Teng take over?", "November 2023", "replaced with Richard Teng in November 2023"),
    ],
)
def test_a_rewrite_about_what_was_asked_replaces_a_decline(typed_q, rewritten_q, short, quote):
    assert prefer_rewrite(said(typed_q, None, confidence=-2.0), said(rewritten_q, short, confidence=1.0, quote=quote)).keep == "rewrite"


def test_a_question_of_its_own_is_not_held_to_its_words():
    """Only an elliptical question is all new slot: "his first 100 days" need not be quoted for
    the rewrite's answer to replace a decline (the reader's confidence weighs those words)."""
    typed = said("What did he say about his first 100 days?", None, confidence=-2.0)
    rewritten = said("What did Richard Teng say about his first 100 days?", "November 2023", confidence=3.0)
    assert prefer_rewrite(typed, rewritten).keep == "rewrite"


def test_next_turn_keeps_the_proposal_when_the_typed_question_was_searched():
    ask = Scripted(said("How much was it?", "$2 billion", confidence=9.0), said("How much MGX invested in Acme?", None), said("How much was MGX?", None))
    choice = choose_question(HOW_MUCH, decide=ask)
    assert not choice.kept_rewrite
    assert next_turn(choice, choice.answer) == Turn(question="How much MGX invested in Acme?", short_answer="$2 billion")


# --- "who else?" ----------------------------------------------------------------------------------

CO_FOUNDED = [Turn(question="Who co-founded Moji Weather?", short_answer="Zhao Dong", abstained=False)]


@pytest.mark.parametrize("question", ["Who else co-founded it?", "What else did he found?", "Did anyone else co-found it?"])
def test_asking_for_another_answer_declines_the_one_already_given(question):
    answer = said(question, "Zhao Dong", confidence=3.3, quote="Moji Weather co-founded by Zhao Dong")
    got = not_again(question, CO_FOUNDED, answer)
    assert got.abstained and got.short_answer is None and not got.claims
    assert "Zhao Dong, already given" in got.declined_reason


def test_another_answer_or_a_question_without_else_is_kept():
    other = said("Who else co-founded it?", "Li Tianfu", confidence=2.0)
    assert not_again("Who else co-founded it?", CO_FOUNDED, other) is other
    same = said("Who co-founded it?", "Zhao Dong")
    assert not_again("Who co-founded it?", CO_FOUNDED, same) is same
    assert not_again("Who else co-founded it?", [], said("Who else co-founded it?", "Zhao Dong")).short_answer == "Zhao Dong"


def test_answer_followup_applies_it():
    ask = Scripted(said("Who else co-founded it?", "Zhao Dong"), said("Who else co-founded Moji Weather?", "Zhao Dong"))
    _, answer = answer_followup("Who else co-founded it?", CO_FOUNDED, ask=ask)
    assert answer.abstained
