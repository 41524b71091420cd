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
