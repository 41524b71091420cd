"""Resolve a follow-up question against the conversation so far, before retrieval.

Retrieval sees one question at a time, so "When was he sentenced?" has nothing to search for:
the name it means is in an earlier turn. This module rewrites such a question into one that
stands on its own ("When was Jonas Weber sentenced?") and leaves every other question exactly
as it was typed. It is deliberately rule-based and conservative: a wrong rewrite makes the page
search for something the user did not ask, which is worse than searching for what they typed, so
a pronoun is replaced only when an earlier turn offers a fitting name and the question itself
does not already name one.

What is resolved:

- third-person pronouns (he/him/his, she/her, it/its, they/them/their): by the most salient
  earlier name of a fitting kind: the previous short answer first, then the names in the
  previous question, then older turns. Only the first mention of each referent is replaced
  ("Where did Jonas Weber serve his sentence?"), and "he ... him" in one question get two
  different people ("Why did the governor pardon Jonas Weber?").
- elliptical follow-ups ("What about He Li?", "And Acme US?"): the previous question is
  asked again about the new name, which takes the place of the earlier name of the same kind.
  A date works the same way ("What about June?" after "... in March 2023?" asks about June
  2023): it takes the place of the previous question's date, keeping its year when it names none,
  or is added to a question that has none.
- follow-ups that leave out the previous question's frame rather than a name: a bare
  wh-fragment ("When?", "How many charges?", "When was that?"), a phrase without a name ("And
  in forfeitures?", "What about the head of marketing?", "The fine?"): see
  :mod:`czqa.answering.followup.frames`.
- an "it"/"he" whose antecedent is what an earlier which- or who-question asked about, which
  no name stands for ("What did it provide?" -> "What did the company that Jonas Weber joined
  ... provide?").

Several readings may fit ("How much was it?": the amount Acme invested, or Acme itself): the
first is ``resolved`` and the others ``alternatives``, each with what it was taken to be
about, and :mod:`czqa.answering.followup.choice` answers them all and keeps the best-supported one.

Names are found by capitalization (no NER model offline), their kind from their shape; which
earlier thing a pronoun means is ranked in :mod:`czqa.answering.followup.referents`. Expletive
"it" ("Is it true that ...", "When did it happen?") is left alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from czqa.answering.followup.anaphora import SEQUEL, answer_phrase_reading, sequel_rewrite, time_reading
from czqa.answering.followup.frames import describe, fragment_rewrite, phrase_rewrites, plural_wh_noun
from czqa.answering.followup.pronouns import PRONOUN, PRONOUNS, fits, form, her_is_possessive, is_expletive_it, is_name
from czqa.answering.followup.referents import looks_like_value, salience, subject_first, things
from czqa.answering.names import MONTHS, Name, find_names

LOOKBACK_TURNS = 3
# Readings tried besides the first (each costs the chooser one more answer).
MAX_ALTERNATIVES = 2

_NOT_BARE = r"(?!.*\b(?:who|whom|what|when|where|why|how|which|did|does|do|is|was|were|are|has|have|had|can|will)\b)"
_ELLIPSIS = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$"
    r"|^\s*and\s+(?P<y>(?!(?:who|what|when|where|why|how|which|did|does|do|is|was|were|are)\b).+?)\s*\?\s*$"
    # A bare noun or prepositional phrase: "The fine?", "His sentence?", "In 2021?".
    rf"|^\s*{_NOT_BARE}(?P<z>(?:the|his|her|its|their|a|an|in|on|at|for|during|before|after|since)\s+\S+(?:\s+\S+){{0,4}}?)\s*\?\s*$",
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


class Reading(BaseModel):
    """One way to read a follow-up: the question to search, and what it was taken to be about
    (the names or earlier answers put into it; an answer that only repeats one of them answers
    nothing: "What did Acme later become?" "Acme")."""

    model_config = ConfigDict(frozen=True)

    question: str
    about: list[str] = Field(default_factory=list)


class Resolution(BaseModel):
    """The question as asked and as it will be searched; equal when no context was needed.

    ``alternatives`` are other readings worth trying when the first may be wrong ("How much was
    it?" as "How much did Acme invest ...?" or as "How much was Acme?"): the chooser in
    :mod:`czqa.answering.followup.choice` answers them too and keeps the best-supported one.
    """

    model_config = ConfigDict(frozen=True)

    asked: str
    resolved: str
    substitutions: list[Substitution] = Field(default_factory=list)
    about: list[str] = Field(default_factory=list, description="What the resolved question was taken to be about.")
    alternatives: list[Reading] = Field(default_factory=list, description="Other readings to try, most likely first.")

    @property
    def rewritten(self) -> bool:
        return self.resolved != self.asked

    @property
    def readings(self) -> list[Reading]:
        """The resolved question and the alternatives, in order."""
        return [Reading(question=self.resolved, about=self.about), *self.alternatives]


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
        out.extend(subject_first(turn.question, find_names(turn.question)))
    seen: set[str] = set()
    unique = []
    for e in out:
        if e.text.casefold() not in seen:
            seen.add(e.text.casefold())
            unique.append(e)
    return unique


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
    bonus = salience(previous.question, find_names(previous.question)) if previous else {}
    answer_is_value = bool(
        previous and previous.short_answer and not previous.abstained and not find_names(previous.short_answer)
        and looks_like_value(previous.short_answer)
    )
    used: dict[str, list[str]] = {}  # group -> names already given, in order
    done: set[tuple[str, str]] = set()  # (group, name) already written out once
    pieces: list[str] = []
    subs: list[Substitution] = []
    last = 0
    for m in PRONOUN.finditer(question):
        word = m.group(1)
        lower = word.lower()
        group, role = PRONOUNS[lower]
        if is_name(question, m):
            continue  # "He Lin": a name, not a pronoun
        if lower == "it" and is_expletive_it(question, m):
            continue
        if group == "neuter" and answer_is_value:
            continue  # "How much did Acme pay?" "$4.3 billion" "Who paid it?": "it" is the fine
        if lower == "her":
            role = "possessive" if her_is_possessive(question, m) else "object"
        earlier_own = [e for e in own if e.end <= m.start() and fits(group, e.kind)]
        if earlier_own and role != "object":
            continue  # the question names its own referent ("Did JW say he was sorry?")
        name: str | None = None
        if group == "plural" and plural_people:
            name = plural_people
        elif group == "plural" and previous and plural_wh_noun(previous.question):
            # "What were they meant to do?" after "What guides did Acme publish?": the guides (the
            # answer, when short enough to stand in), not Acme; with no answer, the described
            # reading (``_described``) puts them in.
            answered = previous.short_answer if previous.short_answer and not previous.abstained else None
            name = answered if answered and len(answered.split()) <= 6 and not looks_like_value(answered) else None
        else:
            # An object pronoun never means the clause's own subject ("Why did the governor pardon
            # him?"), and one name is not given to two pronoun groups in one question.
            excluded = {e.text for e in own} | {n for g, names in used.items() if g != group for n in names}
            ranked = sorted(  # stable: recency breaks ties
                (c for c in candidates if fits(group, c.kind) and c.text not in excluded),
                key=lambda c: -fits(group, c.kind) - bonus.get(c.text, 0),
            )
            taken = used.setdefault(group, [])
            given = [n for names in used.values() for n in names]
            if role == "object" and given:
                # "Why did he pardon him?": the object is someone other than the subject, and
                # only a name of the right kind will do (not any capitalized word).
                others = [c for c in ranked if c.text not in given and fits(group, c.kind) == 2]
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
        pieces.append(form(name, role))
        last = m.end()
        subs.append(Substitution(written=word, meant=name))
    pieces.append(question[last:])
    return "".join(pieces), subs


def _resolve_ellipsis(question: str, history: Sequence[Turn]) -> list[str] | None:
    """Rewrites of an elliptical follow-up ("What about He Li?", "And in 2021?", "The fine?"), or
    None when the question is not one."""
    m = _ELLIPSIS.match(question)
    if not m or not history:
        return None
    new = next(g for g in m.groups() if g).strip()
    previous = history[-1].question.strip()
    if SEQUEL.match(new.rstrip("?").strip()):
        # "And after that?": "that" is the previous answer, not a phrase to put in a slot.
        last = history[-1]
        sequel = sequel_rewrite(new, previous, None if last.abstained else last.short_answer)
        return [] if sequel is None else [_resolve_pronouns(sequel, history)[0]]
    in_slots = [_resolve_pronouns(q, history)[0] for q in phrase_rewrites(new, previous)]
    new_entities = find_names(new)
    old = find_names(previous)
    bare = re.sub(r"^(?:the|a|an)\s+|\s+(?:itself|himself|herself|themselves|too|then|instead)$", "", new, flags=re.IGNORECASE)
    if len(new_entities) == 1 and new_entities[0].text == bare and old:
        kind = new_entities[0].kind
        same = [e for e in old if e.kind == kind]
        target = same[0] if same else old[-1]
        name = new
        if re.match(r"(?:the|a|an)\s", name, re.IGNORECASE) and re.search(r"\b(?:the|a|an)\s$", previous[: target.start], re.IGNORECASE):
            name = name.split(None, 1)[1]  # "What about the FTC?" after "... the SEC ...": one article
        swapped = previous[: target.start] + name + previous[target.end :]
        # With no name of the same kind to replace ("What about the CTO of Globex?" after "Who
        # was Acme's head of marketing?"), the phrase's own slot comes first and the swap last.
        return [swapped] if same else [*in_slots, swapped]
    dated = _resolve_date_ellipsis(new, previous)
    return in_slots if dated is None else dated


def _resolve_date_ellipsis(new: str, previous: str) -> list[str] | None:
    """"What about June?": the previous question asked again with June in place of its date, or
    added when it has none. "June" after "March 2023" means June 2023; the date as typed is
    the second reading (a document may say just "in June")."""
    m = _DATE_ONLY.match(new)
    if not m:
        return None
    old = _DATE.search(previous)
    if not old:
        phrase = new.strip() if new.strip() != m.group("date") else f"in {m.group('date')}"
        phrase = phrase[0].lower() + phrase[1:] if phrase.split()[0].lower() in ("in", "on", "during", "since", "by") else phrase
        return [previous.rstrip("?").rstrip() + f" {phrase}?"]
    date = m.group("date")
    readings = [previous[: old.start()] + date + previous[old.end() :]]
    if old.group("year") and not re.search(r"\d{4}", date) and not old.group("lone"):
        readings.insert(0, previous[: old.start()] + f"{date} {old.group('year')}" + previous[old.end() :])
    return readings


def _described(question: str, history: Sequence[Turn], named: Sequence[str] = ()) -> tuple[str, str | None] | None:
    """The question with its first pronoun replaced by what an earlier which- or who-question
    asked about ("What did it provide?" -> "What did the company that Jonas Weber joined ... provide?"):
    the reading for an antecedent that was never named by a name the resolver could find (or was
    named wrongly). Also returns that earlier question's answer (what the description stands for).
    Not offered when the pronoun reading already put in that answer's one name (``named``), when the
    question names its own referent, or from a declined turn (its referent is not in the documents)."""
    own = find_names(question)
    for m in PRONOUN.finditer(question):
        lower = m.group(1).lower()
        group, role = PRONOUNS[lower]
        if (lower == "it" and is_expletive_it(question, m)) or is_name(question, m):
            continue
        if any(e.end <= m.start() and fits(group, e.kind) for e in own) and role != "object":
            return None
        for turn in list(history)[::-1][:LOOKBACK_TURNS]:
            answered = [e.text for e in find_names(turn.short_answer or "")]
            # "they" agreeing with a plural wh-noun ("What guides did Acme publish?") means those
            # things even when czqa declined to name them.
            agrees = group == "plural" and plural_wh_noun(turn.question) is not None
            if (turn.abstained and not agrees) or (len(answered) == 1 and answered[0] in named):
                continue  # its answer is one name, and the pronoun reading already put it in
            described = describe(turn.question)
            if described and (group == "plural" or (group in ("masc", "fem")) == described[1]):
                if lower == "her":
                    role = "possessive" if her_is_possessive(question, m) else "object"
                answer = None if turn.abstained else turn.short_answer
                return question[: m.start()] + form(described[0], role) + question[m.end() :], answer
        return None
    return None


def _as_thing(question: str, previous: str) -> tuple[str, list[Substitution], list[str]] | None:
    """The first "it"/"they" read as the previous question's definite noun phrase, if any."""
    for m in PRONOUN.finditer(question):
        group, role = PRONOUNS[m.group(1).lower()]
        if group in ("neuter", "plural") and not (m.group(1).lower() == "it" and is_expletive_it(question, m)):
            found = things(previous, plural=group == "plural")
            q = found and question[: m.start()] + form(found[0], role) + question[m.end() :]
            return (q, [Substitution(written=m.group(1), meant=found[0])], [found[0]]) if found else None
    return None


def resolve_followup(question: str, history: Sequence[Turn]) -> Resolution:
    """The question to search for, given the earlier turns of the conversation.

    A question that names what it asks about comes back unchanged; so does any question when
    there is no history, or when neither an earlier name nor the previous question's frame
    fills what it leaves out. Several readings may come back: the first as ``resolved``, the
    others as ``alternatives`` (at most :data:`MAX_ALTERNATIVES`).
    """
    asked = " ".join(question.split())
    if not history:
        return Resolution(asked=asked, resolved=asked)
    readings: list[tuple[str, list[Substitution], list[str]]] = []  # question, substitutions, about
    ellipsis = _resolve_ellipsis(asked, history)
    if ellipsis is not None:
        readings += [(q, [Substitution(written=asked, meant=q)], []) for q in ellipsis]
    else:
        last = history[-1]
        answer = None if last.abstained else last.short_answer
        fragment = fragment_rewrite(asked, last.question, answer)
        if fragment is not None:
            # "When?" after "Where ...?" "the prison": the place is not the time.
            readings.append((fragment, [Substitution(written=asked, meant=fragment)], [answer] if answer else []))
        resolved, subs = _resolve_pronouns(asked, history)
        # "What did it form then?" after a when-question; "that team" after "a dedicated team":
        # the previous answer put in, on top of the pronouns (the most specific reading first).
        for pointed in (time_reading(resolved, last.question, answer), answer_phrase_reading(resolved, answer)):
            if pointed is not None:
                readings.append((pointed, [*subs, Substitution(written=asked, meant=pointed)], [*(s.meant for s in subs), answer]))
        readings.append((resolved, subs, [s.meant for s in subs]))
        described = _described(asked, history, [s.meant for s in subs])
        if described is not None:
            q, what = described
            readings.append((q, [Substitution(written=asked, meant=q)], [what] if what else []))
        thing = _as_thing(asked, history[-1].question)
        readings += [thing] if thing is not None else []  # the only one when no name fits the pronoun
    seen = {asked}
    unique = [r for r in readings if not (r[0] in seen or seen.add(r[0]))]
    if not unique:
        return Resolution(asked=asked, resolved=asked)
    (resolved, subs, about), others = unique[0], unique[1 : 1 + MAX_ALTERNATIVES]
    return Resolution(
        asked=asked,
        resolved=resolved,
        substitutions=subs,
        about=about,
        alternatives=[Reading(question=q, about=a) for q, _, a in others],
    )
