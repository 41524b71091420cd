"""The ``llm`` answer mode: a model writes the reply, verification decides what is shown.

The model sees the retrieved passages, each cut to the few sentences around its best match with
the question, as numbered sources (as many as fit its context window), and streams its reply; every piece is passed on as a :class:`~czqa.types.Delta` so a chat page
can show it at once. The finished reply then goes through :class:`~czqa.answering.llm.verify.Verifier`:
only sentences tied to an exact quote of a cited source survive, each followed by its quote,
file and character offsets. When nothing survives (no valid citation, nothing supported, or the
model said the sources do not answer), the final Answer is the extractive answerer's, which
quotes or abstains by itself, and its ``note`` says so. The streamed text is therefore a draft;
the final Answer is what counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import closing

from czqa.answering.llm.backends import ChatBackend
from czqa.answering.llm.excerpts import excerpts
from czqa.answering.llm.prompting import PromptTemplates, build_messages, select_sources
from czqa.answering.llm.verify import Verification, Verifier
from czqa.types import Answer, Claim, Delta, Passage
from czqa.settings import LLMSettings

#: Context tokens kept for the system prompt, the template's own words and the question.
PROMPT_OVERHEAD_TOKENS = 350
#: A conservative characters-per-token ratio for English prose (real BPE tokenizers give ~4).
CHARS_PER_TOKEN = 3
#: Longest excerpt of one passage the model reads (two or three sentences).
EXCERPT_CHARS = 400

_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")


def repeats_itself(reply: str) -> bool:
    """True when the last finished line of ``reply`` repeats an earlier one (list markers aside)."""
    lines = [_LIST_MARKER.sub("", line).strip().lower() for line in reply.split("\n")[:-1]]
    lines = [line for line in lines if line]
    return len(lines) >= 2 and lines[-1] in lines[:-1]


def compose(question: str, check: Verification, passages: list[Passage]) -> Answer:
    """The verified reply: each supported sentence a claim with the exact quote it rests on."""
    claims = [Claim(text=c.text, citations=[c.citation]) for c in check.supported if c.citation is not None]
    note = None
    if check.rejected or check.invalid_refs:
        note = f"Removed from the LLM reply after checking it against the sources: {check.problems()}."
    return Answer(
        question=question,
        abstained=False,
        claims=claims,
        passages=passages,
        mode="llm",
        confidence=round(len(claims) / max(1, len(check.claims)), 4),
        note=note,
        removed_claims=len(check.rejected),
    )


def fallback_note(check: Verification, mode: str) -> str:
    if check.model_abstained and not check.claims:
        return f"The LLM found no answer in the sources; showing the {mode} answer."
    return f"LLM reply could not be verified ({check.problems()}); showing the {mode} answer."


class GenerativeAnswerer:
    """Prompts a chat model with numbered sources, streams its reply, and verifies it into an Answer."""

    def __init__(self, backend: ChatBackend, templates: PromptTemplates, texts: dict[str, str], llm: LLMSettings) -> None:
        """``texts`` maps each seed file to its original text: what quotes are verified against."""
        self.backend = backend
        self.templates = templates
        self.llm = llm
        self.texts = texts
        self.verifier = Verifier(texts)
        self.source_budget = max(1000, (llm.context_size - llm.max_tokens - PROMPT_OVERHEAD_TOKENS) * CHARS_PER_TOKEN)

    def messages(self, question: str, passages: list[Passage]) -> tuple[list[dict[str, str]], list[Passage]]:
        focused = excerpts(question, passages, self.texts, max_chars=EXCERPT_CHARS)
        sources = select_sources(focused, max_chars=self.source_budget)
        return build_messages(self.templates, question, sources), sources

    def stream(
        self, question: str, passages: list[Passage], *, fallback: Callable[[], Answer]
    ) -> Iterator[Delta | Answer]:
        """Yield the model's reply as Deltas, then the verified Answer (or ``fallback()``, noted)."""
        messages, sources = self.messages(question, passages)
        pieces: list[str] = []
        with closing(self.backend.stream_chat(messages, max_tokens=self.llm.max_tokens, temperature=self.llm.temperature)) as chunks:
            for piece in chunks:
                pieces.append(piece)
                yield Delta(text=piece)
                if "\n" in piece and repeats_itself("".join(pieces)):
                    break  # a small model in a loop: nothing more worth waiting for
        check = self.verifier.verify("".join(pieces), sources, question)
        if check.ok:
            yield compose(question, check, passages)
            return
        base = fallback()
        note = fallback_note(check, base.mode)
        yield base.model_copy(update={"note": note, "removed_claims": len(check.rejected), "replaced_from": "llm"})
