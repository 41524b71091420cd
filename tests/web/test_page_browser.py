"""The chat page for a reader who checks sources, at desktop and phone sizes, in a real browser.

Each test asks real questions of the served page (``chat_server``) and looks at what the reader
gets: citation markers that lead to their passage, the newest reply's start in view, Sources
within reach on a phone, Markdown on the clipboard, plain-text labels for screen readers,
notices as messages of their own, and axe-core's verdict on contrast, labels and ARIA.
Screenshots go to test-output/chat-page/ (the README's pictures are made from them).
"""

from __future__ import annotations

import json
import re

import pytest

from chat_browser import WAIT_MS, axe_violations, ask, must_fix, screenshot, wait_for_answer

CEO_Q = "Who replaced Changpeng Zhao as Binance's CEO?"
FINE_Q = "How much did Binance agree to pay?"
BUSY = "The chat is busy: its queue is full (4 waiting). Please retry in about 9 s."


@pytest.fixture(scope="module", params=["desktop", "phone", "phone-dark"])
def answered(request, open_page):
    """A page per viewport (and a phone in dark mode) that has answered the CEO question, then the fine question."""
    page = open_page(request.param.removesuffix("-dark"), dark=request.param.endswith("-dark"))
    ask(page, CEO_Q)
    wait_for_answer(page, 1)
    ask(page, FINE_Q)
    wait_for_answer(page, 2)
    page.viewport_name = request.param
    return page


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, pageTop: r.top + scrollY}; }"
    )


def test_the_newest_reply_starts_in_view(answered):
    """After answering, the newest reply's first line is visible: the chat shows the reply's start, not its end."""
    page = answered
    screenshot(page, f"{page.viewport_name}-answered")
    newest = page.locator("#czqa-chat .czqa-reply").last
    first_line = _box(page, "#czqa-chat .czqa-reply >> nth=-1")
    chat = page.locator("#czqa-chat .bubble-wrap").evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, scrolled: e.scrollTop, most: e.scrollHeight - e.clientHeight}; }"
    )
    assert chat["top"] - 1 <= first_line["top"] <= chat["bottom"] - 40, (first_line, chat)
    assert 0 <= first_line["top"] <= page.viewport_size["height"] - 40, first_line
    reply_height = newest.evaluate("e => e.getBoundingClientRect().height")
    if reply_height > chat["bottom"] - chat["top"]:  # a reply taller than the chat: its start, not its end
        assert chat["scrolled"] < chat["most"] - 20, chat
        assert abs(first_line["top"] - chat["top"]) < 40, (first_line, chat)
    from playwright.sync_api import expect

    expect(newest.locator(".czqa-short")).to_be_in_viewport()


def test_sources_are_within_reach(answered):
    """Desktop: Sources beside the chat. Phone: right under the question box, not 1,360 px down."""
    page = answered
    chat, question, head = _box(page, "#czqa-chat"), _box(page, "#czqa-question"), _box(page, "#czqa-sources-head")
    if page.viewport_name == "desktop":
        assert head["left"] >= chat["right"] and head["pageTop"] <= chat["pageTop"] + 20, (chat, head)
    else:
        assert 0 <= head["pageTop"] - question["pageTop"] < question["bottom"] - question["top"] + 60, (question, head)
        assert head["pageTop"] - chat["pageTop"] < page.viewport_size["height"], (chat, head)
        # The answer mode and the examples come after the sources, not before.
        assert _box(page, "#czqa-mode")["pageTop"] > _box(page, "#czqa-sources")["pageTop"]


def test_a_citation_marker_leads_to_its_passage(answered):
    """Clicking [n] in a reply scrolls to Sources entry n, outlines and focuses it; it shows the
    quote marked among its neighbouring sentences, and opens the whole document at that place."""
    from playwright.sync_api import expect

    page = answered
    reply = page.locator("#czqa-chat .czqa-reply").last
    markers = reply.locator("a.czqa-cite")
    expect(markers).to_have_count(2)  # one per side of the disagreement
    marker = markers.first
    number = marker.inner_text().strip("[]")
    target_id = marker.get_attribute("href").removeprefix("#")
    marker.click()
    entry = page.locator(f"#{target_id}")
    expect(entry).to_have_class(re.compile(r"\bczqa-target\b"))
    expect(entry).to_be_focused()
    expect(entry.locator(".czqa-rank")).to_have_text(f"[{number}]")
    expect(entry.locator(".czqa-rank")).to_be_in_viewport()
    quote = reply.locator(".czqa-quote p").first.inner_text().split("”")[0].strip("“ ")
    assert " ".join(quote.split()[:6]) in entry.locator("mark").first.inner_text()
    expect(entry.locator(".czqa-context").first).not_to_be_empty()
    page.wait_for_timeout(1800)  # the highlight's flash has faded: the picture shows the outline
    screenshot(page, f"{page.viewport_name}-citation-followed")

    # The earlier reply's marker still leads to its own passage, in the folded earlier panel.
    first_reply_marker = page.locator("#czqa-chat .czqa-reply").first.locator("a.czqa-cite").first
    first_reply_marker.click()
    earlier = page.locator(f"#{first_reply_marker.get_attribute('href').removeprefix('#')}")
    expect(earlier).to_be_in_viewport()
    expect(earlier.locator("mark").first).to_contain_text("Richard Teng")
    expect(page.locator("details.czqa-earlier")).to_have_attribute("open", "")

    # "Open the document at line N": the whole file in a new tab, scrolled to the marked passage.
    with page.context.expect_page() as opened:
        entry.locator("a.czqa-open").click()
    document = opened.value
    document.wait_for_load_state()
    here = document.locator("mark#czqa-here")
    expect(here).to_be_in_viewport()
    assert " ".join(quote.split()[:6]) in " ".join(here.inner_text().split())
    assert len(document.locator("pre").inner_text()) > 3 * len(here.inner_text())
    screenshot(document, f"{page.viewport_name}-document")
    document.close()


