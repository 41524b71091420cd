"""Which earlier thing a pronoun most likely stands for, beyond "the most recent fitting name".

:mod:`czqa.answering.followup.resolver` ranks an earlier turn's names by how well their kind fits the
pronoun and then by recency. Three habits of conversation that ranking misses:

* the **subject** of a question is what a later "it" usually continues ("According to The Wall
  Courier, when did Acme begin ...?" "What did it form then?": Acme, not the
  newspaper): names right after the question's auxiliary verb come first, names of sources
  ("according to X", "in X's article") last (:func:`subject_first`);
* an answer is a **value** only when it looks like one (an amount, a number): "it" after "$4.3
  billion" is the fine, but after "surged to an all-time high" or "in 2021" it is still the
  thing asked about (:func:`looks_like_value`);
* a thing named by a **common noun** has no capitalized name to find ("What was the salon's
  theme?" "And where was it held?"): the previous question's definite noun phrase is offered
  as another reading (:func:`things`), and :mod:`czqa.answering.followup.choice` keeps the
  better-supported one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from czqa.answering.names import MONTHS, Name

_AUXILIARY = re.compile(r"\b(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could)\s+$", re.IGNORECASE)
_SOURCE = re.compile(r"(?:\baccording\s+to|\bin|\bby|\bfrom)\s+(?:the\s+)?$", re.IGNORECASE)
_VALUE = re.compile(
    r"\d|[$€£¥%]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|percent|per\s+cent|half|twice)\b",
    re.IGNORECASE,
)
# A date: "it" after a when-question's answer still means what the question was about.
_DATE = re.compile(
    r"\b(?:(?:early|late|mid|in|on|since|around|by)\s+)*(?:(?:" + "|".join(sorted(MONTHS)) + r")\.?(?:\s+\d{1,2})?(?:,?\s+\d{4})?|\d{4})\b",
    re.IGNORECASE,
)
# "the salon" (in "the salon's theme", "the salon held ..."), or two words before a possessive
# ("the crypto salon's"): the last word is the head noun. One word otherwise, so a following
# verb is not taken for part of the noun.
_THING = re.compile(
    r"\b(?:the|this|that)\s+(?:([a-z][a-z-]+\s+[a-z][a-z-]+)(?=[’']s\b)|([a-z][a-z-]+)\b(?!-))"
)
_STOP = frozenset("the a an of in on at to for with by from and or but not".split())
_NOT_HEAD = frozenset(
    """first last next same other most best biggest largest main only whole total current former
    new old documents document author article report time year years way case winter summer spring
    autumn fall week month day""".split()
)


def _role(question: str, name: Name) -> int:
    """+1 for the question's grammatical subject (a name right after its auxiliary verb), -1 for
    a name after "according to", "in", "by" or "from" (a source it cites, or a place), else 0."""
    before = question[: name.start]
    return 1 if _AUXILIARY.search(before) else -1 if _SOURCE.search(before) else 0


def subject_first(question: str, names: Sequence[Name]) -> list[Name]:
    """``names`` (found in ``question``) reordered: its subject first, sources and places last."""
    return sorted(names, key=lambda n: -_role(question, n))  # stable: ties keep the text's order


def looks_like_value(answer: str) -> bool:
    """Whether an answer is an amount or a number (not a date, a thing or an event)."""
    return bool(_VALUE.search(_DATE.sub(" ", answer)))


def things(question: str, *, plural: bool) -> list[str]:
    """Definite noun phrases of ``question`` that a later "it" (``plural``: "they") could mean,
    in the text's order: "the salon" from "What was the salon's theme?"."""
    out = []
    for m in _THING.finditer(question):
        group = 1 if m.group(1) else 2
        head = m.group(group).split()[-1]
        if head in _NOT_HEAD or head in _STOP or head.endswith("s") != plural:
            continue
        out.append("the " + m.group(group))
    return out


def salience(question: str, names: Sequence[Name]) -> dict[str, int]:
    """A bonus to each name's fit for a later pronoun (:func:`_role`), so the subject "Acme"
    (a name of unknown kind) outranks "The Daily Courier" it was read in."""
    return {n.text: _role(question, n) for n in names}
