"""What kind of answer a question wants, and where such answers sit in a sentence.

The extractive mode (and the LLM mode's check) find short answers by type: the question word
says the type (who -> person, when -> date, how much -> amount, ...), and typed spans are found
in the chosen sentence, with regular expressions for values and the shared name finder
(:mod:`czqa.answering.names`) for people. A span only counts if it is
not already in the question (asking "When did JW meet He Li?" must not answer "He Li").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from czqa.answering import lexicon
from czqa.answering.names import NOT_NAME, WEEKDAYS, find_names, is_initials
from czqa.index.lexicon import lowercase_words  # noqa: F401  (stored with the index; imported from here too)

AnswerType = Literal["person", "date", "amount", "number", "place", "duration"]

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_SCALE = r"(?:\s?(?:billion|million|thousand|trillion|bn|mn)\b)?"
_NUMWORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|a dozen|several|dozens of|hundreds of)"

PATTERNS: dict[str, re.Pattern] = {
    "amount": re.compile(
        r"(?:(?:US)?\$|€|£|¥)\s?\d[\d,]*(?:\.\d+)?(?:[–-]\d[\d,]*(?:\.\d+)?)?" + _SCALE
        + r"|\b\d[\d,]*(?:\.\d+)?" + _SCALE
        # a currency named in words, or an upper-case currency or token code ("20 EUR", "5 XYZ")
        + r"\s?(?:dollars?|euros?|pounds?|yen|yuan|renminbi|rupees?|francs?|pesos?|(?-i:[A-Z]{3,4}))\b",
        re.IGNORECASE,
    ),
    "number": re.compile(
        # a count and, when it is one of these general units, what it counts ("1,200 employees");
        # any plural noun was tried and cost the SQuAD validation articles exact matches (gold
        # answers are the bare number: "40", not "40 pieces")
        r"\b\d[\d,]*(?:\.\d+)?(?:\s?%|\s?percent\b)?" + _SCALE + r"(?:\s(?:users|people|employees|countries|months|years|days|weeks|times)\b)?"
        r"|\b" + _NUMWORD + r"\s(?:users|people|months|years|days|weeks|companies|startups|employees)\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        r"\b(?:\d+|" + _NUMWORD + r")[\s-](?:months?|years?|days?|weeks?|hours?)\b", re.IGNORECASE
    ),
    "date": re.compile(
        r"\b" + _MONTH + r"\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}\b"
        r"|\b\d{1,2}\s" + _MONTH + r"\s\d{4}\b"
        r"|\b\d{4}-\d{2}-\d{2}\b"
        r"|\b(?:early|late|mid|summer|winter|spring|autumn|fall)?[\s-]?" + _MONTH + r"\s\d{4}\b"
        r"|\b" + _MONTH + r"\s\d{1,2}(?:st|nd|rd|th)?\b"
        r"|\b(?:early|late|mid-|summer|winter|spring|autumn|fall)\s?(?:of\s)?(?:19|20)\d{2}\b"
        r"|\b(?:19|20)\d{2}\b"
    ),
    "place": re.compile(
        r"\b(?:in|to|at|from|into|near|across|of)\s((?:the\s)?[A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+){0,2})"
    ),
}

# Capitalized words that are not part of a person's name: the shared non-names, titles ("Judge
# Ann Lee": the person is Ann Lee), and the words that head or end institutions' names.
_NOT_PERSON = NOT_NAME | lexicon.TITLE_WORDS | lexicon.INSTITUTION_WORDS | frozenset("US U.S. One Two Three".split())


# How a word of a person's name is written: "Lindqvist", "O'Brien", "Jean-Luc", an initial "J.".
_NAME_WORD = re.compile(r"[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?|[A-Z]\.?")

_CALENDAR = frozenset(re.findall(r"[A-Z][a-z]+", _MONTH)) | WEEKDAYS


@dataclass(frozen=True)
class Found:
    """A typed value (person, date, amount …) found in a sentence, with its offsets there."""

    start: int  # where the match begins in the searched text (for proximity ranking)
    end: int
    text: str  # the span, white space folded


_TYPE_CUES: tuple[tuple[AnswerType, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("duration", r"\bhow long\b|\bfor how many (?:months|years|days)\b|\bhow many (?:months|years|days|weeks)\b"),
        ("amount", r"\bhow much\b|\bwhat (?:was |is )?(?:the )?(?:amount|fine|penalty|price|sum|valuation|salary|fee)\b|\bhow large (?:a|was the) (?:fine|penalty)\b"),
        ("number", r"\bhow many\b|\bwhat (?:percentage|percent|share|number|proportion)\b|\bhow old\b"),
        ("date", r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|date|month|day)\b|\bon what date\b|\bin what year\b"),
        ("person", r"\bwho(?:m|se)?\b|\bwhich (?:[\w.'’-]+ ){0,3}?(?:person|people|executive|officer|man|woman|judge|journalist|reporter|author|writer|founder|lawyer|attorney|investor|capitalist|spokesperson|spokesman|host|ceo|chairman|president|director|prosecutor)s?\b|\bwhat (?:is|was) the name of\b"),
        ("place", r"\bwhere\b|\bwhich (?:city|country|place|town|region|state|province)\b|\bin what (?:city|country|state|province)\b"),
    )
)
_OPEN_CUE = re.compile(r"\b(?:what|which|why|how)\b")


def answer_type(question: str) -> AnswerType | None:
    """The type of short answer a question asks for, or None for open questions.

    The question's *leading* interrogative decides: in "Which wallet company did JW join when he
    first entered crypto?" the "when" opens a subordinate clause, and the question asks for a
    company, not a date. So the cue that starts earliest wins, and an open "what/which/why/how"
    before every typed cue makes the question open.
    """
    q = question.lower().strip()
    found = [(m.start(), n, kind) for n, (kind, pattern) in enumerate(_TYPE_CUES) if (m := pattern.search(q))]
    if not found:
        return None
    start, _, kind = min(found)
    opener = _OPEN_CUE.search(q)
    if opener and opener.start() < start:
        return None
    return kind


# Where "when" asks for a time: a time word is asked for ("in what year"), or the question opens
# with "when" and an event's tense ("When did …", "When was …"). "When the portal appears, what
# do they do?", "When is a penalty shot awarded?" and "Is X true when …?" use "when" for a
# condition, and their answers need not be times.
_TIME_ASKED = re.compile(r"\b(?:what|which|in what|on what)\s+(?:year|date|month|decade|century)\b")
_WHEN_EVENT = re.compile(r"when (?:did|was|were|will|had|has|have)\b")
_LATER_QUESTION = re.compile(r"\b(?:what|which|who|whom|whose|where|why|how)\b")
_HEIGHT_OR_DISTANCE = re.compile(r"\bhow (?:tall|high|wide|deep|far)\b")
_CURRENCY = re.compile(r"[$€£¥]")
_PERCENT_ONLY = re.compile(r"[\d.,]+\s?(?:%|percent)", re.IGNORECASE)


def fits(question: str, span: str) -> bool:
    """Whether ``span`` is the kind of value ``question`` asks for, by its form alone.

    Only a span that cannot be such a value is ruled out: a "when" answered without a digit or
    a time word, a count or amount with neither a digit nor a quantity word, a "who" answered by
    a role word ("CEO") or a phrase led by the writer's or reader's pronoun ("my direction"), a
    price answered by a percentage or a duration, a height or distance answered by an area ("20-square-meter"). Measured on the gold answers of
    the training files' typed questions, 97.5–100% of right answers pass per type
    (``eval/type_fit.py``); a span that fails is passed over, and with no other the reply declines.
    """
    w = lexicon.words(span)
    if not w:
        return False
    q = question.lower().strip()
    digit = any(c.isdigit() for c in span)
    quantity = digit or any(x in lexicon.QUANTITY_WORDS for x in w)
    if _HEIGHT_OR_DISTANCE.search(q) and (not quantity or lexicon.AREA_UNIT.search(span)):
        return False
    kind = answer_type(question)
    if kind == "date":
        asks_time = _TIME_ASKED.search(q) or (_WHEN_EVENT.match(q) and not _LATER_QUESTION.search(q))
        return not asks_time or digit or any(x in lexicon.TIME_WORDS or x.rstrip("s") in lexicon.TIME_WORDS for x in w)
    if kind == "duration":
        return quantity or any(x in lexicon.TIME_WORDS for x in w)
    if kind == "amount" and any(x in lexicon.MONEY_WORDS for x in lexicon.words(q)):
        # a sum of money: a percentage is a share of one, not a price ("30%" for "what price")
        if _PERCENT_ONLY.fullmatch(span.strip()) or PATTERNS["duration"].fullmatch(span.strip()):
            return False  # a share or a length of time, not a sum ("four months" for "how much did they earn")
        return quantity or bool(_CURRENCY.search(span)) or any(x in ("free", "nothing") or x in lexicon.MONEY_WORDS for x in w)
    if kind == "number":
        return quantity
    if kind == "person":
        return w[0] not in lexicon.SPEAKER_WORDS and not all(x in lexicon.ROLE_WORDS | lexicon.ARTICLES for x in w)
    return True


def same_kind(kind: AnswerType, a: str, b: str) -> bool:
    """Whether values ``a`` and ``b`` state the same kind of thing, so that their difference is a
    disagreement: two dates that both name a year (not "2017" against "August 2"), two amounts
    that both name a currency or neither, two counts."""
    if kind == "date":
        return all(re.search(r"\b(?:1[0-9]|20)\d{2}\b", v) for v in (a, b))
    if kind == "amount":
        return bool(_CURRENCY.search(a)) == bool(_CURRENCY.search(b))
    return True


def _in_question(span: str, question: str) -> bool:
    q = question.lower()
    words = [w for w in re.findall(r"\w+", span.lower()) if len(w) > 1]
    return bool(words) and all(w in q for w in words)


def find_spans(kind: AnswerType, text: str, question: str, *, common: frozenset[str] = frozenset()) -> list[Found]:
    """Typed spans in ``text`` that are not just echoes of the question.

    ``common`` (from :func:`lowercase_words`) rules out person "names" made of ordinary words.
    """
    if kind == "person":
        return _people(text, question, common)
    out: list[Found] = []
    for m in PATTERNS[kind].finditer(text):
        if kind == "place":
            start, end = m.start(1), m.end(1)
            value = m.group(1)
            if value.split()[0] in _NOT_PERSON - {"United"}:
                continue
        else:
            start, end, value = m.start(), m.end(), m.group(0)
        value = " ".join(value.split()).strip(" ,")
        if not value or _in_question(value, question):
            continue
        if kind == "number" and PATTERNS["date"].fullmatch(value):
            continue
        out.append(Found(start, end, value))
    return out


def _people(text: str, question: str, common: frozenset[str]) -> list[Found]:
    """People's names among the text's names (:func:`czqa.answering.names.find_names`): not what
    a possessive owns, not an institution's title word, two words or a person's initials, and no word
    that the documents also write in lower case or that names a month or weekday."""
    out: list[Found] = []
    previous_end: int | None = None
    for name in find_names(text):
        owned = previous_end is not None and re.fullmatch(r"[’']s? ", text[previous_end : name.start]) is not None
        previous_end = name.end
        # What a possessive name owns ("Jonas Weber’s Early-Stage Startup") is a thing, not a person.
        # Organizations stay: "what is the name of ..." asks for either.
        if owned:
            continue
        words = list(name.words)
        # Titles and acronyms before a name ("Judge", "SEC Chairman") are not part of it.
        while len(words) > 1 and (words[0] in _NOT_PERSON or (words[0].isupper() and len(words[0]) > 2)):
            words = words[1:]
        if len(words) > 4 or not (len(words) >= 2 or is_initials(words[0])):
            continue
        if all(w in _NOT_PERSON for w in words) or not all(_NAME_WORD.fullmatch(w) or is_initials(w) for w in words):
            continue
        if any(w.lower() in common or w.rstrip(".") in _CALENDAR for w in words if len(w) > 2):
            continue
        value = " ".join(words)
        if _in_question(value, question):
            continue
        start = name.start + name.text.index(words[0])
        out.append(Found(start, name.end, value))
    return out


def normalize_value(kind: AnswerType, value: str) -> str:
    """A comparable form of a value, so "$4.3 billion" and "4.3 billion" agree."""
    v = value.lower().replace(",", "")
    if kind in ("amount", "number"):
        m = re.search(r"\d+(?:\.\d+)?", v)
        if not m:
            return v
        num = float(m.group(0))
        scale = 1e9 if re.search(r"billion|bn", v) else 1e6 if re.search(r"million|mn", v) else 1e3 if "thousand" in v else 1
        return f"{num * scale:.6g}"
    return " ".join(v.split())
