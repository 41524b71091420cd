"""The chat page's HTML: answers from the real pipeline, and documents that try to inject markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from czqa.answering.followup.resolver import Resolution
from czqa.types import Answer, Citation, Claim, Passage
from czqa.web.render import (
    highlight,
    merge_overlapping,
    render_answer,
    render_notice,
    render_sources,
    render_streaming,
    render_user,
)
from czqa.web.copytext import reply_markdown
from czqa.web.document import render_document, render_missing
from czqa.web.panel import context, stack_panels
from czqa.web.sources import SourceInfo, describe_sources, document_title, source_info

ALLOWED_TAGS = {"div", "p", "span", "blockquote", "footer", "mark", "ol", "ul", "li", "small", "a", "details", "summary"}
ALLOWED_ATTRS = {"class", "title", "href", "id", "tabindex", "hidden", "target", "rel", "role", "aria-label"}
# The only links the renderer makes: a citation marker to a Sources entry, and "open the document".
OWN_LINK = re.compile(r"#czqa-src-[0-9a-f]+-\d+|czqa/document\?source=[^&]*&start=\d+&end=\d+#czqa-here")
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
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, f"unexpected attribute {name} on <{tag}>"
            if name == "href":
                assert tag == "a" and OWN_LINK.fullmatch(value or ""), f"unexpected link {value!r}"


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


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        # a Markdown file's first heading, however short (the issue's "expenses.md")
        ("expenses.md", "# Travel and expenses\n\nBook trains when you can. Receipts are needed above 20 euros.\n", "Travel and expenses"),
        # an HTML page's own <title> first, entities read as a reader sees them
        ("rules.html", "<html><head><title>IT security rules &amp; passwords</title></head><body><h1>IT security</h1>"
         "<p>Passwords must be long and unique to each service you use.</p></body></html>", "IT security rules & passwords"),
        # no <title>: the first <h1>, inline tags read as nothing
        ("intro.html", "<body><h1>Welcome <em>aboard</em></h1><p>Your first week starts with a tour of the office.</p></body>", "Welcome aboard"),
        # a heading further down names a section, not the document
        ("notes.md", "Some prose that opens the file and goes on for a while, as notes do.\n\nMore prose here, also long enough.\n\n"
         "Still more prose in a third paragraph of the file.\n\n# Section\n", None),
        # plain text: a short first line needs the words of a headline
        ("memo.txt", "Budget\n\nThe budget for next year is set in March by the board.\n", None),
    ],
)
def test_one_title_rule_for_every_kind_of_file(name, text, title):
    info = source_info(name, text)
    assert info.title == title
    assert info.label == (title or name)


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
    assert out.count('<li class="czqa-passage') == len(merge_overlapping(a.passages))
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
    quote = f"The bridge reopened {PLANTED} on Monday."
    text = f"Intro. {quote} Outro."
    document = f"Before {PLANTED}. A first sentence here. {text} After {PLANTED}, the next sentence."
    offset = document.index(text)
    info = {"evil.txt": source_info("evil.txt", document).model_copy(update={"title": f"Title {PLANTED}"})}
    start = offset + text.index(quote)
    c = Citation(source="evil.txt", start=start, end=start + len(quote), quote=quote)
    p = Passage(id="p", source="evil.txt", start=offset, end=offset + len(text), text=text, score=0.5)
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
        stack_panels(render_sources(answered, sources=info), [render_sources(declined, sources=info, resolution=res)]),
    ]
    for fragment in fragments:
        assert_safe(fragment)
        assert "<script" not in fragment and "<img" not in fragment and "javascript:" not in fragment.replace("&lt;a href=javascript:", "")
        # The planted text is still there for the reader, as text.
        assert "alert(1)" in "".join(parse(fragment).text)
    # The neighbouring sentences, the copied Markdown and the document page escape it too.
    panel = render_sources(answered, sources=info)
    assert "After &lt;script&gt;" in panel and "A first sentence here." in panel
    assert "alert(2)" in reply_markdown(answered, sources=info) and "<script>" not in render_answer(answered, sources=info)
    page = render_document(info["evil.txt"], p.start, p.end)
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script" not in render_missing(PLANTED)


def test_llm_answer_prose_leads_when_there_is_no_short_answer():
    c = Citation(source="f.txt", start=0, end=5, quote="Quote")
    p = Passage(id="p", source="f.txt", start=0, end=40, text="Quote and more of the passage around it.", score=0.03)
    a = Answer(question="q", abstained=False, claims=[Claim(text="First paragraph.", citations=[c])], passages=[p], mode="llm")
    out = render_answer(a, sources={})
    assert_safe(out)
    prose = re.search(r'<p class="czqa-prose">First paragraph\. <span class="czqa-refs">(.*?)</span></p>', out)
    assert prose and re.fullmatch(r'<a class="czqa-cite" href="#czqa-src-[0-9a-f]+-1" title="Source 1: f.txt, line 1">\[1\]</a>', prose.group(1))
    assert out.index(prose.group(0)) < out.index("<blockquote")
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
    assert 'Richard Teng replaced him. <span class="czqa-refs"></span>' in fragment  # no passages: nothing to link to
    assert answer.text.startswith("Richard Teng replaced him [1].")
    shown, copy = fragment.split('<div class="czqa-copy" hidden>')
    assert shown.count("forced to step down") == 1  # the block quote, not the text's copy too
    assert shown.count("Removed from the LLM reply") == 1 and 'class="czqa-note"' in shown
    assert copy.count("forced to step down") == 1 and copy.count("Removed from the LLM reply") == 1


def test_relevance_is_a_plain_label_not_a_raw_fusion_score():
    from czqa.web.render import relevance

    text = "The harbour opened in 1851."
    passages = [Passage(id=str(i), source=f"{i}.txt", start=0, end=len(text), text=text, score=s)
                for i, s in enumerate([0.0328, 0.0301, 0.0164])]
    answer = Answer(question="When did the harbour open?", abstained=False, short_answer="1851", passages=passages)
    out = render_sources(answer, sources={})
    assert out.count("strong match") == 2 and out.count("partial match") == 1
    assert "0.03" not in out and "score" not in out.lower().replace("czqa-score", "")
    assert relevance(0.0, 0.0)[0] == "partial match"


def test_a_declined_answers_passages_are_closest_matches_never_strong():
    text = "The harbour opened in 1851."
    passages = [Passage(id=str(i), source=f"{i}.txt", start=0, end=len(text), text=text, score=s)
                for i, s in enumerate([0.0328, 0.0301, 0.0164])]
    out = render_sources(Answer(question="How deep is the harbour?", abstained=True, passages=passages), sources={})
    assert out.count("closest match") == 3 and "strong match" not in out and "partial match" not in out


def test_a_reply_shows_no_raw_score():
    from czqa.web.render import render_answer

    answer = Answer(question="When did the harbour open?", abstained=True, confidence=-7.07)
    out = render_answer(answer, sources={})
    assert "-7.07" not in out and "evidence score" not in out


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


def test_chunks_sharing_one_sentence_are_one_card_with_one_quoted_badge():
    """Consecutive chunks share a sentence or two (far less than half of either): shown apart,
    both highlighted the quoted sentence and both said "quoted"."""
    from czqa.web.render import merge_overlapping

    doc = "Alpha beta gamma delta. The harbour opened in 1871. Epsilon zeta eta theta iota kappa. Lambda mu nu."
    shared = doc.index("The harbour")
    first = Passage(id="1", source="d.txt", start=0, end=doc.index(" Epsilon"), text=doc[: doc.index(" Epsilon")], score=0.03)
    second = Passage(id="2", source="d.txt", start=shared, end=len(doc), text=doc[shared:], score=0.02)
    third = Passage(id="3", source="d.txt", start=doc.index("Lambda"), end=len(doc), text=doc[doc.index("Lambda"):], score=0.01)
    # 1 and 3 are apart until 2 joins them: all three become one card
    merged = merge_overlapping([first, third, second])
    assert [(p.id, p.start, p.end, p.text) for p in merged] == [("1", 0, len(doc), doc)]
    quote = Citation(source="d.txt", start=shared, end=doc.index(" Epsilon"), quote="The harbour opened in 1871.")
    answer = Answer(question="When did the harbour open?", abstained=False, short_answer="1871",
                    claims=[Claim(text="1871", citations=[quote])], passages=[first, second])
    out = render_sources(answer, sources={})
    assert out.count('<li class="czqa-passage') == 1
    assert out.count("czqa-badge") == 1 and out.count("<mark>") == 1


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


# --- citations that lead somewhere, neighbouring text, the document page, copied Markdown ------


def _entries(panel: str) -> dict[str, str]:
    """Sources entry id -> the entry's HTML."""
    return dict(re.findall(r'<li class="czqa-passage[^"]*" id="([^"]+)" tabindex="-1">(.*?)</li>', panel))


