"""One settings object for the library, the CLI and the chat page; environment variables override.

Defaults find the project's own ``seeds/`` and ``embeddings/``: first in the current directory,
then beside the source tree (an editable install run from elsewhere). ``CZQA_SEEDS``,
``CZQA_INDEX``, ``CZQA_TOP_K`` and ``CZQA_AUTO_BUILD`` override them.
"""

from __future__ import annotations

import os
from pathlib import Path

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
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)
