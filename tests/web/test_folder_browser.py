"""The page on a user's own folder (not the seeds), at desktop and phone sizes, in a real browser.

A staff handbook of six files (``tests/fixtures/handbook``: ``.txt``, ``.md`` and ``.html``, no
``czqa.toml``) is copied to a temporary folder and served with auto-build on, as a new user
would serve theirs. These tests pin what a first visit needs: the header names the folder's
own documents and follows uploads and removals, the question box and a button that looks like
one are on the first screen (with the examples, when the folder has some, and no mention of
examples when it has none), and an upload over the size limit is told in the panel where it
stays. They also write the README's screenshots (``test-output/chat-page/folder-*.png``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from chat_browser import VIEWPORTS, WAIT_MS, ask, require_browser, screenshot, shared_helpers, wait_for_answer


_c = shared_helpers()
HANDBOOK = Path(__file__).parents[1] / "fixtures" / "handbook"
LIMIT_MB = 0.02  # the served folder's upload limit: a 30 KB file is over it


@pytest.fixture(scope="module")
def folder_server(tmp_path_factory):
    """``czqa serve`` on a copy of the handbook: (url, folder)."""
    require_browser()
    root = tmp_path_factory.mktemp("folder_server")
    folder = root / "handbook"
    shutil.copytree(HANDBOOK, folder)
    port = _c.free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "1",
           "CZQA_WEB__MAX_UPLOAD_MB": str(LIMIT_MB)}
    cmd = [sys.executable, "-m", "czqa.cli", "serve", "--port", str(port), "--seeds", str(folder),
           "--index", str(root / "index")]
    with _c.server_process("czqa serve", cmd, ready_url=url, log_path=root / "serve.log", limit=240, cwd=root, env=env):
        yield url, folder


def _open(browser, url: str, viewport: str):
    phone = viewport == "phone"
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone, device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#czqa-question textarea", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    return page


def _in_first_screen(page, selector: str) -> None:
    """``selector`` lies wholly inside the first viewport, at the top of the page (no scrolling)."""
    assert page.evaluate("window.scrollY") == 0
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, (selector, box, height)


def _looks_like_a_button(page, selector: str) -> None:
    style = page.locator(selector).evaluate(
        "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, el.offsetWidth, el.offsetHeight]; }"
    )
    background, colour, width, height = style
    assert background not in ("rgba(0, 0, 0, 0)", "transparent") and background != colour, style
    assert width >= 44 and height >= 32, style  # a finger-sized target


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_first_screen_of_a_folder_without_examples(folder_server, browser, viewport):
    url, _ = folder_server
    page = _open(browser, url, viewport)
    try:
        header = page.locator("#czqa-header")
        # the folder's own titles: a Markdown heading and an HTML <title>, by the one title rule
        assert "6 documents in handbook" in header.inner_text()
        assert "Travel and expenses" in header.inner_text()
        for selector in ("#czqa-header h1", "#czqa-question textarea", "#czqa-question .submit-button"):
            _in_first_screen(page, selector)
        _looks_like_a_button(page, "#czqa-question .submit-button")
        assert "example" not in page.locator("body").inner_text().lower()
        screenshot(page, f"folder-{viewport}-first")
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_first_screen_shows_a_folders_examples(chat_server, browser, viewport):
    page = _open(browser, chat_server, viewport)  # the seeds: their czqa.toml lists examples
    try:
        for selector in ("#czqa-header h1", "#czqa-question textarea", "#czqa-question .submit-button", "#czqa-examples button"):
            _in_first_screen(page, selector)
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_answer_on_the_folder(folder_server, browser, viewport):
    """The README's screenshots: a reply quoting the handbook, its sources beside (or below) it."""
    url, _ = folder_server
    page = _open(browser, url, viewport)
    try:
        ask(page, "How soon must a lost laptop be reported?")
        wait_for_answer(page, 1)
        reply = page.locator("#czqa-chat .czqa-reply").last
        panel = page.locator("#czqa-sources")
        assert "two hours" in reply.inner_text()
        assert "IT security rules" in panel.inner_text()  # the page's <title>
        # an HTML file reads as text everywhere: the answer, its quote and the passage
        assert "<strong>" not in reply.inner_text() and "<strong>" not in panel.inner_text()
        # plain labels: no raw score; one "quoted" card per quoted stretch (overlapping chunks merged)
        assert "score" not in reply.inner_text().lower()
        assert panel.locator(".czqa-passage .czqa-badge").count() == 1
        # the reply, its Sources entry and the CLI name the same line
        line = reply.locator(".czqa-quote .czqa-line").first.inner_text()
        assert panel.locator(".czqa-cited .czqa-line").first.inner_text() == line
        screenshot(page, f"folder-{viewport}-answered")
    finally:
        page.context.close()


