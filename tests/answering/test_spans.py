import pytest


def test_ordinary_capitalized_words_are_not_a_person():
    from czqa.answering.spans import find_spans, lowercase_words

    common = lowercase_words(["he served his sentence in a federal prison", "Richard Teng took over"])
    text = "He was at Lompoc Federal Prison when Richard Teng wrote."
    assert [f.text for f in find_spans("person", text, "Who wrote?", common=common)] == ["Richard Teng"]


def test_names_lower_cased_in_links_still_count_as_names():
    from czqa.answering.spans import lowercase_words

    common = lowercase_words(["see https://binance.com/blog/highlights-from-richard-tengs-ama", "a richly-paid job"])
    assert "richard" not in common and "richly" not in common


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Which wallet company did CZ join when he first entered the crypto industry?", None),
        ("How old was CZ when he started working daily?", "number"),
        ("When was CZ let out of prison?", "date"),
        ("In which month of 2024 did CZ begin his prison time?", "date"),
        ("Who replaced CZ as CEO when he stepped down?", "person"),
        ("What did CZ do for his backers when his startups went under?", None),
    ],
)
def test_the_leading_question_word_decides_the_answer_type(question, kind):
    from czqa.answering.spans import answer_type

    assert answer_type(question) == kind


def test_which_with_a_role_noun_asks_for_a_person():
    from czqa.answering.spans import answer_type

    assert answer_type("Which Wall Street Journal reporter wrote the story?") == "person"
    assert answer_type("Which federal judge was the letter addressed to?") == "person"
    assert answer_type("Which police force runs the course?") is None


def test_a_month_is_not_part_of_a_name():
    from czqa.answering.spans import find_spans

    assert find_spans("person", "Advertisement March 13, 2025", "Who was the attorney?") == []


def test_a_possessive_ends_a_name():
    from czqa.answering.spans import find_spans

    text = "1 Recommending Candidates to Zhao Changpeng’s Early-Stage Binance at SOHO"
    names = [f.text for f in find_spans("person", text, "Who founded Binance?")]
    assert "Zhao Changpeng" in names and not any("’s" in n or "Early" in n for n in names)


@pytest.mark.parametrize(
    ("question", "span", "ok"),
    [
        ("Who founded the festival?", "Mira Talvik", True),
        ("Who founded the festival?", "CEO", False),  # a role, not who holds it
        ("Who runs the company now?", "my direction", False),  # led by the writer's pronoun
        ("Who presides over the council?", "the chairman", False),
        ("Who surprised the author?", "father and grandmother", True),
        ("When was the harbour dredged?", "1990", True),
        ("When did literary magazines appear?", "mid-century", True),
        ("When did the festival begin?", "the old harbour wall", False),
        ("In what year did it open?", "the board", False),
        ("When is a penalty shot awarded?", "on a breakaway", True),  # a condition, not a time
        ("When the portal appears, what do they do?", "idle", True),
        ("How many lanterns were hung?", "forty", True),
        ("How many lanterns were hung?", "glassblower", False),
        ("How tall is the tower?", "20-square-meter", False),  # an area is not a height
        ("How tall is the tower?", "112 metres", True),
        ("What price did the token reach?", "30%", False),  # a share, not a price
        ("How much did the licence cost?", "$600", True),
        ("How much did the licence cost?", "free", True),
        ("How much of the Senate faced re-election?", "the entirety", True),  # not money
        ("How long did the festival last?", "three nights", True),
        ("How long did the festival last?", "hours", True),
        ("Where did she live?", "Velm", True),
    ],
)
def test_a_span_fits_the_kind_of_value_asked_for(question, span, ok):
    from czqa.answering.spans import fits

    assert fits(question, span) is ok


def test_values_disagree_only_when_they_state_the_same_kind_of_thing():
    from czqa.answering.spans import same_kind

    assert same_kind("date", "2017", "2022")
    assert not same_kind("date", "2022", "August 2")  # a year against a day of some year
    assert same_kind("amount", "$4.32 billion", "$4.35 billion")
    assert not same_kind("amount", "$4.32 billion", "4.35 billion users")


@pytest.mark.parametrize(("question", "span", "ok"), [
    ("How much did her parents earn?", "four months", False),  # a duration is not a sum
    ("How much did her parents earn?", "close to minimum wage", True),
    ("What is the name of the study of formal languages?", "formal semantics", True),  # names of things need no capital
])
def test_a_sum_is_not_a_duration(question, span, ok):
    from czqa.answering.spans import fits

    assert fits(question, span) is ok
