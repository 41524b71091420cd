"""The chat page: its handler in-process over the real index, and the served app through gradio_client."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from czqa.types import Answer, Delta
from czqa.qa import QA
from czqa.settings import Settings
from czqa.answering.followup.resolver import Turn
from czqa.web.chat import ChatSession

CEO_Q = "Who replaced Changpeng Zhao as Binance's CEO?"
FOLLOW_UP = "When did he take over?"
RESOLVED = "When did Richard Teng take over?"
# A follow-up whose rewrite finds less than the question as typed: the page searches it as typed.
TYPED_WINS = "What did he say about his first 100 days?"
TYPED_WINS_MEANT = "What did Richard Teng say about his first 100 days?"


@pytest.fixture(scope="module")
def session(qa) -> ChatSession:
    return ChatSession.start(qa)


def final(screens) -> list:
    screens = list(screens)
    assert screens, "respond yielded nothing"
    return screens


# --- the handler, in-process ---------------------------------------------------------------


def test_reply_streams_a_placeholder_then_the_answer(session):
    screens = final(session.respond(CEO_Q, [], [], "extractive"))
    first, last = screens[0], screens[-1]
    assert "Searching the documents" in first.messages[-1]["content"]
    assert first.answer is None and first.textbox == ""
    assert [m["role"] for m in last.messages] == ["user", "assistant"]
    assert 'class="czqa-short">Richard Teng<' in last.messages[-1]["content"]
    assert "<blockquote" in last.messages[-1]["content"]
    assert last.answer is not None and last.answer.short_answer == "Richard Teng"
    assert len(last.turns) == 1 and last.turns[0].short_answer == "Richard Teng"
    assert "<mark>" in last.sources_html and "Searched for" in last.sources_html


def test_follow_up_is_resolved_before_retrieval_and_shown(session):
    first = final(session.respond(CEO_Q, [], [], "extractive"))[-1]
    screens = final(session.respond(FOLLOW_UP, first.messages, first.turns, "extractive"))
    last = screens[-1]
    assert last.resolution.resolved == RESOLVED
    assert last.answer.question == RESOLVED  # what was searched is the resolved question
    assert f"Understood as: <span class=\"czqa-resolved\">{RESOLVED}</span>" in last.messages[-1]["content"]
    assert RESOLVED in last.sources_html and f"You asked: {FOLLOW_UP}" in last.sources_html
    assert len(last.messages) == 4 and [t.question for t in last.turns] == [CEO_Q, RESOLVED]
    # The typed question declines; the rewrite finds when the new CEO took over.
    assert not last.answer.abstained and "November 2023" in last.answer.text


def test_who_else_does_not_repeat_the_answer_already_given(session):
    """The documents name one co-founder of Moji Weather; "Who else co-founded it?" found that
    same name again and showed it as a confident answer. Now the page says the documents don't say."""
    first = final(session.respond("Who co-founded Moji Weather?", [], [], "reader"))[-1]
    assert first.answer.short_answer == "Zhao Dong"
    last = final(session.respond("Who else co-founded it?", first.messages, first.turns, "reader"))[-1]
    assert last.answer.abstained and "Zhao Dong, already given" in last.answer.declined_reason
    assert last.turns[-1].abstained


def test_follow_up_is_searched_as_typed_when_the_rewrite_finds_less(session):
    """The rewrite of TYPED_WINS is declined while the typed question is answered: the page keeps
    the answer, and says the question was searched as typed (no "Understood as")."""
    first = final(session.respond(CEO_Q, [], [], "extractive"))[-1]
    screens = final(session.respond(TYPED_WINS, first.messages, first.turns, "extractive"))
    # While searching, the page shows the rewrite it is trying.
    assert TYPED_WINS_MEANT in screens[0].messages[-1]["content"]
    last = screens[-1]
    assert last.resolution.resolved == TYPED_WINS and not last.resolution.rewritten
    assert last.answer.question == TYPED_WINS and not last.answer.abstained
    assert "Understood as" not in last.messages[-1]["content"]
    assert f'Searched for</span> <span class="czqa-resolved">{TYPED_WINS}</span>' in last.sources_html
    assert "You asked" not in last.sources_html
    # The conversation still remembers who "he" meant, for the next follow-up.
    assert [t.question for t in last.turns] == [CEO_Q, TYPED_WINS_MEANT]
    assert any(p.source == "004_fd8af95ea304c4f9.txt" for p in last.answer.passages)


class _ScriptedQA:
    """A QA-like object with scripted answers: the page's choice without a model. ``answer`` is
    the default (deciding) mode; ``stream`` in any other mode drafts, then answers."""

    default_mode = "reader"

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.settings = Settings()
        self.answers = answers
        self.answered: list[tuple[str, str | None]] = []
        self.streamed: list[tuple[str, str | None]] = []

    def validate(self, question: str) -> str:
        return QA.validate(self, question)

    def answer(self, question: str, *, top_k=None, mode=None) -> Answer:
        self.answered.append((question, mode))
        return self.answers[question]

    def stream(self, question: str, *, top_k=None, mode=None) -> Iterator[Delta | Answer]:
        self.streamed.append((question, mode))
        yield Delta(text="draft ")
        yield self.answers[question].model_copy(update={"mode": mode})

    def conversation(self, **options):
        from czqa.answering.followup.conversation import conversation_over

        return conversation_over(self, **options)


