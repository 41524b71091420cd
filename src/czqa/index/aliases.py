"""Names that the documents use for the same entity: "Jonas Weber (JW)", "Weber Jonas".

Questions say "JW" where one article says "Weber Jonas" and another "Jonas Weber (JW)"; without
knowing these are one person, BM25 ranks every passage that happens to spell "JW" above the
passage that answers, and the answerer offers "Weber Jonas" as the person a question about JW is
looking for. The aliases are read from the documents themselves, with two general
rules (no per-corpus list):

- an abbreviation defined in parentheses, "Long Form Words (LFW)", accepted when the
  abbreviation's letters can be matched, in order, in the long form with the first letter at a
  word start (Schwartz & Hearst, 2003);
- a two-word capitalized name that also occurs with its words swapped ("Jonas Weber" /
  "Weber Jonas"): family-name-first and given-name-first spellings of one person.

An abbreviation means what the document that defines it says: "John Smith (JS)" in one file and
"Jane Smith (JS)" in another are two people, and neither file's passages are rewritten with the
other's name. Elsewhere (a question, a file that uses "JS" without defining it) an abbreviation
is expanded only when every document that defines it means the same entity. Names are global:
the long forms, and swapped names, are merged across documents. Every member of an entity maps
to its longest form.

The table is computed once, when the index is built (:func:`czqa.index.lexicon.build_tables`),
stored as JSON with the index and loaded in time linear in its size; expanding a text looks up
the capitalized words it holds in a dict, never a pattern over every name of the collection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from czqa.index.definitions import abbreviations

_NAME_PAIR = re.compile(r"\b([A-Z][a-z]{2,})\s([A-Z][a-z]{2,})\b")
# Every alias starts with an ASCII capital (an abbreviation, a long form's first word, a name)
# at a word start: the only places a lookup is tried.
_START = re.compile(r"(?<!\w)[A-Z]")
_WORD_CHAR = re.compile(r"\w")


def _find_groups(texts: Mapping[str, str]) -> tuple[list[list[str]], dict[str, int], dict[str, dict[str, int]]]:
    """(groups, global meanings, per-document meanings of abbreviations): see the module doc.

    A group is a list of surface forms, its canonical (longest) form first; the global map
    sends a name, and an abbreviation all of whose definitions agree, to its group; the scoped
    map holds, per document, the abbreviations whose definitions disagree across documents.
    """
    groups, group_of = _groups(_linked(texts))
    names, scoped = _meanings(group_of)
    return groups, names, scoped


def _linked(texts: Mapping[str, str]) -> list[list[tuple]]:
    """The sets of nodes that name one entity: a long form and its abbreviation in one document
    (``("name", long)``, ``("abbr", source, short)``), and a name with its words swapped."""
    parent: dict[tuple, tuple] = {}

    def find(x: tuple) -> tuple:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: tuple, b: tuple) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    pairs: set[tuple[str, str]] = set()
    for source, text in texts.items():
        defined = list(abbreviations(text))
        longs = {long for _, long in defined}
        for short, long in defined:
            union(("name", long), ("abbr", source, short))
            if short in longs:  # "Sec (SEC)" and "SEC (SE)" in one text: the same string, one node
                union(("name", short), ("abbr", source, short))
        pairs.update(_NAME_PAIR.findall(text))
    for a, b in pairs:
        if (b, a) in pairs and a < b:
            union(("name", f"{a} {b}"), ("name", f"{b} {a}"))
    members: dict[tuple, list[tuple]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    return list(members.values())


def _groups(linked: list[list[tuple]]) -> tuple[list[list[str]], dict[tuple, int]]:
    """Each set of two or more surface forms as a group (its longest form first), and each node's group."""
    groups: list[list[str]] = []
    group_of: dict[tuple, int] = {}
    for nodes in linked:
        surfaces = sorted({n[-1] for n in nodes})
        if len(surfaces) < 2:
            continue  # "Abc (Abc)": nothing to map
        best = max(surfaces, key=lambda s: (len(s.split()), len(s), s))
        for n in nodes:
            group_of[n] = len(groups)
        groups.append([best] + [s for s in surfaces if s != best])
    return groups, group_of


