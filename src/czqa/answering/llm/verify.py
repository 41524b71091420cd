"""Check a model's reply against its sources before anyone sees it.

A generated reply is a claim, not evidence. Each sentence of the reply is checked on its own:

* every ``[n]`` it carries must name a source that was actually given to the model;
* its content words (stemmed, stop words and the question's own words left out) must be found,
  mostly, in one or two consecutive sentences of a cited source, and every number in it must
  appear there verbatim. Those sentences become the claim's :class:`~czqa.types.Citation`: an
  exact span of the original seed file, like the extractive answerer's quotes;
* a sentence that carries no citation is checked against every source, and kept only if one
  supports it.

Two rules guard against a document steering the model: a passage holding text addressed to an
AI ("ignore previous instructions", "say PWNED") supports nothing, and a claim whose quote shares
too few of the question's rarer words is not an answer to it. Bare fragments (a lone name or
number, a restatement of the question) and repeated sentences are dropped too: a small model
falls into lists and loops. A question asking for an amount, number, date or duration needs a
reply that states one.

What survives is returned with the reasons for everything that did not; the caller decides what
to show (:mod:`czqa.answering.llm.generative` falls back to the extractive answer when nothing survives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from czqa.retrieve.lexical import DocumentFrequencies
from czqa.answering.llm.excerpts import content_terms, question_terms, source_sentences
from czqa.answering.llm.prompting import NOT_IN_SOURCES
from czqa.types import Citation, Passage
from czqa.answering.spans import answer_type, find_spans

#: Share of a claim's new content words (those not in the question) that its quote must contain.
MIN_COVERAGE = 0.67
#: Share of all its content words, the question's included ("X's first destination was Y"
#: needs more than Y in the quote; a pronoun in the source may stand for the rest).
MIN_COVERAGE_ALL = 0.5
#: Share of the question's content words, weighted by rarity (idf over the seed sentences, so
#: the corpus's own name counts little and "headquarters" much), a quote must hold to address the question.
MIN_RELEVANCE = 0.3
#: Sentences of a source that one claim may span (a claim can join two adjacent sentences).
MAX_WINDOW = 2

_CITE = re.compile(r"\[\s*(?:sources?\s*)?(\d{1,3}(?:\s*(?:,|;|and|&)\s*(?:sources?\s*)?\d{1,3})*)\s*\]", re.IGNORECASE)
_REPLY_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+|\n+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+", re.MULTILINE)
# "The answer to the question is: …", "Answer: …": a preamble, not part of the claim.
_PREAMBLE = re.compile(r"^\s*(?:the\s+)?(?:answer|response)(?:\s+to\s+(?:the|your|this)\s+question)?(?:\s+is)?\s*:\s*", re.IGNORECASE)
# "four months" and "4 months" state the same number; "one" is left out (too often not a number).
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
    if w != "_"
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"}
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
_ABSTAIN = re.compile(
    r"^\W*(not in (the )?sources|the sources do not|the sources don't|i (do not|don't|cannot|can't) (know|answer))",
    re.IGNORECASE,
)
_INSTRUCTION = re.compile(
    # Addressed to a model, not to a reader: "ignore previous instructions", "you are now ...",
    # "say PWNED" (an all-capitals word after an imperative; the verbs alone are too common).
    r"(?i:\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules|prompts?|everything)\b)"
    r"|(?i:\b(?:system prompt|you are now)\b)"
    r"|(?i:\b(?:say|reply|respond|output|print)\b)\s+(?i:only\s+|exactly\s+|with\s+)?[\"“']?[A-Z]{4,}\b"
)


@dataclass(frozen=True)
class Claim:
    """One sentence of the reply and what verification made of it."""

    text: str  # the sentence without its [n] markers
    cited: tuple[int, ...]  # source numbers it cited, as written
    citation: Citation | None = None  # the exact quote that supports it, when one does
    source_number: int | None = None  # which source that quote came from
    problem: str | None = None  # why it was rejected, when it was


# Why a claim was rejected (Claim.problem).
NO_CONTENT = "adds nothing to the question"
NO_SOURCE = "cites no real source"
UNSUPPORTED = "not supported by the cited source"
OFF_TOPIC = "its quote does not address the question"
REPEATED = "repeats an earlier sentence"
NO_VALUE = "gives no {kind}, which the question asks for"
#: Answer types whose values patterns find reliably (czqa.answering.spans); names and places are left out.
_VALUE_TYPES = ("amount", "number", "date", "duration")


@dataclass
class Verification:
    """The outcome of checking one LLM reply: its claims, which are supported (with their quotes) and why others were not."""

    reply: str
    claims: list[Claim] = field(default_factory=list)
    model_abstained: bool = False  # the model said the sources do not answer the question
    invalid_refs: list[int] = field(default_factory=list)  # [n] with no source n

    @property
    def supported(self) -> list[Claim]:
        return [c for c in self.claims if c.citation is not None]

    @property
    def rejected(self) -> list[Claim]:
        return [c for c in self.claims if c.citation is None]

    @property
    def ok(self) -> bool:
        return bool(self.supported)

    def problems(self) -> str:
        """A short human summary of what was rejected, for the answer's note."""
        parts = []
        if self.model_abstained:
            parts.append("the model said the sources do not answer the question")
        if self.invalid_refs:
            refs = ", ".join(f"[{n}]" for n in sorted(set(self.invalid_refs)))
            parts.append(f"it cited {refs}, which is not one of the sources")
        for problem, what in ((UNSUPPORTED, "not supported by the cited sources"), (OFF_TOPIC, "off the question"), (NO_CONTENT, "without content")):
            n = sum(c.problem == problem for c in self.claims)
            if n:
                parts.append(f"{n} sentence{'s' if n > 1 else ''} {what}")
        missing = next((c.problem for c in self.claims if c.problem and c.problem.startswith("gives no ")), None)
        if missing:
            parts.append(f"the reply {missing}")
        if not self.claims and not self.model_abstained:
            parts.append("the reply was empty")
        return "; ".join(parts)