def test_citation_markers_link_to_the_entry_that_holds_the_quote(qa, sources):
    a = qa.answer("How much did Binance agree to pay?")
    reply, panel = render_answer(a, sources=sources), render_sources(a, sources=sources)
    entries = _entries(panel)
    markers = re.findall(r'<a class="czqa-cite" href="#([^"]+)" title="Source (\d+): [^"]+">\[(\d+)\]</a>', reply)
    assert len(markers) == len(a.citations) == 2
    for (anchor, n, shown), c in zip(markers, [side.citation for side in a.conflicts]):
        assert n == shown and anchor.endswith(f"-{n}") and anchor in entries
        entry = entries[anchor]
        assert f'<span class="czqa-rank">[{n}]</span>' in entry
        assert html.escape(" ".join(c.quote.split()), quote=True) in "".join(re.findall(r"<mark>(.*?)</mark>", entry))
    # The same answer gives the same anchors (the reply and the panel are rendered apart);
    # another answer gives others, so an earlier reply's markers keep their own targets.
    assert render_answer(a, sources=sources) == reply
    other = render_sources(qa.answer("Who replaced Changpeng Zhao as Binance's CEO?"), sources=sources)
    assert not set(_entries(other)) & set(entries)


def test_closest_matches_of_a_declined_question_link_to_their_entries(qa, sources):
    a = qa.answer("What is the boiling point of mercury?")
    reply, panel = render_answer(a, sources=sources), render_sources(a, sources=sources)
    anchors = re.findall(r'<li><span class="czqa-snippet">.*?<a class="czqa-cite" href="#([^"]+)"', reply)
    assert len(anchors) == min(3, len(a.passages)) and set(anchors) <= set(_entries(panel))


