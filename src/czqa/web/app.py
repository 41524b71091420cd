"""The Gradio layer of the chat page: layout, events and launch; the behaviour is in :mod:`czqa.web.chat`.

Gradio is imported here and only here, so ``import czqa`` and the other CLI commands never pay
for it. The page is a chat column (conversation, question box, answer mode, examples, clear)
beside a Sources panel; the index is loaded once before the server starts, and the queue lets
several visitors ask at once without one request crashing another.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from czqa.errors import CzqaError  # noqa: E402
from czqa.answering.registry import modes  # noqa: E402
from czqa.qa import QA, available_modes  # noqa: E402
from czqa.web.folder import FolderInfo  # noqa: E402
from czqa.web.render import esc  # noqa: E402
from czqa.settings import Settings  # noqa: E402
from czqa.web.chat import ChatSession  # noqa: E402

STYLE = Path(__file__).with_name("style.css")
CONCURRENCY = 4  # answering is CPU-bound and short; more parallel requests only queue on 2 cores
QUEUE_SIZE = 64

def theme() -> gr.themes.Base:
    """A calm theme with fonts that ship inside Gradio (nothing is fetched from the web)."""
    # IBM Plex Sans ships with Gradio in regular and bold; its semibold file renders some glyphs
    # in a fallback font in Chromium, so only 400 and 700 are declared (600 falls to 700).
    return gr.themes.Soft(
        primary_hue="amber",
        secondary_hue="slate",
        neutral_hue="slate",
        font=[gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"],
    )


def header(info: FolderInfo) -> str:
    return f'<div id="czqa-header"><h1>{esc(info.title)}</h1><p>{esc(info.description)}</p></div>'


def build_app(session: ChatSession, *, examples: Sequence[tuple[str, str | None]] | None = None) -> gr.Blocks:
    """The page's components and events over one loaded :class:`ChatSession`; title, description
    and examples come from the folder (``czqa.toml``, see :mod:`czqa.web.folder`)."""
    info = session.folder
    if examples is None:
        examples = [(e.question, e.label) for e in info.examples]
    specs = modes()
    names = list(available_modes(session.qa.settings))

    def respond(message, history, turns, mode):
        for screen in session.respond(message, history, turns, mode):
            sources = gr.skip() if screen.sources_html is None else screen.sources_html
            yield screen.messages, sources, screen.turns, screen.textbox

    def clear():
        return [], session.empty_sources(), [], ""

    with gr.Blocks(title="czqa · ask the documents", analytics_enabled=False) as app:
        gr.HTML(header(info), js_on_load=None)
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="czqa-chat",
                    height=560,
                    latex_delimiters=[],  # "$4.32 billion ... $4.35 billion" is money, not LaTeX
                    feedback_options=None,
                    line_breaks=False,
                    buttons=["copy"],
                    placeholder="Ask a question below, or pick an example.",
                )
                box = gr.Textbox(
                    label="Question",
                    placeholder="Ask a question about the documents…",
                    show_label=False,
                    elem_id="czqa-question",
                    submit_btn="Ask",
                    max_lines=4,
                    autofocus=True,
                )
                with gr.Row(equal_height=False, elem_id="czqa-controls"):
                    mode = gr.Radio(
                        names,
                        value=names[0],
                        label="Answer mode",
                        info="; ".join(f"{m}: {specs[m].description}" for m in names)
                        + ("" if "llm" in names else ". The local LLM mode appears here when it is installed."),
                        elem_id="czqa-mode",
                        scale=4,
                    )
                    clear_btn = gr.Button(
                        "Clear conversation", elem_id="czqa-clear", scale=1, min_width=150, size="sm", variant="secondary"
                    )
                examples_block = None if not examples else gr.Examples(
                    examples=[[q] for q, _ in examples],
                    example_labels=[label or q for q, label in examples],
                    inputs=[box],
                    label="Try one of these",
                    examples_per_page=10,
                )
            with gr.Column(scale=2, min_width=340, elem_id="czqa-sources-col"):
                gr.Markdown("### Sources")
                sources = gr.HTML(session.empty_sources(), elem_id="czqa-sources", js_on_load=None)

        io = dict(fn=respond, inputs=[box, chatbot, turns, mode], outputs=[chatbot, sources, turns, box])
        box.submit(**io, api_name="ask")
        if examples_block is not None:
            examples_block.load_input_event.then(**io, api_name=False)
        clear_btn.click(clear, outputs=[chatbot, sources, turns, box], api_name="clear")
        chatbot.clear(clear, outputs=[chatbot, sources, turns, box], api_name=False)
    return app


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(*, host: str = "127.0.0.1", port: int = 7860, settings: Settings | None = None) -> None:
    """Load the index, then serve the chat page until interrupted."""
    qa = QA(settings or Settings.from_env())
    session = ChatSession.start(qa)
    app = build_app(session)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    if not _is_loopback(host):
        print(f"note: serving on {host}, reachable from other machines", file=sys.stderr)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            theme=theme(),
            css_paths=[STYLE],
            ssr_mode=False,
            show_error=False,
            quiet=True,
            footer_links=["api", "gradio"],
            run_history=False,
            prevent_thread_lock=True,
        )
    except OSError as exc:
        raise CzqaError(f"Cannot serve on {host}:{port}: the port is taken or the "
                        "address is not this machine's; choose another with --port or --host.") from exc
    print(f"czqa chat page: http://{host}:{port} (index loaded in {qa.load_seconds:.1f}s; Ctrl+C stops)", flush=True)
    app.block_thread()
