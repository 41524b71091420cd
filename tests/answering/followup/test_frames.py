"""Follow-ups that leave out the previous question's frame (czqa.answering.followup.frames), and
how resolve_followup offers them: wh-fragments, phrase ellipsis, bare noun phrases, and "it"
described by the question that introduced it."""

from __future__ import annotations

import pytest

from czqa.answering.followup.resolver import Turn, resolve_followup
from czqa.answering.followup.frames import describe, fragment_rewrite, parse_frame, phrase_rewrites

# --- reading a question's frame ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "wh", "noun", "rest", "subject"),
    [
        ("Where did Ming Yao serve his sentence?", "Where", "", "did Ming Yao serve his sentence", False),
        ("Which firm invested in Acme in March 2025?", "Which firm", "firm", "invested in Acme in March 2025", True),
        ("Which joint venture launched in Thailand?", "Which joint venture", "joint venture", "launched in Thailand", True),
        ("How many registered users did he report?", "How many registered users", "registered users", "did he report", False),
        ("How long was his prison term?", "How long", "", "was his prison term", False),
        ("In which state is the prison?", "In which state", "state", "is the prison", False),
        ("Who replaced Ming Yao as CEO?", "Who", "", "replaced Ming Yao as CEO", True),
        ("Who did the governor pardon?", "Who", "", "did the governor pardon", False),
        # "kind of" belongs to the wh-phrase: the question asks about the labs.
        ("What kind of labs would he like to fund?", "What kind of labs", "kind of labs", "would he like to fund", False),
    ],
)
def test_frame(question, wh, noun, rest, subject):
    f = parse_frame(question)
    assert (f.wh, f.noun, f.rest, f.subject) == (wh, noun, rest, subject)


@pytest.mark.parametrize("question", ["Did Acme pay?", "Acme paid how much?", "When?"])
def test_no_frame(question):
    assert parse_frame(question) is None


# --- wh-fragments: "When?" ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "previous", "answer", "expected"),
    [
        ("When?", "Where did Ming Yao serve his sentence?", "Lompoc", "When did Ming Yao serve his sentence?"),
        ("And why?", "Where did Ming Yao serve his sentence?", None, "Why did Ming Yao serve his sentence?"),
        ("How many charges?", "When did the SEC sue Acme?", "June", "How many charges did the SEC sue Acme?"),
        ("How long exactly?", "Where did Ming Yao serve his sentence?", None, "How long did Ming Yao serve his sentence?"),
        # An event referred to as "that"/"it ... happen" is the previous question's event.
        ("When was that?", "What did Ming Yao admit to in court?", None, "When did Ming Yao admit to in court?"),
        ("Why did it happen?", "What did Ming Yao admit to in court?", None, "Why did Ming Yao admit to in court?"),
        # "How much was it?": the amount of what the previous question was about.
        ("How much was it?", "Which firm invested in Acme?", "MGX", "How much MGX invested in Acme?"),
        # The previous wh-phrase was the subject: its answer (or "the firm") takes its place.
        ("When?", "Which firm invested in Acme?", "MGX", "When MGX invested in Acme?"),
        ("When?", "Which firm invested in Acme?", None, "When the firm invested in Acme?"),
    ],
)
def test_fragment_takes_the_previous_frame(question, previous, answer, expected):
    assert fragment_rewrite(question, previous, answer) == expected


@pytest.mark.parametrize(
    ("question", "previous"),
    [
        ("Who?", "Who pardoned Ming Yao?"),  # the same wh-phrase: nothing to carry over
        ("In which state is it?", "Which prison held Ming Yao?"),  # "it" is a thing, not an event
        ("What is it?", "Which prison held Ming Yao?"),
        ("How was it paid?", "Which firm invested in Acme?"),  # a question with a verb of its own
        ("When?", "Did Acme pay a fine?"),  # no wh-frame to carry
        ("What about June?", "When did the SEC sue Acme?"),  # an ellipsis, not a fragment
    ],
)
def test_not_a_fragment(question, previous):
    assert fragment_rewrite(question, previous, "x") is None


# --- phrase ellipsis: "And in forfeitures?", "And the head of marketing?" --------------------------


