"""The Gradio layer of the chat page: layout, events and launch; the behaviour is in :mod:`czqa.web.chat`.

Gradio is imported here and only here, so ``import czqa`` and the other CLI commands never pay
for it. The page is a chat column (conversation, question box, answer mode, examples, clear)
beside a Sources panel; on a narrow screen the panel moves up to just under the question box
(``style.css``). The index is loaded once before the server starts, and the queue lets several
visitors ask at once without one request crashing another. The page's script
(:mod:`czqa.web.script`) makes citation markers jump to their sources, keeps the newest reply's
start in view, and gives the copy button and screen readers text instead of HTML. Each message
is its own bubble, so a notice never reads as part of the reply before it.

:func:`serve` does not use ``Blocks.launch``: it mounts the page on a FastAPI app of its own so
that :class:`czqa.web.security.SecurityMiddleware` wraps every route (Host and Origin checks,
security headers) before the server starts, and runs it with uvicorn on a socket bound first, so
a taken port is one clear error. When the queue is full, a visitor is told to retry in so many
seconds (:class:`BusyReply`) instead of getting an error.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402
from gradio import utils as gr_utils  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.responses import HTMLResponse  # noqa: E402
from starlette.middleware.cors import CORSMiddleware  # noqa: E402

from czqa.errors import CzqaError  # noqa: E402
from czqa.answering.modes.registry import modes  # noqa: E402
from czqa.qa import QA, available_modes  # noqa: E402
from czqa.web.folder import FolderInfo  # noqa: E402
from czqa.web.document import render_document, render_missing  # noqa: E402
from czqa.web.panel import DOCUMENT_PATH, stack_panels  # noqa: E402
from czqa.web.events import EventInputs  # noqa: E402
from czqa.web.payloads import EventPayloadCheck  # noqa: E402
from czqa.web.render import render_documents  # noqa: E402
from czqa.web.templating import render  # noqa: E402
from czqa.web.uploads import (UPLOAD_SWEEP, UPLOAD_TYPES, Shown, add_files, documents_html, forget_uploads,  # noqa: E402
                              indexed, remove_file)
from czqa.web.script import head  # noqa: E402
from czqa.settings import Settings, WebSettings  # noqa: E402
from czqa.web.chat import ChatSession  # noqa: E402
from czqa.web.security import SecurityMiddleware, default_allowed_hosts, is_loopback  # noqa: E402

STYLE = Path(__file__).with_name("style.css")


def theme() -> gr.themes.Base:
    """A calm theme with fonts that ship inside Gradio (nothing is fetched from the web).

    Soft's amber text and white-on-amber fills measure 1.9 to 2.6:1 against their backgrounds
    (axe-core, tests/web/test_page_browser.py); WCAG AA asks 4.5:1, so those colours are one or
    two steps darker here, and subdued text is slate 600 (400 in dark mode), not slate 400.
    """
    # IBM Plex Sans ships with Gradio in regular and bold; its semibold file renders some glyphs
    # in a fallback font in Chromium, so only 400 and 700 are declared (600 falls to 700).
    return gr.themes.Soft(
        primary_hue="amber",
        secondary_hue="slate",
        neutral_hue="slate",
        font=[gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"],
    ).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
        block_label_background_fill_dark="*primary_800",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_background_fill_selected_dark="*primary_800",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_800",
        button_primary_background_fill_hover_dark="*primary_700",
    )


def header(info: FolderInfo) -> str:
    return render("header.html", title=info.title, description=info.description)


class AnswerClock:
    """Mean seconds one answer takes on this server (a moving average), for the busy reply's estimate."""

    def __init__(self, *, guess: float = 1.0) -> None:
        self._seconds = guess
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return self._seconds

    def record(self, seconds: float) -> None:
        with self._lock:
            self._seconds = 0.8 * self._seconds + 0.2 * seconds


def _conversation(*, has_examples: bool) -> gr.Chatbot:
    return gr.Chatbot(
        label="Conversation",
        show_label=False,
        elem_id="czqa-chat",
        height=560,
        latex_delimiters=[],  # "$4.32 billion ... $4.35 billion" is money, not LaTeX
        feedback_options=None,
        line_breaks=False,
        buttons=["copy"],
        autoscroll=False,  # the page script shows the newest reply's start instead
        group_consecutive_messages=False,
        placeholder="Ask a question below, or pick an example." if has_examples else "Ask a question below.",
    )


