"""Helpers and fixtures for the chat page in a real headless browser: Debian's Chromium, driven by Playwright.

No browser is downloaded: Playwright drives the system Chromium at /usr/bin/chromium. On a
developer machine without it the browser tests skip and say why; CI sets CZQA_REQUIRE_BROWSER=1
(after installing chromium in .ci/run), and then a missing browser is a failure. Accessibility
is checked with axe-core, vendored in tests/web/vendor (see its README), so nothing is fetched.
The fixtures are registered for tests/web by its conftest.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "chat-page"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 90_000
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}


def require_browser() -> None:
    required = os.environ.get("CZQA_REQUIRE_BROWSER") == "1"
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem:
        if required:
            pytest.fail(f"CZQA_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(f"browser test skipped: {problem}")


def shared_helpers():
    """tests/conftest.py's server helpers (free_port, server_process, the seeds' paths): the module
    is loaded by path, because tests/web/conftest.py shadows the name ``conftest``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("czqa_tests_conftest", Path(__file__).parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def open_page(browser, chat_server):
    """``open_page(viewport_name, dark=False)``: a fresh page on the chat server, its own conversation.

    A phone viewport is a touch device with a mobile user agent, as Chromium emulates one; ``dark``
    asks for the dark colour scheme, which Gradio follows. Every page records which hosts it
    requested (``page.requested_hosts``).
    """
    contexts = []

    def opener(viewport: str = "desktop", *, dark: bool = False):
        phone = viewport == "phone"
        context = browser.new_context(
            viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone, device_scale_factor=1,
            permissions=["clipboard-read", "clipboard-write"], color_scheme="dark" if dark else "light",
        )
        contexts.append(context)
        page = context.new_page()
        page.requested_hosts = set()
        page.on("request", lambda r: page.requested_hosts.add(urlparse(r.url).hostname))
        page.goto(chat_server)
        page.wait_for_selector("#czqa-question textarea", timeout=WAIT_MS)
        return page

    yield opener
    for context in contexts:
        context.close()


def ask(page, question: str) -> None:
    box = page.locator("#czqa-question textarea")
    box.fill(question)
    box.press("Enter")


def wait_for_answer(page, count: int) -> None:
    """Until the chat shows ``count`` replies and the newest one is final (not streaming)."""
    page.wait_for_function(
        """n => { const r = document.querySelectorAll('#czqa-chat .czqa-reply');
                   return r.length === n && !r[n - 1].classList.contains('czqa-streaming'); }""",
        arg=count,
        timeout=WAIT_MS,
    )
    page.wait_for_timeout(300)  # the page script aligns the reply on the next animation frame


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 5_000
    return path


# axe-core rules about names, labels and ARIA: every one must pass, whatever its impact.
LABEL_RULES = {
    "label", "button-name", "link-name", "input-button-name", "select-name", "image-alt",
    "document-title", "frame-title", "svg-img-alt", "label-title-only", "empty-heading",
}


def axe_violations(page, name: str) -> list[dict]:
    """Run axe-core on the page as it is; save the full result under test-output; return violations."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"axe-{name}.json").write_text(json.dumps(result["violations"], indent=1))
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [(n["target"], n["failureSummary"]) for n in v["nodes"][:5]]}
        for v in result["violations"]
    ]


# Gradio's own toast (the busy notice) has a header with role=button that holds the close button
# (statustracker in Gradio 6.x); that is Gradio's markup, reported but not failed here.
KNOWN_GRADIO = {("nested-interactive", ".toast-header")}


def must_fix(violation: dict) -> bool:
    """Contrast, names/labels and ARIA, at any impact; anything else that axe rates serious or worse."""
    rule = violation["id"]
    if all((rule, " ".join(target)) in KNOWN_GRADIO for target, _ in violation["nodes"]):
        return False
    return (
        rule == "color-contrast" or rule in LABEL_RULES or rule.startswith("aria-")
        or violation["impact"] in ("serious", "critical")
    )
