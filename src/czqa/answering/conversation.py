"""Answer a follow-up with its rewrite only when the rewrite helps.

:func:`czqa.answering.followup.resolve_followup` turns "When was he sentenced?" into a question
that names its subject, and retrieval usually does better with the name. Not always: the added
name can pull retrieval toward passages that mention the name but not the answer, and a
wrongly chosen referent makes the page search for something the user did not ask. Such a reply
reads as confidently as a right one, so the rewrite has to earn its place.

When the resolver rewrote the question, both the question as typed and the rewrite are answered
by the *decision* mode (the default, extractive reader: cheap, and its ``confidence`` is the
calibrated decision score), and :func:`prefer_rewrite` keeps the better-supported one. Questions
that were not rewritten are answered once, as before: only follow-ups pay for a second answer.
A generating mode (the LLM) then answers, or streams, just the chosen question.

Everything here takes the answering as a callable (question -> :class:`Answer`), so the chat
page, ``czqa eval --conversations`` and scripts share one path without this module importing
the ``QA`` service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from czqa.answering.followup import Resolution, Turn, resolve_followup
from czqa.types import Answer

Ask = Callable[[str], Answer]
Policy = Literal["typed", "rewrite", "best"]
POLICIES: tuple[str, ...] = ("typed", "rewrite", "best")

# How much higher the typed question's confidence must be before it replaces the rewrite when
# both are answered. The reader's confidence rewards a passage for holding the question's
# words, which a shorter, pronoun-only question earns more easily: on the dev split of
# eval/conversations.jsonl, when both questions found the same right answer the typed one
# scored up to 1.1 higher, and the one confident wrong typed answer ("What did it later
# become?" -> "big shots") beat the right rewrite by 0.54. So the typed question has to win clearly.
TYPED_MARGIN = 1.0


class Verdict(BaseModel):
    """Which of the two questions to search, and why (in words the page and reports can show)."""

    model_config = ConfigDict(frozen=True)

    keep: Literal["typed", "rewrite"]
    reason: str


class Choice(BaseModel):
    """The outcome of resolving and (when rewritten) comparing one follow-up question.

    ``searched`` is the question that is answered: equal to ``proposed`` when the rewrite was
    kept, and "as typed" (``resolved == asked``, no substitutions) otherwise, so whatever shows a
    :class:`Resolution` shows what was really searched. ``answer`` is the decision mode's answer
    to the searched question, when one was computed (reuse it when that mode is also the
    answering mode); ``None`` when nothing was compared.
    """

    model_config = ConfigDict(frozen=True)

    proposed: Resolution = Field(description="What the resolver proposed to search.")
    searched: Resolution = Field(description="What is searched: the proposal, or the question as typed.")
    policy: Policy = "best"
    reason: str = ""
    answer: Answer | None = None
    typed_confidence: float | None = None
    rewrite_confidence: float | None = None

    @property
    def compared(self) -> bool:
        """True when both questions were answered and one was kept."""
        return self.typed_confidence is not None and self.rewrite_confidence is not None

    @property
    def kept_rewrite(self) -> bool:
        return self.searched.rewritten


def prefer_rewrite(typed: Answer, rewritten: Answer, *, margin: float = TYPED_MARGIN) -> Verdict:
    """The selection rule, on two answers of the same mode (so their confidences compare).

    1. An answer beats a decline: the rewrite is kept when it answers and the typed question
       does not, and dropped when only the typed question gets an answer (the complaint this
       rule exists for: a rewrite that loses the answer the plain question gets).
    2. Both answered: the rewrite is kept unless the typed question's confidence is higher by
       more than ``margin``.
    3. Both declined: the rewrite is kept; nothing is lost, and its closest matches are about
       what the conversation is about.
    """
    if rewritten.abstained and not typed.abstained:
        return Verdict(keep="typed", reason="the rewritten question found no answer; the question as typed did")
    if typed.abstained and not rewritten.abstained:
        return Verdict(keep="rewrite", reason="only the rewritten question found an answer")
    if typed.abstained and rewritten.abstained:
        return Verdict(keep="rewrite", reason="neither question found an answer")
    if typed.confidence > rewritten.confidence + margin:
        return Verdict(
            keep="typed",
            reason=f"the question as typed was answered with more confidence ({typed.confidence:.2f} "
            f"vs {rewritten.confidence:.2f})",
        )
    return Verdict(
        keep="rewrite",
        reason=f"the rewritten question was answered with as much confidence or more ({rewritten.confidence:.2f} "
        f"vs {typed.confidence:.2f})",
    )


def as_typed(resolution: Resolution) -> Resolution:
    """The same question, searched as typed: what a :class:`Resolution` says when no rewrite is used."""
    return Resolution(asked=resolution.asked, resolved=resolution.asked)


def choose_question(
    resolution: Resolution, *, decide: Ask, policy: Policy = "best", margin: float = TYPED_MARGIN
) -> Choice:
    """Which question to search for this follow-up under ``policy``.

    ``typed`` searches every question as typed and ``rewrite`` every rewrite (today's page, kept
    for comparison in the evaluation); ``best`` answers both with ``decide`` when the question
    was rewritten and keeps the better-supported one (:func:`prefer_rewrite`). ``decide`` is
    called only under ``best`` and only for rewritten questions.
    """
    if policy not in POLICIES:
        raise ValueError(f"Unknown follow-up policy {policy!r}; use one of {', '.join(POLICIES)}.")
    if not resolution.rewritten:
        return Choice(proposed=resolution, searched=resolution, policy=policy, reason="no rewrite was needed")
    if policy == "typed":
        return Choice(proposed=resolution, searched=as_typed(resolution), policy=policy, reason="rewriting is off")
    if policy == "rewrite":
        return Choice(proposed=resolution, searched=resolution, policy=policy, reason="the rewrite is always used")
    rewritten = decide(resolution.resolved)
    typed = decide(resolution.asked)
    verdict = prefer_rewrite(typed, rewritten, margin=margin)
    keep = verdict.keep == "rewrite"
    return Choice(
        proposed=resolution,
        searched=resolution if keep else as_typed(resolution),
        policy=policy,
        reason=verdict.reason,
        answer=rewritten if keep else typed,
        typed_confidence=typed.confidence,
        rewrite_confidence=rewritten.confidence,
    )


def answer_followup(
    question: str,
    turns: Sequence[Turn],
    *,
    ask: Ask,
    decide: Ask | None = None,
    policy: Policy = "best",
    margin: float = TYPED_MARGIN,
) -> tuple[Choice, Answer]:
    """Resolve ``question`` against ``turns``, choose what to search, and answer it with ``ask``.

    ``decide`` compares the two questions (default: ``ask`` itself, whose answer is then reused,
    so a rewritten follow-up costs two answers and any other question one). Pass the default
    mode's answering as ``decide`` when ``ask`` generates text: the comparison stays cheap and
    only the chosen question is generated.
    """
    choice = choose_question(resolve_followup(question, turns), decide=decide or ask, policy=policy, margin=margin)
    if choice.answer is not None and decide is None:
        return choice, choice.answer
    return choice, ask(choice.searched.resolved)


def next_turn(choice: Choice, answer: Answer) -> Turn:
    """The turn to remember for later follow-ups.

    It keeps the resolver's reading of the question (the proposal), even when the typed
    question was searched: the rewrite lost on retrieval, not on meaning, and a later "he" still
    means the person this question was about.
    """
    return Turn(question=choice.proposed.resolved, short_answer=answer.short_answer, abstained=answer.abstained)