def _question_box() -> gr.Textbox:
    return gr.Textbox(
        label="Question",
        placeholder="Ask a question about the documents…",
        show_label=False,
        elem_id="czqa-question",
        submit_btn="Ask",
        max_lines=4,
        autofocus=True,
    )


def _mode_control(names: list[str], specs) -> gr.Radio:
    """The answer modes this installation has, each with its one-line description."""
    return gr.Radio(
        names,
        value=names[0],
        label="Answer mode",
        info="; ".join(f"{m}: {specs[m].description}" for m in names)
        + ("" if any(specs[m].generative for m in names) else ". The local LLM mode appears here when it is installed."),
        elem_id="czqa-mode",
        scale=4,
    )


def build_app(
    session: ChatSession,
    *,
    examples: Sequence[tuple[str, str | None]] | None = None,
    clock: AnswerClock | None = None,
) -> gr.Blocks:
    """The page's components and events over one loaded :class:`ChatSession`; title, description
    and examples come from the folder (``czqa.toml``, see :mod:`czqa.web.folder`). ``clock``, when
    given, records how long each answer took."""
    info = session.folder
    if examples is None:
        examples = [(e.question, e.label) for e in info.examples]
    specs = modes()
    names = list(available_modes(session.qa.settings))

    def respond(message, history, turns, mode, panels):
        # ``panels``: the Sources panels of this visitor's earlier answers, newest first. They stay
        # on the page, folded, so an earlier reply's citation markers still lead to its sources.
        started = time.perf_counter()
        earlier = list(panels or [])
        for screen in session.respond(message, history, turns, mode):
            sources = gr.skip() if screen.sources_html is None else stack_panels(screen.sources_html, earlier)
            if screen.answer is not None:
                panels = [screen.sources_html, *earlier]
            yield screen.messages, sources, screen.turns, screen.textbox, panels
        if clock is not None:
            clock.record(time.perf_counter() - started)

    def clear():
        return [], stack_panels(session.empty_sources(), []), [], "", []

    with gr.Blocks(title="czqa · ask the documents", analytics_enabled=False, delete_cache=UPLOAD_SWEEP) as app:
        heading = gr.HTML(header(info), js_on_load=None)
        turns = gr.State([])
        panels = gr.State([])
        with gr.Row(equal_height=False, elem_id="czqa-main"):
            with gr.Column(scale=3, min_width=420, elem_id="czqa-chat-col"):
                chatbot = _conversation(has_examples=bool(examples))
                box = _question_box()
                examples_block = None if not examples else gr.Examples(
                    examples=[[q] for q, _ in examples],
                    example_labels=[label or q for q, label in examples],
                    inputs=[box],
                    label="Try one of these",
                    examples_per_page=10,
                    elem_id="czqa-examples",
                )
                with gr.Row(equal_height=False, elem_id="czqa-controls"):
                    mode = _mode_control(names, specs)
                    clear_btn = gr.Button(
                        "Clear conversation", elem_id="czqa-clear", scale=1, min_width=150, size="sm", variant="secondary"
                    )
            with gr.Column(scale=2, min_width=340, elem_id="czqa-sources-col"):
                gr.Markdown("## Sources", elem_id="czqa-sources-head")
                sources = gr.HTML(stack_panels(session.empty_sources(), []), elem_id="czqa-sources", js_on_load=None)
                # Which files the answers can come from, and every file that was left out and why.
                documents = gr.HTML(render_documents(session.qa.data.ingest_report), elem_id="czqa-documents", js_on_load=None)
                manage = DocumentManager(session)

        # No progress overlays: the reply itself says "Searching the documents…", and a failed
        # request (the busy reply) is a toast, not "Error" drawn over the conversation.
        io = dict(fn=respond, inputs=[box, chatbot, turns, mode, panels], outputs=[chatbot, sources, turns, box, panels],
                  show_progress="hidden")
        box.submit(**io, api_name="ask")
        if examples_block is not None:
            examples_block.load_input_event.then(**io, api_name=False)
        clear_btn.click(clear, outputs=[chatbot, sources, turns, box, panels], api_name="clear")
        chatbot.clear(clear, outputs=[chatbot, sources, turns, box, panels], api_name=False)
        manage.wire(app, documents, heading)
    return app


