"""Questions an attacker or a careless user sends: each is answered or refused in one line.

A pasted paragraph (a question longer than the reader's window) used to crash the default mode
with the tokenizer's "Truncation error: Second sequence not provided"; a question of only
punctuation or invisible characters used to get a cited answer to nothing.
"""

from __future__ import annotations

import pytest

from czqa.errors import InvalidQuestion
from czqa.answering.reader.features import MAX_QUESTION_PIECES, cut_question, windows

LONG = [
    "When was Binance founded? " + "Please read the whole of this carefully. " * 40,
    "word " * 380,
    "What " + " ".join(["supercalifragilisticexpialidocious"] * 55) + "?",
    "Who " + "🙂" * 400 + "?",
    "x" * 1990,
]


@pytest.mark.parametrize("question", LONG, ids=["paragraph", "words", "long-words", "emoji", "one-token"])
def test_a_question_longer_than_the_readers_window_is_read(question):
    ws = windows(question, "The exchange was founded in 2017. " * 30)
    assert ws and all(len(w.ids) <= 256 for w in ws)
    cut = cut_question(question)
    assert question.startswith(cut) and len(cut) <= len(question)


def test_a_short_question_is_not_cut():
    assert cut_question("Who founded Binance?") == "Who founded Binance?"
    assert MAX_QUESTION_PIECES == 48


@pytest.mark.parametrize("question", LONG[:3], ids=["paragraph", "words", "long-words"])
def test_the_default_mode_answers_a_long_question_or_declines(qa, question):
    answer = qa.answer(question)
    assert answer.mode == "reader" and (answer.abstained or answer.claims)


@pytest.mark.parametrize("question", ["?!?", "…", "\u200b\u200b", "--- *** ---", "\u2063?", "🙂🙂"])
def test_a_question_without_words_is_refused_in_one_line(qa, question):
    with pytest.raises(InvalidQuestion, match="no words"):
        qa.answer(question)
