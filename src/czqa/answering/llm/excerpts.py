"""Sentence spans of a seed file, and the short excerpts of retrieved passages a small model reads.

Retrieved chunks run to ~160 tokens each; five of them are a long read for a 135M-parameter
model on a CPU (time to first token grows with the prompt) and bury the answer in the middle.
Each passage is cut down to the few sentences around its best match with the question. An
excerpt is still an exact span of the original file, so verification and citations work on it
unchanged.
"""

from __future__ import annotations

import re

from czqa.ingest.sentences import split_span
from czqa.retrieve.lexical import FUNCTION_WORDS, terms
from czqa.types import Passage

_BLANK_LINE = re.compile(r"\n\s*\n")
_WORD = re.compile(r"(?u)\b\w\w+\b")


#: Question words that say what kind of answer is wanted, not what it is about ("how much").
_QUESTIONFUNCTION_WORDS = frozenset(terms("much many long old often far kind type name named happen happened"))


def question_terms(question: str) -> set[str]:
    """The content words of a question that an answer's quote should share."""
    return content_terms(question) - _QUESTIONFUNCTION_WORDS


def content_terms(text: str) -> set[str]:
    """Stemmed content words (czqa's BM25 analysis, minus pronouns and fillers)."""
    return set(terms(" ".join(w for w in _WORD.findall(text.lower()) if w not in FUNCTION_WORDS)))


def source_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (offsets into ``text``) inside ``text[start:end]``, whitespace trimmed: the
    ingest splitter's rules (:func:`czqa.ingest.sentences.split_span`), with a blank line always
    ending a sentence (a passage may cut across paragraphs)."""
    out, pos = [], start
    for m in _BLANK_LINE.finditer(text, start, end):
        out += split_span(text, pos, m.start())
        pos = m.end()
    return out + split_span(text, pos, end)


def focus(question: str, passage: Passage, text: str, *, max_chars: int) -> Passage:
    """The sentences of ``passage`` around the one sharing most words with ``question``, grown
    one sentence at a time on either side while they fit in ``max_chars``."""
    if len(passage.text) <= max_chars:
        return passage
    sentences = source_sentences(text, passage.start, passage.end)
    if not sentences:
        return passage
    wanted = content_terms(question)
    best = max(range(len(sentences)), key=lambda i: (len(wanted & content_terms(text[slice(*sentences[i])])), -i))
    lo = hi = best
    while True:
        grew = False
        if hi + 1 < len(sentences) and sentences[hi + 1][1] - sentences[lo][0] <= max_chars:
            hi, grew = hi + 1, True
        if lo > 0 and sentences[hi][1] - sentences[lo - 1][0] <= max_chars:
            lo, grew = lo - 1, True
        if not grew:
            break
    start, end = sentences[lo][0], sentences[hi][1]
    return Passage(id=f"{passage.id}@{start}", source=passage.source, start=start, end=end, text=text[start:end], score=passage.score)


def excerpts(question: str, passages: list[Passage], texts: dict[str, str], *, max_chars: int) -> list[Passage]:
    """One focused excerpt per passage, best first, without repeating an excerpt already taken
    (neighbouring chunks overlap, so two of them can focus on the same sentences)."""
    out: list[Passage] = []
    for p in passages:
        e = focus(question, p, texts[p.source], max_chars=max_chars)
        if not any(o.source == e.source and o.start < e.end and e.start < o.end and _mostly_inside(e, o) for o in out):
            out.append(e)
    return out


def _mostly_inside(a: Passage, b: Passage) -> bool:
    overlap = min(a.end, b.end) - max(a.start, b.start)
    return overlap >= 0.5 * (a.end - a.start)