def test_an_entry_shows_its_neighbouring_sentences_and_opens_the_document(qa, sources):
    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    entry = next(iter(_entries(render_sources(a, sources=sources)).values()))
    p = merge_overlapping(a.passages)[0]  # the first card: the best passage, widened by any it overlaps
    text = qa.texts[p.source]
    shown = re.findall(r'<span class="czqa-context">(.*?)</span>', entry)
    before, after = context(sources[p.source], p.start, p.end)
    assert [html.escape(x, quote=True) for x in (before, after) if x] == shown
    assert " ".join(text[: p.start].split()).endswith(before.removeprefix("… "))
    assert " ".join(text[p.end :].split()).startswith(after.removesuffix(" …"))
    assert shown and len(before) <= 330 and len(after) <= 330
    if before:
        assert entry.index(html.escape(before, quote=True)) < entry.index("<mark>")
    if after:
        assert entry.index("<mark>") < entry.index(html.escape(after, quote=True))
    href = html.unescape(re.search(r'<a class="czqa-open" href="([^"]+)" target="_blank" rel="noopener">', entry).group(1))
    assert href == f"czqa/document?source={p.source}&start={p.start}&end={p.end}#czqa-here"
    assert f"Open the document at line {sources[p.source].line(p.start)}<" in entry


def test_context_is_about_a_sentence_either_side():
    doc = ("Far away text that is not shown at all because it is long enough to be cut off here. " * 4
           + "The sentence before the passage is long enough. Passage starts here and ends. "
           + "The sentence after the passage is also long enough. And then more text follows on and on." * 4)
    info = source_info("d.txt", doc)
    start = doc.index("Passage starts")
    end = start + len("Passage starts here and ends.")
    assert context(info, start, end) == (
        "The sentence before the passage is long enough.", "The sentence after the passage is also long enough."
    )
    assert context(SourceInfo(source="x.txt"), 0, 5) == ("", "")  # no text known: no context


def test_the_document_page_marks_the_passage_in_the_whole_text(qa, sources):
    p = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?").passages[0]
    page = render_document(sources[p.source], p.start, p.end)
    text = qa.texts[p.source]
    assert page.startswith("<!doctype html>") and f'<mark id="czqa-here">{html.escape(text[p.start:p.end])}</mark>' in page
    assert html.escape(text[:200]) in page and html.escape(text[-200:]) in page
    line = sources[p.source].line(p.start)
    assert f"(lines {line}–" in page or f"(line {line})" in page
    clamped = render_document(sources[p.source], -5, 10**9)
    assert f'<mark id="czqa-here">{html.escape(text)}</mark>' in clamped
    assert "No such document" in render_missing("nope.txt")


def test_the_copy_button_gets_markdown_with_the_citations(qa, sources):
    a = qa.answer("Who replaced Changpeng Zhao as Binance's CEO?")
    c = a.citations[0]
    n = re.search(r'class="czqa-cite" href="#[^"]+" title="[^"]+">\[(\d+)\]', render_answer(a, sources=sources)).group(1)
    md = reply_markdown(a, sources=sources)
    assert md == (
        f"**Richard Teng**\n\n> “{' '.join(c.quote.split())}” [{n}]\n\n"
        f"Sources:\n\n- [{n}] {c.source}, line {sources[c.source].line(c.start)}"
    )
    # In the reply it is hidden, entity-encoded on the fragment's one line.
    hidden = re.search(r'<div class="czqa-copy" hidden>(.*?)</div>', render_answer(a, sources=sources)).group(1)
    assert html.unescape(hidden) == md and "\n" not in hidden
    res = Resolution(asked="Who replaced him?", resolved="Who replaced *CZ*?")
    assert reply_markdown(a, sources=sources, resolution=res).startswith("Understood as: *Who replaced \\*CZ\\*?*\n\n")