@pytest.mark.parametrize(
    ("phrase", "previous", "first"),
    [
        # A prepositional phrase takes the place of the one with the same preposition...
        ("in forfeitures", "How much did Acme agree to pay in November 2023?", "How much did Acme agree to pay in forfeitures?"),
        ("for fraud", "Who sued Acme in 2023 for tax evasion?", "Who sued Acme in 2023 for fraud?"),
        # ... or is added when there is none.
        ("in 2021", "What was Acme's valuation?", "What was Acme's valuation in 2021?"),
        # A noun phrase fills the noun after a possessive...
        ("the head of marketing", "Who was Acme's technical director in 2014?", "Who was Acme's head of marketing in 2014?"),
        # ... the object of the last preposition ...
        ("criminal penalties", "How much did Acme agree to pay in forfeitures?", "How much did Acme agree to pay in criminal penalties?"),
        # ... or a noun phrase after a determiner.
        ("the judge", "When did Ming Yao meet the venture capitalist?", "When did Ming Yao meet the judge?"),
        # No slot ("agree to pay" is an infinitive, not an object): the frame asks about the phrase.
        ("the fine", "How much did Acme agree to pay?", "How much was the fine?"),
        ("The fine", "How much did Acme agree to pay?", "How much was the fine?"),
    ],
)
def test_phrase_takes_its_slot(phrase, previous, first):
    assert phrase_rewrites(phrase, previous)[0] == first


def test_a_question_about_what_something_is_also_asks_about_the_phrase_itself():
    """"Who was Acme's CTO?" "And the head of marketing?": also "Who was the head of marketing?"."""
    assert phrase_rewrites("the head of marketing", "Who was Acme's technical director in 2014?") == [
        "Who was Acme's head of marketing in 2014?",
        "Who was the head of marketing?",
    ]


def test_phrase_needs_a_wh_question_before_it():
    assert phrase_rewrites("the fine", "Did Acme pay?") == []


# --- describing what a which- or who-question asked about ------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which firm invested in Acme in March 2025?", ("the firm that invested in Acme in March 2025", False)),
        ("Which company did Ming Yao join after college?", ("the company that Ming Yao joined after college", False)),
        ("Which exchange did Ming Yao leave to found Acme?", ("the exchange that Ming Yao left to found Acme", False)),
        ("Who did the governor pardon before Ming Yao?", ("the person that the governor pardoned before Ming Yao", True)),
        ("Who replaced Ming Yao as CEO?", ("the person that replaced Ming Yao as CEO", True)),
    ],
)
def test_describe(question, expected):
    assert describe(question) == expected


@pytest.mark.parametrize("question", ["When was Ming Yao sentenced?", "How much did Acme pay?", "Who is Acme's CEO?"])
def test_nothing_to_describe(question):
    assert describe(question) is None


# --- through resolve_followup ---------------------------------------------------------------------

SENTENCE = Turn(question="Where did Ming Yao serve his sentence?", short_answer="Lompoc Federal Prison")
FINE = Turn(question="How much did Acme agree to pay in November 2023?", short_answer="$4.32 billion")
SUED = Turn(question="When did the CFTC sue Acme?", short_answer="March 2023")
JOINED = Turn(question="Which company did Ming Yao join after meeting a venture capitalist?", short_answer="Ming Yao")
MET = Turn(question="When did Ming Yao meet the venture capitalist?", short_answer="2013")


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("When?", [SENTENCE], "When did Ming Yao serve his sentence?"),
        ("And in forfeitures?", [FINE], "How much did Acme agree to pay in forfeitures?"),
        ("What about criminal penalties?", [Turn(question="How much did Acme agree to pay in forfeitures?")], "How much did Acme agree to pay in criminal penalties?"),
        ("The fine?", [Turn(question="How much did Acme agree to pay?")], "How much was the fine?"),
        ("In 2021?", [Turn(question="What was Acme's valuation?")], "What was Acme's valuation in 2021?"),
        # One article, not two.
        ("What about the SEC?", [SUED], "When did the SEC sue Acme?"),
        # A phrase that holds a name and more is a phrase: "the CTO of Docin" is not just a name.
        ("What about the CTO of Docin?", [Turn(question="Who was Acme's head of marketing?")], "Who was Acme's CTO of Docin?"),
        # A name of the same kind is swapped for the new one.
        ("What about Li Lin?", [Turn(question="Which exchange is Xu Mingxing associated with?")], "Which exchange is Li Lin associated with?"),
        # A pronoun in the phrase is resolved too.
        ("What about his cellmate?", [SENTENCE, Turn(question="In which state is Lompoc Federal Prison?")], "In which state is Ming Yao's cellmate?"),
        # "it" with no name to stand for: what the earlier which-question asked about.
        ("What did it provide?", [JOINED, MET], "What did the company that Ming Yao joined after meeting a venture capitalist provide?"),
    ],
)
def test_resolved_from_the_frame(question, history, expected):
    r = resolve_followup(question, history)
    assert r.resolved == expected and r.rewritten and r.substitutions


def test_fragment_reading_remembers_the_previous_answer_it_must_not_repeat():
    r = resolve_followup("When?", [SENTENCE])
    assert r.about == ["Lompoc Federal Prison"]