def test_copy_gives_markdown_with_citations(answered):
    page = answered
    page.locator('#czqa-chat .message-buttons-left button[aria-label="Copy message"]').last.click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("**The documents disagree**"), copied
    assert "<" not in copied and "czqa" not in copied
    assert "> **$4.35 billion**:" in copied and "> **$4.32 billion**:" in copied
    numbers = [m for m in ("[1]", "[2]", "[3]", "[4]", "[5]") if m in copied.split("Sources:")[0]]
    assert numbers and all(f"- {n} " in copied.split("Sources:")[1] for n in numbers), copied


def test_screen_readers_get_plain_text_labels(answered):
    labels = answered.locator("#czqa-chat [aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert not [label for label in labels if "<" in label or "czqa" in label], labels
    assert any(label.startswith("Reply: The documents disagree") for label in labels), labels
    assert f"Your question: {FINE_Q}" in labels


def test_no_contrast_label_or_aria_violations(answered):
    """axe-core on the answered page, a citation followed: zero contrast, label or ARIA violations."""
    violations = axe_violations(answered, answered.viewport_name)
    bad = [v for v in violations if must_fix(v)]
    assert not bad, json.dumps(bad, indent=1)


def test_notices_are_their_own_messages_and_busy_is_a_toast(open_page):
    """An empty question gets a notice bubble of its own; a full queue (HTTP 429) gets a toast,
    and the chat keeps exactly what it had."""
    from playwright.sync_api import expect

    page = open_page("phone")
    ask(page, CEO_Q)
    wait_for_answer(page, 1)
    ask(page, "   ")
    rows = page.locator("#czqa-chat .message-row")
    expect(rows).to_have_count(3, timeout=WAIT_MS)
    expect(rows.nth(2)).to_contain_text("The question is empty")
    expect(rows.nth(1)).not_to_contain_text("The question is empty")

    page.route("**/queue/join*", lambda route: route.fulfill(
        status=429, headers={"retry-after": "9"}, content_type="application/json",
        body=json.dumps({"detail": BUSY, "busy": True}),
    ))
    ask(page, FINE_Q)
    expect(page.locator(".toast-body")).to_contain_text(BUSY, timeout=WAIT_MS)
    expect(rows).to_have_count(3)
    expect(page.locator("#czqa-chat")).not_to_contain_text("busy")
    # Nothing is drawn over the conversation, and the question stays in the box to be retried.
    page.wait_for_timeout(500)
    on_top = rows.nth(1).evaluate(
        "row => { const r = row.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + 10); return !!hit && row.contains(hit); }"
    )
    assert on_top, "something covers the reply"
    expect(page.locator("#czqa-chat .error")).to_be_hidden()
    expect(page.locator("#czqa-question textarea")).to_have_value(FINE_Q)
    bad = [v for v in axe_violations(page, "phone-busy") if must_fix(v)]
    assert not bad, json.dumps(bad, indent=1)
    screenshot(page, "phone-busy")
    page.unroute("**/queue/join*")


def test_the_document_route_serves_only_indexed_documents(chat_server):
    """The document page answers for files of the index, by name, with the page's security headers."""
    import httpx

    url = chat_server + "czqa/document"
    ok = httpx.get(url, params={"source": "003_a6700be50d59b7d1.txt", "start": 2752, "end": 2873}, timeout=30)
    assert ok.status_code == 200 and "Content-Security-Policy" in ok.headers
    assert '<mark id="czqa-here">However, he was forced to step down' in ok.text
    for name in ("../pyproject.toml", "czqa.toml", "/etc/passwd", ""):
        missing = httpx.get(url, params={"source": name}, timeout=30)
        assert missing.status_code == 404 and "No such document" in missing.text
