"""One conversation with the documents: follow-ups resolved, the better question searched, turns kept.

The chat page, ``czqa chat`` and ``czqa eval conversations`` all hold a conversation the same
way, so they run this one service (from ``QA.conversation()``) instead of each wiring resolve →
choose → answer → "not again" → next turn itself:

1. the question is resolved against the earlier turns ("When was he sentenced?" → "When was
   Mira Talvik sentenced?"), and that reading is announced first (a :class:`Resolution`
   event: the page shows "Searching for …", the terminal "Understood as …");
2. when it was rewritten, the deciding mode answers the rewrite and the question as typed, and
   the better-supported one is searched (:func:`~czqa.answering.followup.choice.choose_question`);
   if that differs from the first reading, a second :class:`Resolution` says what is searched;
3. the answering mode streams its reply (:class:`~czqa.types.Delta` pieces from a generating
   mode), then the final :class:`~czqa.types.Answer`, checked not to repeat an answer that "else"
   excludes; the turn is remembered for later follow-ups.

Answering is passed in as callables, so this module needs no ``QA``, no index and no model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from pydantic import BaseModel, ConfigDict

from czqa.answering.followup.choice import TYPED_MARGIN, Ask, Choice, Policy, choose_question, next_turn, not_again
from czqa.answering.followup.resolver import Resolution, Turn, resolve_followup
from czqa.types import Answer, Delta

Stream = Callable[[str], Iterator[Delta | Answer]]
Event = Resolution | Delta | Answer


class Exchange(BaseModel):
    """One question of the conversation, what was searched for it, and the reply."""

    model_config = ConfigDict(frozen=True)

    question: str
    choice: Choice
    answer: Answer

    @property
    def searched(self) -> Resolution:
        return self.choice.searched


class Conversation:
    """A conversation: :meth:`ask` or :meth:`stream` questions in turn; :meth:`reset` forgets them.

    ``stream`` answers a question in the chosen mode; ``decide`` answers it in the deciding mode
    (the default), which compares a rewrite with the question as typed. ``decides_too`` says the
    two are the same mode, so the decision's answer to the chosen question is reused instead of
    asking again. ``validate`` refuses a question that cannot be asked (empty, too long) before
    anything else runs. ``turns`` continues an earlier conversation (the page keeps them per visitor).
    """

    def __init__(
        self,
        *,
        stream: Stream,
        decide: Ask,
        decides_too: bool,
        validate: Callable[[str], object] | None = None,
        policy: Policy = "best",
        margin: float = TYPED_MARGIN,
        turns: Iterable[Turn] = (),
    ) -> None:
        self._stream = stream
        self._decide = decide
        self.decides_too = decides_too
        self._validate = validate
        self.policy: Policy = policy
        self.margin = margin
        self.turns: list[Turn] = list(turns)
        self.exchanges: list[Exchange] = []

    def stream(self, question: str) -> Iterator[Event]:
        """The reading to be searched, then the reply as it is produced; the last event is the Answer."""
        if self._validate is not None:
            self._validate(question)  # InvalidQuestion, before any searching
        resolution = resolve_followup(question, self.turns)
        yield resolution
        choice = choose_question(resolution, decide=self._decide, policy=self.policy, margin=self.margin)
        if choice.searched != resolution:
            yield choice.searched
        if choice.answer is not None and self.decides_too:
            events: Iterator[Delta | Answer] = iter([choice.answer])
        else:
            events = self._stream(choice.searched.resolved)
        for event in events:
            if isinstance(event, Answer):
                event = not_again(question, self.turns, event)
                self.turns.append(next_turn(choice, event))
                self.exchanges.append(Exchange(question=question, choice=choice, answer=event))
            yield event

    def ask(self, question: str) -> Answer:
        """Answer ``question`` in this conversation (what :meth:`stream` ends with)."""
        answer = None
        for event in self.stream(question):
            if isinstance(event, Answer):
                answer = event
        if answer is None:  # an answering mode always ends with an Answer
            raise RuntimeError(f"no answer was produced for {question!r}")
        return answer

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    def reset(self) -> None:
        """Forget every turn: the next question is read on its own."""
        self.turns.clear()
        self.exchanges.clear()


def conversation_over(qa, *, mode: str | None = None, top_k: int | None = None, policy: Policy = "best",
                      turns: Iterable[Turn] = ()) -> Conversation:
    """A :class:`Conversation` answered by ``qa`` (anything with ``answer``, ``stream``, ``validate``
    and ``default_mode``, as :class:`czqa.qa.QA` has): ``mode`` answers, the default mode decides."""
    mode = mode or qa.default_mode
    decider = qa.default_mode
    return Conversation(
        stream=lambda q: qa.stream(q, mode=mode, top_k=top_k),
        decide=lambda q: qa.answer(q, mode=decider, top_k=top_k),
        decides_too=mode == decider,
        validate=qa.validate,
        policy=policy,
        turns=turns,
    )


def answer_followup(
    question: str, turns: Sequence[Turn], *, ask: Ask, decide: Ask | None = None, policy: Policy = "best",
    margin: float = TYPED_MARGIN,
) -> tuple[Choice, Answer]:
    """One follow-up answered with ``ask`` after ``turns``: the conversation's own path, for a
    caller that keeps the turns itself. ``decide`` compares the two questions (default: ``ask``,
    whose answer is then reused, so a rewritten follow-up costs two answers and any other one)."""
    talk = Conversation(stream=lambda q: iter([ask(q)]), decide=decide or ask, decides_too=decide is None,
                        policy=policy, margin=margin, turns=turns)
    answer = talk.ask(question)
    return talk.exchanges[-1].choice, answer
