"""The default answer mode (``reader``): czqa's trained reader reads the top retrieved passages.

Retrieval picks the candidates; the reader reads the best ``settings.reader.passages`` of them
(never the whole corpus), scores every span and "no answer" in each window, and:

* the window whose best span most clearly beats its own "no answer" gives the answer, if its
  confidence clears the threshold chosen on validation data (``reader.json`` beside the weights;
  a setting overrides it). Confidence = the span's margin over "no answer" + the answerability
  head's logit + how much of the question's (idf-weighted) wording the passage holds + how well
  the sentence holding the span matches the question (:mod:`czqa.answering.evidence`, the
  extractive mode's score), each weighted as calibrated: a look-alike question that names
  something the passage never mentions scores low even when the reader finds a plausible span;
* the reply leads with the span as ``short_answer`` and cites the sentence(s) holding it, with
  exact offsets;
* otherwise it declines, and the closest passages are shown as such;
* a span that cannot be the kind of value asked for (a "when" answered by a non-date, a "who"
  by a role word: :func:`~czqa.answering.spans.fits`) is passed over for the next window's;
* when another document's window, nearly as confident and above the threshold itself, gives a
  different value of the same kind (two years, two amounts in a currency), both values are shown
  and cited (the documents disagree).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from czqa.answering.evidence import SentenceEvidence
from czqa.answering.reader.model import ReaderUnavailable, SpanScore, WEIGHTS_DIR, shared_reader
from czqa.answering.modes.registry import Corpus, ModeSpec, Query, register, single_answer
from czqa.answering.spans import answer_type, fits, normalize_value, same_kind
from czqa.ingest.readable import readable
from czqa.retrieve.lexical import DocumentFrequencies, terms
from czqa.settings import Settings
from czqa.types import Answer, Citation, Claim, ConflictValue, Delta

if TYPE_CHECKING:
    from czqa.index.lexicon import SparseBM25

CONFLICT_MARGIN = 2.0  # span-margin logits within which a different value counts as a rival (dev q108: 1.44 apart)
_STRIP = " \t\n\r,;:.\"'“”‘’()[]"


class ReaderAnswerer:
    """Extractive answers from the trained reader; declines when "no answer" wins."""

    mode = "reader"

    def __init__(self, corpus: Corpus) -> None:
        rs = corpus.settings.reader
        self.corpus = corpus
        self.reader = shared_reader(rs.weights_dir, precision=corpus.settings.precision)
        decision = self.reader.config.get("decision", {})
        #: chosen on validation data when the weights were calibrated (eval/calibrate_reader.py)
        self.calibrated_threshold = float(decision.get("threshold", 0.0))
        self.threshold = rs.threshold if rs.threshold is not None else self.calibrated_threshold
        self.answerable_weight = float(decision.get("answerable_weight", 0.0))
        self.coverage_weight = float(decision.get("coverage_weight", 0.0))
        self.evidence_weight = float(decision.get("evidence_weight", 0.0))
        self._evidence: SentenceEvidence | None = None  # built on first use
        self.passages = rs.passages
        self._frequencies: DocumentFrequencies | SparseBM25 | None = None  # see frequencies
        self._chunk_terms: dict[int, set[str]] = {}

    def confidence(self, s: SpanScore) -> float:
        return (s.margin + self.answerable_weight * s.answerable + self.coverage_weight * s.coverage
                + self.evidence_weight * s.evidence)

    @property
    def frequencies(self) -> DocumentFrequencies | SparseBM25:
        """Document frequencies of the (alias-expanded) chunk terms, for their idf.

        The build stored the chunks' BM25 matrix for the index's own alias table, and its idf is
        this one (the same analysis, the same formula): used as it is, coverage costs no pass
        over every chunk (seconds at 100k chunks, on the first question). Another alias table
        gets them counted now, on first use."""
        if self._frequencies is None:
            data, aliases = self.corpus.data, self.corpus.aliases
            if aliases == data.aliases:
                self._frequencies = data.derived.chunk_bm25
            else:
                self._frequencies = DocumentFrequencies(terms(aliases.expand(c.embed_text, c.source)) for c in data.chunks)
        return self._frequencies

    def coverage(self, question: str, chunk: int) -> float:
        """The idf-weighted share of the question's terms that the passage holds (0..1)."""
        asked = set(terms(self.corpus.aliases.expand(question)))
        if not asked:
            return 1.0
        have = self._chunk_terms.get(chunk)
        if have is None:
            # the analysis the idf comes from: the passage's own abbreviations expanded too
            c = self.corpus.data.chunks[chunk]
            have = set(terms(self.corpus.aliases.expand(c.embed_text, c.source)))
            self._chunk_terms[chunk] = have
        weight = {t: self.frequencies.idf(t) for t in asked}
        return sum(w for t, w in weight.items() if t in have) / sum(weight.values())

    def evidence_of(self, query: Query) -> dict[int, float]:
        """The evidence score of every sentence of the passages the reader reads (row → score)."""
        if self._evidence is None:
            self._evidence = SentenceEvidence(self.corpus.data, self.corpus.aliases)
        return self._evidence.score(query.question, query.vector, query.hits[: self.passages])

    def span_evidence(self, chunk: int, s: SpanScore, evidence_of: dict[int, float]) -> float:
        """The best evidence score among the sentences that hold the window's span."""
        data = self.corpus.data
        start, end = data.chunks[chunk].start + s.start, data.chunks[chunk].start + s.end
        rows = [r for r in data.chunk_sentences[chunk] if data.sentences[r].start < end and start < data.sentences[r].end]
        return max((evidence_of.get(r, 0.0) for r in rows), default=0.0)

    def scores(self, query: Query) -> list[tuple[int, SpanScore]]:
        """(chunk row, window score) for every window the reader read, best first."""
        chunks = [h.chunk for h in query.hits[: self.passages]]
        texts = [self.corpus.data.chunks[c].text for c in chunks]
        read = self.reader.read(query.question, texts)
        # the coverage term costs a pass over every chunk's terms (at load) and one per window; skip
        # it when calibration gave it no weight, as it did for the shipped weights
        if self.coverage_weight:
            read = [replace(s, coverage=self.coverage(query.question, chunks[s.passage])) for s in read]
        if self.evidence_weight:
            evidence_of = self.evidence_of(query)
            read = [replace(s, evidence=self.span_evidence(chunks[s.passage], s, evidence_of)) for s in read]
        ranked = [(chunks[s.passage], s) for s in read if s.end > s.start]
        ranked.sort(key=lambda cs: -self.confidence(cs[1]))
        return ranked

    def answer(self, query: Query) -> Answer:
        # a span that only restates the question, or cannot be the kind of value it asks for
        # ("who" answered by "CEO"), is no answer: the next window's span is considered instead
        ranked = [cs for cs in self.scores(query) if self._could_answer(query.question, cs)]
        best_conf = self.confidence(ranked[0][1]) if ranked else float("-inf")
        if not ranked or best_conf < self.threshold:
            return Answer(
                question=query.question,
                abstained=True,
                declined_reason=(
                    f"The reader found no answer to this question in the {min(self.passages, len(query.hits))} "
                    "passages that match it best; the closest passages are listed as closest matches."
                ),
                passages=query.passages,
                confidence=round(best_conf, 4) if ranked else 0.0,
                mode=self.mode,
            )
        chunk, best = ranked[0]
        short, start, end = self._span(chunk, best)
        citations = self._citations(chunk, start, end)
        conflicts = self._conflicts(query.question, ranked, short, citations[0])
        claims = [Claim(text=short, citations=[c.citation for c in conflicts] if conflicts else citations)]
        return Answer(
            question=query.question,
            abstained=False,
            short_answer=short,
            claims=claims,
            conflicts=conflicts,
            passages=query.passages,
            confidence=round(best_conf, 4),
            mode=self.mode,
        )

    def _could_answer(self, question: str, window: tuple[int, SpanScore]) -> bool:
        """False when the window's span only names what the question already names ("Who did JW
        meet?" → "Jonas Weber", another name of JW), or is not the kind of value the question asks
        for (:func:`czqa.answering.spans.fits`)."""
        span = self._span(*window)[0]
        named = {n.lower() for n in self.corpus.aliases.variants(question)}
        if span and (span.lower() in named or span.lower() in question.lower()):
            return False
        return fits(question, span)

    def stream(self, query: Query) -> Iterator[Delta | Answer]:
        return single_answer(self, query)

    def _span(self, chunk: int, s: SpanScore) -> tuple[str, int, int]:
        """The answer text and its offsets in the source file, trimmed of edge punctuation."""
        c = self.corpus.data.chunks[chunk]
        text = c.text  # the span lies inside its chunk: cut from the document, not decoded whole
        start, end = s.start, s.end
        while start < end and text[start] in _STRIP:
            start += 1
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        if end <= start:  # all punctuation: keep the raw span
            start, end = s.start, s.end
        # the answer as its reader sees it (an HTML span's tags and entities read as text)
        return readable(text[start:end], c.source).strip(), c.start + start, c.start + end

    def _citations(self, chunk: int, start: int, end: int) -> list[Citation]:
        """The sentence(s) of the chunk that hold the span; the span's line if none does."""
        data = self.corpus.data
        source = data.chunks[chunk].source
        text = self.corpus.texts[source]
        rows = [r for r in data.chunk_sentences[chunk] if data.sentences[r].start < end and start < data.sentences[r].end]
        if rows:
            s0, s1 = data.sentences[rows[0]].start, data.sentences[rows[-1]].end
        else:
            s0 = text.rfind("\n", 0, start) + 1
            s1 = text.find("\n", end)
            s1 = len(text) if s1 < 0 else s1
        return [Citation(source=source, start=s0, end=s1, quote=text[s0:s1])]

    def _conflicts(self, question: str, ranked, short: str, cited: Citation) -> list[ConflictValue]:
        """Values of the same kind from other documents' windows, nearly as confident as the best."""
        kind = answer_type(question)
        if kind not in ("amount", "number", "date", "duration"):
            return []
        # A rival must be answered on its own (above the threshold) and be about as plausible to
        # the reader: its span's margin within CONFLICT_MARGIN of the best's. Not the whole
        # confidence: its coverage and evidence terms say how closely each passage's wording
        # follows the question, and two documents stating one fact in their own words differ
        # there by more than the reader's margins do (dev q108).
        best_margin = ranked[0][1].margin
        sides = {normalize_value(kind, short): ConflictValue(value=short, citation=cited)}
        for chunk, s in ranked[1:]:
            if self.confidence(s) < self.threshold:
                break  # ranked by confidence: none after it is answered either
            if s.margin < best_margin - CONFLICT_MARGIN:
                continue
            if self.corpus.data.chunks[chunk].source in {v.citation.source for v in sides.values()}:
                continue
            value, start, end = self._span(chunk, s)
            if not same_kind(kind, short, value):  # "2017" against "August 2" is not a disagreement
                continue
            key = normalize_value(kind, value)
            if key and key not in sides and any(ch.isdigit() for ch in value):
                sides[key] = ConflictValue(value=value, citation=self._citations(chunk, start, end)[0])
        return list(sides.values()) if len(sides) > 1 else []


def _unavailable(settings: Settings) -> str | None:
    directory = settings.reader.weights_dir or WEIGHTS_DIR
    if not (directory / "reader.safetensors").is_file():
        return f"the reader's weights are missing from {directory} (train them with `czqa train-reader`)"
    return None


register(
    ModeSpec(
        name="reader",
        description="czqa's trained reader: a short answer span with its sentence quoted, or a decline",
        factory=ReaderAnswerer,
        unavailable=_unavailable,
    )
)

__all__ = ["ReaderAnswerer", "ReaderUnavailable"]