def test_earlier_panels_are_kept_folded_once_each():
    current, old1, old2 = (f'<div class="czqa-sources">{i}</div>' for i in ("now", "one", "two"))
    stacked = stack_panels(current, [current, old1, old2])
    assert stacked.startswith('<div class="czqa-panels" role="region" aria-label="Sources" tabindex="0">' + current)
    assert "<summary>Sources of 2 earlier answers</summary>" in stacked and stacked.count(current) == 1
    assert "<details" not in stack_panels(current, [])
    many = stack_panels(current, [f"<div>{i}</div>" for i in range(20)])
    assert "Sources of 8 earlier answers" in many and "<div>8</div>" not in many


def test_context_sentences_are_cut_where_the_index_cuts_sentences():
    """The context used to have a sentence rule of its own, which ended a sentence at "Mr."."""
    doc = ("Opening words of the letter come first and run on for a while before anything happens. "
           "The council met Mr. Ada Quill and Dr. Ben Ross at the harbour office on Monday. "
           "Passage starts here and ends. "
           "Afterwards the new plan was sent to Mr. Ross and the board for a vote next week. Then more.")
    info = source_info("d.txt", doc)
    start = doc.index("Passage starts")
    end = start + len("Passage starts here and ends.")
    before, after = context(info, start, end)
    assert before == "The council met Mr. Ada Quill and Dr. Ben Ross at the harbour office on Monday."
    assert after == "Afterwards the new plan was sent to Mr. Ross and the board for a vote next week."


def test_the_reply_and_its_sources_entry_name_the_same_line():
    from czqa.web.render import render_answer
    from czqa.web.sources import source_info

    doc = "Harbour history\nThe harbour was dredged in 1790.\nIt opened in 1851, a year late.\n"
    start = doc.index("It opened")
    end = doc.index("\n", start)
    quote = Citation(source="h.txt", start=start, end=end, quote=doc[start:end])
    passage = Passage(id="p", source="h.txt", start=0, end=len(doc) - 1, text=doc[:-1], score=0.03)
    answer = Answer(question="When did the harbour open?", abstained=False, short_answer="1851",
                    claims=[Claim(text="1851", citations=[quote])], passages=[passage])
    sources = {"h.txt": source_info("h.txt", doc)}
    reply, panel = render_answer(answer, sources=sources), render_sources(answer, sources=sources)
    assert "line 3" in reply and "line 3" in panel.split('czqa-passage-source')[1].split("</div>")[0]


def test_html_and_markdown_are_shown_as_the_text_a_reader_sees():
    from czqa.web.document import render_document
    from czqa.web.sources import source_info

    page = "<html><head><title>IT security rules</title></head><body><h1>IT security rules</h1>\n<p>Passwords &amp; keys are changed every <b>90 days</b>.</p>\n</body></html>"
    start = page.index("Passwords")
    end = page.index("</p>")
    quote = Citation(source="rules.html", start=start, end=end, quote=page[start:end])
    passage = Passage(id="p", source="rules.html", start=page.index("<h1>"), end=len(page), text=page[page.index("<h1>"):], score=0.03)
    answer = Answer(question="How often are passwords changed?", abstained=False, short_answer="every 90 days",
                    claims=[Claim(text="every 90 days", citations=[quote])], passages=[passage])
    panel = render_sources(answer, sources={"rules.html": source_info("rules.html", page)})
    assert "&lt;" not in panel and "&amp;amp;" not in panel
    assert "<mark>Passwords &amp; keys are changed every 90 days.</mark>" in panel
    assert page[quote.start:quote.end] == quote.quote  # the quote still points at the file's own characters
    doc = render_document(source_info("rules.html", page), start, end)
    assert "&lt;p&gt;" not in doc and "&lt;b&gt;" not in doc and "Passwords &amp; keys are changed every 90 days." in doc

    notes = "# Travel and expenses\n\n- Book **early** via [the portal](http://intranet/travel).\n"
    p2 = Passage(id="m", source="expenses.md", start=0, end=len(notes), text=notes, score=0.03)
    shown = render_sources(Answer(question="How to book?", abstained=True, passages=[p2]),
                           sources={"expenses.md": source_info("expenses.md", notes)})
    assert "Travel and expenses" in shown and "Book early via the portal." in shown
    assert "**" not in shown and "intranet" not in shown and "# Travel" not in shown

    plain = "snake_case names and *stars* stay in a text file"
    p3 = Passage(id="t", source="a.txt", start=0, end=len(plain), text=plain, score=0.03)
    assert plain in render_sources(Answer(question="?", abstained=True, passages=[p3]), sources={})
