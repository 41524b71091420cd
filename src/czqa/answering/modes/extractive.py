"""The rule-based answerer: pick the best sentences from the retrieved passages and quote them.

Every sentence inside the retrieved chunks is scored against the question
(:mod:`czqa.answering.evidence`: its embedding's cosine, its idf²-weighted term overlap, its
chunk's cosine), plus a small bonus when the sentence holds a span of the asked type.

The best sentence is the main quote; a close runner-up is quoted too. For typed questions the
short answer is the typed span nearest the question's own words in that sentence, or, when the
best evidence holds none, in a sentence right beside it (a letter's date line sits two lines
above the salutation that matches "letter to the judge").

The answerer abstains when even the best sentence is a weak match (``confidence`` below a
threshold calibrated on the eval set's dev split), and reports a conflict when well-supported
sentences give different values for the asked amount, number or date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from czqa.answering.evidence import SentenceEvidence
from czqa.ingest.readable import readable
from czqa.retrieve.lexical import terms
from czqa.types import Answer, Citation, Claim, ConflictValue, Delta
from czqa.retrieve.retriever import Hit
from czqa.answering.spans import AnswerType, Found, answer_type, find_spans, lowercase_words, normalize_value
from czqa.answering.modes.registry import CANDIDATE_CHUNKS, Corpus, ModeSpec, Query, register, single_answer

TYPE_BONUS = 0.08
NEIGHBOURS = 2
SECOND_QUOTE_MARGIN = 0.06
CONFLICT_MARGIN = 0.25


@dataclass(frozen=True)
class Scored:
    """A sentence of the retrieved passages with its evidence score and the typed spans it holds."""

    sentence: int  # row in IndexData.sentences
    score: float
    evidence: float  # score without the type bonus: what abstention looks at
    spans: tuple[Found, ...]


def _head(text: str, span: Found) -> str | None:
    """The word a value qualifies: the first real word after it ("$4.3 billion *fine*")."""
    m = re.match(r"[\s\W]*([A-Za-z]{3,})", text[span.end :])
    return terms(m.group(1))[0] if m and terms(m.group(1)) else None


class ExtractiveAnswerer:
    """The rule-based answerer (mode ``extractive``): best-scoring sentences, typed spans by pattern.

    No model beyond the sentence embeddings; kept as a fast, transparent alternative to the reader.
    """

    mode = "extractive"

    def __init__(self, corpus: Corpus) -> None:
        """Reads the corpus's sentences; ``corpus.aliases`` are the documents' other names for an
        entity (see :mod:`czqa.retrieve.aliases`)."""
        data, texts = corpus.data, corpus.texts
        self.data = data
        self.texts = texts
        self.threshold = corpus.settings.abstain_threshold
        self.aliases = corpus.aliases
        self.evidence = SentenceEvidence(data, corpus.aliases)
        self._common = data.derived.lowercase if self.aliases == data.aliases else lowercase_words(texts.values())

    def score_sentences(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> list[Scored]:
        kind = answer_type(question)
        asked = self._asked(question)
        evidence_of = self.evidence.score(question, qvec, hits[:CANDIDATE_CHUNKS])
        if not evidence_of:
            return []
        scored = []
        for r, evidence in evidence_of.items():
            spans: tuple[Found, ...] = ()
            if kind:
                spans = tuple(find_spans(kind, self._text(r), asked, common=self._common))
            scored.append(Scored(r, evidence + (TYPE_BONUS if spans else 0.0), evidence, spans))
        scored.sort(key=lambda x: -x.score)
        return scored

    def _asked(self, question: str) -> str:
        """The question plus the other names of the entities it mentions: a span that only
        names someone the question already names ("Weber Jonas" when asked about JW) is
        not an answer."""
        names = self.aliases.variants(question)
        return f"{question} {' '.join(names)}" if names else question

    def _text(self, row: int) -> str:
        start, end = self.data.sentences.span(row)
        return self.texts.cut(self.data.sentences.source(row), start, end)

    def _citation(self, row: int) -> Citation:
        start, end = self.data.sentences.span(row)
        return Citation(source=self.data.sentences.source(row), start=start, end=end, quote=self._text(row))

    def _neighbours(self, row: int) -> list[int]:
        """Sentences within NEIGHBOURS of ``row`` in the same file, nearest first."""
        sentences = self.data.sentences
        src = sentences.source(row)
        out = []
        for d in range(1, NEIGHBOURS + 1):
            for r in (row - d, row + d):
                if 0 <= r < len(sentences) and sentences.source(r) == src:
                    out.append(r)
        return out

    def _typed_near(self, kind: AnswerType, item: Scored, question: str) -> Scored | None:
        """The sentence beside ``item`` that holds a span of the asked type, if any."""
        asked = self._asked(question)
        for r in self._neighbours(item.sentence):
            spans = tuple(find_spans(kind, self._text(r), asked, common=self._common))
            if spans:
                return Scored(r, item.score, item.evidence, spans)
        return None

    def _best_span(self, item: Scored, question: str) -> Found | None:
        if not item.spans:
            return None
        text = self._text(item.sentence).lower()
        anchors = [m.start() for t in re.findall(r"\w{4,}", question.lower()) for m in re.finditer(re.escape(t[:5]), text)]
        if not anchors:
            return item.spans[0]
        return min(item.spans, key=lambda f: min(min(abs(f.start - a), abs(f.end - a)) for a in anchors))

    def stream(self, query: Query) -> Iterator[Delta | Answer]:
        return single_answer(self, query)

    def answer(self, query: Query) -> Answer:
        question, passages = query.question, query.passages
        scored = self.score_sentences(question, query.vector, query.hits)
        # The strongest evidence among the top three (the type bonus can reorder them).
        confidence = max((s.evidence for s in scored[:3]), default=0.0)
        if not scored or confidence < self.threshold:
            return Answer(
                question=question,
                abstained=True,
                declined_reason=WEAK_EVIDENCE,
                passages=passages,
                confidence=round(confidence, 4),
                mode=self.mode,
            )
        kind = answer_type(question)
        best = scored[0]
        citations = [self._citation(best.sentence)]
        if kind and not best.spans:
            typed = next((s for s in scored[:3] if s.spans and s.score >= best.score - SECOND_QUOTE_MARGIN), None)
            near = typed or self._typed_near(kind, best, question)
            if near is not None:
                best = near
                citations.insert(0, self._citation(near.sentence))
        short = self._best_span(best, question)
        # the span as its reader sees it: a span of an HTML or Markdown file may hold marks
        short_answer = readable(short.text, self.data.sentences.source(best.sentence)).strip() if short else None

        # Conflict: well-supported sentences giving a different value *of the same thing*: the
        # value must qualify the same word ("$4.35 billion fine" vs "$4.32 billion fine"), so a
        # valuation elsewhere in the text is not mistaken for a disagreement about the fine.
        conflict_values: dict[str, tuple[str, Scored]] = {}
        head = _head(self._text(best.sentence), short) if short else None
        if kind in ("amount", "number", "date", "duration") and short and head:
            conflict_values[normalize_value(kind, short.text)] = (short.text, best)
            for other in scored[1:]:
                if other.score < best.score - CONFLICT_MARGIN or len(conflict_values) >= 3:
                    break
                text = self._text(other.sentence)
                for span in other.spans:
                    key = normalize_value(kind, span.text)
                    if _head(text, span) == head and key not in conflict_values:
                        conflict_values[key] = (span.text, other)
                        break
        conflict = len(conflict_values) > 1
        if not conflict and len(scored) > 1 and scored[1].score >= best.score - SECOND_QUOTE_MARGIN:
            second = self._citation(scored[1].sentence)
            if second.source != citations[0].source or abs(second.start - citations[0].start) > 0:
                citations.append(second)

        if conflict:
            sides = [ConflictValue(value=v, citation=self._citation(item.sentence)) for v, item in conflict_values.values()]
            claims = [Claim(text=short_answer or "", citations=[c.citation for c in sides])]
        else:
            sides, claims = [], [Claim(text=short_answer or "", citations=citations)]
        return Answer(
            question=question,
            abstained=False,
            short_answer=short_answer,
            claims=claims,
            conflicts=sides,
            passages=passages,
            confidence=round(confidence, 4),
            mode=self.mode,
        )


WEAK_EVIDENCE = (
    "Nothing in them answers this question closely enough to quote; the closest passages are "
    "listed as closest matches."
)


register(
    ModeSpec(
        name="extractive",
        description="rule-based: the best-matching sentences quoted, short answers found by pattern",
        factory=ExtractiveAnswerer,
    )
)
