"""Unanswerable look-alikes made from answerable training examples.

Most unanswerable questions in the public data are product-review questions; the questions czqa
must decline look answerable: they name a person, date or amount that the documents mention and
ask something the documents do not say. Two ways to make such negatives from the data itself:

* :func:`perturb_question`: swap a name, year, number or comparative in the question for another
  one of the same kind from the same context ("When did Beyoncé leave Destiny's Child?" →
  "When did Beyoncé leave Columbia Records?"), the way SQuAD 2.0's writers built theirs;
* :func:`other_passages`: the question paired with another passage of the same document that
  does not contain any of its answers, which is how retrieval fails in an open corpus.

* the same swap for the question's *key word*: a content word of the question that the context
  uses, replaced by a word of another document's question that this context never uses ("When
  did Beyoncé release her album?" → "When did Beyoncé release her vaccine?"): the person and
  the frame match, the thing asked about is nowhere, the commonest way czqa's near-miss questions
  fail; and a negated question ("When did X not leave Y?").

All are labelled "no answer". They are noisy (a swap can by chance produce a question the context
does answer), so they are a minority of the mix.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Literal

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
_NEGATED = {"did": "didn't", "does": "doesn't", "do": "don't", "is": "isn't", "was": "wasn't", "were": "weren't",
            "are": "aren't", "has": "hasn't", "had": "hadn't", "have": "haven't", "can": "can't", "could": "couldn't",
            "would": "wouldn't", "will": "won't"}
_NEGATABLE = re.compile(r"\b(" + "|".join(_NEGATED) + r")\b(?! not\b)")
_WORD = re.compile(r"\b[a-z][a-z-]{3,}\b")  # lower-case in the question as written: names are "name" swaps
_NOUNISH = re.compile(r"\b(?:the|a|an|his|her|their|its|of) ([a-z][a-z-]{3,})\b")
_STOP = frozenset(
    "what which when where whom whose that this these those with from into about than then there their they them "
    "does have were been being many much some most more other such only also very after before first last year "
    "years name named called used make made take took give gave like over under between during".split()
)
Kind = Literal["opposite", "year", "number", "name", "negation", "keyword"]
STAGE1_KINDS: tuple[Kind, ...] = ("opposite", "year", "number", "name")
ALL_KINDS: tuple[Kind, ...] = STAGE1_KINDS + ("negation", "keyword")
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


def question_words(examples: Iterable[QAExample]) -> list[str]:
    """Words that follow an article or possessive in the examples' questions (mostly nouns: the
    thing asked about), sorted: the pool that key-word swaps draw from."""
    return sorted({w for ex in examples for w in _NOUNISH.findall(ex.question) if w not in _STOP})


def perturb_question(
    example: QAExample, rng: random.Random, *, kinds: tuple[Kind, ...] = STAGE1_KINDS, vocabulary: list[str] | None = None
) -> QAExample | None:
    """A look-alike of ``example`` that its context does not answer, or None if none can be made.

    ``kinds`` are tried in random order; "keyword" needs ``vocabulary`` (:func:`question_words`)."""
    if not example.answerable:
        return None
    ctx = example.context
    answer_text = " ".join(a.text for a in example.answers)
    tries = list(kinds)
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
        elif kind == "negation":
            found = list(_NEGATABLE.finditer(example.question))
            if found:
                m = rng.choice(found)
                new = example.question[: m.start()] + _NEGATED[m.group(1)] + example.question[m.end() :]
        elif kind == "keyword":
            new = _swap_keyword(example.question, ctx.lower(), vocabulary or [], rng)
        elif kind == "name":
            pool = [m.group(0) for m in _CAPITALIZED.finditer(ctx)]
            pool = sorted({p for p in pool if p not in answer_text and p.split()[0] not in _QUESTION_WORDS})
            new = _swap(example.question, _CAPITALIZED, pool, rng)
        if new and new != example.question:
            return example.model_copy(update={"id": example.id + "#swap", "question": new, "answers": ()})
    return None


def _swap_keyword(question: str, context: str, vocabulary: list[str], rng: random.Random) -> str | None:
    """Replace one content word that the question shares with its context by a word the context
    never uses; None when the question shares no such word or no replacement is found."""
    shared = [m for m in _WORD.finditer(question) if m.group(0) not in _STOP and m.group(0) in context]
    if not shared or not vocabulary:
        return None
    target = rng.choice(shared)
    for _ in range(8):
        word = rng.choice(vocabulary)
        if word not in context and word != target.group(0):
            return question[: target.start()] + word + question[target.end() :]
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
