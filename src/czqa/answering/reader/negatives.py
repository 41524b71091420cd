"""Unanswerable look-alikes made from answerable training examples.

Most unanswerable questions in the public data are product-review questions; the questions czqa
must decline look answerable: they name a person, date or amount that the documents mention and
ask something the documents do not say. Two ways to make such negatives from the data itself:

* :func:`perturb_question`: swap a name, year, number or comparative in the question for another
  one of the same kind from the same context ("When did Beyoncé leave Destiny's Child?" →
  "When did Beyoncé leave Columbia Records?"), the way SQuAD 2.0's writers built theirs;
* :func:`other_passages`: the question paired with another passage of the same document that
  does not contain any of its answers, which is how retrieval fails in an open corpus.

Both are labelled "no answer". They are noisy (a swap can by chance produce a question the context
does answer), so they are a minority of the mix.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from czqa.answering.reader.examples import QAExample

# Bounded, non-backtracking patterns: a capitalized phrase of at most four words, a number.
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’.-]{1,30}(?: (?:of |the |de )?[A-Z][\w'’.-]{1,30}){0,3}")
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_NUMBER = re.compile(r"\b\d[\d,.]{0,12}\b")
_OPPOSITES = {
    "first": "last", "last": "first", "before": "after", "after": "before", "largest": "smallest",
    "smallest": "largest", "most": "least", "least": "most", "highest": "lowest", "lowest": "highest",
    "earliest": "latest", "latest": "earliest", "biggest": "smallest", "oldest": "youngest",
    "youngest": "oldest", "more": "less", "less": "more", "increase": "decrease", "decrease": "increase",
    "won": "lost", "lost": "won", "start": "end", "began": "ended", "ended": "began",
}
_QUESTION_WORDS = {"What", "Who", "When", "Where", "Which", "Why", "How", "In", "The", "A", "An", "Is", "Was", "Did", "Does"}


def _swap(question: str, pattern: re.Pattern[str], pool: list[str], rng: random.Random) -> str | None:
    found = [m for m in pattern.finditer(question) if m.group(0).split()[0] not in _QUESTION_WORDS]
    if not found:
        return None
    target = rng.choice(found)
    choices = [p for p in pool if p != target.group(0) and p not in question]
    if not choices:
        return None
    return question[: target.start()] + rng.choice(choices) + question[target.end() :]


def perturb_question(example: QAExample, rng: random.Random) -> QAExample | None:
    """A look-alike of ``example`` that its context does not answer, or None if none can be made."""
    if not example.answerable:
        return None
    ctx = example.context
    answer_text = " ".join(a.text for a in example.answers)
    tries = ["opposite", "year", "number", "name"]
    rng.shuffle(tries)
    for kind in tries:
        new = None
        if kind == "opposite":
            words = [w for w in re.findall(r"[a-z]+", example.question) if w in _OPPOSITES]
            if words:
                w = rng.choice(words)
                new = re.sub(rf"\b{w}\b", _OPPOSITES[w], example.question, count=1)
        elif kind == "year":
            new = _swap(example.question, _YEAR, sorted(set(_YEAR.findall(ctx))), rng)
        elif kind == "number":
            pool = [n for n in set(_NUMBER.findall(ctx)) if n not in answer_text]
            new = _swap(example.question, _NUMBER, sorted(pool), rng)
        else:
            pool = [m.group(0) for m in _CAPITALIZED.finditer(ctx)]
            pool = sorted({p for p in pool if p not in answer_text and p.split()[0] not in _QUESTION_WORDS})
            new = _swap(example.question, _CAPITALIZED, pool, rng)
        if new and new != example.question:
            return example.model_copy(update={"id": example.id + "#swap", "question": new, "answers": ()})
    return None


def other_passages(examples: Iterable[QAExample], rng: random.Random, *, rate: float) -> Iterator[QAExample]:
    """For a share ``rate`` of answerable examples: the question against another passage of its
    document that holds none of its answers (SQuAD-style sets have many passages per article)."""
    examples = list(examples)
    by_doc: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ex in examples:
        key = (ex.source, ex.document)
        if not by_doc[key] or by_doc[key][-1] != ex.context:
            by_doc[key].append(ex.context)
    for ex in examples:
        if not ex.answerable or rng.random() >= rate:
            continue
        others = [c for c in set(by_doc[(ex.source, ex.document)]) if c != ex.context]
        others = [c for c in sorted(others) if not any(a.text in c for a in ex.answers)]
        if others:
            yield ex.model_copy(update={"id": ex.id + "#other", "context": rng.choice(others), "answers": ()})
