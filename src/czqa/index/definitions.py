"""Abbreviations that a text defines in parentheses: "Long Form Words (LFW)".

Accepted when the abbreviation's letters can be matched, in order, in the long form with the
first letter at a word start (Schwartz & Hearst, 2003). Used by :mod:`czqa.index.aliases`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_FUNCTION_WORDS = frozenset({"and", "of", "the", "for", "&", "de", "in", "on"})
# "(LFW)": the abbreviation being defined. The long form is read from the words just before it
# (a bounded look-back), never by a pattern that spans an unbounded run of text: a regular
# expression over "capitalized words before a parenthesis" backtracks quadratically on one long
# token, and a 40k-character token cost 30 s at every start-up.
_ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z0-9]{1,7})\)")
_LOOK_BACK = 160  # characters: enough for eight capitalized words and their connectors
_MAX_LONG_WORDS = 8
_CAPITALIZED = re.compile(r"[A-Z][\w’'.-]*")


def _long_form(words: list[str], short: str) -> list[str] | None:
    """The shortest tail of ``words`` that the abbreviation ``short`` abbreviates, if any.

    Schwartz-Hearst matching: walk the abbreviation backwards; each character must be found
    further left in the long form, and the first one at the start of a word.
    """
    for n in range(1, len(words) + 1):
        cand = words[-n:]
        if cand[0].lower() in _FUNCTION_WORDS:
            continue
        text = " ".join(cand)
        s, t = len(short) - 1, len(text) - 1
        while s >= 0:
            c = short[s].lower()
            while t >= 0 and (text[t].lower() != c or (s == 0 and t > 0 and text[t - 1].isalnum())):
                t -= 1
            if t < 0:
                break
            s -= 1
            t -= 1
        if s < 0:
            significant = [w for w in cand if w.lower() not in _FUNCTION_WORDS]
            if len(significant) <= len(short) + 1:
                return cand
    return None


def _definitions(text: str) -> Iterable[tuple[str, list[str]]]:
    """Each "(ABBR)" in ``text`` with the capitalized words (and connectors between them) that
    run up to it: "Long Form Words (LFW)" gives ("LFW", ["Long", "Form", "Words"]). Linear in the
    text: each abbreviation looks back a bounded stretch."""
    for m in _ABBREVIATION.finditer(text):
        before = text[max(0, m.start() - _LOOK_BACK) : m.start()]
        if not before[-1:].isspace():
            continue
        words = before.split()
        if m.start() > _LOOK_BACK and words and not before[:1].isspace():
            words = words[1:]  # the first word may be cut by the look-back
        run: list[str] = []
        capitalized = 0
        for word in reversed(words):
            if _CAPITALIZED.fullmatch(word):
                capitalized += 1
            elif not (run and word in _FUNCTION_WORDS):
                break
            run.append(word)
            if capitalized == _MAX_LONG_WORDS:
                break
        while run and run[-1] in _FUNCTION_WORDS:
            run.pop()  # a run starts with a capitalized word
        if run:
            yield m.group(1), run[::-1]


def abbreviations(text: str) -> Iterable[tuple[str, str]]:
    """(abbreviation, long form) for each definition in ``text`` that passes the matching rule."""
    for short, words in _definitions(text):
        long = _long_form(words, short)
        if long:
            yield short, " ".join(long)