@pytest.mark.parametrize(("typed_short", "rewrite_short", "searched"), [
    ("November 2023", None, TYPED_WINS),  # the rewrite declines: searched as typed
    (None, "November 2023", TYPED_WINS_MEANT),  # the typed question declines: the rewrite is searched
])
def test_generating_mode_decides_with_the_default_mode_then_streams_the_chosen_question(typed_short, rewrite_short, searched):
    def said(q, short):
        return Answer(question=q, abstained=short is None, short_answer=short, confidence=3.0 if short else -2.0)

    qa = _ScriptedQA({TYPED_WINS: said(TYPED_WINS, typed_short), TYPED_WINS_MEANT: said(TYPED_WINS_MEANT, rewrite_short)})
    turns = [Turn(question=CEO_Q, short_answer="Richard Teng")]
    screens = final(ChatSession(qa=qa).respond(TYPED_WINS, [], turns, "llm"))
    assert sorted(qa.answered) == sorted([(TYPED_WINS, "reader"), (TYPED_WINS_MEANT, "reader")])
    assert qa.streamed == [(searched, "llm")]  # only the chosen question is generated
    last = screens[-1]
    assert last.answer.mode == "llm" and last.answer.short_answer == "November 2023"
    assert last.resolution.resolved == searched and last.resolution.rewritten == (searched != TYPED_WINS)
    assert f'<span class="czqa-resolved">{searched}</span>' in last.sources_html
    assert any("czqa-streaming" in s.messages[-1]["content"] and "draft" in s.messages[-1]["content"] for s in screens)


def test_a_question_that_is_not_a_follow_up_is_answered_once():
    qa = _ScriptedQA({CEO_Q: Answer(question=CEO_Q, abstained=False, short_answer="Richard Teng", confidence=4.0)})
    last = final(ChatSession(qa=qa).respond(CEO_Q, [], [], "reader"))[-1]
    assert qa.answered == [] and qa.streamed == [(CEO_Q, "reader")]
    assert last.answer.short_answer == "Richard Teng" and not last.resolution.rewritten


def test_abstention_offers_closest_matches(session):
    last = final(session.respond("What is the boiling point of mercury?", [], [], "extractive"))[-1]
    content = last.messages[-1]["content"]
    assert "The documents don&#x27;t say" in content and "Closest matches" in content
    assert last.turns[-1].abstained


@pytest.mark.parametrize("message", ["", "   ", None])
def test_empty_input_gets_a_polite_message(session, message):
    screens = final(session.respond(message, [], [], "extractive"))
    assert len(screens) == 1
    only = screens[0]
    assert only.messages == [{"role": "assistant", "content": only.messages[0]["content"]}]
    assert "The question is empty" in only.messages[0]["content"]
    assert only.turns == [] and only.sources_html is None and only.textbox == ""


