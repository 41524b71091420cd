"""The sentence splitter: offsets into the original text, abbreviations, hard-wrapped letters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from czqa.ingest.clean import clean
from czqa.ingest.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for region in split_sentences(text, clean(text)) for s in region]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = (
        "Mr. Ming Yao met Dr. Ann Lee of the U.S. Treasury on Jan. 5 in the harbour office of the port. "
        "Richard A. Jones presided over the hearing that followed in the afternoon session."
    )
    assert sentences(text) == [
        "Mr. Ming Yao met Dr. Ann Lee of the U.S. Treasury on Jan. 5 in the harbour office of the port.",
        "Richard A. Jones presided over the hearing that followed in the afternoon session.",
    ]


def test_a_hard_wrapped_line_is_not_a_sentence_break():
    line = "The committee reviewed every application that arrived before the deadline and"
    text = "\n".join([line, "then published its decision in the spring bulletin for all members to read.", line,
                      "wrote to each applicant separately with detailed reasons for the outcome."])
    got = sentences(text)
    assert len(got) == 2 and all("\n" in s for s in got)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc XYZ.!?\n\"'()0123 Mr.U.S."), max_size=400))
def test_sentences_are_exact_trimmed_ordered_slices(text):
    spans = [s for region in split_sentences(text, clean(text)) for s in region]
    last = 0
    for s in spans:
        assert last <= s.start < s.end <= len(text)
        piece = text[s.start : s.end]
        assert piece == piece.strip() and piece
        last = s.end
