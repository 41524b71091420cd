"""Names that the documents use for the same entity: "Ming Yao (MY)", "Yao Ming".

Questions say "MY" where one article says "Yao Ming" and another "Ming Yao (MY)"; without
knowing these are one person, BM25 ranks every passage that happens to spell "MY" above the
passage that answers, and the answerer offers "Yao Ming" as the person a question about MY is
looking for. The aliases are read from the documents themselves, with two general
rules (no per-corpus list):

- an abbreviation defined in parentheses, "Long Form Words (LFW)", accepted when the
  abbreviation's letters can be matched, in order, in the long form with the first letter at a
  word start (Schwartz & Hearst, 2003);
- a two-word capitalized name that also occurs with its words swapped ("Ming Yao" /
  "Yao Ming"): family-name-first and given-name-first spellings of one person.

Groups are merged transitively, and every member maps to the group's longest form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FUNCTION_WORDS = frozenset({"and", "of", "the", "for", "&", "de", "in", "on"})
# "(LFW)": the abbreviation being defined. The long form is read from the words just before it
# (a bounded look-back), never by a pattern that spans an unbounded run of text: a regular
# expression over "capitalized words before a parenthesis" backtracks quadratically on one long
# token, and a 40k-character token cost 30 s at every start-up.
_ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z0-9]{1,7})\)")
_LOOK_BACK = 160  # characters: enough for eight capitalized words and their connectors
_MAX_LONG_WORDS = 8
_CAPITALIZED = re.compile(r"[A-Z][\w’'.-]*")
_NAME_PAIR = re.compile(r"\b([A-Z][a-z]{2,})\s([A-Z][a-z]{2,})\b")


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


@dataclass
class AliasTable:
    """Surface form -> the entity's canonical (longest) form, for every alias found."""

    canonical: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern | None = field(init=False, repr=False, compare=False)
    _members: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Longest names first, so "Ming Yao" is replaced whole, not as a shorter alias.
        names = sorted((s for s, c in self.canonical.items() if s != c), key=len, reverse=True)
        self._pattern = re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names)) if names else None
        self._members = {}
        for surface, canon in self.canonical.items():
            self._members.setdefault(canon, []).append(surface)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> AliasTable:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[rb] = ra

        texts = list(texts)
        for text in texts:
            for short, words in _definitions(text):
                long = _long_form(words, short)
                if long:
                    union(" ".join(long), short)
        pairs: set[tuple[str, str]] = set()
        for text in texts:
            pairs.update(_NAME_PAIR.findall(text))
        for a, b in pairs:
            if (b, a) in pairs and a < b:
                union(f"{a} {b}", f"{b} {a}")
        groups: dict[str, list[str]] = {}
        for x in list(parent):
            groups.setdefault(find(x), []).append(x)
        canonical = {}
        for members in groups.values():
            if len(members) > 1:
                best = max(members, key=lambda s: (len(s.split()), len(s), s))
                for s in members:
                    canonical[s] = best
        return cls(canonical)

    def expand(self, text: str) -> str:
        """``text`` with every alias replaced by its entity's canonical form (for matching only).

        Replacing rather than appending matters: "MY" stays one entity, so a passage that says
        "MY" five times does not outrank, on that name alone, the passage that says "Yao".
        """
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.canonical[m.group(0)], text)

    def variants(self, text: str) -> list[str]:
        """Every surface form of every entity ``text`` mentions by any of its names."""
        out: set[str] = set()
        for names in self._members.values():
            if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text) for n in names):
                out.update(names)
        return sorted(out)
