"""The shipped reader through answer(): a planted answer is found and cited, a planted
unanswerable question is declined, and a disagreement between documents is shown."""

from __future__ import annotations

import pytest

from czqa.qa import QA
from czqa.settings import Settings

FESTIVAL = (
    "The Quenford Lantern Festival\n\n"
    "The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik, a glassblower from "
    "the northern valley, who hung the first forty lanterns along the old harbour wall. Today the "
    "festival lasts three nights every October and draws visitors from across the region.\n"
)
HARBOUR = (
    "Velm Harbour Report\n\n"
    "The harbour at Velm was dredged in 1990 so that larger ferries could dock. Ferries to the "
    "outer islands now leave every hour in summer.\n"
)

SECURITY = (
    "<html><head><title>Device rules</title></head><body><h1>Device rules</h1>"
    "<p>Report a lost laptop to the service desk within <strong>two hours</strong>, by phone on "
    "extension 4040. The laptop is wiped remotely once the loss is reported.</p></body></html>\n"
)


@pytest.fixture(scope="module")
def planted(tmp_path_factory, st_encoder, np_encoder):
    root = tmp_path_factory.mktemp("planted")
    docs = root / "docs"
    docs.mkdir()
    (docs / "festival.txt").write_text(FESTIVAL)
    (docs / "harbour.txt").write_text(HARBOUR)
    (docs / "devices.html").write_text(SECURITY)
    qa = QA(Settings(seeds_dir=docs, index_dir=root / "index"), query_encoder=np_encoder, build_encoder=st_encoder)
    qa.warm_up()
    return qa


def test_reader_is_the_default_mode(planted):
    assert planted.default_mode == "reader"


def test_planted_answer_is_found_and_its_sentence_cited(planted):
    a = planted.answer("Who founded the Quenford Lantern Festival?")
    assert a.mode == "reader" and not a.abstained
    assert a.short_answer == "Mira Talvik"
    (c,) = a.citations
    assert FESTIVAL[c.start : c.end] == c.quote and "Mira Talvik" in c.quote
    assert a.text.startswith("Mira Talvik.")


def test_planted_unanswerable_question_is_declined(planted):
    a = planted.answer("What is the boiling point of mercury?")
    assert a.abstained and a.short_answer is None and not a.citations
    assert a.declined_reason and a.passages  # the closest passages are still shown, as such
    assert a.text.startswith("The documents don't say.")


def test_a_value_question_gets_a_value(planted):
    a = planted.answer("When was the harbour at Velm dredged?")
    assert not a.abstained and a.short_answer == "1990"


def test_coverage_reads_the_stored_idf_with_no_pass_over_every_chunk(planted, monkeypatch):
    """The question-coverage term is weighted (the shipped decision gives it 4). Counting document
    frequencies over the whole corpus (seconds at 100k chunks, on the first question) is wasted:
    the index stores the chunks' BM25 matrix for its own alias table, with the same idf."""
    import czqa.answering.modes.reader as module
    from czqa.retrieve.lexical import DocumentFrequencies, terms

    corpus = planted.answerer("reader").corpus
    counted = DocumentFrequencies(terms(corpus.aliases.expand(c.embed_text, c.source)) for c in corpus.data.chunks)

    def refuse(*args, **kwargs):
        raise AssertionError("DocumentFrequencies counted although the index stores them")

    monkeypatch.setattr(module, "DocumentFrequencies", refuse)
    answerer = module.ReaderAnswerer(corpus)
    answerer.coverage_weight = 4.0
    query = planted.query("Who founded the Quenford Lantern Festival?")
    assert answerer.answer(query).short_answer == "Mira Talvik"
    vocab = {t for c in corpus.data.chunks for t in terms(corpus.aliases.expand(c.embed_text, c.source))} | {"unseen-term"}
    assert all(abs(answerer.frequencies.idf(t) - counted.idf(t)) < 1e-12 for t in vocab)


def test_the_sentence_holding_the_span_weighs_in_as_calibrated(planted):
    """With an evidence weight, a window's confidence gains weight × the evidence score of the
    sentence that holds its span (the extractive mode's score of that sentence); with none, no
    sentence is scored."""
    from czqa.answering.modes.reader import ReaderAnswerer

    corpus = planted.answerer("reader").corpus
    query = planted.query("Who founded the Quenford Lantern Festival?")
    plain = ReaderAnswerer(corpus)
    plain.evidence_weight = 0.0  # the shipped decision weighs it (4): compare against none
    before = plain.scores(query)
    assert plain._evidence is None and all(s.evidence == 0.0 for _, s in before)
    weighted = ReaderAnswerer(corpus)
    weighted.evidence_weight = 4.0
    after = weighted.scores(query)
    evidence_of = weighted.evidence_of(query)
    chunk, best = after[0]
    data = corpus.data
    holding = [r for r in data.chunk_sentences[chunk] if "founded by Mira Talvik" in planted.answerer("extractive")._text(r)]
    assert corpus.data.chunks[chunk].text[best.start:best.end] == "Mira Talvik" and len(holding) == 1
    assert best.evidence == evidence_of[holding[0]] > 0.3
    assert best.evidence > min(evidence_of.values())  # the ferry sentences match less
    same = {(c, s.start, s.end): s for c, s in before}
    for c, s in after:
        assert weighted.confidence(s) == pytest.approx(plain.confidence(same[(c, s.start, s.end)]) + 4.0 * s.evidence)
    assert weighted.answer(query).short_answer == "Mira Talvik"


@pytest.mark.parametrize("mode", ["reader", "extractive"])
def test_an_html_answer_reads_as_text_while_its_quote_stays_exact(planted, mode):
    """The page showed "within <strong>two hours" as the answer and the tags in the quote."""
    a = planted.answer("How soon must a lost laptop be reported?", mode=mode)
    assert not a.abstained
    assert "<" not in (a.short_answer or "") and "two hours" in (a.short_answer or a.citations[0].shown)
    c = a.citations[0]
    assert c.source == "devices.html" and SECURITY[c.start : c.end] == c.quote and "<strong>" in c.quote
    assert c.shown == " ".join(c.quote.replace("<strong>", "").replace("</strong>", "").split())
    assert "<strong>" not in a.text and c.shown in a.text


def test_coverage_reads_a_passage_with_its_own_abbreviations_expanded():
    """The idf comes from the chunks analysed with their document's own abbreviations ("JS" is
    John Smith in john.txt only); the passage's terms must come from the same analysis, or a
    question naming John Smith finds nothing of him in john.txt's "JS retired"."""
    from types import SimpleNamespace

    from czqa.answering.modes.reader import ReaderAnswerer
    from czqa.index.aliases import AliasTable
    from czqa.retrieve.lexical import DocumentFrequencies, terms

    table = AliasTable.from_documents({"john.txt": "John Smith (JS) led the choir.", "jane.txt": "Jane Smith (JS) led the band."})
    chunks = [SimpleNamespace(embed_text="JS retired in 1990.", source=src) for src in ("john.txt", "other.txt")]
    answerer = ReaderAnswerer.__new__(ReaderAnswerer)  # coverage alone: no reader, no index
    answerer.corpus = SimpleNamespace(aliases=table, data=SimpleNamespace(chunks=chunks, aliases=table))
    answerer._chunk_terms = {}
    answerer._frequencies = DocumentFrequencies(terms(table.expand(c.embed_text, c.source)) for c in chunks)
    question = "When did John Smith retire in 1990?"
    assert answerer.coverage(question, 0) > answerer.coverage(question, 1) > 0  # "JS" is John Smith only in john.txt