class DocumentManager:
    """The Sources column's "Add or remove documents" block; the logic is :mod:`czqa.web.uploads`.

    Remove asks first (the button turns into "Confirm remove"); both refresh the shared session,
    so every visitor's next question sees the change. One folder change runs at a time.
    """

    def __init__(self, session: ChatSession) -> None:
        self.session = session
        with gr.Accordion("Add or remove documents", open=False, elem_id="czqa-manage"):
            self.upload = gr.File(label="Add documents (.txt, .md, .html)", file_count="multiple", type="filepath",
                                  file_types=list(UPLOAD_TYPES), elem_id="czqa-upload", height=120)
            with gr.Row(equal_height=True, elem_id="czqa-remove-row"):
                self.pick = gr.Dropdown(indexed(session), value=None, label="Remove a document",
                                        elem_id="czqa-remove-pick", scale=3)
                self.remove = gr.Button("Remove", elem_id="czqa-remove", size="sm", variant="secondary",
                                        scale=1, min_width=90)
            self.status = gr.HTML("", elem_id="czqa-manage-status", js_on_load=None)
            self.armed = gr.State(None)  # the document a first press of Remove asked to confirm

    def _shown(self, shown: Shown) -> tuple:
        if not shown.busy:
            (gr.Info if shown.ok else gr.Warning)(shown.message)
        choices = gr.skip() if shown.busy else gr.update(choices=indexed(self.session), value=None)
        heading = gr.skip() if shown.busy else header(self.session.folder)  # the count and titles follow the folder
        return shown.documents, shown.status, choices, None, heading

    def add(self, files):
        try:
            for shown in add_files(self.session, files or []):
                yield self._shown(shown)
        finally:
            forget_uploads(files or [], upload_folder=Path(gr_utils.get_upload_folder()), received=self.received)

    def ask_remove(self, source, armed):
        if not source or armed != source:  # the first press only asks
            label = "Confirm remove" if source else "Remove"
            return gr.skip(), "", gr.skip(), gr.skip(), gr.skip(), source or None, gr.update(value=label)
        return *self._shown(remove_file(self.session, source)), None, gr.update(value="Remove")

    def wire(self, app: gr.Blocks, documents: gr.HTML, heading: gr.HTML) -> None:
        self.received = app.upload_file_set  # what the upload route handed out (see czqa.web.payloads)
        once = dict(api_name=False, show_progress="hidden", concurrency_limit=1, concurrency_id="czqa-folder")
        shown = [documents, self.status, self.pick, self.upload, heading]
        self.upload.upload(self.add, inputs=[self.upload], outputs=shown, **once)
        self.remove.click(self.ask_remove, inputs=[self.pick, self.armed], outputs=[*shown, self.armed, self.remove], **once)
        self.pick.change(lambda: (None, gr.update(value="Remove")), outputs=[self.armed, self.remove],
                         api_name=False, show_progress="hidden")
        # A page loaded after an upload shows the folder as it is now, not as it was at start.
        app.load(lambda: (documents_html(self.session), gr.update(choices=indexed(self.session), value=None),
                          header(self.session.folder)),
                 outputs=[documents, self.pick, heading], api_name=False, show_progress="hidden")


class BusyReply:
    """ASGI middleware: Gradio's "queue full" (HTTP 503 from ``queue/join``) becomes a busy reply.

    Gradio's page answers a 503 with a fixed "currently busy" toast and no hint of when to come
    back. The reply here is **429** with ``Retry-After`` and a JSON ``detail`` the page shows as
    is: how many questions are waiting and roughly when to retry, estimated from the queue size,
    the concurrency and the measured time per answer (:class:`AnswerClock`).
    """

    def __init__(self, app, *, clock: AnswerClock, queue_size: int, concurrency: int) -> None:
        self.app, self.clock, self.queue_size, self.concurrency = app, clock, queue_size, concurrency

    def retry_after(self) -> int:
        return max(1, min(600, math.ceil(self.queue_size * self.clock.seconds / self.concurrency)))

    def message(self) -> str:
        return (f"The chat is busy: its queue is full ({self.queue_size} waiting). "
                f"Please retry in about {self.retry_after()} s.")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/queue/join"):
            await self.app(scope, receive, send)
            return
        busy = False

        async def send_or_replace(message) -> None:
            nonlocal busy
            if message["type"] == "http.response.start" and message["status"] == 503:
                busy = True
                body = json.dumps({"detail": self.message(), "busy": True}).encode()
                await send({
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(self.retry_after()).encode()),
                    ],
                })
                await send({"type": "http.response.body", "body": body})
            elif not busy:  # the original 503 body is dropped
                await send(message)

        await self.app(scope, receive, send_or_replace)


