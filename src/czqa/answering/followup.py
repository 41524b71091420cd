"""Resolve a follow-up question against the conversation so far, before retrieval.

Retrieval sees one question at a time, so "When was he sentenced?" has nothing to search for:
the name it means is in an earlier turn. This module rewrites such a question into one that
stands on its own ("When was Ming Yao sentenced?") and leaves every other question exactly
as it was typed. It is deliberately rule-based and conservative: a wrong rewrite makes the page
search for something the user did not ask, which is worse than searching for what they typed, so
a pronoun is replaced only when an earlier turn offers a fitting name and the question itself
does not already name one.

What is resolved:

- third-person pronouns (he/him/his, she/her, it/its, they/them/their): by the most salient
  earlier name of a fitting kind: the previous short answer first, then the names in the
  previous question, then older turns. Only the first mention of each referent is replaced
  ("Where did Ming Yao serve his sentence?"), and "he ... him" in one question get two
  different people ("Why did the governor pardon Ming Yao?").
- elliptical follow-ups ("What about He Li?", "And Acme US?"): the previous question is
  asked again about the new name, which takes the place of the earlier name of the same kind.
  A date works the same way ("What about June?" after "... in March 2023?" asks about June
  2023): it takes the place of the previous question's date, keeping its year when it names none.

Names are found by capitalization (no NER model is available offline); a name's kind (person,
organization, unknown) comes from its shape and a few organization words. Expletive "it"
("Is it true that ...", "When did it happen?") is left alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from czqa.answering.names import MONTHS, Kind, Name, find_names

LOOKBACK_TURNS = 3

# Pronoun -> (referent group, grammatical role). Roles decide the replacement's form.
_PRONOUNS: dict[str, tuple[str, str]] = {
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
_PRONOUN = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b", re.IGNORECASE)
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
_ELLIPSIS = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$|^\s*and\s+(?P<y>(?!(?:who|what|when|where|why|how|which|did|does|do|is|was|were|are)\b).+?)\s*\?\s*$",
    re.IGNORECASE,
)


_MONTH = "(?:" + "|".join(sorted(MONTHS)) + ")"
# A month with an optional day and year ("March", "March 2023", "April 30, 2024"), or a year.
_DATE = re.compile(rf"\b(?:{_MONTH}(?:\s+\d{{1,2}})?(?:,?\s+(?P<year>\d{{4}}))?|(?P<lone>\d{{4}}))\b")
_DATE_ONLY = re.compile(rf"^(?:(?:in|on|during|since|by)\s+)?(?P<date>{_DATE.pattern})$", re.IGNORECASE)


class Turn(BaseModel):
    """One earlier exchange, as far as resolving later questions needs it."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(description="The question as understood (resolved), even when it was searched as typed.")
    short_answer: str | None = Field(None, description="The answer's short span (a name, date, amount), if any.")
    abstained: bool = False


class Substitution(BaseModel):
    """One reference that was filled in: what the user wrote and the name it was taken to mean."""

    model_config = ConfigDict(frozen=True)

    written: str
    meant: str


class Resolution(BaseModel):
    """The question as asked and as it will be searched; equal when no context was needed."""

    model_config = ConfigDict(frozen=True)

    asked: str
    resolved: str
    substitutions: list[Substitution] = Field(default_factory=list)

    @property
    def rewritten(self) -> bool:
        return self.resolved != self.asked


def _candidates(history: Sequence[Turn]) -> list[Name]:
    """Earlier names, most salient first: each turn's short answer, then its question."""
    out: list[Name] = []
    for turn in list(history)[::-1][:LOOKBACK_TURNS]:
        if turn.short_answer and not turn.abstained:
            found = find_names(turn.short_answer)
            if re.match(r"\s*(?:who|whom)\b", turn.question, re.IGNORECASE):
                # The answer to a who-question names people, whatever their names look like.
                found = [dataclasses.replace(e, kind="person") if e.kind == "unknown" else e for e in found]
            out.extend(found)
        out.extend(find_names(turn.question))
    seen: set[str] = set()
    unique = []
    for e in out:
        if e.text.casefold() not in seen:
            seen.add(e.text.casefold())
            unique.append(e)
    return unique


def _fits(group: str, kind: Kind) -> int:
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


def _is_expletive_it(question: str, match: re.Match) -> bool:
    after = question[match.end() :].split()
    return bool(after) and after[0].strip("?.,!").lower() in _EXPLETIVE_NEXT


def _her_is_possessive(question: str, match: re.Match) -> bool:
    after = question[match.end() :]
    nxt = re.match(r"\s+([A-Za-z’']+)", after)
    return bool(nxt) and nxt.group(1).lower() not in _NOT_NOUN_AFTER_HER


def _form(name: str, role: str) -> str:
    return f"{name}'s" if role == "possessive" else name


def _plural_answer(history: Sequence[Turn]) -> str | None:
    """"They" after an answer naming two or more people means those people."""
    if not history:
        return None
    last = history[-1]
    if not last.short_answer or last.abstained:
        return None
    people = [e.text for e in find_names(last.short_answer) if e.kind == "person"]
    if len(people) < 2:
        return None
    return ", ".join(people[:-1]) + " and " + people[-1]


