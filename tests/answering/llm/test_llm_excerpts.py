"""Focused excerpts: what a small model reads instead of whole retrieved chunks."""

from czqa.answering.llm.excerpts import excerpts, focus, question_terms
from czqa.types import Passage


def test_excerpt_centres_on_the_best_match_and_stays_exact(qa):
    q = "Who replaced Changpeng Zhao as Binance's CEO?"
    text = qa.texts["003_a6700be50d59b7d1.txt"]
    start = text.index("CZ admitted that he does not mind")
    end = text.index("might write a book.") + len("might write a book.")
    p = Passage(id="c", source="003_a6700be50d59b7d1.txt", start=start, end=end, text=text[start:end], score=0.5)
    e = focus(q, p, text, max_chars=300)
    assert "replaced with Richard Teng" in e.text
    assert text[e.start : e.end] == e.text and start <= e.start and e.end <= end
    assert len(e.text) <= 300 and e.score == p.score and e.source == p.source


def test_excerpts_are_exact_short_and_not_repeated(qa):
    q = "How long was CZ's prison sentence?"
    passages = qa.retrieve(q, top_k=5)
    out = excerpts(q, passages + passages[:1], qa.texts, max_chars=400)  # a repeated passage
    assert 1 <= len(out) <= len(passages)
    assert any("four months in prison" in e.text for e in out)
    for i, e in enumerate(out):
        assert qa.texts[e.source][e.start : e.end] == e.text
        assert len(e.text) <= 400 or e in passages
        assert all(not (o.source == e.source and o.start == e.start) for o in out[:i])


def test_question_words_that_only_ask_are_not_topic_words():
    assert question_terms("How much did Binance agree to pay?") == {"binanc", "agre", "pay"}