def test_several_readings_come_back_as_alternatives():
    """"How much was it?" after "Which firm invested in Acme?" "MGX": the amount MGX invested,
    or MGX itself; the chooser tries both."""
    r = resolve_followup("How much was it?", [Turn(question="Which firm invested in Acme?", short_answer="MGX")])
    assert r.resolved == "How much MGX invested in Acme?" and r.about == ["MGX"]
    assert [a.question for a in r.alternatives] == ["How much was MGX?"] and r.alternatives[0].about == ["MGX"]


def test_a_phrase_with_a_name_but_no_name_of_its_kind_to_replace_tries_every_slot():
    r = resolve_followup("What about the CTO of Docin?", [Turn(question="Who was Acme's head of marketing?")])
    assert [r.resolved, *(a.question for a in r.alternatives)] == [
        "Who was Acme's CTO of Docin?",
        "Who was the CTO of Docin?",
        "Who was the CTO of Docin's head of marketing?",
    ]


def test_a_description_is_offered_when_the_named_referent_may_be_wrong():
    """The answer held two names and the pronoun took the first; what the question asked about
    is the other reading."""
    history = [Turn(question="Which joint venture launched in Thailand?", short_answer="Acme and Gulf Innova")]
    r = resolve_followup("Who is its partner?", history)
    assert r.resolved == "Who is Acme's partner?"
    assert [a.question for a in r.alternatives] == ["Who is the joint venture that launched in Thailand's partner?"]
    assert r.alternatives[0].about == ["Acme and Gulf Innova"]


def test_no_description_when_the_pronoun_took_the_one_name_answered():
    history = [Turn(question="Who replaced Ming Yao as CEO?", short_answer="Richard Teng")]
    r = resolve_followup("When did he take over?", history)
    assert r.resolved == "When did Richard Teng take over?" and r.alternatives == []


def test_who_question_describes_a_person_for_he():
    history = [Turn(question="Who did the governor pardon before Ming Yao?", short_answer="WSJ")]
    r = resolve_followup("What did he found?", history)
    assert r.resolved == "What did Ming Yao found?"
    assert [a.question for a in r.alternatives] == ["What did the person that the governor pardoned before Ming Yao found?"]


def test_a_declined_turn_is_not_described():
    history = [Turn(question="Which firm won the 1998 chess olympiad?", short_answer=None, abstained=True)]
    assert resolve_followup("Where is it based?", history).resolved == "Where is it based?"


@pytest.mark.parametrize(
    "question",
    ["In which state is it?", "How was it paid?", "Who ran the company?", "When did Acme pay the fine?"],
)
def test_questions_with_a_frame_of_their_own_are_not_fragments(question):
    r = resolve_followup(question, [SENTENCE])
    assert not r.resolved.startswith(("When did Ming Yao serve", "Where did Ming Yao serve"))


@pytest.mark.parametrize(
    ("question", "previous", "answer", "expected"),
    [
        # The old wh-phrase was the object; its answer fills that object in the new question.
        ("With what aim?", "What kind of labs would he like to fund?", "small research labs",
         "With what aim would he like to fund small research labs?"),
        ("When?", "Which stake did Acme Corp acquire?", "a minority stake", "When did Acme Corp acquire a minority stake?"),
        # The gap is not at the end ("say about fees"): the answer is left out.
        ("Why?", "What did he say about fees?", "low", "Why did he say about fees?"),
        ("With what aim?", "What kind of labs would he like to fund?", None, "With what aim would he like to fund?"),
    ],
)
def test_fragment_fills_the_object_with_the_answer(question, previous, answer, expected):
    assert fragment_rewrite(question, previous, answer) == expected


def test_they_agrees_with_a_plural_wh_noun():
    """"they" after "What guides did Acme publish?" means the guides, not Acme: the answer when
    there is one, else the guides described, even from a declined turn."""
    previous = "What guides did Acme allegedly publish for U.S. users?"
    declined = resolve_followup("What were they meant to help those users bypass?", [Turn(question=previous, abstained=True)])
    assert declined.resolved == "What were the guides that Acme allegedly published for U.S. users meant to help those users bypass?"
    answered = resolve_followup("What were they meant to help those users bypass?", [Turn(question=previous, short_answer="VPN Usage Guides")])
    assert answered.resolved == "What were VPN Usage Guides meant to help those users bypass?"
    # A singular wh-noun leaves "they" to the names, as before.
    assert resolve_followup("When did they sue?", [Turn(question="Which agency sued Acme?", short_answer="SEC")]).resolved == "When did SEC sue?"
