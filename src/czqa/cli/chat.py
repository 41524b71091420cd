"""``czqa chat``: a conversation with the documents in the terminal, one question per line.

It runs the same conversation service as the chat page (:meth:`czqa.qa.QA.conversation`), so a
follow-up ("When did he take over?") is read against the earlier answers and the question really
searched is shown ("Understood as: When did Nora Lindqvist take over?"). Typed at a terminal it
prompts, and an empty line ends it; piped, it reads every line (blank ones skipped), echoes each
question before its answer, and ends with the input. A question that cannot be asked (too long,
no words) is refused on its own line and the conversation goes on; ``/reset`` forgets it.
"""

from __future__ import annotations

import argparse
import sys

from czqa.cli import _settings, show_answer
from czqa.cli.output import say
from czqa.errors import InvalidQuestion

RESET = "/reset"


def chat(args: argparse.Namespace) -> int:
    from czqa.qa import QA

    extra = {"top_k": args.top_k} if args.top_k else {}
    qa = QA(_settings(args, **extra), show_progress=sys.stderr.isatty())
    conversation = qa.conversation(mode=args.mode)  # an unknown mode is refused before the first line
    typed = sys.stdin.isatty()
    if typed:
        say(f"Ask about the documents in {qa.settings.seeds_dir} (an empty line ends; {RESET} forgets the conversation).",
            file=sys.stderr)
    for question in _questions(typed):
        if not typed:
            say(f"> {question}")
        if question == RESET:
            conversation.reset()
            say("(The conversation is forgotten: the next question is read on its own.)\n")
            continue
        try:
            _reply(qa, conversation, question, typed=typed)
        except InvalidQuestion as exc:  # this line only: the conversation goes on
            say(f"czqa: {exc}", file=sys.stderr)
        say()
    return 0


def _questions(typed: bool):
    """The questions, a line each: at a terminal until an empty line, piped until the input ends."""
    while True:
        if typed:
            print("> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:  # end of input
            return
        question = line.strip()
        if question:
            yield question
        elif typed:
            return


def _reply(qa, conversation, question: str, *, typed: bool) -> None:
    """One answer: how the question was understood (when rewritten), a generating mode's draft
    (at a terminal), then the checked answer."""
    from czqa.answering.followup.resolver import Resolution
    from czqa.types import Delta

    searched, drafted = None, False
    for event in conversation.stream(question):
        if isinstance(event, Resolution):  # the reading, then what is searched: shown once the reply starts
            searched = event
            continue
        if searched is not None and searched.rewritten:
            say(f"Understood as: {searched.resolved}")
        searched = None
        if isinstance(event, Delta):
            if typed:  # replaced by the checked answer below
                say(event.text, end="")
                drafted = True
            continue
        if drafted:
            say("\n\n— checked against the sources —\n")
        show_answer(qa, event)
