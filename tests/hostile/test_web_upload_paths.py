"""The page's upload event must take only files the server's own upload route received.

An event's file value names a path on the server. A client that is not a browser can send any
path; before the fix, czqa's mounted page let Gradio copy that server-side file into the documents
folder, index it and serve it back (any readable ``.txt/.md/.html`` on the machine). These tests
forge such events against a real in-process server and check nothing outside the folder is read.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from czqa.qa import QA
from czqa.settings import Settings
from czqa.web.chat import ChatSession
from czqa.web.payloads import EventPayloadCheck, file_paths
from doubles import HashingEncoder
from serving import serving

SECRET = "The vault code is 4417. Nobody outside this machine may read this sentence."


@pytest.fixture
def page(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festival.txt").write_text("The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik.")
    enc = HashingEncoder()
    session = ChatSession.start(QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"),
                                   query_encoder=enc, build_encoder=enc))
    with serving(session) as url:
        config = httpx.get(f"{url}/config").json()
        upload_id = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "czqa-upload")
        event = next(i for i, d in enumerate(config["dependencies"])
                     if upload_id in d["inputs"] and any(t[1] == "upload" for t in d["targets"]))
        yield url, config["dependencies"][event]["id"], docs


def _file(path: str, name: str) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _join(url: str, fn_index: int, files: list[dict]) -> httpx.Response:
    body = {"data": [files], "fn_index": fn_index, "trigger_id": None, "event_data": None, "session_hash": "forger"}
    return httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)


def _wait_for(predicate, limit: float = 30) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_forged_path_to_a_server_file_is_refused_and_nothing_is_copied(page, tmp_path):
    url, fn_index, docs = page
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    for forged in ([_file(str(secret), "secret.txt")],
                   [{"path": str(secret)}],  # no meta tag: still a file to Gradio
                   [_file(f"{tmp_path}/private/../private/secret.txt", "notes.txt")]):
        response = _join(url, fn_index, forged)
        assert response.status_code == 422 and "not uploaded to this page" in response.text
    time.sleep(1)  # a queued event would have run by now
    assert sorted(p.name for p in docs.iterdir() if not p.name.startswith(".")) == ["festival.txt"]
    assert all(SECRET not in p.read_text() for p in docs.rglob("*.txt"))


def test_a_file_the_page_uploaded_is_added(page):
    url, fn_index, docs = page
    text = "The Varnholm lighthouse was first lit in 1902 by its keeper Ilse Brandt."
    uploaded = httpx.post(f"{url}/gradio_api/upload", files={"files": ("lighthouse.txt", text.encode())}).json()
    assert len(uploaded) == 1
    response = _join(url, fn_index, [_file(uploaded[0], "lighthouse.txt")])
    assert response.status_code == 200, response.text
    assert _wait_for(lambda: (docs / "lighthouse.txt").exists())
    assert (docs / "lighthouse.txt").read_text() == text


def test_file_paths_are_found_at_any_depth_and_bad_nesting_is_not_json():
    data = [{"a": [{"path": "/x"}]}, "text", [[{"path": "/y", "meta": {}}]]]
    assert list(file_paths(data)) == ["/x", "/y"]
    check = EventPayloadCheck(None, inputs_of=lambda **_: None, received={"/x"}.__contains__)
    assert check.problem(json.dumps({"data": [{"path": "/x"}]}).encode()) is None
    assert "not uploaded" in check.problem(json.dumps({"data": data}).encode())
    assert "not uploaded" in check.problem(json.dumps({"data": [{"path": 7}]}).encode())
    assert check.problem(b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}") == "The request body is not JSON."


def test_an_added_upload_leaves_no_copy_in_the_upload_folder(page):
    url, fn_index, docs = page
    uploaded = httpx.post(f"{url}/gradio_api/upload", files={"files": ("note.txt", b"The kiln was fired in 1911.")}).json()
    assert _join(url, fn_index, [_file(uploaded[0], "note.txt")]).status_code == 200
    assert _wait_for(lambda: (docs / "note.txt").exists())
    from pathlib import Path

    assert _wait_for(lambda: not Path(uploaded[0]).exists(), limit=10), "the upload's copy was kept"
    # and a replay of the same (now consumed) path is refused like any other path
    assert _join(url, fn_index, [_file(uploaded[0], "note.txt")]).status_code == 422
