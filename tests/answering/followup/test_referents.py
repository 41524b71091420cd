"""Which earlier thing a pronoun stands for: the subject over a cited source, values that look
like values, and common-noun things with no name to find."""

from __future__ import annotations

import pytest

from czqa.answering.followup.resolver import Turn, resolve_followup
from czqa.answering.followup.referents import looks_like_value, salience, subject_first, things
from czqa.answering.names import find_names


def test_the_subject_of_the_previous_question_outranks_the_source_it_cites():
    history = [Turn(question="According to The Daily Ledger, when did Acme begin courting regulators?", short_answer="in 2021")]
    r = resolve_followup("What did it form then?", history)
    # "Daily Ledger" reads as a person's name by its shape; the subject wins, and a date is no value.
    # "then" is the previous answer's time (czqa.answering.followup.anaphora), tried first.
    assert r.resolved == "What did Acme form in 2021?"
    assert [a.question for a in r.alternatives] == ["What did Acme form then?"]


def test_salience_and_subject_order():
    q = "According to The Daily Ledger, when did Acme begin courting Ming Yao?"
    names = find_names(q)
    assert [n.text for n in subject_first(q, names)][0] == "Acme"
    assert salience(q, names) == {"Acme": 1, "Daily Ledger": -1, "Ming Yao": 0}


@pytest.mark.parametrize(
    ("answer", "value"),
    [("$4.3 billion", True), ("30%", True), ("three", True), ("hundreds of people", True), ("$2 billion in March 2025", True),
     ("March 2023", False), ("in 2021", False), ("September 27, 2024", False), ("early 2017", False),
     ("surged, hitting an all-time high", False), ("a dedicated team", False)],
)
def test_looks_like_value(answer, value):
    assert looks_like_value(answer) is value


def test_it_after_an_answer_that_is_not_a_value_still_means_the_thing_asked_about():
    history = [Turn(question="What happened to Acme's shares after the merger?", short_answer="surged, hitting a record")]
    assert resolve_followup("What price did it reach?", history).resolved == "What price did Acme reach?"
    # after a value, "it" is that value (the amount), which no rewrite can name
    fined = [Turn(question="How much did Acme agree to pay?", short_answer="$4.3 billion")]
    assert not resolve_followup("Who received it?", fined).rewritten


def test_it_meaning_a_common_noun_of_the_previous_question():
    history = [Turn(question="What was the salon's theme?", short_answer="Mining Futures")]
    r = resolve_followup("And where was it held?", history)
    assert "And where was the salon held?" in [x.question for x in r.readings]
    assert things("What was the salon's theme?", plural=False) == ["the salon"]
    assert things("How much does the stablecoin earn for the family?", plural=False) == ["the stablecoin", "the family"]
    assert things("Where were the guides published?", plural=True) == ["the guides"]
    # time words and a following verb are not taken for the thing
    assert things("Who came in the winter of 2014?", plural=False) == []


def test_a_name_still_comes_before_a_common_noun():
    history = [Turn(question="When did the board of Acme meet?", short_answer="May 2020")]
    r = resolve_followup("What did it decide?", history)
    assert r.resolved == "What did Acme decide?"
    assert "What did the board decide?" in [x.question for x in r.readings]
