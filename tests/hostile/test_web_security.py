"""Attacks on the chat page's server, each of which must fail: DNS rebinding (a foreign Host),
cross-site requests (a foreign Origin, CORS echo), missing security headers, oversized uploads,
and a flood of visitors that used to get "queue full" errors.

The middleware is tested first on a tiny ASGI app (fast, no server); then the real ``czqa
serve`` (the shared ``chat_server`` subprocess) is attacked over real HTTP, and an in-process
server with small settings shows the web settings are applied.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from urllib.parse import urlparse

import pytest

from czqa.settings import Settings, WebSettings
from czqa.web.security import SECURITY_HEADERS, SecurityMiddleware, default_allowed_hosts, parse_host
from serving import serving

HEADERS = [name.lower() for name in SECURITY_HEADERS]


# --- the middleware on a tiny ASGI app -----------------------------------------------------


async def _inner(scope, receive, send):
    """An app that, like Gradio's own CORS layer, echoes the Origin and sets a weak frame header."""
    headers = [(b"content-type", b"text/plain"), (b"x-frame-options", b"SAMEORIGIN")]
    for key, value in scope["headers"]:
        if key == b"origin":
            headers.append((b"access-control-allow-origin", value))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def _call(app, *, host: str | None = "127.0.0.1:7860", origin: str | None = None, scheme: str = "http",
          method: str = "GET", kind: str = "http"):
    """(status, headers as a dict of lists, body) of one request through ``app``."""
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {"type": kind, "method": method, "path": "/", "scheme": scheme, "headers": headers}
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    if kind == "websocket":
        return sent
    start = sent[0]
    found: dict[str, list[str]] = {}
    for key, value in start["headers"]:
        found.setdefault(key.decode().lower(), []).append(value.decode())
    return start["status"], found, b"".join(m.get("body", b"") for m in sent[1:])


def _guard(**options):
    options.setdefault("allowed_hosts", default_allowed_hosts(bind_host="127.0.0.1"))
    return SecurityMiddleware(_inner, **options)


@pytest.mark.parametrize("host", [
    "evil.example", "evil.example:7860", "127.0.0.1.evil.example:7860", "localhost.evil.example", "", "::1]:80", None,
])
def test_foreign_or_missing_host_gets_400(host):
    status, headers, body = _call(_guard(), host=host)
    assert status == 400 and b"Host" in body
    assert headers["content-type"] == ["text/plain; charset=utf-8"]
    assert all(name in headers for name in HEADERS)  # the refusal is hardened too


@pytest.mark.parametrize("host", ["127.0.0.1:7860", "localhost:7860", "LOCALHOST.:1", "[::1]:7860", "localhost"])
def test_loopback_hosts_pass(host):
    status, _, body = _call(_guard(), host=host)
    assert (status, body) == (200, b"ok")


def test_allowed_hosts_accept_a_port_and_a_wildcard():
    guard = _guard(allowed_hosts=["chat.lan:8000"])
    assert _call(guard, host="chat.lan:8000")[0] == 200
    assert _call(guard, host="chat.lan:8001")[0] == 400
    assert _call(guard, host="127.0.0.1:8000")[0] == 400  # loopback is no longer implied
    assert _call(_guard(allowed_hosts=["*"]), host="anything.example")[0] == 200


def test_default_hosts_are_loopback_plus_a_specific_bind_address():
    assert default_allowed_hosts(bind_host="0.0.0.0") == ["localhost", "127.0.0.1", "::1"]
    assert default_allowed_hosts(bind_host="192.168.1.5")[-1] == "192.168.1.5"
    assert parse_host("[::1]:7860") == ("::1", 7860) and parse_host("evil/x") is None


@pytest.mark.parametrize("origin", [
    "http://evil.example", "http://localhost:9999", "http://127.0.0.1:9999", "https://127.0.0.1:7860", "null", "junk",
])
def test_cross_origin_requests_get_403_without_cors_headers(origin):
    for method in ("GET", "POST", "OPTIONS"):
        status, headers, _ = _call(_guard(), origin=origin, method=method)
        assert status == 403
        assert not any(name.startswith("access-control-") for name in headers)


def test_same_origin_passes_and_gets_no_cors_headers():
    status, headers, _ = _call(_guard(), host="127.0.0.1:7860", origin="http://127.0.0.1:7860", method="POST")
    assert status == 200
    assert "access-control-allow-origin" not in headers  # the inner app's echo is removed
    assert _call(_guard(), host="localhost", origin="http://localhost:80")[0] == 200  # default port


def test_a_configured_origin_may_call_and_keeps_its_cors_headers():
    guard = _guard(allowed_origins=["http://localhost:3000"])
    status, headers, _ = _call(guard, origin="http://localhost:3000", method="POST")
    assert status == 200 and headers["access-control-allow-origin"] == ["http://localhost:3000"]
    assert _call(guard, origin="http://localhost:3001")[0] == 403


def test_security_headers_replace_the_apps_own():
    _, headers, _ = _call(_guard())
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == [value]
    assert headers["x-frame-options"] == ["DENY"]
    csp = headers["content-security-policy"][0]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "connect-src 'self'" in csp


def test_websocket_from_a_foreign_host_or_origin_is_closed():
    assert _call(_guard(), host="evil.example", kind="websocket")[-1] == {"type": "websocket.close", "code": 1008}
    assert _call(_guard(), origin="http://evil.example", kind="websocket")[-1]["type"] == "websocket.close"


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="host"):
        SecurityMiddleware(_inner, allowed_hosts=["a/b"])
    with pytest.raises(ValueError, match="origin"):
        SecurityMiddleware(_inner, allowed_hosts=["localhost"], allowed_origins=["localhost:3000"])


