"""Check a model's reply against its sources before anyone sees it.

A generated reply is a claim, not evidence. Each sentence of the reply is checked on its own:

* every ``[n]`` it carries must name a source that was actually given to the model;
* its content words (stemmed, stop words and the question's own words left out) must be found,
  mostly, in one or two consecutive sentences of a cited source, and every number in it must
  appear there verbatim. Those sentences become the claim's :class:`~czqa.models.Citation`: an
  exact span of the original seed file, like the extractive answerer's quotes;
* a sentence that carries no citation is checked against every source, and kept only if one
  supports it.

Two rules guard against a document steering the model: a passage holding text addressed to an
AI ("ignore previous instructions", "say PWNED") supports nothing, and a reply whose supporting
quotes share no content word with the question is not an answer to it.

What survives is returned with the reasons for everything that did not; the caller decides what
to show (:mod:`czqa.llm.generative` falls back to the extractive answer when nothing survives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from czqa.lexical import terms
from czqa.llm.prompting import NOT_IN_SOURCES
from czqa.models import Citation, Passage

#: Share of a claim's new content words that its quote must contain.
MIN_COVERAGE = 0.67
#: Sentences of a source that one claim may span (a claim can join two adjacent sentences).
MAX_WINDOW = 2

_CITE = re.compile(r"\[\s*(?:sources?\s*)?(\d{1,3}(?:\s*(?:,|;|and|&)\s*(?:sources?\s*)?\d{1,3})*)\s*\]", re.IGNORECASE)
_REPLY_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+|\n+")
_SOURCE_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9$])|\n\s*\n")
_ABBREVIATION = re.compile(r"(?:\b[A-Za-z]\.)+$|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Co|Corp|Ltd|No|vs|etc|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.$")
#: Words that carry no claim: pronouns and fillers a reply uses to refer back ("he", "also").
_FILLER = frozenset(
    "he him his she her hers it its they them their theirs we us our you your i me my this that these those "
    "also then there here one".split()
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
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


@dataclass
class Verification:
    reply: str
    claims: list[Claim] = field(default_factory=list)
    model_abstained: bool = False  # the model said the sources do not answer the question
    invalid_refs: list[int] = field(default_factory=list)  # [n] with no source n
    off_topic: bool = False  # supported, but the quotes share nothing with the question

    @property
    def supported(self) -> list[Claim]:
        return [] if self.off_topic else [c for c in self.claims if c.citation is not None]

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
        unsupported = [c for c in self.rejected if c.problem == "not supported by the cited source"]
        if unsupported:
            n = len(unsupported)
            parts.append(f"{n} sentence{'s' if n > 1 else ''} not supported by the cited sources")
        if self.off_topic:
            parts.append("its quotes do not address the question")
        if not self.claims and not self.model_abstained:
            parts.append("the reply was empty")
        return "; ".join(parts)


def content_terms(text: str) -> set[str]:
    """The stemmed words a claim is checked on (czqa's BM25 analysis, minus fillers)."""
    return {t for t in terms(text) if t not in _FILLER}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def source_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (offsets into ``text``) inside ``text[start:end]``, whitespace trimmed."""
    spans, pos = [], start
    region = text[start:end]
    for m in _SOURCE_SENTENCE_END.finditer(region):
        if _ABBREVIATION.search(region[max(0, m.start() - 12) : m.start()]):
            continue  # "the U.S. District Court", "Mr. Zhao": not a sentence end
        spans.append((pos, start + m.start()))
        pos = start + m.end()
    spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def split_reply(reply: str) -> list[tuple[str, tuple[int, ...]]]:
    """Reply sentences as (text without markers, cited numbers); a marker that opens a sentence
    ("… CEO. [1] He …") belongs to the sentence before it."""
    pieces = [p.strip() for p in _REPLY_SENTENCE_END.split(reply) if p and p.strip()]
    out: list[tuple[str, list[int]]] = []
    for piece in pieces:
        lead = re.match(rf"^(?:\s*{_CITE.pattern}[.,;]?)+", piece, re.IGNORECASE)
        if lead and out:
            out[-1][1].extend(int(n) for m in _CITE.finditer(lead.group(0)) for n in re.findall(r"\d+", m.group(1)))
            piece = piece[lead.end() :].strip()
            if not piece:
                continue
        cited = [int(n) for m in _CITE.finditer(piece) for n in re.findall(r"\d+", m.group(1))]
        text = " ".join(_CITE.sub(" ", piece).split())
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        out.append((text, cited))
    return [(t, tuple(dict.fromkeys(c))) for t, c in out]


class Verifier:
    """Verifies replies against numbered sources cut from the original seed texts."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def _best_quote(self, claim: str, question_terms: set[str], passage: Passage) -> tuple[float, tuple[int, int] | None]:
        text = self.texts.get(passage.source)
        if text is None or text[passage.start : passage.end] != passage.text:
            return 0.0, None  # a source we cannot tie to the original file supports nothing
        want = content_terms(claim) - question_terms
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
                coverage = len(want & have) / len(want) if want else 1.0
                # Prefer higher coverage, then the shorter quote.
                if coverage > best[0] or (coverage == best[0] and best[2] and end - start < best[1]):
                    best = (coverage, end - start, (start, end))
        return best[0], best[2]

    def verify(self, reply: str, sources: list[Passage], question: str) -> Verification:
        """Check ``reply`` against ``sources`` (source ``n`` is ``sources[n - 1]``)."""
        result = Verification(reply=reply)
        stripped = reply.strip()
        if not stripped or _ABSTAIN.match(stripped) or stripped.upper().startswith(NOT_IN_SOURCES):
            result.model_abstained = bool(stripped)
            return result
        question_terms = content_terms(question)
        for text, cited in split_reply(reply):
            valid = [n for n in cited if 1 <= n <= len(sources)]
            result.invalid_refs.extend(n for n in cited if not 1 <= n <= len(sources))
            if not (content_terms(text) - question_terms) and not _numbers(text):
                result.claims.append(Claim(text, cited, problem="no content"))
                continue
            if cited and not valid:
                result.claims.append(Claim(text, cited, problem="cites no real source"))
                continue
            candidates = valid or list(range(1, len(sources) + 1))
            scored = [(self._best_quote(text, question_terms, sources[n - 1]), n) for n in candidates]
            (coverage, span), n = max(scored, key=lambda x: x[0][0])
            if span is None or coverage < MIN_COVERAGE:
                result.claims.append(Claim(text, cited, problem="not supported by the cited source"))
                continue
            p = sources[n - 1]
            quote = self.texts[p.source][span[0] : span[1]]
            citation = Citation(source=p.source, start=span[0], end=span[1], quote=quote)
            result.claims.append(Claim(text, cited, citation=citation, source_number=n))
        kept = [c for c in result.claims if c.citation is not None]
        if kept and question_terms and not any(question_terms & content_terms(c.citation.quote) for c in kept):
            result.off_topic = True
        return result
