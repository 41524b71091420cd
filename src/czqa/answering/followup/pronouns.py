"""The pronouns a follow-up may use, and what each can stand for.

:mod:`czqa.answering.followup.resolver` replaces a pronoun with the earlier name it means; this module
says which words are pronouns at all (not "He" starting the name "He Lin", not the dummy "it" of
"is it true that"), which kind of name each can take, and the form the name takes in its place
("his" -> "Jonas Weber's").
"""

from __future__ import annotations

import re

from czqa.answering.names import Kind, find_names

# Pronoun -> (referent group, grammatical role). Roles decide the replacement's form.
PRONOUNS: dict[str, tuple[str, str]] = {
    "he": ("masc", "subject"),
    "him": ("masc", "object"),
    "his": ("masc", "possessive"),
    "she": ("fem", "subject"),
    "her": ("fem", "object-or-possessive"),
    "hers": ("fem", "possessive"),
    "it": ("neuter", "subject"),
    "its": ("neuter", "possessive"),
    "they": ("plural", "subject"),
    "them": ("plural", "object"),
    "their": ("plural", "possessive"),
}
PRONOUN = re.compile(r"\b(" + "|".join(PRONOUNS) + r")\b", re.IGNORECASE)
# Words after "it" that make it a dummy subject or an event, not a name's stand-in.
_EXPLETIVE_NEXT = frozenset(
    """true false possible impossible likely unlikely known said reported clear unclear important
    necessary legal illegal happen happens happened occur occurs occurred mean means meant matter
    matters seem seems seemed appear appears appeared take took takes turn turned""".split()
)
# Words after "her" that show it is an object ("meet her in", "tell her that"), not a possessive.
_NOT_NOUN_AFTER_HER = frozenset(
    """in on at to for from with about after before during and or but that when where why how if
    as by into than then again too also first last yet""".split()
)
def fits(group: str, kind: Kind) -> int:
    """How well a name of ``kind`` fits a pronoun group: 0 not at all, 2 best.

    "he" and "she" take only a person's name: a single capitalized word of unknown kind is as
    often a place or a company ("When was California released?"), and a wrong rewrite costs
    more than none. A who-question's answer counts as a person (see ``_candidates``).
    """
    table = {
        "masc": {"person": 2},
        "fem": {"person": 2},
        "neuter": {"org": 2, "unknown": 1},
        "plural": {"org": 2, "unknown": 1},
    }
    return table[group].get(kind, 0)


def is_expletive_it(question: str, match: re.Match) -> bool:
    after = question[match.end() :].split()
    return bool(after) and after[0].strip("?.,!").lower() in _EXPLETIVE_NEXT


def her_is_possessive(question: str, match: re.Match) -> bool:
    after = question[match.end() :]
    nxt = re.match(r"\s+([A-Za-z’']+)", after)
    return bool(nxt) and nxt.group(1).lower() not in _NOT_NOUN_AFTER_HER


def is_name(question: str, match: re.Match) -> bool:
    """"He" starting a name ("He Lin"), not the pronoun."""
    if match.group(1) != "He":
        return False
    names = find_names(question[match.start() :])
    return bool(names) and names[0].start == 0


def form(name: str, role: str) -> str:
    return f"{name}'s" if role == "possessive" else name
