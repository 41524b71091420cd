"""Pydantic models at czqa's public boundary.

Everything a caller gets back from :func:`czqa.answer` is one of these models, so the CLI's
``--json``, the chat page and the evaluation runner all see the same JSON-serializable shape.
Offsets are character offsets into the *original* text of a seed file, never into a cleaned copy:
``original_text[start:end] == text`` is the contract that makes every quote checkable.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Span(BaseModel):
    """A stretch of one seed file, addressed by character offsets into its original text."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Seed file name, e.g. '003_a6700be50d59b7d1.txt'.")
    start: int = Field(ge=0, description="Offset of the first character in the original file text.")
    end: int = Field(ge=0, description="Offset one past the last character.")


class Passage(Span):
    """A retrieved chunk of a seed file, with the score that ranked it."""

    id: str = Field(description="Stable chunk id (content hash), the same across rebuilds.")
    text: str = Field(description="Exactly original_text[start:end].")
    score: float = Field(description="Fused retrieval score; higher is better.")


class Citation(Span):
    """An exact quote that supports (part of) an answer."""

    quote: str = Field(description="Exactly original_text[start:end].")


class Answer(BaseModel):
    """czqa's reply to one question.

    ``text`` is what a person reads; the structured fields let scripts check it: ``short_answer``
    is the span that answers a who/when/how-much question when one was found, ``citations`` are
    exact quotes, and ``conflict`` is set when the cited sources give different values.
    """

    question: str
    text: str
    abstained: bool
    short_answer: str | None = None
    conflict: bool = False
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    mode: str = "extractive"
    confidence: float = Field(
        default=0.0, description="The evidence score the abstention threshold was compared with."
    )
    note: str | None = Field(
        default=None,
        description="Set when an LLM reply was changed by verification: sentences removed, or the "
        "extractive answer shown instead, and why.",
    )


class Delta(BaseModel):
    """A piece of a reply as it is generated (LLM mode streams these before the final Answer).

    Deltas are provisional: the final :class:`Answer` that ends a stream is the verified reply and
    may differ from the concatenated deltas (e.g. a generation that failed citation checks falls
    back to the extractive answer), so a UI must replace the streamed text with ``Answer.text``.
    """

    text: str