def test_too_long_input_is_kept_for_editing(session, qa):
    long = "Why " * (qa.settings.max_question_chars // 2)
    only = final(session.respond(long, [], [], "extractive"))[0]
    assert "the limit is" in only.messages[-1]["content"] and "Ask a shorter question" in only.messages[-1]["content"]
    assert only.textbox == long  # still in the box, to be shortened


def test_unknown_mode_is_reported_not_raised(session):
    last = final(session.respond(CEO_Q, [], [], "oracle"))[-1]
    assert "Unknown answer mode" in last.messages[-1]["content"]
    assert last.turns == []


class _DeltaFirstQA(QA):
    """The real QA, streaming its real answer's words as Deltas first, the way a generative mode does.

    Only the LLM mode (another issue) streams for real; this exercises the page's side of the
    ``QA.stream`` contract today: provisional text, then replaced by the verified Answer.
    """

    def stream(self, question: str, *, top_k=None, mode="extractive") -> Iterator[Delta | Answer]:
        *_, answer = super().stream(question, top_k=top_k, mode=mode)
        for word in answer.text.split(" ")[:5]:
            yield Delta(text=word + " ")
        yield answer


def test_deltas_render_progressively_then_the_final_answer_replaces_them(qa, int8_encoder):
    streaming = _DeltaFirstQA(qa.settings, query_encoder=int8_encoder, build_encoder=int8_encoder)
    screens = final(ChatSession.start(streaming).respond(CEO_Q, [], [], "extractive"))
    partial = [s for s in screens if "czqa-streaming" in s.messages[-1]["content"] and s.answer is None]
    # The searching placeholder, then one screen per delta, each longer than the last.
    assert len(partial) == 6
    texts = [s.messages[-1]["content"] for s in partial[1:]]
    assert "Richard</p>" in texts[0] and "Richard Teng." in texts[1]
    assert all(len(a) < len(b) for a, b in zip(texts, texts[1:]))
    assert "generating" in partial[-1].messages[-1]["content"]
    last = screens[-1]
    assert "czqa-streaming" not in last.messages[-1]["content"]
    assert 'class="czqa-short">Richard Teng<' in last.messages[-1]["content"]


def test_planted_markup_in_a_document_is_shown_as_text(tmp_path, st_encoder, np_encoder):
    """A seed file holding <script> and <img onerror>: its quote reaches the page escaped."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bridge.txt").write_text(
        "The harbour bridge reopened on Monday <script>alert('x')</script> after a two-year repair "
        "programme <img src=x onerror=alert(1)> costing four million pounds, the council said.\n\n"
        "Traffic on the ring road fell by a third in the first week after the reopening, according "
        "to figures published by the transport office on Friday.\n"
    )
    qa = QA(Settings(seeds_dir=seeds, index_dir=tmp_path / "idx"), build_encoder=st_encoder, query_encoder=np_encoder)
    last = final(ChatSession.start(qa).respond("When did the harbour bridge reopen?", [], [], "extractive"))[-1]
    assert last.answer is not None and not last.answer.abstained
    assert "<script>" in last.answer.citations[0].quote  # the document really holds the markup
    for fragment in (last.messages[-1]["content"], last.sources_html):
        assert "<script" not in fragment and "<img" not in fragment
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in fragment
        assert "&lt;img src=x onerror=alert(1)&gt;" in fragment


def test_serve_defaults_to_loopback():
    from czqa.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 7860)


def test_import_czqa_does_not_import_gradio():
    import subprocess
    import sys

    code = "import sys, czqa, czqa.cli, czqa.web.render, czqa.answering.followup.resolver; print('gradio' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


# --- the served app, through gradio_client -------------------------------------------------


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content


@pytest.fixture(scope="module")
def client_factory(chat_server):
    from gradio_client import Client

    return lambda: Client(chat_server, verbose=False)


def test_app_answers_and_follows_up_through_the_api(client_factory):
    client = client_factory()
    history, sources, box = client.predict(CEO_Q, [], "extractive", api_name="/ask")
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "Richard Teng" in _text(history[-1]) and "<blockquote" in _text(history[-1])
    assert "<mark>" in sources
    # The conversation's turns live in the server-side session state of this client.
    history, sources, _ = client.predict(FOLLOW_UP, history, "extractive", api_name="/ask")
    assert len(history) == 4
    assert RESOLVED in _text(history[-1]) and f"You asked: {FOLLOW_UP}" in sources


def test_app_streams_intermediate_screens(client_factory):
    job = client_factory().submit(CEO_Q, [], "extractive", api_name="/ask")
    outputs = job.result() and job.outputs()
    assert len(outputs) >= 2
    assert "Searching the documents" in _text(outputs[0][0][-1])
    assert "Richard Teng" in _text(outputs[-1][0][-1])


def test_app_answers_empty_input_politely(client_factory):
    history, _, box = client_factory().predict("   ", [], "extractive", api_name="/ask")
    assert len(history) == 1 and "The question is empty" in _text(history[0]) and box == ""


def test_app_clear_resets_the_conversation(client_factory):
    client = client_factory()
    history, _, _ = client.predict(CEO_Q, [], "extractive", api_name="/ask")
    history, sources, box = client.predict(api_name="/clear")
    assert history == [] and box == "" and "Ask a question" in sources
    # After clearing, a pronoun has nothing to refer to and is searched as typed.
    history, sources, _ = client.predict(FOLLOW_UP, [], "extractive", api_name="/ask")
    assert "You asked" not in sources and "Understood as" not in _text(history[-1])


def test_concurrent_visitors_are_queued_not_crashed(client_factory):
    questions = [
        CEO_Q,
        "How much did Binance agree to pay?",
        "When was Changpeng Zhao sentenced?",
        "What is the boiling point of mercury?",
        "Where did Changpeng Zhao serve his sentence?",
        "Who is He Yi?",
    ]
    results: dict[int, object] = {}

    def ask(i: int, question: str) -> None:
        try:
            results[i] = client_factory().predict(question, [], "extractive", api_name="/ask")
        except Exception as exc:  # recorded and asserted below
            results[i] = exc

    threads = [threading.Thread(target=ask, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(results) == list(range(len(questions)))
    for i, question in enumerate(questions):
        result = results[i]
        assert not isinstance(result, Exception), f"{question}: {result!r}"
        history = result[0]
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert 'class="czqa-reply"' in _text(history[-1])


def test_serve_on_a_taken_port_fails_with_a_message(chat_server):
    import subprocess
    import sys
    from urllib.parse import urlparse

    port = str(urlparse(chat_server).port)
    r = subprocess.run(
        [sys.executable, "-m", "czqa.cli", "serve", "--port", port], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr
    assert "Traceback" not in r.stderr and "czqa chat page" not in r.stdout


def test_the_page_shows_which_files_were_indexed_and_which_were_left_out(chat_server):
    import httpx

    config = httpx.get(chat_server + "config", timeout=30).text
    # czqa.toml is czqa's own settings for the folder (the page's title and examples): read, and
    # not listed as a document left out (a "1 skipped" on every folder with one looked like a problem)
    assert "Documents: 5 indexed, 0 skipped, 0 refused" in config
    assert "czqa.toml" not in config
