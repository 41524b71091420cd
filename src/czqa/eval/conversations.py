"""Multi-turn evaluation (``eval/conversations.jsonl``): do follow-up rewrites ever hurt?

Each conversation is replayed through the chat page's own follow-up path
(:class:`czqa.answering.followup.conversation.Conversation`, the page's own conversation service) three
ways: ``typed`` (no rewriting: each question as typed), ``rewrite`` (always search the rewrite)
and ``best`` (the rewrite only when it helps). A follow-up turn is correct when an answerable
one is answered with a reply containing a gold answer, or an unanswerable one is declined.

Per conversation the runner asks what the issue asks: is ``best`` ever worse than ``typed`` (a
follow-up right as typed and wrong with rewriting), and on conversations whose follow-ups need
the earlier turns (``needs_context``, the writer's judgement), does it get more of them right?
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from czqa.answering.followup.choice import POLICIES, TYPED_MARGIN, Policy
from czqa.answering.followup.conversation import Conversation as Talk  # this module's Conversation is the eval file's
from czqa.eval.dataset import SPLITS, load_jsonl, select_split
from czqa.eval.metrics import contains_answer
from czqa.types import Answer

WAYS: dict[str, str] = {
    "typed": "no rewriting: each question searched as typed",
    "rewrite": "always rewrite: every rewritten follow-up searched as rewritten",
    "best": "rewrite only when it helps: both answered, the better-supported one kept",
}
assert tuple(WAYS) == POLICIES
# Not a way the page can answer: each follow-up asked as its hand-written standalone question, what a
# perfect rewrite would search. A follow-up it gets wrong is lost by the reader, not by the rewrite.
STANDALONE = "standalone"
STANDALONE_LABEL = "hand-written standalone questions (what a perfect rewrite would search)"


# --- the data ---------------------------------------------------------------------------------


class ConversationTurn(BaseModel):
    """One question of a conversation. ``answers == []`` means the documents do not answer it."""

    question: str = Field(min_length=1)
    answers: list[str]
    needs_context: bool = Field(
        False,
        description="The right reply depends on what a reference (he, it, 'what about X?') means, "
        "and the question as typed does not settle it in the documents.",
    )
    standalone: str | None = Field(
        None,
        min_length=1,
        description="The question written out by hand so it stands alone (its references replaced from the "
        "earlier turns and their gold answers): what a perfect rewrite would search. Never used to answer; "
        "it measures how far the rewriting is from a perfect one.",
    )

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


class Conversation(BaseModel):
    """2-4 questions asked in a row; every turn after the first is a follow-up."""

    id: str = Field(min_length=1)
    split: str
    turns: list[ConversationTurn] = Field(min_length=2, max_length=4)
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "Conversation":
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {self.split!r}")
        if self.turns[0].needs_context:
            raise ValueError("the first turn has no earlier turns, so it cannot need context")
        return self

    @property
    def needs_context(self) -> bool:
        return any(t.needs_context for t in self.turns[1:])


def load_conversations(path: Path) -> list[Conversation]:
    """Read a JSON-lines conversation file; a bad line raises :class:`EvalSetError` naming it."""
    return load_jsonl(path, Conversation, what="conversation")


def select_conversations(convs: Sequence[Conversation], split: str, *, source: Path | str = "the file") -> list[Conversation]:
    """The conversations of ``split`` ("dev", "test" or "all"); an empty selection is an error."""
    return select_split(convs, split, source=source, what="conversations")


# --- replaying --------------------------------------------------------------------------------


class TurnOutcome(BaseModel):
    """One turn as one way answered it."""

    index: int
    question: str
    proposed: str = Field(description="What the resolver proposed to search.")
    searched: str = Field(description="What was searched.")
    reason: str
    abstained: bool
    short_answer: str | None
    reply: str
    confidence: float
    correct: bool


class ConversationScore(BaseModel):
    """One conversation, replayed every way, and how the ways compare on its follow-ups."""

    id: str
    split: str
    needs_context: bool
    followups: int
    turns: dict[str, list[TurnOutcome]]
    correct: dict[str, int] = Field(description="Follow-up turns answered correctly, per way.")
    best_worse_than_typed: bool = Field(description="Some follow-up right as typed is wrong with 'best'.")
    best_beats_typed: bool = Field(description="'best' gets more follow-ups right than 'typed'.")
    rewrite_worse_than_typed: bool
    rewrite_beats_typed: bool
    standalone_beats_typed: bool | None = Field(
        None, description="Hand-written standalone questions get more follow-ups right than 'typed' (None: not run)."
    )
    typed_misses_context: bool = Field(
        False,
        description="Some follow-up marked needs_context is wrong as typed: rewriting has something to win. "
        "A conversation typed gets all right cannot be 'better', however it is rewritten.",
    )


def _correct(turn: ConversationTurn, answer: Answer) -> bool:
    if not turn.answerable:
        return answer.abstained
    return not answer.abstained and contains_answer(answer.text, turn.answers)


def _outcome(index: int, turn: ConversationTurn, answer: Answer, *, proposed: str, searched: str, reason: str) -> TurnOutcome:
    return TurnOutcome(
        index=index,
        question=turn.question,
        proposed=proposed,
        searched=searched,
        reason=reason,
        abstained=answer.abstained,
        short_answer=answer.short_answer,
        reply=answer.text,
        confidence=answer.confidence,
        correct=_correct(turn, answer),
    )


def _memo(fn):
    """The QA is deterministic: the three ways ask many of the same questions; answer each once."""
    cache: dict[str, Answer] = {}

    def ask(question: str) -> Answer:
        if question not in cache:
            cache[question] = fn(question)
        return cache[question]

    return ask


def replay(conv: Conversation, *, ask, decide=None, policy: Policy, margin: float = TYPED_MARGIN) -> list[TurnOutcome]:
    """Ask the conversation's questions in order, the way the chat page does under ``policy``."""
    talk = Talk(stream=lambda q: iter([ask(q)]), decide=decide or ask, decides_too=decide is None,
                        policy=policy, margin=margin)
    out = []
    for i, t in enumerate(conv.turns):
        answer = talk.ask(t.question)
        choice = talk.last.choice
        out.append(_outcome(i, t, answer, proposed=choice.proposed.resolved, searched=choice.searched.resolved, reason=choice.reason))
    return out