def test_web_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CZQA_WEB__QUEUE_SIZE", "300")
    monkeypatch.setenv("CZQA_WEB__ALLOWED_HOSTS", '["chat.lan"]')
    web = Settings().web
    assert web.queue_size == 300 and web.allowed_hosts == ["chat.lan"]
    defaults = WebSettings()
    assert defaults.queue_size >= 256 and defaults.max_upload_mb <= 5 and defaults.allowed_origins == []


def test_queue_full_becomes_a_busy_reply_with_retry_after():
    from czqa.web.app import AnswerClock, BusyReply

    async def full(scope, receive, send):
        await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"detail": "Queue is full."}'})

    clock = AnswerClock(guess=2.0)
    app = BusyReply(full, clock=clock, queue_size=10, concurrency=4)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join", "headers": []}
    asyncio.run(app(scope, None, send))
    start, body = sent
    assert start["status"] == 429 and (b"retry-after", b"5") in start["headers"]  # 10 waiting x 2 s / 4
    assert json.loads(body["body"])["detail"] == "The chat is busy: its queue is full (10 waiting). Please retry in about 5 s."


# --- the real `czqa serve`, over HTTP -------------------------------------------------------


def _request(url: str, path: str, *, method: str = "GET", host: str | None = None, headers: dict | None = None,
             body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One raw HTTP request to the server at ``url``, with any Host header (urllib cannot forge it)."""
    where = urlparse(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else where.netloc)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_served_page_refuses_a_rebound_host(chat_server):
    port = urlparse(chat_server).port
    for path in ("/", "/config", "/gradio_api/info"):
        status, _, body = _request(chat_server, path, host=f"evil.example:{port}")
        assert status == 400, path
        assert b"Host" in body and b"gradio" not in body.lower()


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info"])
def test_served_page_and_api_carry_the_security_headers(chat_server, path):
    port = urlparse(chat_server).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, headers, _ = _request(chat_server, path, host=host)
        assert status == 200, (path, host)
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (path, name)


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:9999"])
def test_served_page_refuses_cross_origin_calls_and_echoes_no_cors(chat_server, origin):
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    status, headers, _ = _request(chat_server, "/gradio_api/queue/join", method="OPTIONS", headers=preflight)
    assert status == 403 and headers.get("Access-Control-Allow-Origin") is None
    join = json.dumps({"data": ["x"], "fn_index": 0, "session_hash": "attacker"}).encode()
    status, headers, _ = _request(chat_server, "/gradio_api/queue/join", method="POST", body=join,
                                  headers={"Origin": origin, "Content-Type": "application/json"})
    assert status == 403 and headers.get("Access-Control-Allow-Origin") is None
    assert headers.get("Access-Control-Allow-Credentials") is None


def test_served_page_accepts_its_own_origin(chat_server):
    status, headers, _ = _request(chat_server, "/config", headers={"Origin": chat_server.rstrip("/")})
    assert status == 200 and headers.get("Access-Control-Allow-Origin") is None


def test_oversized_upload_is_refused(chat_server):
    limit = int(WebSettings().max_upload_mb * 1024 * 1024)
    boundary = "czqaboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + b"\0" * (limit + 1024) + f"\r\n--{boundary}--\r\n".encode()
    status, _, answer = _request(chat_server, "/gradio_api/upload", method="POST", body=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status in (400, 413), (status, answer[:200])
    assert b"big.bin" not in answer


# --- an in-process server with small web settings ------------------------------------------


@pytest.fixture
def gated_session(qa):
    """A session whose answers wait at a gate, so the queue's state is known, not timed."""
    from czqa.web.chat import ChatSession

    session = ChatSession.start(qa)
    entered, release = threading.Event(), threading.Event()
    answer = session.respond

    def respond(*args):
        entered.set()
        release.wait(120)
        yield from answer(*args)

    session.respond = respond
    session.gate = (entered, release)
    yield session
    release.set()


def _join(url: str, fn_index: int, session_hash: str):
    payload = {"data": ["Who is He Yi?", [], None, "extractive", None], "fn_index": fn_index, "trigger_id": None,
               "event_data": None, "session_hash": session_hash}
    return _request(url, "/gradio_api/queue/join", method="POST", body=json.dumps(payload).encode(),
                    headers={"Content-Type": "application/json"})


def test_queue_settings_are_applied_and_a_full_queue_says_when_to_retry(gated_session):
    entered, release = gated_session.gate
    with serving(gated_session, WebSettings(concurrency=1, queue_size=1)) as url:
        config = json.loads(_request(url, "/config")[2])
        ask = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
        assert _join(url, ask, "first")[0] == 200
        assert entered.wait(60), "the first question never started"
        assert _join(url, ask, "second")[0] == 200  # waits: the queue holds one
        status, headers, body = _join(url, ask, "third")
        release.set()
    assert status == 429, body
    assert int(headers["Retry-After"]) >= 1
    detail = json.loads(body)["detail"]
    assert detail.startswith("The chat is busy: its queue is full (1 waiting). Please retry in about ")


def test_configured_hosts_replace_the_loopback_names(qa):
    from czqa.web.chat import ChatSession

    with serving(ChatSession.start(qa), WebSettings(allowed_hosts=["chat.lan"])) as url:
        assert _request(url, "/config", host="chat.lan")[0] == 200
        assert _request(url, "/config")[0] == 400


def test_every_response_denies_devices_and_sensors():
    _, headers, _ = _call(_guard())
    policy = headers["permissions-policy"][0]
    for feature in ("camera", "microphone", "geolocation", "usb", "payment", "display-capture"):
        assert f"{feature}=()" in policy
