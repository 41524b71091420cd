"""The chat page's HTML: answers from the real pipeline, and documents that try to inject markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from czqa.answering.followup import Resolution
from czqa.types import Answer, Citation, Claim, Passage
from czqa.web.render import (
    highlight,
    render_answer,
    render_notice,
    render_sources,
    render_streaming,
    render_user,
)
from czqa.web.sources import SourceInfo, describe_sources, document_title

ALLOWED_TAGS = {"div", "p", "span", "blockquote", "footer", "mark", "ol", "ul", "li", "small"}
ALLOWED_ATTRS = {"class", "title"}
PLANTED = "<script>alert('x')</script> <img src=x onerror=alert(1)> <a href=javascript:alert(2)>click</a>"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


def assert_safe(fragment: str) -> None:
    """Only the renderer's own tags and attributes: nothing a document wrote became markup."""
    assert "\n" not in fragment, "fragments must be one line (a single Markdown HTML block)"
    for tag, attrs in parse(fragment).tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {fragment[:200]}"
        for name, _ in attrs:
            assert name in ALLOWED_ATTRS, f"unexpected attribute {name} on <{tag}>"


@pytest.fixture(scope="module")
def sources(qa):
    return describe_sources(qa.texts)


def test_titles_come_from_the_documents(sources):
    assert sources["004_fd8af95ea304c4f9.txt"].title == "A Letter From Our CEO: My First 100 Days Leading Binance"
    assert sources["001_e9bfa794e6e38420.txt"].title == "How did Binance's CZ, who fled to Shanghai, get pardoned by Trump?"
    # The judge letter opens with a date line and 003 with prose: no title, the file name labels them.
    assert sources["000_abf69d2372255edc.txt"].title is None
    assert sources["000_abf69d2372255edc.txt"].label == "000_abf69d2372255edc.txt"
    assert sources["003_a6700be50d59b7d1.txt"].title is None


def test_line_numbers_match_the_file(qa, sources):
    text = qa.texts["003_a6700be50d59b7d1.txt"]
    offset = text.index("replaced with Richard Teng")
    assert sources["003_a6700be50d59b7d1.txt"].line(offset) == text[:offset].count("\n") + 1
    assert document_title("Just one short line") is None


def test_short_answer_first_then_labelled_quotes(qa, sources):
    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    out = render_answer(a, sources=sources)
    assert_safe(out)
    assert out.index('class="czqa-short">Richard Teng<') < out.index("<blockquote")
    c = a.citations[0]
    quote = " ".join(c.quote.split())
    assert html.escape(quote, quote=True) in out
    line = sources[c.source].line(c.start)
    assert f"{c.source}</span> · <span class=\"czqa-line\">line {line}</span>" in out
    assert f"characters {c.start}–{c.end}" in out


def test_conflict_is_shown_side_by_side_with_values(qa, sources):
    a = qa.answer("How much did Binance agree to pay?")
    assert a.conflict
    out = render_answer(a, sources=sources)
    assert_safe(out)
    assert "The documents disagree" in out
    grid = out[out.index('<div class="czqa-conflict">') :]
    assert grid.count("<blockquote") == len(a.citations) >= 2
    assert '<div class="czqa-value">$4.32 billion</div>' in grid
    assert '<div class="czqa-value">$4.35 billion</div>' in grid


def test_abstention_is_not_dressed_up_as_an_answer(qa, sources):
    a = qa.answer("What is the boiling point of mercury?")
    assert a.abstained
    out = render_answer(a, sources=sources)
    assert_safe(out)
    assert '<p class="czqa-abstain">The documents don&#x27;t say.</p>' in out
    assert "Closest matches (not an answer)" in out
    assert "czqa-short" not in out and "<blockquote" not in out
    assert out.count("<li>") == min(3, len(a.passages))


def test_sources_panel_marks_cited_words_and_shows_the_searched_question(qa, sources):
    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    res = Resolution(asked="Who replaced him as CEO?", resolved="Who replaced Changpeng Zhao as Binance's CEO?")
    out = render_sources(a, sources=sources, resolution=res)
    assert_safe(out)
    assert "Searched for" in out and "You asked: Who replaced him as CEO?" in out
    assert out.count('<li class="czqa-passage') == len(a.passages)
    marked = re.findall(r"<mark>(.*?)</mark>", out)
    assert html.escape(" ".join(a.citations[0].quote.split()), quote=True) in marked


def test_highlight_marks_exactly_the_cited_characters():
    text = "Alpha beta. Gamma delta epsilon. Gamma again."
    p = Passage(id="x", source="f.txt", start=100, end=100 + len(text), text=text, score=1.0)
    start = 100 + text.index("Gamma delta")
    c = Citation(source="f.txt", start=start, end=start + len("Gamma delta epsilon."), quote="Gamma delta epsilon.")
    other_file = Citation(source="g.txt", start=100, end=110, quote="Alpha beta")
    assert highlight(p, [c, other_file]) == "Alpha beta. <mark>Gamma delta epsilon.</mark> Gamma again."


