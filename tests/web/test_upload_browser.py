"""Adding a document through the page in a real browser: upload, wait for indexing, ask about it.

The server runs on a copy of the seeds and of the index (the committed folder is never written),
with auto_build on so the upload's refresh may embed the new file.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from chat_browser import CHROMIUM, FLAGS, WAIT_MS, ask, require_browser, shared_helpers, wait_for_answer

_c = shared_helpers()
EMBEDDINGS, ROOT, SEEDS, free_port, server_process = _c.EMBEDDINGS, _c.ROOT, _c.SEEDS, _c.free_port, _c.server_process

FACT = "The Varnholm lighthouse was first lit in 1902. Its first keeper was Ilse Brandt, who kept the lamp for thirty years.\n"


@pytest.fixture(scope="module")
def writable_server(tmp_path_factory):
    require_browser()
    root = tmp_path_factory.mktemp("upload_server")
    seeds, index = root / "seeds", root / "embeddings"
    shutil.copytree(SEEDS, seeds)
    shutil.copytree(EMBEDDINGS, index)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "1"}
    cmd = [sys.executable, "-m", "czqa.cli", "serve", "--port", str(port), "--seeds", str(seeds), "--index", str(index)]
    with server_process("czqa serve", cmd, ready_url=url, log_path=root / "serve.log", limit=180, cwd=ROOT, env=env):
        yield url, seeds


def test_an_uploaded_file_is_answered_and_shown_in_sources(writable_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, seeds = writable_server
    doc = tmp_path / "lighthouse.txt"
    doc.write_text(FACT)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#czqa-question textarea", timeout=WAIT_MS)
            page.get_by_text("Add or remove documents").click()
            page.locator("#czqa-upload input[type=file]").set_input_files(str(doc))
            expect(page.locator("#czqa-manage-status")).to_contain_text("Added lighthouse.txt.", timeout=WAIT_MS)
            assert (seeds / "lighthouse.txt").read_text() == FACT
            expect(page.locator("#czqa-documents")).to_contain_text("6 indexed")
            ask(page, "Who was the first keeper of the Varnholm lighthouse?")
            wait_for_answer(page, 1)
            expect(page.locator("#czqa-chat .czqa-reply").last).to_contain_text("Ilse Brandt")
            expect(page.locator("#czqa-sources")).to_contain_text("lighthouse.txt")
        finally:
            browser.close()
