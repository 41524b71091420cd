from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from czqa.eval.evaluation import load_qa

ROOT = Path(__file__).resolve().parents[1]


def exact(qa, answer):
    for c in answer.citations:
        assert qa.texts[c.source][c.start : c.end] == c.quote
    for p in answer.passages:
        assert qa.texts[p.source][p.start : p.end] == p.text


@pytest.mark.parametrize(
    "question, gold_source, gold_phrase",
    [
        ("Who replaced Changpeng Zhao as Binance's CEO?", "003", "Richard Teng"),
        ("What did CZ say about biotech?", "000", "biotech"),
        ("How many registered users does Binance have?", "004", "178"),
        ("Which nonprofit education project did CZ start?", "003", "Giggle Academy"),
        ("What was Binance's fine according to the surveillance report?", "002", "$4.35 billion"),
        ("Which wallet company did Zhao join after he discovered crypto?", "001", "blockchain.info"),
    ],
)
def test_retrieval_finds_the_known_passage(qa, question, gold_source, gold_phrase):
    passages = qa.retrieve(question, top_k=5)
    assert any(p.source.startswith(gold_source) and gold_phrase in p.text for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_ceo_question(qa):
    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    assert not a.abstained
    assert a.short_answer == "Richard Teng"
    assert a.text.startswith("Richard Teng")
    assert a.citations[0].source == "003_a6700be50d59b7d1.txt"
    exact(qa, a)


def test_conflicting_amounts_are_reported_with_each_side_cited(qa):
    a = qa.answer("How much did Binance agree to pay?")
    assert a.conflict
    assert "$4.32 billion" in a.text and "$4.35 billion" in a.text
    assert {c.source[:3] for c in a.citations} >= {"001", "002"}
    exact(qa, a)


def test_biotech_quotes_the_letter_in_extractive_mode(qa):
    a = qa.answer("What did CZ say about biotech?", mode="extractive")
    assert a.citations[0].source == "000_abf69d2372255edc.txt"
    assert "biotech" in a.citations[0].quote
    exact(qa, a)


@pytest.mark.xfail(strict=True, reason="known reader miss: an open 'what did X say about Y' question; "
                   "the reader prefers a span from another article (see the closing note of issue 10)")
def test_biotech_quotes_the_letter_in_reader_mode(qa):
    a = qa.answer("What did CZ say about biotech?")
    assert a.citations and a.citations[0].source == "000_abf69d2372255edc.txt"


@pytest.mark.xfail(strict=True, reason="known miss of the averaged reader (model card): it prefers the "
                   "sentencing date, April 30, 2024 (span margin 3.44), to the letter's own date line (2.67); "
                   "the first reader read the date line. Strict: passing again is news")
def test_date_next_to_the_evidence(qa):
    a = qa.answer("When was the letter to the judge written?")
    assert a.short_answer == "February 2, 2024"


def test_off_topic_question_is_declined(qa):
    a = qa.answer("What is the boiling point of mercury?")
    assert a.abstained
    assert a.text.startswith("The documents don't say")
    assert a.citations == []
    assert a.passages  # closest matches are still offered


def test_every_citation_on_the_eval_set_is_exact(qa):
    for rec in load_qa(ROOT / "eval" / "qa.jsonl"):
        exact(qa, qa.answer(rec.question))


def test_answers_are_json_serializable(qa):
    from czqa.types import Answer

    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    assert Answer.model_validate_json(a.model_dump_json()) == a


def test_concurrent_answers_match_sequential_ones(qa):
    questions = [r.question for r in load_qa(ROOT / "eval" / "qa.jsonl")[:24]]
    sequential = [qa.answer(q).text for q in questions]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda q: qa.answer(q).text, questions))
    assert parallel == sequential


@pytest.mark.parametrize("bad", ["", "   \n\t ", "a" * 100_000])
def test_bad_questions_get_a_clear_error(qa, bad):
    from czqa.errors import InvalidQuestion

    with pytest.raises(InvalidQuestion, match="empty|limit"):
        qa.answer(bad)


def test_top_level_answer_function(monkeypatch):
    import czqa
    from czqa import api

    monkeypatch.setenv("CZQA_SEEDS", str(ROOT / "seeds"))
    monkeypatch.setenv("CZQA_INDEX", str(ROOT / "embeddings"))
    monkeypatch.setattr(api, "_default", None)
    a = czqa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    assert "Richard Teng" in a.text
    assert api.default_qa() is api.default_qa()  # loaded once, reused


def test_stream_ends_with_the_same_answer_as_answer(qa):
    from czqa.types import Answer, Delta
    from czqa.qa import available_modes

    assert available_modes()[0] == "reader"
    events = list(qa.stream("Who replaced Changpeng Zhao as Binance's CEO?"))
    assert all(isinstance(e, Delta) for e in events[:-1])
    assert isinstance(events[-1], Answer)
    assert events[-1] == qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")


def test_unknown_mode_is_a_clear_error(qa):
    from czqa.errors import CzqaError

    with pytest.raises(CzqaError, match="Unknown answer mode 'poetry'"):
        qa.answer("Who founded Binance?", mode="poetry")


def test_a_question_using_an_alias_finds_the_letter_written_in_the_first_person(qa):
    # The letter never says "CZ"; before aliases, BM25 ranked every passage spelling "CZ" first.
    passages = qa.retrieve("What kind of debt did CZ avoid while paying for his own education?", top_k=5)
    assert any(p.source.startswith("000") and "student loans" in p.text for p in passages)


def test_the_person_asked_about_is_not_offered_as_the_answer(qa):
    # "Zhao Changpeng met a venture capitalist": the venture capitalist is not named, and
    # Zhao Changpeng is CZ, so he must not be the short answer.
    a = qa.answer("What was the name of the venture capitalist who got CZ into crypto over a poker game?")
    assert a.short_answer not in {"Zhao Changpeng", "Changpeng Zhao", "CZ"}


@pytest.mark.parametrize("top_k", ["5", 0, -1, 51, 2.5, True])
def test_bad_top_k_is_a_clear_error_not_a_type_error(qa, top_k):
    from czqa.errors import InvalidQuestion

    with pytest.raises(InvalidQuestion, match="top_k"):
        qa.answer("Who founded Binance?", top_k=top_k)


def test_a_lone_surrogate_is_a_clear_error(qa):
    from czqa.errors import InvalidQuestion

    with pytest.raises(InvalidQuestion, match="not valid text"):
        qa.answer("Who founded \ud800 Binance?")


def test_unknown_mode_lists_the_available_ones(qa):
    from czqa.errors import UsageError

    with pytest.raises(UsageError, match="Unknown answer mode 'magic'; available: reader"):
        qa.answer("Who founded Binance?", mode="magic")


def test_loaded_state_is_one_read_only_snapshot(qa):
    """qa.data, texts, aliases, retriever, corpus and encoder are views of one snapshot, which a
    refresh replaces whole; they cannot be reassigned piecemeal."""
    assert qa.corpus.texts is qa.texts and qa.corpus.data is qa.data and qa.corpus.aliases is qa.aliases
    assert qa.retriever is qa._loaded.retriever and qa.encoder is qa._loaded.encoder
    with pytest.raises(AttributeError):
        qa.texts = {}
