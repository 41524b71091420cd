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
A generating mode (the LLM) then answers, or streams, just the chosen question. When the
resolver offers other readings (``Resolution.alternatives``: "How much was it?" as "How much did
Acme invest ...?" or as "How much was Acme?"), each is answered too and the best-supported reading
is the rewrite that the question as typed is compared with.

Everything here takes the answering as a callable (question -> :class:`Answer`), so the chat
page, ``czqa eval --conversations`` and scripts share one path without this module importing
the ``QA`` service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from czqa.answering.followup.resolver import Resolution, Substitution, Turn
from czqa.answering.followup.frames import DETERMINERS, PREPS, parse_frame
from czqa.answering.names import MONTHS
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

    ``searched`` is the question that is answered: ``proposed`` (or the alternative reading that
    was best supported) when a rewrite was kept, and "as typed" (``resolved == asked``, no
    substitutions) otherwise, so whatever shows a :class:`Resolution` shows what was really searched. ``answer`` is the decision mode's answer
    to the searched question, when one was computed (reuse it when that mode is also the
    answering mode); ``None`` when nothing was compared.
    """

    model_config = ConfigDict(frozen=True)

    proposed: Resolution = Field(description="What the resolver proposed to search.")
    searched: Resolution = Field(description="What is searched: the proposal or an alternative reading, or the question as typed.")
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


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "es", "ed", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def _evidence(answer: Answer) -> set[str]:
    """The stemmed words of an answer's short answer and its quotes: what the answer rests on."""
    text = " ".join([answer.short_answer or ""] + [c.quote for claim in answer.claims for c in claim.citations])
    return {_stem(w) for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]*", text)}


_TIME = re.compile(
    r"\d|\b(?:" + "|".join(m.lower() for m in MONTHS)
    + r"|spring|summer|autumn|fall|winter|years?|months?|weeks?|days?|decades?|century|today|yesterday|ago)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen"
    r"|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|few"
    r"|several|half|percent|none|no)\b",
    re.IGNORECASE,
)


def fits(answer: Answer) -> bool | None:
    """Whether an answer is the kind of thing its question asks for: a time for "when", an
    amount for "how much/many/long/old", a court for "which court" (named in the answer or its
    quote). None when the question sets no such expectation or nothing was answered."""
    frame = parse_frame(answer.question)
    if frame is None or answer.abstained or not answer.short_answer:
        return None
    if frame.head == "when":
        return bool(_TIME.search(answer.short_answer))
    if frame.head == "how" and len(frame.wh.split()) > 1:
        return bool(_AMOUNT.search(answer.short_answer) or _TIME.search(answer.short_answer))
    if frame.head in ("which", "what") and frame.noun:
        return _stem(frame.noun.split()[-1]) in _evidence(answer)
    return None


# "And X?", "What about X?": everything such a question says is X.
_ABOUT = re.compile(
    r"^\s*(?:and\s+(?!(?:who|whom|what|when|where|why|how|which|did|does|do|is|was|were|are|has|have|had)\b)"
    r"|(?:and\s+)?(?:what|how)\s+about\s+)(?P<x>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_NOT_TOPIC = DETERMINERS | PREPS | frozenset(
    "and or it he she they him them itself himself herself themselves too then instead else".split()
)


def _topic_nouns(question: str) -> set[str]:
    """What an elliptical question itself asks about: every word of an "and X?"/"what about X?"
    question's X ("What about his cellmate?" -> cellmate); nothing for a question of its own,
    whose words the reader's confidence already weighs."""
    about = _ABOUT.match(question)
    if not about:
        return set()
    return {_stem(w) for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]*", about.group("x")) if w.lower() not in _NOT_TOPIC}


def prefer_rewrite(
    typed: Answer, rewritten: Answer, *, margin: float = TYPED_MARGIN, question: str | None = None
) -> Verdict:
    """The selection rule, on two answers of the same mode (so their confidences compare).

    1. An answer beats a decline: the rewrite is kept when it answers and the typed question
       does not, and dropped when only the typed question gets an answer (the complaint this
       rule exists for: a rewrite that loses the answer the plain question gets). But a
       rewrite's answer does not replace a decline when the typed ``question`` (default: the
       typed answer's) is elliptical and the answer rests on none of its words ("What about
       his cellmate?" answered from a passage with no cellmate in it: the words put in from
       earlier turns, not the question, found it; :func:`off_topic`).
    2. Both answered: when just one of the two answers is the kind of thing asked for (a time
       for "when", an amount for "how much", a court for "which court": :func:`fits`), that one
       is kept. Otherwise the rewrite is kept unless the typed question's confidence is higher
       by more than ``margin``.
    3. Both declined: the rewrite is kept; nothing is lost, and its closest matches are about
       what the conversation is about.
    """
    question = typed.question if question is None else question
    if rewritten.abstained and not typed.abstained:
        return Verdict(keep="typed", reason="the rewritten question found no answer; the question as typed did")
    if typed.abstained and not rewritten.abstained:
        if question and off_topic(rewritten, question):
            return Verdict(
                keep="typed",
                reason=f"the rewritten question's answer says nothing about {', '.join(sorted(_topic_nouns(question)))}; "
                "the question as typed found no answer",
            )
        return Verdict(keep="rewrite", reason="only the rewritten question found an answer")
    if typed.abstained and rewritten.abstained:
        return Verdict(keep="rewrite", reason="neither question found an answer")
    fit = (fits(typed), fits(rewritten))
    if fit == (True, False):
        return Verdict(keep="typed", reason="only the question as typed was answered with the kind of thing it asks for")
    if fit == (False, True):
        return Verdict(keep="rewrite", reason="only the rewritten question was answered with the kind of thing it asks for")
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


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def restates(answer: Answer, about: Sequence[str]) -> bool:
    """Whether an answer only names what its question was taken to be about: "What did Acme
    later become?" answered "Acme" (or "the exchange Jonas Weber left" answered with that exchange)
    says nothing new, however confident the reader is."""
    if answer.abstained or not answer.short_answer:
        return False
    short = _norm(answer.short_answer)

    def same(a: str) -> bool:
        # The answer is (part of) the referent, or the referent with a word or two more
        # ("investment firm Acme" for Acme); a longer answer that mentions it says something new.
        return bool(a) and (short in a or (a in short and len(short.split()) <= len(a.split()) + 2))

    return bool(short) and any(same(_norm(x)) for x in about)


def off_topic(answer: Answer, question: str) -> bool:
    """Whether an answer rests on none of the words an elliptical typed ``question`` asks about
    ("What about June?" answered from a sentence about March): the words put in from earlier
    turns, not the question, found it."""
    topic = _topic_nouns(question)
    return bool(topic) and not answer.abstained and not topic & _evidence(answer)


def best_reading(answers: Sequence[Answer], restating: Sequence[bool] | None = None, *, question: str | None = None) -> int:
    """Which of several rewrites' answers is best supported: answered (neither just restating
    what the question is about nor :func:`off_topic` for the typed ``question``) before
    declined, then the kind of answer asked for (:func:`fits`) before another, then the most
    confident; the first on ties (the resolver lists its likeliest reading first)."""
    restating = restating or [False] * len(answers)

    def key(i: int) -> tuple:
        a = answers[i]
        answered = not a.abstained and not restating[i] and not (question and off_topic(a, question))
        return answered, fits(a) is not False, a.confidence, -i

    return max(range(len(answers)), key=key)


def as_typed(resolution: Resolution) -> Resolution:
    """The same question, searched as typed: what a :class:`Resolution` says when no rewrite is used."""
    return Resolution(asked=resolution.asked, resolved=resolution.asked)


def choose_question(
    resolution: Resolution, *, decide: Ask, policy: Policy = "best", margin: float = TYPED_MARGIN
) -> Choice:
    """Which question to search for this follow-up under ``policy``.

    ``typed`` searches every question as typed and ``rewrite`` every rewrite (its first
    reading; kept for comparison in the evaluation); ``best`` answers every reading and the
    typed question with ``decide`` when the question was rewritten, takes the best-supported
    reading (:func:`best_reading`; one whose answer only repeats what it is about never wins)
    and keeps it or the typed question (:func:`prefer_rewrite`). ``decide`` is called only
    under ``best`` and only for rewritten questions: once per reading, and once as typed.
    """
    if policy not in POLICIES:
        raise ValueError(f"Unknown follow-up policy {policy!r}; use one of {', '.join(POLICIES)}.")
    if not resolution.rewritten:
        return Choice(proposed=resolution, searched=resolution, policy=policy, reason="no rewrite was needed")
    if policy == "typed":
        return Choice(proposed=resolution, searched=as_typed(resolution), policy=policy, reason="rewriting is off")
    if policy == "rewrite":
        return Choice(proposed=resolution, searched=resolution, policy=policy, reason="the rewrite is always used")
    readings = resolution.readings
    answers = [decide(r.question) for r in readings]
    restating = [restates(a, r.about) for a, r in zip(answers, readings)]
    k = best_reading(answers, restating, question=resolution.asked)
    rewritten = answers[k]
    typed = decide(resolution.asked)
    if restating[k]:
        verdict = Verdict(keep="typed", reason="the rewritten question's answer only repeats what it asks about")
    else:
        verdict = prefer_rewrite(typed, rewritten, margin=margin, question=resolution.asked)
    keep = verdict.keep == "rewrite"
    chosen = resolution if k == 0 else Resolution(
        asked=resolution.asked,
        resolved=readings[k].question,
        substitutions=[Substitution(written=resolution.asked, meant=readings[k].question)],
        about=readings[k].about,
    )
    return Choice(
        proposed=resolution,
        searched=chosen if keep else as_typed(resolution),
        policy=policy,
        reason=verdict.reason,
        answer=rewritten if keep else typed,
        typed_confidence=typed.confidence,
        rewrite_confidence=rewritten.confidence,
    )


_ELSE = re.compile(r"\b(?:who|whom|what|which|where|when|how|any(?:one|body|thing|where)|some(?:one|body|thing|where))\s+else\b", re.I)


def not_again(question: str, turns: Sequence[Turn], answer: Answer) -> Answer:
    """``answer``, or a decline when ``question`` asks for another answer ("Who else co-founded
    it?") and the answer only repeats one already given in ``turns``: "else" excludes it, so
    repeating it would read as a confident, wrong answer. The passages stay, shown as the
    closest matches."""
    if answer.abstained or not _ELSE.search(question):
        return answer
    given = [t.short_answer for t in turns if t.short_answer and not t.abstained]
    if not restates(answer, given):
        return answer
    return answer.model_copy(update={
        "abstained": True, "short_answer": None, "claims": [], "conflicts": [],
        "declined_reason": (
            f"The passages that match name only {answer.short_answer}, already given above; "
            "they don't say who or what else."
        ),
    })


def next_turn(choice: Choice, answer: Answer) -> Turn:
    """The turn to remember for later follow-ups.

    It keeps the resolver's reading of the question (the reading searched, or the proposal when
    the typed question was searched): the rewrite lost on retrieval, not on meaning, and a later
    "he" still means the person this question was about.
    """
    question = choice.searched.resolved if choice.kept_rewrite else choice.proposed.resolved
    return Turn(question=question, short_answer=answer.short_answer, abstained=answer.abstained)
