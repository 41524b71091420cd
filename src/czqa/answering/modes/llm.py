"""The ``llm`` answer mode: a local language model writes the reply, verified before it is shown.

Registered with :mod:`czqa.answering.modes.registry`; listed only where a backend is set up (llama.cpp
with a GGUF model, or an OpenAI-compatible server). When nothing in the model's reply survives
verification, the default mode's answer is shown instead, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Iterator

from czqa.answering.llm.backends import make_backend, unavailable_reason
from czqa.answering.llm.generative import GenerativeAnswerer
from czqa.answering.llm.prompting import load_templates
from czqa.answering.modes.registry import Corpus, ModeSpec, Query, register
from czqa.types import Answer, Delta


class LLMAnswerer:
    """Streams the model's draft as Deltas, then the verified Answer (or the fallback's)."""

    mode = "llm"

    def __init__(self, corpus: Corpus) -> None:
        llm = corpus.settings.llm
        backend = make_backend(llm)  # LLMUnavailable, saying how to enable it, before loading anything
        templates = load_templates(llm.prompts_dir, llm.prompt_version)
        self.generative = GenerativeAnswerer(backend, templates, corpus.texts, llm)
        self.fallback = corpus.fallback

    def stream(self, query: Query) -> Iterator[Delta | Answer]:
        fallback = self.fallback
        if fallback is None:
            raise RuntimeError("the llm mode needs a fallback answerer")
        yield from self.generative.stream(query.question, query.passages, fallback=lambda: fallback(query))

    def answer(self, query: Query) -> Answer:
        result = None
        for event in self.stream(query):
            result = event
        assert isinstance(result, Answer)
        return result


register(
    ModeSpec(
        name="llm",
        description="a local LLM writes the reply; every sentence is checked against an exact quote",
        factory=LLMAnswerer,
        unavailable=lambda settings: unavailable_reason(settings.llm),
        generative=True,
    )
)