def test_the_header_follows_uploads_and_removals(folder_server, browser, tmp_path):
    from playwright.sync_api import expect

    url, folder = folder_server
    doc = tmp_path / "canteen.md"
    doc.write_text("# Canteen opening hours\n\nThe canteen on the second floor is open from 11:30 to 14:00.\n")
    page = _open(browser, url, "desktop")
    try:
        page.get_by_text("Add or remove documents").click()
        page.locator("#czqa-upload input[type=file]").set_input_files(str(doc))
        expect(page.locator("#czqa-manage-status")).to_contain_text("Added canteen.md.", timeout=WAIT_MS)
        expect(page.locator("#czqa-header")).to_contain_text("7 documents in handbook", timeout=WAIT_MS)
        pick = page.locator("#czqa-remove-pick input")
        pick.click()
        pick.fill("canteen.md")
        page.locator("#czqa-remove-pick").get_by_role("option", name="canteen.md").click()
        expect(pick).to_have_value("canteen.md")
        page.wait_for_timeout(1_000)  # the pick's change event (it disarms Remove) has run
        page.locator("#czqa-remove").click()
        expect(page.locator("#czqa-remove")).to_have_text("Confirm remove")
        page.locator("#czqa-remove").click()
        expect(page.locator("#czqa-manage-status")).to_contain_text("Removed canteen.md", timeout=WAIT_MS)
        expect(page.locator("#czqa-header")).to_contain_text("6 documents in handbook", timeout=WAIT_MS)
        # czqa's own folder for removed files is not a document left out
        assert ".czqa-removed" not in page.locator("#czqa-documents").inner_text()
        assert not (folder / "canteen.md").exists()
    finally:
        page.context.close()


def test_an_upload_over_the_limit_is_told_in_the_panel_and_stays(folder_server, browser, tmp_path):
    from playwright.sync_api import expect

    url, folder = folder_server
    small, big = tmp_path / "parking.txt", tmp_path / "archive.txt"
    small.write_text("Parking spaces are shared; book one in the intranet the day before.\n")
    big.write_text("All minutes of the works council since 1998.\n" * 700)  # 31 KB, over the 20 KB limit
    page = _open(browser, url, "desktop")
    try:
        page.get_by_text("Add or remove documents").click()
        upload = page.locator("#czqa-upload input[type=file]")
        upload.set_input_files(str(small))
        status = page.locator("#czqa-manage-status")
        expect(status).to_contain_text("Added parking.txt.", timeout=WAIT_MS)
        upload.set_input_files(str(big))
        kb = -(-big.stat().st_size // 1024)
        expect(status).to_contain_text(f"Not added: archive.txt: {kb} KB", timeout=10_000)
        expect(status).to_contain_text(f"larger than the {LIMIT_MB:g} MB limit (CZQA_WEB__MAX_UPLOAD_MB)")
        assert "Added parking.txt" not in status.inner_text()  # not the previous upload's notice
        page.wait_for_timeout(6_000)  # Gradio's toast has faded by now; the notice has not
        expect(status).to_contain_text("Not added: archive.txt")
        assert not (folder / "archive.txt").exists()
    finally:
        page.context.close()
        (folder / "parking.txt").unlink(missing_ok=True)