def replay_standalone(conv: Conversation, *, ask) -> list[TurnOutcome]:
    """Ask each turn as its hand-written standalone question (the question itself where none is
    written), with no conversation path at all: what a perfect rewrite would reach."""
    out = []
    for i, t in enumerate(conv.turns):
        searched = t.standalone or t.question
        reason = "hand-written standalone question" if t.standalone else "no standalone question written"
        out.append(_outcome(i, t, ask(searched), proposed=searched, searched=searched, reason=reason))
    return out


def score_conversation(conv: Conversation, turns: dict[str, list[TurnOutcome]]) -> ConversationScore:
    def right(way: str) -> list[bool]:
        return [t.correct for t in turns[way][1:]]

    def worse(way: str) -> bool:
        return any(a and not b for a, b in zip(right("typed"), right(way)))

    correct = {way: sum(right(way)) for way in turns}
    return ConversationScore(
        id=conv.id,
        split=conv.split,
        needs_context=conv.needs_context,
        followups=len(conv.turns) - 1,
        turns=turns,
        correct=correct,
        best_worse_than_typed=worse("best"),
        best_beats_typed=correct["best"] > correct["typed"],
        rewrite_worse_than_typed=worse("rewrite"),
        rewrite_beats_typed=correct["rewrite"] > correct["typed"],
        standalone_beats_typed=correct[STANDALONE] > correct["typed"] if STANDALONE in turns else None,
        typed_misses_context=any(t.needs_context and not o.correct for t, o in zip(conv.turns[1:], turns["typed"][1:])),
    )


