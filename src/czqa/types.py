"""Pydantic models at czqa's public boundary.

Everything a caller gets back from :func:`czqa.answer` is one of these models, so the CLI's
``--json``, the chat page and the evaluation runner all see the same JSON-serializable shape.
Offsets are character offsets into the *original* text of a seed file, never into a cleaned copy:
``original_text[start:end] == text`` is the contract that makes every quote checkable.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field


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
    line: int | None = Field(
        default=None, ge=1,
        description="The 1-based line of the file holding ``start`` (lines end at \\r\\n, \\n or \\r), as the "
        "chat page shows it; None where the answer was made without the documents at hand.",
    )
    shown: str | None = Field(
        default=None,
        description="The quote as its reader sees it, white space folded: an HTML file's tags and entities and a "
        "Markdown file's marks read as the text they show (``quote`` keeps the file's own characters). None "
        "where the answer was made without the documents at hand.",
    )


class Claim(BaseModel):
    """One statement of a reply and the exact quotes it rests on.

    ``text`` is the statement itself (a generated sentence in LLM mode); it is empty when the quotes
    speak for themselves (an extractive answer with no short answer to lead with).
    """

    model_config = ConfigDict(frozen=True)

    text: str = ""
    citations: list[Citation] = Field(default_factory=list)


class ConflictValue(BaseModel):
    """One side of a disagreement: the value one document gives, and the quote that gives it."""

    model_config = ConfigDict(frozen=True)

    value: str
    citation: Citation


class Answer(BaseModel):
    """czqa's reply to one question, as fields; the readable reply (``text``) is derived from them.

    ``short_answer`` is the span that answers the question when one was found, ``claims`` are the
    statements with their exact quotes, ``conflicts`` holds one value per side when the documents
    disagree, and ``declined_reason`` says why czqa declined (``abstained``). The CLI, the chat page
    and the evaluation read these fields; nothing parses ``text``.
    """

    question: str
    abstained: bool
    short_answer: str | None = None
    claims: list[Claim] = Field(default_factory=list)
    conflicts: list[ConflictValue] = Field(default_factory=list)
    declined_reason: str | None = None
    passages: list[Passage] = Field(default_factory=list)
    mode: str = "reader"
    confidence: float = Field(
        default=0.0, description="The evidence score the abstention threshold was compared with."
    )
    note: str | None = Field(
        default=None,
        description="Set when a reply was changed after it was produced (LLM sentences removed by "
        "verification, or another answer shown instead), and why.",
    )
    removed_claims: int = Field(
        default=0, description="Sentences of a generated reply removed because their citations did not verify."
    )
    replaced_from: str | None = Field(
        default=None, description="The mode whose reply failed verification and was replaced by this answer."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conflict(self) -> bool:
        """True when the cited sources give different values."""
        return len(self.conflicts) > 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def citations(self) -> list[Citation]:
        """Every exact quote of the reply, in order, each once."""
        out: list[Citation] = []
        for c in [v.citation for v in self.conflicts] or [c for claim in self.claims for c in claim.citations]:
            if c not in out:
                out.append(c)
        return out

    @property
    def numbered(self) -> bool:
        """Whether the reply is prose whose sentences cite quotes by number ([1], [2])."""
        return not self.conflicts and not self.short_answer and any(c.text for c in self.claims)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The reply as a person reads it: the answer, then its quotes with file and offsets."""
        if self.abstained:
            declined = f"{DECLINED} {self.declined_reason or ''}".strip()
            return f"{declined}\n\n({self.note})" if self.note else declined
        citations = self.citations
        lines = []
        if self.conflict:
            listed = "; ".join(f"{v.value} ({v.citation.source})" for v in self.conflicts)
            lines.append(f"The documents disagree: {listed}.")
        elif self.numbered:
            sentences = []
            for claim in self.claims:
                if not claim.text:
                    continue
                refs = "".join(f" [{citations.index(c) + 1}]" for c in claim.citations)
                body = claim.text.rstrip()
                end = body[-1] if body[-1:] in ".!?" else "."
                sentences.append(f"{body.rstrip('.!?')}{refs}{end}")
            lines.append(" ".join(sentences))
        elif self.short_answer:
            lines.append(f"{self.short_answer.rstrip('.')}.")
        for n, c in enumerate(citations, 1):
            mark = f"[{n}] " if self.numbered else ""
            where = f"line {c.line}" if c.line is not None else f"chars {c.start}–{c.end}"
            lines.append(f"{mark}“{c.shown or ' '.join(c.quote.split())}” — {c.source}, {where}")
        if self.note:
            lines.append(f"({self.note})")
        return "\n\n".join(lines)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        head = "declined" if self.abstained else repr(self.short_answer or (self.claims[0].text[:40] if self.claims else ""))
        return f"Answer({head}, mode={self.mode!r}, citations={len(self.citations)}, confidence={self.confidence:.3f})"


DECLINED = "The documents don't say."
#: How many of a declined answer's passages are shown as its closest matches, on the page, in
#: the copied reply and in the terminal.
CLOSEST_MATCHES = 3


class Delta(BaseModel):
    """A piece of a reply as it is generated (LLM mode streams these before the final Answer).

    Deltas are provisional: the final :class:`Answer` that ends a stream is the verified reply and
    may differ from the concatenated deltas (e.g. a generation that failed citation checks falls
    back to the extractive answer), so a UI must replace the streamed text with ``Answer.text``.
    """

    text: str
