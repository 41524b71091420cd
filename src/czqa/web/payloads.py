"""Refuse malformed event requests before Gradio's queue runs them.

Gradio checks an event's inputs only once it is already processing it, and a request whose
``data`` holds the wrong number of values ends in a printed server traceback (and a generic
error for the caller). The page is unauthenticated, so anyone who can reach it can send such
requests: a fuzz run of 2,500 random requests found exactly this. This ASGI middleware reads the
JSON body of the queue's ``join`` route and of the API routes (``/call/<name>``, ``/run/<name>``
…), bounded in size, and answers **422** with a one-line reason when it is not an object,
``data`` is not a list, or ``data`` does not hold one value per input of the event (named by
``fn_index``, or by the API name in the path). Everything else passes through untouched, the body
replayed as it came.

It is also the page's gate for **files**: an event's value for a file component is a Gradio
``FileData`` whose ``path`` names a file *on the server*, and Gradio copies that file into its
cache before the event runs. Gradio checks the path only in an app started with ``launch()``;
czqa mounts the page in its own server, where the check never runs, so a client that is not a
browser could name any readable file on the machine (``/home/me/notes.txt``) and have it copied
into the documents folder and served back. Here every ``path`` anywhere in an event's ``data``
must be one this server's upload route handed out (``received``), or the request gets **422**.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

JOIN_SUFFIX = "/queue/join"
STREAM_SUFFIX = "/queue/data"
# The API routes name the event in the path; their ``data`` leaves out the event's State inputs.
_API_ROUTE = re.compile(r"/(?:run|api|call|call/v2)/(?P<name>[^/]+)/?$")
MAX_BODY = 4 * 1024 * 1024  # an event's inputs are a question and the chat so far: far below this


class EventPayloadCheck:
    """ASGI middleware; ``inputs_of(fn_index=…, api_name=…)`` gives the number of values the
    event takes (None: the page has no such event, refused); ``values_problem`` checks each value
    against its component (:mod:`czqa.web.events`); ``waiting(session_hash)`` says whether a
    stream request has events to wait for; ``received(path)`` says
    whether the server's own upload route received the file at ``path`` (a path it did not is
    refused, whatever the event)."""

    def __init__(self, app, *, inputs_of: Callable[..., int | None],
                 received: Callable[[str], bool] = lambda path: False,
                 values_problem: Callable[..., str | None] = lambda values, **event: None,
                 waiting: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.waiting = waiting
        self.inputs_of = inputs_of
        self.received = received
        self.values_problem = values_problem

    async def __call__(self, scope, receive, send):
        if self.waiting is not None and scope["type"] == "http" and scope.get("path", "").endswith(STREAM_SUFFIX):
            # Gradio opens the stream, then raises 404 inside it for a session with no events: a
            # traceback in the log per request. Answered here instead, before any byte is sent.
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if not self.waiting((query.get("session_hash") or [""])[0]):
                await _refuse(send, 404, "No events are waiting for this session.")
                return
        path = scope.get("path", "") if scope["type"] == "http" and scope.get("method") == "POST" else ""
        api = _API_ROUTE.search(path)
        if not (path.endswith(JOIN_SUFFIX) or api):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body = message.get("body", b"")
            size += len(body)
            if size > MAX_BODY:
                await _refuse(send, 413, "The request is too large.")
                return
            chunks.append(body)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        problem = self.problem(body, api_name=api.group("name") if api else None)
        if problem:
            log.info("refused an event request (%s): %s", path, problem)  # one bounded line, no value echoed
            await _refuse(send, 422, problem)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def problem(self, body: bytes, *, api_name: str | None = None) -> str | None:
        """Why ``body`` is not a well-formed event request, or None."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting deeper than json can read
            return "The request body is not JSON."
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return "The request needs a JSON object with a 'data' list."
        if any(not (isinstance(path, str) and self.received(path)) for path in file_paths(payload["data"])):
            return "A file in this request was not uploaded to this page; upload it first."
        # Gradio runs the event the body's fn_index names, on every route (the page itself calls
        # /run/predict with one for an example click); only without it does the path's name count.
        fn_index = payload.get("fn_index")
        if isinstance(fn_index, int) and not isinstance(fn_index, bool):
            event = {"fn_index": fn_index}
        elif api_name is not None and fn_index is None:
            event = {"api_name": api_name}
        elif api_name is not None:
            return "The request's fn_index must be a whole number."
        else:
            return None  # the queue answers a missing event itself, without a traceback
        expected = self.inputs_of(**event)
        if expected is None:  # Gradio answers an unknown event with a 500
            return "This page has no such event."
        if len(payload["data"]) != expected:
            return f"This event takes {expected} input value(s), not {len(payload['data'])}."
        return self.values_problem(payload["data"], **event)


def file_paths(value, *, depth: int = 0) -> Iterator[object]:
    """Every ``path`` of a file object (a dict with a ``path`` key) anywhere in ``value``.

    Any dict with a ``path`` is treated as a file: Gradio recognises file values by their shape
    as well as by their ``meta`` tag, so a value without the tag must not slip through. Nesting
    deeper than a page's values ever go counts as a path nobody uploaded.
    """
    if depth > 32:
        yield None
        return
    if isinstance(value, dict):
        if "path" in value:
            yield value["path"]
        for item in value.values():
            yield from file_paths(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from file_paths(item, depth=depth + 1)


async def _refuse(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
