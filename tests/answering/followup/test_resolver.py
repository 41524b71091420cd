"""Follow-up resolution: real conversations about the seeds, and questions that must stay as typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from czqa.answering.followup.resolver import Turn, resolve_followup
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
        ("When did it happen?", []),
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


_AUXILIARIES = {"did", "was"}


@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12), st.sampled_from(sorted(_AUXILIARIES)), st.integers(0, 12))
def test_questions_without_pronouns_are_never_rewritten(words, auxiliary, at):
    """A question with a verb of its own and no pronoun is never rewritten (fragments such as
    "When?", "How much?" or "The fine?" have none: they carry the previous question's, see
    test_followup_frames.py)."""
    words.insert(at, auxiliary)
    question = " ".join(words) + "?"
    assert resolve_followup(question, [FOUNDER, CEO, PARDON]).resolved == question


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        # A date in an elliptical follow-up takes the place of the previous question's date,
        # keeping its year when it names none.
        ("What about June?", "Which agency sued Binance in March 2023?", "Which agency sued Binance in June 2023?"),
        ("And in 2024?", "Who sued Binance in March 2023?", "Who sued Binance in 2024?"),
        ("What about May 5, 2021?", "What did CZ post on October 24, 2025?", "What did CZ post on May 5, 2021?"),
    ],
)
def test_date_ellipsis_replaces_the_previous_date(question, previous, expected):
    r = resolve_followup(question, [Turn(question=previous)])
    assert r.resolved == expected and r.rewritten


def test_date_ellipsis_also_offers_the_date_as_typed():
    """"June" after "March 2023" means June 2023; a document may say just "in June"."""
    r = resolve_followup("What about June?", [Turn(question="Which agency sued Binance in March 2023?")])
    assert [a.question for a in r.alternatives] == ["Which agency sued Binance in June?"]
    assert resolve_followup("And in 2024?", [Turn(question="Who sued Binance in March 2023?")]).alternatives == []


def test_date_ellipsis_without_a_date_to_replace_adds_one():
    assert resolve_followup("What about June?", [FOUNDER]).resolved == "Who founded Binance in June?"
    assert resolve_followup("And in 2021?", [FOUNDER]).resolved == "Who founded Binance in 2021?"


# --- choosing between the typed and the rewritten question (czqa.answering.followup.choice) --------

from czqa.answering.followup.choice import (  # noqa: E402
    TYPED_MARGIN,
    choose_question,
    next_turn,
    prefer_rewrite,
)
from czqa.answering.followup.conversation import answer_followup
from czqa.types import Answer  # noqa: E402

TYPED = "When did he take over?"
REWRITE = "When did Richard Teng take over?"


def said(question: str, short: str | None = "an answer", *, confidence: float = 1.0) -> Answer:
    """A scripted answer: ``short=None`` declines."""
    return Answer(question=question, abstained=short is None, short_answer=short, confidence=confidence)


class Scripted:
    """A QA-like ``ask``: fixed answers per question, and a record of what was asked."""

    def __init__(self, **answers: Answer) -> None:
        self.answers = {a.question: a for a in answers.values()}
        self.asked: list[str] = []

    def __call__(self, question: str) -> Answer:
        self.asked.append(question)
        return self.answers[question]


@pytest.mark.parametrize(
    ("typed", "rewritten", "keep"),
    [
        # An answer beats a decline, whichever question got it.
        (said(TYPED, "November 2023", confidence=0.1), said(REWRITE, None, confidence=-3.0), "typed"),
        (said(TYPED, None, confidence=-1.6), said(REWRITE, "November 2023", confidence=0.2), "rewrite"),
        # Both declined: nothing to lose, and the rewrite's closest matches are on topic.
        (said(TYPED, None, confidence=-1.0), said(REWRITE, None, confidence=-2.0), "rewrite"),
        # Both answered: the typed question must be more confident by more than the margin.
        (said(TYPED, "a", confidence=5.0), said(REWRITE, "b", confidence=5.0), "rewrite"),
        (said(TYPED, "a", confidence=4.0 + TYPED_MARGIN), said(REWRITE, "b", confidence=4.0), "rewrite"),
        (said(TYPED, "a", confidence=4.01 + TYPED_MARGIN), said(REWRITE, "b", confidence=4.0), "typed"),
        (said(TYPED, "a", confidence=2.0), said(REWRITE, "b", confidence=4.0), "rewrite"),
    ],
)
def test_selection_rule(typed, rewritten, keep):
    verdict = prefer_rewrite(typed, rewritten)
    assert verdict.keep == keep and verdict.reason


def test_margin_is_a_keyword_option():
    typed, rewritten = said(TYPED, "a", confidence=4.5), said(REWRITE, "b", confidence=4.0)
    assert prefer_rewrite(typed, rewritten, margin=0.0).keep == "typed"
    assert prefer_rewrite(typed, rewritten, margin=1.0).keep == "rewrite"


def test_typed_question_wins_when_the_rewrite_loses_the_answer():
    ask = Scripted(t=said(TYPED, "November 2023", confidence=3.0), r=said(REWRITE, None, confidence=-2.0))
    choice = choose_question(resolve_followup(TYPED, [CEO]), decide=ask)
    assert choice.proposed.resolved == REWRITE
    # What is searched, and shown as searched, is the question as typed.
    assert choice.searched.resolved == choice.searched.asked == TYPED and not choice.searched.rewritten
    assert not choice.kept_rewrite and choice.compared
    assert choice.answer.short_answer == "November 2023"
    assert sorted(ask.asked) == sorted([TYPED, REWRITE])
    assert "found no answer" in choice.reason


def test_rewrite_wins_when_it_helps():
    ask = Scripted(t=said(TYPED, None, confidence=-1.6), r=said(REWRITE, "November 2023", confidence=4.8))
    choice = choose_question(resolve_followup(TYPED, [CEO]), decide=ask)
    assert choice.kept_rewrite and choice.searched.resolved == REWRITE and choice.searched.asked == TYPED
    assert (choice.typed_confidence, choice.rewrite_confidence) == (-1.6, 4.8)


def test_a_question_that_was_not_rewritten_is_answered_once():
    ask = Scripted(q=said("Who founded Binance?", "Changpeng Zhao"))
    choice, answer = answer_followup("Who founded Binance?", [CEO], ask=ask)
    assert ask.asked == ["Who founded Binance?"] and not choice.compared
    assert answer.short_answer == "Changpeng Zhao" and choice.searched == choice.proposed


@pytest.mark.parametrize(("policy", "searched"), [("typed", TYPED), ("rewrite", REWRITE)])
def test_fixed_policies_answer_once_without_comparing(policy, searched):
    ask = Scripted(t=said(TYPED, "x"), r=said(REWRITE, "y"))
    choice, _ = answer_followup(TYPED, [CEO], ask=ask, policy=policy)
    assert ask.asked == [searched] and choice.searched.resolved == searched and not choice.compared


def test_best_reuses_the_deciding_answer():
    ask = Scripted(t=said(TYPED, None, confidence=-1.0), r=said(REWRITE, "November 2023", confidence=4.0))
    choice, answer = answer_followup(TYPED, [CEO], ask=ask)
    assert sorted(ask.asked) == sorted([TYPED, REWRITE])  # two answers, not three
    assert answer is choice.answer and answer.question == REWRITE


def test_a_separate_decider_chooses_and_ask_answers_only_the_chosen_question():
    """The LLM-mode path: the cheap default mode decides, the generating mode answers once."""
    decide = Scripted(t=said(TYPED, "November 2023", confidence=3.0), r=said(REWRITE, None, confidence=-2.0))
    ask = Scripted(t=said(TYPED, "generated reply"), r=said(REWRITE, "unused"))
    choice, answer = answer_followup(TYPED, [CEO], ask=ask, decide=decide)
    assert ask.asked == [TYPED] and answer.short_answer == "generated reply"
    assert len(decide.asked) == 2 and not choice.kept_rewrite


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="Unknown follow-up policy"):
        choose_question(resolve_followup(TYPED, [CEO]), decide=Scripted(), policy="sometimes")


def test_next_turn_remembers_what_the_question_meant():
    """Even when the typed question was searched, a later "he" still means the same person."""
    ask = Scripted(t=said(TYPED, "November 2023", confidence=3.0), r=said(REWRITE, None, confidence=-2.0))
    choice, answer = answer_followup(TYPED, [CEO], ask=ask)
    turn = next_turn(choice, answer)
    assert turn.question == REWRITE and turn.short_answer == "November 2023" and not turn.abstained
    assert resolve_followup("Where is he based?", [CEO, turn]).resolved == "Where is Richard Teng based?"
