"""Prompt templates from ``prompts/`` and the chat messages built from them.

The wording lives in versioned files (``prompts/system.v1.txt``, ``prompts/answer.v1.txt``) so a
prompt change is a reviewed diff of a text file, and an evaluation run can name the version it
used. Retrieved passages go into the user message as numbered sources between ``<source>``
tags. Document text is data: any tag-like text inside a passage that could close or open a
source block is defused first, so a document cannot break out of its block and pose as the
question or the instructions.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from czqa.errors import CzqaError
from czqa.types import Passage

#: What the prompt tells the model to reply when the sources do not answer the question.
NOT_IN_SOURCES = "NOT IN SOURCES"

_DELIMITER = re.compile(r"<\s*(/?)\s*(sources?|question)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PromptTemplates:
    """The versioned system and user prompt texts the LLM mode renders (files in ``prompts/``)."""

    version: str
    system: str
    answer: string.Template  # placeholders: $sources, $question


def load_templates(prompts_dir: Path, version: str) -> PromptTemplates:
    """Read ``system.<version>.txt`` and ``answer.<version>.txt`` (``.md`` also accepted)."""

    def read(kind: str) -> str:
        for ext in ("txt", "md"):
            path = Path(prompts_dir) / f"{kind}.{version}.{ext}"
            if path.is_file():
                return path.read_text(encoding="utf-8").strip()
        raise CzqaError(
            f"Prompt template {kind}.{version}.txt not found in {prompts_dir}; "
            "set CZQA_LLM__PROMPTS to the folder that holds czqa's prompts/."
        )

    answer = string.Template(read("answer"))
    missing = {"sources", "question"} - set(answer.get_identifiers())
    if missing:
        raise CzqaError(f"Prompt template answer.{version} lacks the placeholder(s) ${', $'.join(sorted(missing))}.")
    return PromptTemplates(version=version, system=read("system"), answer=answer)


def defuse(text: str) -> str:
    """Document or question text with anything that looks like our delimiters made inert.

    ``</source>`` inside a passage becomes ``‹/source>``: still readable, no longer a tag.
    """
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def render_source(number: int, passage: Passage) -> str:
    """One numbered source block; whitespace runs are folded to save context tokens."""
    body = defuse(" ".join(passage.text.split()))
    # The file name is the user's too (any name a file system allows): quoted so it cannot
    # close the attribute or the tag.
    name = defuse(passage.source).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<source n="{number}" file="{name}">\n{body}\n</source>'


def select_sources(passages: list[Passage], *, max_chars: int) -> list[Passage]:
    """The leading passages (best first) whose text fits in ``max_chars``; at least one."""
    chosen, used = [], 0
    for p in passages:
        size = len(" ".join(p.text.split()))
        if chosen and used + size > max_chars:
            break
        chosen.append(p)
        used += size
    return chosen


def build_messages(templates: PromptTemplates, question: str, sources: list[Passage]) -> list[dict[str, str]]:
    """OpenAI-style chat messages: the system prompt, then sources and question as the user turn.

    Source ``n`` (1-based) is ``sources[n - 1]``; the verifier resolves ``[n]`` the same way.
    """
    blocks = "\n\n".join(render_source(n, p) for n, p in enumerate(sources, 1))
    user = templates.answer.substitute(sources=blocks, question=defuse(" ".join(question.split())))
    return [{"role": "system", "content": templates.system}, {"role": "user", "content": user}]
