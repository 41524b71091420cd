"""The one name finder, shared by answer spans and follow-up resolution."""

from czqa.answering.names import find_names, is_initials, kind_of
from czqa.answering.spans import find_spans


def test_names_with_initials_connectors_and_kinds():
    names = find_names("On Monday J. Smith met Ludwig van Beethoven, the SEC and MY at Acme Holdings.")
    assert [(n.text, n.kind) for n in names] == [
        ("J. Smith", "person"),
        ("Ludwig van Beethoven", "person"),
        ("SEC", "org"),
        ("MY", "person"),
        ("Acme Holdings", "org"),
    ]
    smith = names[0]
    assert "On Monday J. Smith met"[smith.start : smith.end] == "J. Smith"


def test_initials_are_not_abbreviations():
    assert is_initials("MY") and not is_initials("US") and not is_initials("SEC")
    assert kind_of(["US"]) == "unknown"


def test_a_person_is_found_by_initials_without_a_corpus_word_list():
    # No corpus-specific pattern: any two-capital initials that stand alone read as a person.
    found = find_spans("person", "The founder, known as QX, resigned in 2023.", "Who resigned?")
    assert [f.text for f in found] == ["QX"]


def test_what_a_possessive_name_owns_is_not_a_person():
    found = find_spans("person", "He joined Ming Yao’s Early Stage Capital Partners in Dubai.", "Who did he join?")
    assert [f.text for f in found] == ["Ming Yao"]


def test_titles_and_acronyms_before_a_name_are_dropped():
    found = find_spans("person", "The SEC Judge Amy Berman Jackson ruled on it.", "Who ruled?")
    assert [f.text for f in found] == ["Amy Berman Jackson"]


def test_offsets_point_at_the_name():
    text = "Sentenced by Judge Richard Jones on Tuesday."
    (found,) = find_spans("person", text, "Who sentenced him?")
    assert text[found.start : found.end] == "Richard Jones"