def _resolve_pronouns(question: str, history: Sequence[Turn]) -> tuple[str, list[Substitution]]:
    own = find_names(question)
    candidates = _candidates(history)
    plural_people = _plural_answer(history)
    previous = history[-1] if history else None
    answer_is_value = bool(
        previous and previous.short_answer and not previous.abstained and not find_names(previous.short_answer)
    )
    used: dict[str, list[str]] = {}  # group -> names already given, in order
    done: set[tuple[str, str]] = set()  # (group, name) already written out once
    pieces: list[str] = []
    subs: list[Substitution] = []
    last = 0
    for m in _PRONOUN.finditer(question):
        word = m.group(1)
        lower = word.lower()
        group, role = _PRONOUNS[lower]
        if word == "He" and find_names(question[m.start() :]) and find_names(question[m.start() :])[0].start == 0:
            continue  # "He Yi": a name, not a pronoun
        if lower == "it" and _is_expletive_it(question, m):
            continue
        if group == "neuter" and answer_is_value:
            continue  # "How much did Acme pay?" "$4.3 billion" "Who paid it?": "it" is the fine
        if lower == "her":
            role = "possessive" if _her_is_possessive(question, m) else "object"
        earlier_own = [e for e in own if e.end <= m.start() and _fits(group, e.kind)]
        if earlier_own and role != "object":
            continue  # the question names its own referent ("Did MY say he was sorry?")
        name: str | None = None
        if group == "plural" and plural_people:
            name = plural_people
        else:
            # An object pronoun never means the clause's own subject ("Why did Trump pardon
            # him?"), and one name is not given to two pronoun groups in one question.
            excluded = {e.text for e in own} | {n for g, names in used.items() if g != group for n in names}
            ranked = sorted(
                (c for c in candidates if _fits(group, c.kind) and c.text not in excluded),
                key=lambda c: -_fits(group, c.kind),  # stable: salience breaks ties
            )
            taken = used.setdefault(group, [])
            given = [n for names in used.values() for n in names]
            if role == "object" and given:
                # "Why did he pardon him?": the object is someone other than the subject, and
                # only a name of the right kind will do (not any capitalized word).
                others = [c for c in ranked if c.text not in given and _fits(group, c.kind) == 2]
                name = others[0].text if others else None
            elif taken:
                name = taken[0]
            elif ranked:
                name = ranked[0].text
        if name is None:
            continue
        if name not in used.setdefault(group, []):
            used[group].append(name)
        if (group, name) in done:
            continue  # later mentions of the same referent keep their pronoun
        done.add((group, name))
        pieces.append(question[last : m.start()])
        pieces.append(_form(name, role))
        last = m.end()
        subs.append(Substitution(written=word, meant=name))
    pieces.append(question[last:])
    return "".join(pieces), subs


def _resolve_ellipsis(question: str, history: Sequence[Turn]) -> tuple[str, list[Substitution]] | None:
    m = _ELLIPSIS.match(question)
    if not m or not history:
        return None
    new = (m.group("x") or m.group("y")).strip()
    new_entities = find_names(new)
    if not new_entities:
        return _resolve_date_ellipsis(new, history[-1].question.strip())
    previous = history[-1].question.strip()
    old = find_names(previous)
    if not old:
        return None
    kind = new_entities[0].kind
    same = [e for e in old if e.kind == kind]
    target = same[0] if same else old[-1]
    resolved = previous[: target.start] + new + previous[target.end :]
    return resolved, [Substitution(written=question.strip(), meant=resolved)]


def _resolve_date_ellipsis(new: str, previous: str) -> tuple[str, list[Substitution]] | None:
    """"What about June?": the previous question asked again with June in place of its date."""
    m = _DATE_ONLY.match(new)
    if not m:
        return None
    old = _DATE.search(previous)
    if not old:
        return None
    date = m.group("date")
    if old.group("year") and not re.search(r"\d{4}", date) and not old.group("lone"):
        date = f"{date} {old.group('year')}"  # "June" after "March 2023" means June 2023
    resolved = previous[: old.start()] + date + previous[old.end() :]
    return resolved, [Substitution(written=new, meant=resolved)]


def resolve_followup(question: str, history: Sequence[Turn]) -> Resolution:
    """The question to search for, given the earlier turns of the conversation.

    A question that names what it asks about comes back unchanged; so does any question when
    there is no history, or when no earlier name fits its pronouns.
    """
    asked = " ".join(question.split())
    if not history:
        return Resolution(asked=asked, resolved=asked)
    ellipsis = _resolve_ellipsis(asked, history)
    if ellipsis is not None:
        resolved, subs = ellipsis
        return Resolution(asked=asked, resolved=resolved, substitutions=subs)
    resolved, subs = _resolve_pronouns(asked, history)
    return Resolution(asked=asked, resolved=resolved, substitutions=subs)