class ConversationRun(BaseModel):
    """Everything one ``czqa eval --conversations`` run measured; its JSON report is this model."""

    conversations_file: str
    split: str
    mode: str
    decision_mode: str
    typed_margin: float
    fingerprint: str
    created: str
    czqa_version: str
    summary: dict[str, dict[str, float | int | None]]
    conversations: list[ConversationScore]


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def summarize(scores: Sequence[ConversationScore]) -> dict[str, dict[str, float | int | None]]:
    """Per way: follow-up turns right, those needing context right, how often the rewrite was
    searched, and (against ``typed``) conversations made worse or better: of all those needing
    context, and of those where the typed question misses a context-dependent follow-up."""
    needing = [s for s in scores if s.needs_context]
    missed = [s for s in needing if s.typed_misses_context]
    out: dict[str, dict[str, float | int | None]] = {}
    for way in WAYS:
        follow = [t for s in scores for t in s.turns[way][1:]]
        first = [s.turns[way][0] for s in scores]
        worse = sum(s.best_worse_than_typed if way == "best" else s.rewrite_worse_than_typed for s in scores) if way != "typed" else 0
        better = [s.best_beats_typed if way == "best" else s.rewrite_beats_typed for s in needing] if way != "typed" else []
        out[way] = {
            "conversations": len(scores),
            "first_turns_correct": sum(t.correct for t in first),
            "followups": len(follow),
            "followups_correct": sum(t.correct for t in follow),
            "followup_accuracy": _pct(sum(t.correct for t in follow), len(follow)),
            "rewrites_searched": sum(t.searched != t.question for t in follow),
            "conversations_worse_than_typed": worse,
            "needs_context_conversations": len(needing),
            "needs_context_better_than_typed": sum(better),
            "needs_context_better_share": _pct(sum(better), len(needing)) if way != "typed" else None,
            # The same, counted only where the typed question misses a context-dependent follow-up.
            "needs_context_typed_missed": len(missed),
            "missed_better_than_typed": sum(b for s, b in zip(needing, better) if s.typed_misses_context),
            "missed_better_share": _pct(sum(b for s, b in zip(needing, better) if s.typed_misses_context), len(missed))
            if way != "typed"
            else None,
        }
    if scores and all(STANDALONE in s.turns for s in scores):
        follow = [t for s in scores for t in s.turns[STANDALONE][1:]]
        won = [s for s in needing if s.standalone_beats_typed]
        out[STANDALONE] = {
            "conversations": len(scores),
            "followups": len(follow),
            "followups_correct": sum(t.correct for t in follow),
            "followup_accuracy": _pct(sum(t.correct for t in follow), len(follow)),
            "needs_context_conversations": len(needing),
            "needs_context_better_than_typed": len(won),
            "needs_context_better_share": _pct(len(won), len(needing)),
            # Of the conversations where a perfect rewrite wins something, those 'best' wins too.
            "best_better_where_standalone_better": sum(s.best_beats_typed for s in won),
            "best_share_where_standalone_better": _pct(sum(s.best_beats_typed for s in won), len(won)),
        }
    return out


def evaluate_conversations(
    qa,
    convs: Sequence[Conversation],
    *,
    mode: str | None = None,
    margin: float = TYPED_MARGIN,
    top_k: int | None = None,
    conversations_file: Path | str = "",
    split: str = "all",
    progress: bool = False,
) -> ConversationRun:
    """Replay ``convs`` through ``qa`` (a :class:`czqa.QA`) every way and score them.

    The default mode decides between a follow-up's two questions, as on the chat page; a different
    ``mode`` then answers the chosen question.
    """
    import sys

    from tqdm import tqdm

    from czqa import __version__

    qa.warm_up()
    mode = mode or qa.default_mode
    decision_mode = qa.default_mode
    ask = _memo(lambda q: qa.answer(q, mode=mode, top_k=top_k))
    decide = None if mode == decision_mode else _memo(lambda q: qa.answer(q, mode=decision_mode, top_k=top_k))
    # A perfect rewrite is measured when the file has standalone questions; then every conversation is
    # asked that way (a turn without one is asked as typed), so the sums cover the same set.
    with_standalone = any(t.standalone for c in convs for t in c.turns)
    scores = []
    for conv in tqdm(convs, desc=f"conversations ({mode})", unit="conv", file=sys.stderr, disable=not progress):
        turns = {way: replay(conv, ask=ask, decide=decide, policy=way, margin=margin) for way in WAYS}
        if with_standalone:
            turns[STANDALONE] = replay_standalone(conv, ask=ask)
        scores.append(score_conversation(conv, turns))
    blob = "\n".join(c.model_dump_json() for c in convs)
    return ConversationRun(
        conversations_file=str(conversations_file),
        split=split,
        mode=mode,
        decision_mode=decision_mode,
        typed_margin=margin,
        fingerprint=hashlib.sha256(blob.encode("utf-8")).hexdigest(),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        czqa_version=__version__,
        summary=summarize(scores),
        conversations=scores,
    )
