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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

JOIN_SUFFIX = "/queue/join"
# The API routes name the event in the path; their ``data`` leaves out the event's State inputs.
_API_ROUTE = re.compile(r"/(?:run|api|call|call/v2)/(?P<name>[^/]+)/?$")
MAX_BODY = 4 * 1024 * 1024  # an event's inputs are a question and the chat so far: far below this


class EventPayloadCheck:
    """ASGI middleware; ``inputs_of(fn_index=…, api_name=…)`` gives the number of values the
    event takes on that route (None: unknown event, left to Gradio)."""

    def __init__(self, app, *, inputs_of: Callable[..., int | None]) -> None:
        self.app = app
        self.inputs_of = inputs_of

    async def __call__(self, scope, receive, send):
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
        except (ValueError, UnicodeDecodeError):
            return "The request body is not JSON."
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return "The request needs a JSON object with a 'data' list."
        if api_name is not None:
            expected = self.inputs_of(api_name=api_name)
        else:
            fn_index = payload.get("fn_index")
            if not isinstance(fn_index, int) or isinstance(fn_index, bool):
                return None  # Gradio answers an unknown or missing event itself, without a traceback
            expected = self.inputs_of(fn_index=fn_index)
        if expected is not None and len(payload["data"]) != expected:
            return f"This event takes {expected} input value(s), not {len(payload['data'])}."
        return None


async def _refuse(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
