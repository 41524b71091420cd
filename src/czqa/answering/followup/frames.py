"""Follow-ups that leave out more than a name: the previous question's frame, carried over.

:mod:`czqa.answering.followup.resolver` fills in a pronoun with the name it stands for. Many follow-ups
have no pronoun to fill: what they leave out is the previous question's predicate. "When?"
after "Where did she serve her sentence?" asks when she served it; "And in forfeitures?" after
"How much did Acme agree to pay in fines?" asks how much it agreed to pay in forfeitures; "And
the head of marketing?" after "Who was Acme's technical director?" asks who was Acme's head of
marketing. This module reads a question's frame (its wh-phrase and the rest) and rebuilds such
a follow-up from the previous question, with the changed slot replaced:

- a bare wh-fragment ("When?", "How many charges?", "When was that?", "Why did it happen?")
  takes the place of the previous question's wh-phrase;
- a prepositional phrase ("and in 2021?", "what about for the users?") takes the place of the
  previous question's phrase with the same preposition, or is added to it when it has none;
- a noun phrase without a name ("and the head of marketing?", "what about criminal
  penalties?") takes the place of the previous question's noun slot: the noun after a
  possessive, the object of its last preposition, or a noun phrase after a determiner. With no
  such slot the frame is kept and the phrase becomes its subject ("How much was the fine?").

It also describes what a which-question asked about ("Which firm invested in Acme?" -> "the firm
that invested in Acme"), for an "it" whose antecedent was never named by a name.

Everything here is plain string work on English questions (no parser is available offline); it
proposes, and :mod:`czqa.answering.followup.choice` keeps a proposal only when it answers better.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AUX = frozenset("did does do is was were are has have had will would can could should may might".split())
PREPS = frozenset(
    "in on at for from to with by during before after since of about under over against between among into through without".split()
)
DETERMINERS = frozenset("the a an his her its their my our your this that these those".split())
_HOW = frozenset("much many long old often far big large soon".split())
# Irregular past tenses of verbs that questions ask about; others take -ed.
_IRREGULAR_PAST = {
    "be": "was", "become": "became", "begin": "began", "bring": "brought", "build": "built", "buy": "bought",
    "choose": "chose", "come": "came", "do": "did", "find": "found", "get": "got", "give": "gave", "go": "went",
    "grow": "grew", "have": "had", "hold": "held", "keep": "kept", "know": "knew", "lead": "led", "leave": "left",
    "lose": "lost", "make": "made", "meet": "met", "pay": "paid", "put": "put", "run": "ran", "say": "said",
    "see": "saw", "sell": "sold", "send": "sent", "set": "set", "spend": "spent", "take": "took", "tell": "told",
    "think": "thought", "win": "won", "write": "wrote",
}
# Nouns that a wh-phrase continues past with "of": "what kind of labs", "which part of the deal".
_KIND_NOUNS = frozenset("kind kinds type types sort sorts form forms part parts share portion percentage amount number".split())
_IRREGULAR_PAST_FORMS = frozenset(_IRREGULAR_PAST.values())
_WORD = re.compile(r"\S+")

# A wh-fragment: "When?", "And why?", "How many charges?", "Which court, then?", "When was that?",
# "Why did it happen?". Its wh-phrase takes the place of the previous question's.
# Words that end a fragment's wh-phrase: it asks about a noun, not an article or a verb.
_NOT_NOUN = r"(?:about|is|was|are|were|did|does|do|has|have|had|it|that|this|he|she|they|the|a|an|in|on|at|to|of|for|exactly|then|again|though|precisely|else)\b"
_FRAGMENT = re.compile(
    rf"^(?:(?:and|but|so|ok|okay)\s+)?(?P<wh>(?:(?:in|on|at|for|from|to|by|since|with|under|through|against|during|after|before)\s+)?(?:when|where|why|who|whom|"
    rf"how(?:\s+(?:much|many|long|old|often|far|big|large|soon)(?:\s+(?!{_NOT_NOUN})(?-i:[a-z])[\w\-]*){{0,2}})?|"
    rf"(?:which|what|whose)(?:\s+(?!{_NOT_NOUN})(?-i:[a-z])[\w\-]*){{0,2}}))"
    r"(?:\s*,?\s*(?:exactly|then|again|though|precisely|else))?"
    # "When was that?", "Why did it happen?": the previous question's event ("is it" alone is
    # a thing, not an event: "In which state is it?" is a question of its own).
    r"(?:\s+(?:was|is|did|does|were|are)\s+(?:that|this|it(?=\s+(?:happen|take|come)))"
    r"(?:\s+(?:happen|take\s+place|come\s+about))?)?\s*\?+\s*$",
    re.IGNORECASE,
)
# "How much was it?": the amount of what the previous question was about.
_AMOUNT = re.compile(r"^(?:and\s+)?(?P<wh>how\s+(?:much|many))\s+(?:was|is|were|are)\s+(?:it|that|this|they)\s*\?+\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Frame:
    """A wh-question taken apart: "Which firm | did Jonas Weber join ...".

    ``wh`` is the wh-phrase with any preposition before it and the noun it asks about ("In which
    state", "How many charges"), ``head`` its wh-word, ``noun`` that noun ("state"), ``rest``
    what follows, and ``subject`` whether the wh-phrase is the subject ("Which firm invested in
    Acme?": the rest starts with its verb).
    """

    wh: str
    head: str
    noun: str
    rest: str
    subject: bool


def _is_verb_like(word: str) -> bool:
    w = word.lower()
    return w in AUX or w.endswith("ed") or w in _IRREGULAR_PAST_FORMS


def parse_frame(question: str) -> Frame | None:
    """The wh-phrase and the rest of a wh-question, or None when it is not one."""
    words = _WORD.findall(question.strip().rstrip("?").strip())
    i = 1 if len(words) > 1 and words[0].lower() in PREPS and words[1].lower() in ("which", "what", "whom", "whose") else 0
    if i >= len(words):
        return None
    head = words[i].lower()
    if head not in ("who", "whom", "whose", "what", "when", "where", "why", "which", "how"):
        return None
    j = i + 1
    noun: list[str] = []
    if head == "how" and j < len(words) and words[j].lower() in _HOW:
        j += 1
        if words[j - 1].lower() in ("much", "many"):
            # "How many registered users did he report": the noun runs to the auxiliary.
            while j < len(words) and len(noun) < 3 and words[j].islower() and words[j] not in AUX:
                noun.append(words[j])
                j += 1
    elif head in ("which", "what", "whose"):
        while j < len(words) and len(noun) < 3 and words[j].islower() and not _is_verb_like(words[j]) and words[j] not in PREPS:
            noun.append(words[j])
            j += 1
        # "What kind of labs": the wh-phrase asks about the labs, "kind" only says how.
        if len(noun) == 1 and noun[0].lower() in _KIND_NOUNS and j + 1 < len(words) and words[j] == "of" and words[j + 1].islower():
            noun += words[j : j + 2]
            j += 2
    if j >= len(words):
        # Just a wh-phrase ("How many charges?"): a frame with nothing after it.
        return Frame(wh=" ".join(words), head=head, noun=" ".join(noun), rest="", subject=False) if j > i + 1 or noun else None
    subject = head not in ("when", "where", "why", "how") and words[j].lower() not in AUX and _is_verb_like(words[j])
    return Frame(wh=" ".join(words[:j]), head=head, noun=" ".join(noun), rest=" ".join(words[j:]), subject=subject)


def _past(verb: str) -> str:
    v = verb.lower()
    if v in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[v]
    if v.endswith("e"):
        return verb + "d"
    if v.endswith("y") and len(v) > 2 and v[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def fragment_rewrite(question: str, previous: str, answer: str | None = None) -> str | None:
    """"When?" after "Where did she serve her sentence?" -> "When did she serve her sentence?".

    When the previous wh-phrase was the subject ("Which firm invested in Acme?"), its answer (or
    "the firm", without one) becomes the subject of the new question.
    """
    m = _FRAGMENT.match(question.strip()) or _AMOUNT.match(question.strip())
    frame = parse_frame(previous)
    if not m or frame is None or not frame.rest:
        return None
    wh = " ".join(m.group("wh").split())
    if wh.lower() == frame.wh.lower():
        return None  # "Who?" after "Who ...?": nothing to carry over
    wh = wh[0].upper() + wh[1:]
    if frame.subject:
        who = answer or (f"the {frame.noun}" if frame.noun else "")
        if not who:
            return None
        return f"{wh} {who} {frame.rest}?"
    if answer and frame.head in ("what", "which", "who", "whom") and _object_gap_at_end(frame.rest):
        # "With what aim?" after "What kind of labs would he like to fund?" "small research labs":
        # the answer fills the object the old wh-phrase asked about.
        return f"{wh} {frame.rest} {answer}?"
    return f"{wh} {frame.rest}?"


def _object_gap_at_end(rest: str) -> bool:
    """Whether the object a which/what-question asked about belongs at the end of ``rest``: it
    ends in a verb ("would he like to fund", "did Acme acquire"), not in a noun or a preposition
    ("did he say about fees")."""
    words = rest.split()
    if len(words) < 2 or words[0].lower() not in AUX or words[-1].lower() in PREPS or not words[-1].islower():
        return False
    if words[-2].lower() == "to":
        return True  # "... like to fund"
    # "did Acme acquire", "would he fund": auxiliary, a subject (a name or a pronoun), the verb.
    subject = words[1:-1]
    pronouns = {"he", "she", "it", "they", "we", "you", "i"}
    return bool(subject) and all(w[:1].isupper() or w.lower() in pronouns for w in subject)


def _pp_end(words: list[str], start: int) -> int:
    """Where the phrase that begins with the preposition at ``start`` ends: the next preposition
    or auxiliary, or the end."""
    k = start + 1
    while k < len(words) and words[k].lower() not in PREPS and words[k].lower() not in AUX:
        k += 1
    return k


def _noun_end(words: list[str], start: int) -> int:
    """Where the noun phrase that begins at ``start`` ends: lower-case words, "of" joining two
    ("head of marketing"), up to a preposition, an auxiliary or a name."""
    k = start
    while k < len(words) and words[k].islower() and words[k] not in AUX:
        if words[k] in PREPS and not (words[k] == "of" and k > start and k + 1 < len(words) and words[k + 1].islower()):
            break
        k += 1
    return k


def phrase_rewrites(phrase: str, previous: str) -> list[str]:
    """Rewrites of the previous question with ``phrase`` (no name in it) in its matching slot,
    most likely first; empty when the previous question is no wh-question."""
    frame = parse_frame(previous)
    if frame is None or not frame.rest:
        return []
    wh_words = _WORD.findall(frame.wh)
    words = _WORD.findall(previous.strip().rstrip("?").strip())
    body = len(wh_words)  # slots are looked for after the wh-phrase only
    new = phrase.strip().rstrip("?").strip()
    new_words = new.split()
    if new_words and new_words[0].lower() in DETERMINERS | PREPS:
        new_words[0] = new_words[0].lower()  # "The fine?" is asked as "... the fine"
        new = " ".join(new_words)
    out: list[str] = []

    def join(ws: list[str]) -> str:
        return " ".join(ws) + "?"

    if new_words and new_words[0].lower() in PREPS:
        prep = new_words[0].lower()
        same = [k for k in range(body, len(words)) if words[k].lower() == prep]
        if same:
            k = same[-1]
            out.append(join(words[:k] + new_words + words[_pp_end(words, k) :]))
        else:
            out.append(join(words + new_words))
        return out
    core = new_words[1:] if new_words and new_words[0].lower() in ("the", "a", "an") else new_words
    # The noun after a possessive: "Acme's technical director in 2014" -> "Acme's head of marketing in 2014".
    for k in range(body, len(words)):
        if re.search(r"[’']s$", words[k]) and k + 1 < len(words) and words[k + 1].islower():
            end = _noun_end(words, k + 1)
            out.append(join(words[: k + 1] + core + words[end:]))
            break
    # The object of the last preposition that holds no name or number: "pay in forfeitures".
    for k in range(len(words) - 1, body - 1, -1):
        # "agree to pay" is an infinitive, "head of marketing" one noun: neither is the slot.
        if words[k].lower() in PREPS - {"to", "of"}:
            end = _pp_end(words, k)
            obj = words[k + 1 : end]
            if obj and all(w.islower() for w in obj):
                out.append(join(words[: k + 1] + core + words[end:]))
            break
    # A noun phrase after a determiner: "meet the venture capitalist" -> "meet the judge".
    for k in range(body, len(words)):
        if words[k].lower() in DETERMINERS and k + 1 < len(words) and words[k + 1].islower():
            end = _noun_end(words, k + 1)
            out.append(join(words[:k] + ([new_words[0]] if new_words and new_words[0].lower() in DETERMINERS else ["the"]) + core + words[end:]))
            break
    be = frame.rest.split()[0].lower()
    if not out or be in ("is", "was", "are", "were"):
        # No slot to fill, or a question about what something is ("Who was Acme's CTO?" "And
        # the head of marketing?"): the frame asks about the phrase itself ("How much was the fine?").
        if be not in ("is", "was", "are", "were"):
            be = "was" if any(w.lower() in ("did", "was", "were", "had") or w.lower().endswith("ed") for w in words) else "is"
        out.append(f"{frame.wh} {be} {new}?")
    seen: set[str] = set()
    return [q for q in out if not (q in seen or seen.add(q))]


def plural_wh_noun(question: str) -> str | None:
    """The plural noun a what/which-question asks about ("What guides did Acme publish?" ->
    "guides"), or None: a later "they" agrees with it in number."""
    frame = parse_frame(question)
    if frame is None or frame.head not in ("what", "which") or not frame.noun or not frame.rest:
        return None
    head = frame.noun.split()[-1].lower()
    return head if head.endswith("s") and not head.endswith(("ss", "us", "is")) else None


def describe(question: str) -> tuple[str, bool] | None:
    """What a which- or who-question asked about, as a noun phrase, and whether that is a person:
    "Which firm invested in Acme?" -> "the firm that invested in Acme"; "Which firm did Jonas Weber
    join in 2014?" -> "the firm that Jonas Weber joined in 2014"; "Who did the governor pardon?" -> "the
    person that the governor pardoned". None for other questions."""
    frame = parse_frame(question)
    if frame is None or not frame.rest:
        return None
    if frame.head in ("who", "whom") and not frame.noun:
        noun, person = "person", True
    elif frame.noun and frame.head in ("which", "what"):
        noun, person = frame.noun, False
    else:
        return None
    if frame.subject:
        return f"the {noun} that {frame.rest}", person
    words = frame.rest.split()
    if words[0].lower() == "did" and len(words) >= 3:
        # "did Jonas Weber join after ..." -> "Jonas Weber joined after ...": the subject is one capitalized
        # run, or "the"/"a" and the word after it.
        k = 1
        if words[1].lower() in ("the", "a", "an"):
            k = 3
        else:
            while k < len(words) - 1 and words[k][:1].isupper():
                k += 1
        if k == 1 or k >= len(words):
            return None
        subject = words[1:k]
        while k < len(words) - 1 and words[k].lower().endswith("ly"):
            k += 1  # "did Acme allegedly publish": the adverb stays before the verb
        adverbs = words[len(subject) + 1 : k]
        return f"the {noun} that {' '.join(subject + adverbs)} {_past(words[k])} {' '.join(words[k + 1 :])}".rstrip(), person
    return None