def _numbers(text: str) -> set[str]:
    digits = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    return digits | {_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)}


def split_reply(reply: str) -> list[tuple[str, tuple[int, ...]]]:
    """Reply sentences as (text without markers, cited numbers); a marker that opens a sentence
    ("… CEO. [1] He …") belongs to the sentence before it."""
    pieces = [p.strip() for p in _REPLY_SENTENCE_END.split(_LIST_MARKER.sub("", reply)) if p and p.strip()]
    out: list[tuple[str, list[int]]] = []
    for piece in pieces:
        lead = re.match(rf"^(?:\s*{_CITE.pattern}[.,;]?)+", piece, re.IGNORECASE)
        if lead and out:
            out[-1][1].extend(int(n) for m in _CITE.finditer(lead.group(0)) for n in re.findall(r"\d+", m.group(1)))
            piece = piece[lead.end() :].strip()
            if not piece:
                continue
        piece = _PREAMBLE.sub("", piece)
        cited = [int(n) for m in _CITE.finditer(piece) for n in re.findall(r"\d+", m.group(1))]
        text = " ".join(_CITE.sub(" ", piece).split())
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        if text.strip(" .:"):
            out.append((text, cited))
    return [(t, tuple(dict.fromkeys(c))) for t, c in out]


class Verifier:
    """Verifies replies against numbered sources cut from the original seed texts."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self._frequencies = DocumentFrequencies(
            content_terms(text[s:e]) for text in texts.values() for s, e in source_sentences(text, 0, len(text))
        )

    def relevance(self, asked: set[str], quote: str) -> float:
        """The idf-weighted share of the question's content words that ``quote`` holds."""
        weight = {t: self._frequencies.idf(t) for t in asked}
        total = sum(weight.values())
        have = content_terms(quote)
        return sum(w for t, w in weight.items() if t in have) / total if total else 1.0

    def _best_quote(self, claim: str, asked: set[str], passage: Passage) -> tuple[float, tuple[int, int] | None]:
        """The best-covering span of ``passage`` (one or two sentences) and the share of the claim's
        new words it holds; (0, None) when no span holds the claim's numbers and half its words."""
        text = self.texts.get(passage.source)
        if text is None or text[passage.start : passage.end] != passage.text:
            return 0.0, None  # a source we cannot tie to the original file supports nothing
        words = content_terms(claim)
        want = words - asked
        numbers = _numbers(claim)
        if not want and not numbers:
            return 0.0, None
        if _INSTRUCTION.search(passage.text):
            return 0.0, None  # a passage that addresses the model is quarantined as a whole
        sentences = source_sentences(text, passage.start, passage.end)
        best: tuple[float, int, tuple[int, int] | None] = (0.0, 0, None)
        for i in range(len(sentences)):
            for w in range(1, MAX_WINDOW + 1):
                if i + w > len(sentences) or (w > 1 and sentences[i + w - 1][0] - sentences[i + w - 2][1] > 3):
                    break
                start, end = sentences[i][0], sentences[i + w - 1][1]
                quote = text[start:end]
                if not numbers <= _numbers(quote):
                    continue
                have = content_terms(quote)
                if words and len(words & have) < MIN_COVERAGE_ALL * len(words):
                    continue
                if w > 1 and not self._anchored(text, sentences[i : i + w], want, numbers, asked):
                    continue
                coverage = len(want & have) / len(want) if want else 1.0
                # Prefer higher coverage, then the shorter quote.
                if coverage > best[0] or (coverage == best[0] and best[2] and end - start < best[1]):
                    best = (coverage, end - start, (start, end))
        return best[0], best[2]

    def _anchored(self, text: str, window: list[tuple[int, int]], want: set[str], numbers: set[str], asked: set[str]) -> bool:
        """In a two-sentence quote, the sentence holding most of the claim's new words (its answer)
        must itself bear on the question: otherwise the claim joins an answer to a question it was
        never about ("the judge who sentenced JW was Ann Lee", from a sentence about his
        prison term followed by one about the company's new CEO)."""
        def held(span: tuple[int, int]) -> int:
            part = text[span[0] : span[1]]
            return len(want & content_terms(part)) + len(numbers & _numbers(part))

        anchor = max(window, key=held)
        return self.relevance(asked, text[anchor[0] : anchor[1]]) >= MIN_RELEVANCE

    def verify(self, reply: str, sources: list[Passage], question: str) -> Verification:
        """Check ``reply`` against ``sources`` (source ``n`` is ``sources[n - 1]``)."""
        result = Verification(reply=reply)
        stripped = reply.strip()
        if not stripped or _ABSTAIN.match(stripped) or stripped.upper().startswith(NOT_IN_SOURCES):
            result.model_abstained = bool(stripped)
            return result
        asked = question_terms(question)
        seen: set[str] = set()
        for text, cited in split_reply(reply):
            result.claims.append(self._check(text, cited, sources, asked, seen))
            seen.add(text.lower())
            result.invalid_refs.extend(n for n in cited if not 1 <= n <= len(sources))
        # "How much …?" wants an amount: a reply of true sentences that never gives one is no answer.
        kind = answer_type(question)
        if kind in _VALUE_TYPES and result.supported:
            if not any(find_spans(kind, c.text, question) for c in result.supported):
                problem = NO_VALUE.format(kind=kind)
                result.claims = [replace(c, citation=None, source_number=None, problem=problem) if c.citation else c for c in result.claims]
        return result

    def _check(self, text: str, cited: tuple[int, ...], sources: list[Passage], asked: set[str], seen: set[str]) -> Claim:
        if text.lower() in seen:
            return Claim(text, cited, problem=REPEATED)
        words, numbers = content_terms(text), _numbers(text)
        # A claim must say something beyond the question, and be more than a bare name or number.
        if not (words - asked or numbers) or len(words | numbers) < 2:
            return Claim(text, cited, problem=NO_CONTENT)
        valid = [n for n in cited if 1 <= n <= len(sources)]
        if cited and not valid:
            return Claim(text, cited, problem=NO_SOURCE)
        candidates = valid or list(range(1, len(sources) + 1))
        (coverage, span), n = max(((self._best_quote(text, asked, sources[n - 1]), n) for n in candidates), key=lambda x: x[0][0])
        if span is None or coverage < MIN_COVERAGE:
            return Claim(text, cited, problem=UNSUPPORTED)
        p = sources[n - 1]
        quote = self.texts[p.source][span[0] : span[1]]
        if self.relevance(asked, quote) < MIN_RELEVANCE:
            return Claim(text, cited, problem=OFF_TOPIC)
        return Claim(text, cited, citation=Citation(source=p.source, start=span[0], end=span[1], quote=quote), source_number=n)
