"""Follow-ups that point back at the previous answer with a word that is not a pronoun.

:mod:`czqa.answering.followup.resolver` fills in "he" and "it" with a name, and
:mod:`czqa.answering.followup.frames` rebuilds a fragment from the previous question's frame.
Three more kinds of reference stand for what the previous turn *answered*, and searching them as
typed finds nothing in particular:

- "then" (or "at that time") after a when-question: "What did Acme form then?" after "When did
  Acme enter Japan?" "in 2019" asks what Acme formed in 2019;
- "after that" / "before that" / "since then" as an elliptical follow-up: "And after that?"
  after "After Japan, where did Acme move?" "Malta" asks "After Malta, where did Acme move?";
- "that team" / "the team" whose noun ends the previous answer: "What was that team meant to
  explore?" after the answer "a dedicated team" asks about "the dedicated team".

Each returns a proposal or None. A proposal is only a reading: the chooser in
:mod:`czqa.answering.followup.choice` keeps it only when it is answered with more support than the
question as typed, so a wrong reading costs one more answer, not a wrong reply.
"""

from __future__ import annotations

import re

from czqa.answering.names import MONTHS, WEEKDAYS

# "then" as a time, not as "so" ("Then who paid?") or a sequence inside a clause: it ends the
# question, alone or as "at that time".
_THEN = re.compile(r"\s*,?\s*\b(?:then|at\s+that\s+time|at\s+the\s+time|back\s+then|by\s+then)\s*\?*\s*$", re.IGNORECASE)
_MONTH = "(?:" + "|".join(sorted(MONTHS)) + ")"
_WEEKDAY = "(?:" + "|".join(sorted(WEEKDAYS)) + ")"
_DAY_DATE = re.compile(rf"^{_MONTH}\s+\d{{1,2}}\b|^\d{{1,2}}\s+{_MONTH}\b|^{_WEEKDAY}\b")
# A date and nothing else: "2019", "November 2023", "early 2017" (not "2024 U.S. election").
_DATE = re.compile(rf"^(?:(?:early|mid|late)[\s-]+)?(?:(?:{_MONTH}(?:\s+\d{{1,2}})?,?\s*)?\d{{4}}|{_MONTH})$", re.IGNORECASE)
_TIME_PREP = re.compile(r"^(?:in|on|at|around|during|after|before|since|by|until|about|shortly|soon|just)\b", re.IGNORECASE)
# "after that": the relation, and the word standing for the previous answer.
SEQUEL = re.compile(r"^(?P<prep>after|before|since|until)\s+(?:that|this|then|it)$", re.IGNORECASE)
# A when-question, wherever its wh-phrase stands ("According to the WSJ, around when did ...?").
_WHEN = re.compile(r"\b(?:when|what\s+(?:year|date|month|day|time))\b[^?]*\?\s*$", re.IGNORECASE)
_DETERMINER = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def time_phrase(answer: str) -> str:
    """An answer to a when-question, as a phrase that can stand for "then": "November 2023" ->
    "in November 2023", "March 13, 2025" -> "on March 13, 2025", "around the 2024 election" as it
    is, "the 2024 U.S. election" -> "at the time of the 2024 U.S. election"."""
    a = " ".join(answer.split()).rstrip(".,;")
    if _TIME_PREP.match(a):
        return a
    if _DAY_DATE.match(a):
        return f"on {a}"
    if _DATE.match(a):
        return f"in {a}"
    return f"at the time of {a if _DETERMINER.match(a) or a[:1].isupper() else 'the ' + a}"


def time_reading(question: str, previous: str, answer: str | None) -> str | None:
    """``question`` with its closing "then" replaced by the previous when-question's answer."""
    if not answer or not _WHEN.search(previous):
        return None
    m = _THEN.search(question)
    if not m or m.start() == 0:
        return None
    return f"{question[: m.start()].rstrip()} {time_phrase(answer)}?"


def sequel_rewrite(phrase: str, previous: str, answer: str | None) -> str | None:
    """"After that?" after "After Japan, where did Acme move?" "Malta": the previous question with
    "after Malta" in place of its "after" phrase, or added to it when it has none."""
    m = SEQUEL.match(" ".join(phrase.split()).rstrip("?").strip())
    if not m or not answer:
        return None
    prep = m.group("prep").lower()
    what = _DETERMINER.sub("", " ".join(answer.split()).rstrip(".,;"))
    # Its object runs to a comma, the question mark, or the next clause ("... where did ...").
    old = re.search(
        rf"\b(?P<prep>{prep})\s+(?P<obj>[^,?]+?)(?=\s*,|\s*\?|$|\s+(?:where|when|what|who|which|how|did|does|do|was|is|were|are)\b)",
        previous,
        re.IGNORECASE,
    )
    if old:
        return previous[: old.start("obj")] + what + previous[old.end("obj") :]
    return f"{previous.strip().rstrip('?').rstrip()} {prep} {what}?"


def answer_phrase_reading(question: str, answer: str | None) -> str | None:
    """"What was that team meant to explore?" after the answer "a dedicated team": "that team"
    read as the answer, "the dedicated team". Only an answer of two or more words whose last word
    is the noun is used: the noun alone already says everything a one-word answer would."""
    if not answer:
        return None
    words = _DETERMINER.sub("", " ".join(answer.split()).rstrip(".,;")).split()
    if len(words) < 2 or not words[-1].isalpha() or not words[-1].islower():
        return None
    m = re.search(rf"\b(?:that|this|the)\s+{re.escape(words[-1])}\b", question, re.IGNORECASE)
    if not m:
        return None
    article = "" if re.search(r"[’']s?$", words[0]) else "the "  # "Acme's parent company" takes none
    return question[: m.start()] + article + " ".join(words) + question[m.end() :]
