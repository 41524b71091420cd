"""Malformed event values and stray stream requests are refused before Gradio's queue, in one
line, and leave nothing in the server's log.

Gradio validates an event's values inside its queue and prints a full traceback for each one
it rejects; its stream route raises inside an already-started response for a session with no
events. Either let anyone who can reach the page fill the log, one request at a time.
"""

from __future__ import annotations

import httpx
import pytest

from czqa.qa import QA
from czqa.settings import Settings
from czqa.web.chat import ChatSession
from doubles import HashingEncoder
from serving import serving


@pytest.fixture
def page(tmp_path, capfd):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "festival.txt").write_text("The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik.")
    (docs / "czqa.toml").write_text('examples = ["Who founded the festival?", "When did it begin?"]\n')
    enc = HashingEncoder()
    session = ChatSession.start(QA(Settings(seeds_dir=docs, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc))
    with serving(session) as url:
        deps = httpx.get(f"{url}/config").json()["dependencies"]
        ask = next(i for i, d in enumerate(deps) if d.get("api_name") == "ask")
        capfd.readouterr()  # start-up lines are not what is measured
        yield url, ask


BAD = {
    "question not text": [{"x": "y" * 100_000}, [], None, "reader", None],
    "history not a list": ["Who founded it?", "z" * 1_200_000, None, "reader", None],
    "history of junk": ["Who founded it?", [{"role": 7}], None, "reader", None],
    "mode not a choice": ["Who founded it?", [], None, "no-such-mode", None],
    "mode not text": ["Who founded it?", [], None, 12345, None],
}


@pytest.mark.parametrize("data", BAD.values(), ids=BAD.keys())
def test_a_malformed_value_is_refused_in_one_line_and_logs_nothing(page, capfd, data):
    url, ask = page
    r = httpx.post(f"{url}/gradio_api/queue/join", json={"data": data, "fn_index": ask, "session_hash": "bad"}, timeout=30)
    assert r.status_code == 422 and "is not valid" in r.text and len(r.text) < 200
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and len(out + err) < 200


def test_a_stream_for_a_session_without_events_is_404_and_logs_nothing(page, capfd):
    url, _ = page
    for n in range(5):
        r = httpx.get(f"{url}/gradio_api/queue/data", params={"session_hash": f"nobody{n}"}, timeout=30)
        assert r.status_code == 404
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_a_well_formed_question_still_answers(page):
    url, ask = page
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=30,
                   json={"data": ["Who founded the festival?", [], None, "extractive", None], "fn_index": ask, "session_hash": "good"})
    assert r.status_code == 200
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": "good"}, timeout=60) as s:
        done = next(line for line in s.iter_lines() if "process_completed" in line)
    assert '"success":true' in done and "Mira Talvik" in done


@pytest.mark.parametrize("value", [None, -1, 99, "0", {"": 1.5}, True])
def test_an_example_click_that_names_no_example_is_refused(page, capfd, value):
    url, _ = page
    deps = httpx.get(f"{url}/config").json()["dependencies"]
    examples = next(i for i, d in enumerate(deps) if d.get("api_name") == "load_example")
    r = httpx.post(f"{url}/gradio_api/queue/join", json={"data": [value], "fn_index": examples, "session_hash": "ex"}, timeout=30)
    assert r.status_code == 422 and "examples" in r.text
    assert "Traceback" not in "".join(capfd.readouterr())


def test_an_event_the_page_does_not_have_is_refused(page):
    url, _ = page
    r = httpx.post(f"{url}/gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "x"}, timeout=30)
    assert r.status_code == 422 and r.text == "This page has no such event."
    r = httpx.post(f"{url}/gradio_api/call/nope", json={"data": []}, timeout=30)
    assert r.status_code == 422


def test_the_pages_own_events_are_not_on_the_api_routes(page):
    """Events the page wires with api_name=False (the example chain, the upload) answered on
    /run/<name> with a traceback (Gradio asked for their State values); they are not API."""
    url, _ = page
    for name in ("false", "false_1", "false_2"):
        r = httpx.post(f"{url}/gradio_api/run/{name}", json={"data": [None, None, None]}, timeout=30)
        assert r.status_code == 422 and r.text == "This page has no such event.", name


def test_an_example_click_on_the_run_route_names_its_event_by_fn_index(page):
    """The page itself loads an example with /run/predict and the event's fn_index in the body;
    Gradio runs the event the body names, so that is the one checked (a check by the path's name
    refused every example click)."""
    url, _ = page
    deps = httpx.get(f"{url}/config").json()["dependencies"]
    examples = next(i for i, d in enumerate(deps) if d.get("api_name") == "load_example")
    r = httpx.post(f"{url}/gradio_api/run/predict", json={"data": [1], "fn_index": examples, "session_hash": "ex"}, timeout=30)
    assert r.status_code == 200, r.text
    assert "When did it begin?" in r.text
    ask = next(i for i, d in enumerate(deps) if d.get("api_name") == "ask")
    r = httpx.post(f"{url}/gradio_api/run/predict", json={"data": [None], "fn_index": ask, "session_hash": "ex"}, timeout=30)
    assert r.status_code == 422 and "takes 5 input value(s)" in r.text


def test_a_choice_added_after_start_is_accepted(page, tmp_path):
    """The remove picker's choices are the folder as it is now (updated after every upload): a
    file added after the page started was refused as "not one of its choices", so it could not be
    removed. A choice of a component no event updates is still checked (the mode, above)."""
    url, _ = page
    deps = httpx.get(f"{url}/config").json()["dependencies"]
    components = {c["id"]: c for c in httpx.get(f"{url}/config").json()["components"]}
    remove_button = next(n for n, c in components.items() if c.get("props", {}).get("elem_id") == "czqa-remove")
    remove = next(i for i, d in enumerate(deps) if [remove_button, "click"] in [list(t) for t in d.get("targets", [])])
    (tmp_path / "docs" / "added-later.txt").write_text("Added after the page started.")
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=30,
                   json={"data": ["added-later.txt", None], "fn_index": remove, "session_hash": "rm"})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=30,
                   json={"data": ["added-later.txt", 12], "fn_index": remove, "session_hash": "rm"})
    assert r.status_code == 200, r.text  # State is not checked; the picker's value is text
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=30,
                   json={"data": [{"not": "text"}, None], "fn_index": remove, "session_hash": "rm"})
    assert r.status_code == 422
