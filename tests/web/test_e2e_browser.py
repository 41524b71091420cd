"""The chat page's conversation in a real headless browser (helpers: tests/web/chat_browser.py)."""

from __future__ import annotations

import pytest

from chat_browser import WAIT_MS, ask, screenshot

CEO_Q = "Who replaced Changpeng Zhao as Binance's CEO?"
FOLLOW_UP = "When did he take over?"
RESOLVED = "When did Richard Teng take over?"


@pytest.fixture(scope="module")
def page(open_page):
    return open_page("desktop")


def _ask(page, question: str) -> None:
    ask(page, question)


def test_chat_page_answers_follows_up_and_quotes_sources(page):
    from playwright.sync_api import expect

    chat = page.locator("#czqa-chat")
    sources = page.locator("#czqa-sources")

    # An example question: one click fills the box and asks it. The documents disagree on the
    # fine, and "$4.32 billion ... $4.35 billion" must read as money, not as LaTeX.
    page.get_by_text("How much did Binance agree to pay?", exact=True).first.click()
    conflict = chat.locator(".czqa-conflict")
    expect(conflict).to_be_visible(timeout=WAIT_MS)
    expect(conflict.locator(".czqa-quote")).to_have_count(2)
    expect(conflict).to_contain_text("$4.32 billion")
    expect(conflict).to_contain_text("$4.35 billion")
    assert page.locator(".katex").count() == 0

    # Clear empties the conversation and the Sources panel.
    page.locator("#czqa-clear").click()
    expect(chat.locator(".czqa-reply")).to_have_count(0, timeout=WAIT_MS)
    expect(sources).to_contain_text("Ask a question", timeout=WAIT_MS)

    # A typed question: the short answer, then a labelled source quote, then highlighted sources.
    _ask(page, CEO_Q)
    short = chat.locator(".czqa-short").last
    expect(short).to_have_text("Richard Teng", timeout=WAIT_MS)
    quote = chat.locator(".czqa-quote").last
    expect(quote).to_contain_text("replaced with Richard Teng")
    expect(quote.locator("footer")).to_contain_text("003_a6700be50d59b7d1.txt")
    expect(quote.locator("footer")).to_contain_text("line ")
    expect(sources.locator("mark").first).to_contain_text("Richard Teng", timeout=WAIT_MS)

    # A follow-up with a pronoun: resolved with the previous turn, and shown as such.
    _ask(page, FOLLOW_UP)
    expect(chat.locator(".czqa-understood").last).to_contain_text(RESOLVED, timeout=WAIT_MS)
    # The current answer's sources come first; the earlier answer's stay below, folded.
    expect(sources.locator(".czqa-searched").first).to_contain_text(RESOLVED, timeout=WAIT_MS)
    expect(sources.locator(".czqa-asked").first).to_contain_text(FOLLOW_UP)
    expect(sources.locator("details.czqa-earlier .czqa-searched")).to_contain_text(CEO_Q)
    expect(chat.locator(".czqa-reply")).to_have_count(2)
    expect(sources.locator(".czqa-passage").first).to_be_visible()
    page.wait_for_timeout(500)  # let the last repaint settle before the picture
    screenshot(page, "desktop-follow-up", full_page=True)

    # The page fetched nothing from outside this machine (fonts and scripts are local).
    assert page.requested_hosts <= {"127.0.0.1", "localhost"}, page.requested_hosts


def test_empty_question_gets_a_polite_message_of_its_own(page):
    """The notice is its own message (bubble), not text added to the reply before it."""
    from playwright.sync_api import expect

    replies_before = page.locator("#czqa-chat .message-row").count()
    _ask(page, "   ")
    notice = page.locator("#czqa-chat .czqa-notice").last
    expect(notice).to_contain_text("The question is empty", timeout=WAIT_MS)
    rows = page.locator("#czqa-chat .message-row")
    expect(rows).to_have_count(replies_before + 1)
    expect(rows.last.locator(".czqa-notice")).to_have_count(1)
    expect(rows.nth(replies_before - 1)).not_to_contain_text("The question is empty")