def create_server_app(session: ChatSession, *, host: str, port: int, web: WebSettings | None = None) -> FastAPI:
    """The ASGI app :func:`serve` runs: the page mounted on FastAPI, behind the busy reply and the
    security middleware (outermost, so nothing reaches Gradio unchecked)."""
    web = web or WebSettings()
    clock = AnswerClock()
    blocks = build_app(session, clock=clock)
    blocks.queue(default_concurrency_limit=web.concurrency, max_size=web.queue_size)
    server_app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # With a CORSMiddleware on the parent, Gradio's own CORS layer (which echoes any localhost
    # origin) stands down; this one answers only the configured origins.
    server_app.add_middleware(CORSMiddleware, allow_origins=list(web.allowed_origins),
                              allow_methods=["GET", "POST"], allow_headers=["*"])

    # Registered before the page is mounted at "/", which would otherwise answer this path too.
    @server_app.get(f"/{DOCUMENT_PATH}", response_class=HTMLResponse, include_in_schema=False)
    def document(source: str = "", start: int = 0, end: int = 0) -> HTMLResponse:
        info = session.sources.get(source)
        if info is None or not info.text:
            return HTMLResponse(render_missing(source), status_code=404)
        return HTMLResponse(render_document(info, start, end))

    gr.mount_gradio_app(
        server_app,
        blocks,
        path="/",
        server_name=host,
        server_port=port,
        theme=theme(),
        css_paths=[STYLE],
        head=head(max_upload_mb=web.max_upload_mb),
        ssr_mode=False,
        show_error=False,
        footer_links=["api", "gradio"],
        run_history=False,
        max_file_size=int(web.max_upload_mb * 1024 * 1024),
    )
    events = EventInputs(blocks)
    server_app.add_middleware(EventPayloadCheck, inputs_of=events.count, values_problem=events.problem,
                              received=lambda path: path in blocks.upload_file_set, waiting=events.waiting)
    server_app.add_middleware(BusyReply, clock=clock, queue_size=web.queue_size, concurrency=web.concurrency)
    server_app.add_middleware(
        SecurityMiddleware,
        allowed_hosts=web.allowed_hosts or default_allowed_hosts(bind_host=host),
        allowed_origins=web.allowed_origins,
    )
    return server_app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free one), or CzqaError saying what to change."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise CzqaError(f"Cannot serve on {host}:{port}: the port is taken or the "
                        "address is not this machine's; choose another with --port or --host.") from exc
    return sock


def uvicorn_server(app, **config) -> uvicorn.Server:
    """A uvicorn server for ``app``: quiet, not trusting proxy headers, quick to stop."""
    return uvicorn.Server(uvicorn.Config(
        app, log_level="warning", proxy_headers=False, server_header=False, timeout_graceful_shutdown=3, **config
    ))


def one_blas_thread_per_answer(*, concurrency: int) -> None:
    """When several answers run at once, let each use one BLAS thread (unless OPENBLAS_NUM_THREADS says).

    OpenBLAS's helper threads spin while they wait, so parallel answers on few cores mostly spin
    against each other. Measured with ``bench/load.py`` (50 simultaneous users, 2 busy cores):
    the server spent 2.2 CPU-seconds per answer with OpenBLAS's default threads, 0.4 with one.
    """
    if concurrency < 2 or "OPENBLAS_NUM_THREADS" in os.environ:
        return
    try:
        from threadpoolctl import threadpool_limits  # installed with sentence-transformers (scikit-learn)
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def serve(*, host: str = "127.0.0.1", port: int = 7860, settings: Settings | None = None) -> None:
    """Load the index, then serve the chat page until interrupted."""
    settings = settings or Settings.from_env()
    qa = QA(settings, show_progress=sys.stderr.isatty())
    session = ChatSession.start(qa)
    app = create_server_app(session, host=host, port=port, web=settings.web)
    sock = listen(host, port)
    one_blas_thread_per_answer(concurrency=settings.web.concurrency)
    if not is_loopback(host):
        names = settings.web.allowed_hosts or default_allowed_hosts(bind_host=host)
        print(f"note: serving on {host}, reachable from other machines; it answers only to the host names "
              f"{', '.join(names)} (CZQA_WEB__ALLOWED_HOSTS lists others)", file=sys.stderr)
    print(f"czqa chat page: http://{host}:{port} (index loaded in {qa.load_seconds:.1f}s; Ctrl+C stops)", flush=True)
    uvicorn_server(app).run(sockets=[sock])
