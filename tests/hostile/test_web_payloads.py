"""Malformed event requests get a 422 with a reason, before Gradio's queue prints a traceback."""

from __future__ import annotations

import asyncio
import json

import httpx

from czqa.web.payloads import EventPayloadCheck


async def _echo(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app saw " + body})


def call(body: bytes, path: str = "/gradio_api/queue/join", method: str = "POST") -> tuple[int, bytes]:
    app = EventPayloadCheck(_echo, inputs_of=lambda fn_index=None, api_name=None: {0: 5, "ask": 3}.get(fn_index if api_name is None else api_name))
    sent: list[dict] = []
    pieces = [body[:10], body[10:]]

    async def receive():
        chunk = pieces.pop(0) if pieces else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pieces)}

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": path}, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_wrong_number_of_inputs_is_refused_with_a_reason():
    status, body = call(json.dumps({"data": ["only the question"], "fn_index": 0}).encode())
    assert status == 422 and b"takes 5 input value(s), not 1" in body


def test_api_routes_are_checked_by_the_event_name_in_the_path():
    one = json.dumps({"data": ["x" * 50]}).encode()
    status, body = call(one, path="/gradio_api/call/ask")
    assert status == 422 and b"takes 3 input value(s), not 1" in body
    assert call(one, path="/gradio_api/run/ask/")[0] == 422
    three = json.dumps({"data": ["q", [], "reader"]}).encode()
    assert call(three, path="/gradio_api/call/ask")[0] == 200
    # an unknown event: Gradio answered it with a 500 (found by bench/fuzz.py --events)
    assert call(one, path="/gradio_api/call/unknown") == (422, b"This page has no such event.")


def test_bodies_that_are_not_event_requests_are_refused():
    assert call(b"{")[0] == 422
    assert call(b"[]")[0] == 422
    assert call(json.dumps({"data": "x", "fn_index": 0}).encode())[0] == 422


def test_well_formed_and_other_requests_pass_through_with_their_body():
    good = json.dumps({"data": [1, 2, 3, 4, 5], "fn_index": 0}).encode()
    assert call(good) == (200, b"app saw " + good)
    unknown = json.dumps({"data": [1], "fn_index": 7}).encode()
    assert call(unknown) == (422, b"This page has no such event.")  # Gradio answered it with a 500
    assert call(b"not json", path="/gradio_api/upload") == (200, b"app saw not json")


def test_the_served_page_refuses_a_short_event_request(chat_server):
    config = httpx.get(chat_server + "config", timeout=30).json()
    ask = next(d for d in config["dependencies"] if d.get("api_name") == "ask")
    r = httpx.post(chat_server + "gradio_api/queue/join", json={"data": ["x"], "fn_index": ask["id"], "session_hash": "h"}, timeout=30)
    assert r.status_code == 422 and "input value(s), not 1" in r.text
    r = httpx.post(chat_server + "gradio_api/call/ask", json={"data": ["x"]}, timeout=30)
    assert r.status_code == 422 and "input value(s), not 1" in r.text