def _meanings(group_of: dict[tuple, int]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """(what each name and each unambiguous abbreviation means anywhere, what each ambiguous
    abbreviation means in each document that defines it)."""
    names: dict[str, int] = {n[1]: g for n, g in group_of.items() if n[0] == "name"}
    meanings: dict[str, set[int]] = {}
    for n, g in group_of.items():
        if n[0] == "abbr":
            meanings.setdefault(n[2], set()).add(g)
    scoped: dict[str, dict[str, int]] = {}
    for n, g in group_of.items():
        if n[0] != "abbr":
            continue
        short = n[2]
        if len(meanings[short]) == 1 and short not in names:
            names[short] = g
        elif names.get(short) != g:
            scoped.setdefault(n[1], {})[short] = g
    return names, scoped


@dataclass
class AliasTable:
    """The documents' entities and their names (see the module doc); built by :meth:`from_documents`."""

    groups: list[list[str]] = field(default_factory=list)  # surface forms, canonical first
    names: dict[str, int] = field(default_factory=dict)  # surface -> group, in any text
    scoped: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> abbreviation -> group there
    _lengths: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _meanings: dict[str, set[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._meanings = {s: {g} for s, g in self.names.items()}
        for scoped in self.scoped.values():
            for s, g in scoped.items():
                self._meanings.setdefault(s, set()).add(g)
        # For each two-character prefix, the lengths of the surfaces that begin with it, longest
        # first: the longest alias at a position wins, as in a longest-first alternation.
        lengths: dict[str, set[int]] = {}
        for surface in self._meanings:
            lengths.setdefault(surface[:2], set()).add(len(surface))
        self._lengths = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}

    @classmethod
    def from_documents(cls, texts: Mapping[str, str]) -> AliasTable:
        """The table of the documents ``texts`` (source -> text)."""
        return cls(*_find_groups(texts))

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> AliasTable:
        """The table of ``texts``, each its own document."""
        return cls.from_documents({str(i): t for i, t in enumerate(texts)})

    def to_json(self) -> dict:
        return {"groups": self.groups, "names": self.names, "scoped": self.scoped}

    @classmethod
    def from_json(cls, obj: dict) -> AliasTable:
        return cls(obj["groups"], obj["names"], obj["scoped"])

    @property
    def canonical(self) -> dict[str, str]:
        """Surface form -> canonical form, for the names and abbreviations a question can use
        (abbreviations defined in two ways are left out: they mean something only in a document)."""
        return {s: self.groups[g][0] for s, g in self.names.items()}

    def _alias(self, surface: str, source: str | None) -> int | None:
        """The group ``surface`` stands for in ``source`` (None: a question), unless it is the
        group's canonical form already."""
        g = None
        if source is not None and (scoped := self.scoped.get(source)) is not None:
            g = scoped.get(surface)
        if g is None:
            g = self.names.get(surface)
        return g if g is not None and self.groups[g][0] != surface else None

    def _occurrences(self, text: str, found) -> Iterable[tuple[int, int, object]]:
        """(start, end, found(surface)) of the surfaces at word starts that ``found`` knows:
        leftmost-longest and not overlapping (what a longest-first alternation matches)."""
        last = 0
        for m in _START.finditer(text):
            p = m.start()
            if p < last:
                continue
            for n in self._lengths.get(text[p : p + 2], ()):
                e = p + n
                if e > len(text):
                    continue
                hit = found(text[p:e])
                if hit is not None and not _WORD_CHAR.match(text, e):
                    yield p, e, hit
                    last = e
                    break

    def expand(self, text: str, source: str | None = None) -> str:
        """``text`` with every alias replaced by its entity's canonical form (for matching only);
        ``source``: the document the text is from (its own abbreviations apply), None for a question.

        Replacing rather than appending matters: "JW" stays one entity, so a passage that says
        "JW" five times does not outrank, on that name alone, the passage that says "Weber".
        """
        if not self._lengths:
            return text
        out, last = [], 0
        for p, e, g in self._occurrences(text, lambda s: self._alias(s, source)):
            out += [text[last:p], self.groups[g][0]]
            last = e
        return "".join(out) + text[last:] if out else text

    def variants(self, text: str) -> list[str]:
        """Every surface form of every entity ``text`` mentions by any of its names (every
        meaning of an abbreviation the documents define in more than one way)."""
        found: set[int] = set()
        # Every surface at every word start, overlaps included (each name is looked for alone).
        for m in _START.finditer(text):
            p = m.start()
            for n in self._lengths.get(text[p : p + 2], ()):
                e = p + n
                if e <= len(text) and (groups := self._meanings.get(text[p:e])) and not _WORD_CHAR.match(text, e):
                    found.update(groups)
        return sorted({s for g in found for s in self.groups[g]})
