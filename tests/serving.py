"""An in-process chat server for tests that attack it over real HTTP."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from czqa.settings import WebSettings


@contextmanager
def serving(session, web: WebSettings | None = None):
    """The app :func:`czqa.web.app.serve` runs, on a free loopback port in this process; yields
    its base URL (no trailing slash)."""
    from czqa.web.app import create_server_app, listen, uvicorn_server

    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn_server(create_server_app(session, host="127.0.0.1", port=port, web=web or WebSettings()))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the in-process server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
