"""czqa's HTTP backend against a real OpenAI-compatible server: llama-cpp-python's own, started
here on 127.0.0.1 with the bundled SmolLM2 GGUF, streaming over server-sent events."""

import sys
from importlib.util import find_spec

import pytest

from czqa.answering.llm.backends import OpenAICompatBackend
from czqa.types import Answer, Delta
from czqa.qa import QA
from czqa.settings import LLMSettings

from conftest import free_port, require_llm, server_process

SERVER_MODULES = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
STARTUP_LIMIT = 300  # seconds; loading a 135M model takes a few, a busy CI machine more


@pytest.fixture(scope="module")
def server_url(gguf_path, tmp_path_factory):
    missing = [m for m in SERVER_MODULES if find_spec(m) is None]
    if missing:
        require_llm(f"llama-cpp-python's server extra is not installed ({', '.join(missing)} missing)")
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with server_process("llama_cpp.server", cmd, ready_url=f"{url}/models", log_path=log, limit=STARTUP_LIMIT):
        yield url


@pytest.fixture(scope="module")
def remote_qa(qa, server_url):
    return QA(qa.settings.model_copy(update={"llm": LLMSettings(base_url=server_url)}), query_encoder=qa.encoder)


def test_backend_streams_a_reply_over_sse(server_url):
    backend = OpenAICompatBackend(server_url)
    messages = [{"role": "user", "content": "Count from one to five in words."}]
    pieces = list(backend.stream_chat(messages, max_tokens=24, temperature=0.0))
    assert len(pieces) > 1  # streamed in pieces, not one blob
    assert "".join(pieces).strip()


def test_server_and_in_process_backends_give_the_same_reply(server_url, gguf_path):
    from czqa.answering.llm.backends import LlamaCppBackend

    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Source: The bridge reopened on 4 May 2021 after two years of repairs.\nQuestion: When did the bridge reopen?"},
    ]
    remote = "".join(OpenAICompatBackend(server_url).stream_chat(messages, max_tokens=40, temperature=0.0))
    local = "".join(LlamaCppBackend(gguf_path).stream_chat(messages, max_tokens=40, temperature=0.0))
    assert "2021" in remote
    assert remote == local


def test_czqa_answers_through_the_server(remote_qa, qa):
    question = "Who replaced Changpeng Zhao as Binance's CEO?"
    events = list(remote_qa.stream(question, mode="llm"))
    *deltas, final = events
    assert len(deltas) > 1 and all(isinstance(d, Delta) for d in deltas)
    assert isinstance(final, Answer)
    for c in final.citations:
        assert qa.texts[c.source][c.start : c.end] == c.quote
    if final.mode == "llm":
        assert final.citations and "[1]" in final.text
    else:  # the reply failed verification, and the answer says so
        assert final.note and final.text.endswith(f"({final.note})")
        assert final.model_dump(exclude={"text", "note"}) == qa.answer(question).model_dump(exclude={"text", "note"})
