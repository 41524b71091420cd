"""The one name finder: runs of capitalized words that name someone or something.

Answer spans (a "who" question's person) and follow-up referents ("he" → the person named
earlier) both need names, and no NER model is available offline, so both read this module. A
name is a run of capitalized words joined by single spaces (or a connector such as "van" or
"bin" between two of them); a possessive ending ends it ("Weber Jonas’s Early-Stage Startup"
holds two); question words, pronouns, function words, months and weekdays that merely start a
sentence with a capital are skipped. Each name gets a guess at its kind from its shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["person", "org", "unknown"]

from czqa.answering.lexicon import MONTHS, WEEKDAYS  # noqa: E402,F401  (one list of calendar names; imported from here too)

NOT_NAME = (
    frozenset(
        """Who Whom Whose What When Where Why How Which Did Does Do Is Was Were Are Has Have Had Can Could
        Will Would Should Shall May Might Must The A An And But Or Nor So Yet In On At For From To Of By
        With Without About After Before During Since Until Into Over Under Between Against Among Per Via
        He She It They We You I Me Him Her His Its Their Them Our Your My This That These Those There Then
        Tell Give List Name Explain Describe Please Also Mr Mrs Ms Dr According Yes No Not Wasn If While
        However Still Moreover Finally Indeed Meanwhile Later Back Dear Sincerely""".split()
    )
    | MONTHS
    | WEEKDAYS
)

CONNECTORS = frozenset({"of", "de", "van", "von", "bin", "al", "der", "la"})
ORG_WORDS = frozenset(
    """Inc Corp Corporation Company Co Ltd LLC Group Holdings Exchange Bank Foundation Labs Capital
    Financial Fund Ventures Partners Department Ministry Court Commission Agency Administration Office
    Bureau Treasury Journal Times Post News Press Network University Institute Prison Government
    Congress Senate Council Association Union Club Party Platform Academy Markets""".split()
)
# Two-letter capitals that are common abbreviations, not a person's initials.
NOT_INITIALS = frozenset({"US", "UK", "EU", "UN", "AI", "TV", "PR", "ID", "OK", "HQ"})

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9]*(?:[.\-'’&][A-Za-z0-9]+)*")
_POSSESSIVE = re.compile(r"[’']s?$")


@dataclass(frozen=True)
class Name:
    """A name found in a text: its words (possessive ending removed), offsets there, and kind."""

    text: str
    kind: Kind
    start: int
    end: int
    words: tuple[str, ...] = ()


def is_initials(word: str) -> bool:
    """Two capitals standing for a person ("JW"), not an abbreviation ("US")."""
    return len(word) == 2 and word.isalpha() and word.isupper() and word not in NOT_INITIALS


def kind_of(words: list[str]) -> Kind:
    """Person, organization or unknown, from the words' shape: an organization word anywhere
    makes an organization; two capitals are initials, three or more an acronym (SEC, DOJ); one
    ordinary capitalized word could be anything; two or more read as a person's name."""
    if any(w in ORG_WORDS for w in words):
        return "org"
    if len(words) == 1:
        w = words[0]
        if w.isupper() and w.isalpha():
            if len(w) == 2:
                return "person" if is_initials(w) else "unknown"
            return "org"
        return "unknown"
    return "person"


def _joins(text: str, left: re.Match, right: re.Match) -> bool:
    """Whether two words are joined as one name: one space, or "J. Smith"'s initial and dot."""
    gap = text[left.end() : right.start()]
    word = left.group()
    return gap == " " or (gap == ". " and len(word) == 1 and word.isupper())


def _starts_name(word: str, following: str) -> bool:
    if not word[0].isupper():
        return False
    if word not in NOT_NAME:
        return True
    # "He Lin" is a name; "He said" is not.
    return word == "He" and following[:1].isupper() and following not in NOT_NAME


def find_names(text: str) -> list[Name]:
    """Capitalized names in ``text``, in order, each with its offsets and a guess at its kind.

    Linear in the length of ``text``: one pass over its words, no backtracking.
    """
    found: list[Name] = []
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        following = words[i + 1].group() if i + 1 < len(words) else ""
        if not _starts_name(words[i].group(), following):
            i += 1
            continue
        parts = [words[i]]
        j = i
        while not _POSSESSIVE.search(parts[-1].group()) and j + 1 < len(words) and _joins(text, words[j], words[j + 1]):
            cand = words[j + 1].group()
            if cand[0].isupper() and cand not in NOT_NAME:
                parts.append(words[j + 1])
                j += 1
            elif (
                cand in CONNECTORS
                and j + 2 < len(words)
                and _joins(text, words[j + 1], words[j + 2])
                and words[j + 2].group()[0].isupper()
                and words[j + 2].group() not in NOT_NAME
            ):
                parts.extend([words[j + 1], words[j + 2]])
                j += 2
            else:
                break
        start, end = parts[0].start(), parts[-1].end()
        name = text[start:end]
        stripped = _POSSESSIVE.sub("", name) if name.endswith(("’s", "'s")) else name
        end -= len(name) - len(stripped)
        words_ = [p.group() for p in parts]
        words_[-1] = _POSSESSIVE.sub("", words_[-1]) if words_[-1].endswith(("’s", "'s")) else words_[-1]
        found.append(Name(stripped, kind_of(words_), start, end, tuple(words_)))
        i = j + 1
    return found