def test_planted_markup_is_escaped_everywhere():
    info = {"evil.txt": SourceInfo(source="evil.txt", title=f"Title {PLANTED}")}
    quote = f"The bridge reopened {PLANTED} on Monday."
    text = f"Intro. {quote} Outro."
    start = 10 + text.index(quote)
    c = Citation(source="evil.txt", start=start, end=start + len(quote), quote=quote)
    p = Passage(id="p", source="evil.txt", start=10, end=10 + len(text), text=text, score=0.5)
    answered = Answer(question=PLANTED, text=PLANTED, abstained=False, short_answer=PLANTED, citations=[c], passages=[p])
    declined = Answer(question=PLANTED, text=PLANTED, abstained=True, passages=[p])
    llm = Answer(question=PLANTED, text=f"Generated {PLANTED}", abstained=False, citations=[c], passages=[p], mode="llm")
    res = Resolution(asked=PLANTED, resolved=f"{PLANTED}?")
    fragments = [
        render_answer(answered, sources=info, resolution=res),
        render_answer(declined, sources=info, resolution=res),
        render_answer(llm, sources=info, resolution=res),
        render_sources(answered, sources=info, resolution=res),
        render_streaming(PLANTED, resolution=res),
        render_notice(PLANTED),
        render_user(PLANTED),
    ]
    for fragment in fragments:
        assert_safe(fragment)
        assert "<script" not in fragment and "<img" not in fragment and "<a " not in fragment
        # The planted text is still there for the reader, as text.
        assert "alert(1)" in "".join(parse(fragment).text)


def test_llm_answer_prose_leads_when_there_is_no_short_answer():
    c = Citation(source="f.txt", start=0, end=5, quote="Quote")
    a = Answer(question="q", abstained=False, claims=[Claim(text="First paragraph.", citations=[c])], mode="llm")
    out = render_answer(a, sources={})
    assert out.index('<p class="czqa-prose">First paragraph. <span class="czqa-refs">[1]</span></p>') < out.index("<blockquote")
    assert "llm answer" in out


def test_a_generated_reply_shows_its_sentences_once_and_its_note():
    from czqa.web.render import render_answer

    quote = "However, he was forced to step down from the CEO position at Binance and was replaced with Richard Teng in November 2023."
    cite = Citation(source="003_a6700be50d59b7d1.txt", start=2752, end=2873, quote=quote)
    note = "Removed from the LLM reply after checking it against the sources: 1 sentence with no valid citation."
    answer = Answer(
        question="Who replaced CZ?",
        abstained=False,
        claims=[Claim(text="Richard Teng replaced him.", citations=[cite])],
        mode="llm",
        note=note,
    )
    fragment = render_answer(answer, sources={})
    assert_safe(fragment)
    assert 'Richard Teng replaced him. <span class="czqa-refs">[1]</span>' in fragment
    assert answer.text.startswith("Richard Teng replaced him [1].")
    assert fragment.count("forced to step down") == 1  # the block quote, not the text's copy too
    assert fragment.count("Removed from the LLM reply") == 1 and 'class="czqa-note"' in fragment


def test_relevance_is_a_plain_label_not_a_raw_fusion_score():
    from czqa.web.render import relevance

    text = "The harbour opened in 1851."
    passages = [Passage(id=str(i), source=f"{i}.txt", start=0, end=len(text), text=text, score=s)
                for i, s in enumerate([0.0328, 0.0301, 0.0164])]
    answer = Answer(question="When did the harbour open?", abstained=True, passages=passages)
    out = render_sources(answer, sources={})
    assert out.count("strong match") == 2 and out.count("partial match") == 1
    assert "0.03" not in out and "score" not in out.lower().replace("czqa-score", "")
    assert relevance(0.0, 0.0)[0] == "partial match"


def test_overlapping_passages_of_one_document_are_shown_once():
    from czqa.web.render import merge_overlapping

    doc = "One. Two three four. Five six seven. Eight nine ten. Eleven."
    a = Passage(id="a", source="d.txt", start=5, end=36, text=doc[5:36], score=0.03)
    b = Passage(id="b", source="d.txt", start=15, end=52, text=doc[15:52], score=0.02)  # 21 of 31 shared
    c = Passage(id="c", source="e.txt", start=21, end=52, text=doc[21:52], score=0.01)
    merged = merge_overlapping([a, b, c])
    assert [(p.id, p.start, p.end) for p in merged] == [("a", 5, 52), ("c", 21, 52)]
    assert merged[0].text == doc[5:52]
    answer = Answer(question="q", abstained=True, passages=[a, b, c])
    assert render_sources(answer, sources={}).count('<li class="czqa-passage') == 2


def test_the_documents_report_lists_every_file_not_indexed():
    from czqa.ingest.documents import FileIssue, IngestReport
    from czqa.web.render import render_documents

    report = IngestReport(
        indexed=["a.txt"],
        skipped=[FileIssue(path="photo.png", reason="not a text file type: .png", kind="skipped")],
        refused=[FileIssue(path="<b>x</b>.txt", reason="binary file", kind="refused")],
    )
    out = render_documents(report)
    assert "1 indexed, 1 skipped, 1 refused" in out
    assert out.index("refused, binary file") < out.index("skipped, not a text file type")
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;.txt" in out
    clean = render_documents(IngestReport(indexed=["a.txt"]))
    assert "1 indexed, 0 skipped, 0 refused" in clean and "<details" not in clean
