"""The question-answering service: load the index once, answer many questions, from any thread.

``QA`` is what the CLI, the chat page, the evaluation runner and :func:`czqa.answer` share.
Loading is lazy (``warm_up`` on first use, Haystack-style) and guarded by a lock; after that,
answering only reads immutable state, so concurrent calls need no locking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from czqa.index.build import BuildReport, ensure_index
from czqa.ingest.documents import ingest
from czqa.answering.registry import CANDIDATE_CHUNKS
from czqa.errors import InvalidQuestion, UsageError
from czqa.types import Answer, Delta, Passage
from czqa.settings import Settings


def available_modes(settings: Settings | None = None) -> tuple[str, ...]:
    """The answer modes usable in this installation, default first (from the answerer registry;
    optional modes appear only when they can run here; nothing is loaded to find out)."""
    from czqa.answering.registry import available_modes as registered

    return registered(settings or Settings.from_env())


class QA:
    """Documents folder + index + answer modes: the one object every way in (CLI, chat page,
    evaluation, :func:`czqa.answer`) asks questions through."""

    def __init__(self, settings: Settings | None = None, *, query_encoder=None, build_encoder=None) -> None:
        self.settings = settings or Settings.from_env()
        self._query_encoder = query_encoder
        self._build_encoder = build_encoder
        self._lock = threading.Lock()
        self._ready = False
        self.build_report: BuildReport | None = None
        self.load_seconds = 0.0
        self._answerers: dict = {}  # mode name -> Answerer, built on first use
        self._answerer_lock = threading.Lock()

    def warm_up(self) -> None:
        """Read the seeds, load (or build) the index, and load the query encoder."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            started = time.perf_counter()
            from czqa.answering.registry import Corpus
            from czqa.embed.encoder import NumpyMiniLM
            from czqa.retrieve.aliases import AliasTable
            from czqa.retrieve.retriever import HybridRetriever

            from czqa.index.build import default_encoder

            self.encoder = self._query_encoder or NumpyMiniLM()
            build_encoder = self._build_encoder or default_encoder()
            if build_encoder.name != self.encoder.name:
                raise UsageError(
                    f"The index would be built with encoder {build_encoder.name} but questions embedded "
                    f"with {self.encoder.name}; both must be the same model."
                )
            docs, report = ingest(self.settings.seeds_dir, settings=self.settings.ingest, exclude=[self.settings.index_dir])
            self.data, self.build_report = ensure_index(
                self.settings,
                docs=docs,
                skipped=report.refused + report.skipped,
                encoder=build_encoder,
            )
            self.texts = {d.source: d.text for d in docs}
            self.aliases = AliasTable.from_texts(self.texts.values())
            self.retriever = HybridRetriever(self.data, aliases=self.aliases)
            # The llm mode falls back to the default mode's answer when its reply fails the check.
            self.corpus = Corpus(self.data, self.texts, self.aliases, self.settings, fallback=self._fallback)
            self.load_seconds = time.perf_counter() - started
            self._ready = True

    def validate(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidQuestion(f"The question must be text, not {type(question).__name__}.")
        q = question.strip()
        try:
            q.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidQuestion("The question holds characters that are not valid text (lone surrogates).") from None
        if not q:
            raise InvalidQuestion("The question is empty. Ask something about the documents.")
        if len(q) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"The question is {len(q):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,}. Ask a shorter question."
            )
        return " ".join(q.split())

    def retrieve(self, question: str, *, top_k: int | None = None) -> list[Passage]:
        """The passages that match ``question`` best, best first (no answering)."""
        return self.query(question, top_k=top_k).passages

    def _fallback(self, query) -> Answer:
        first = next(m for m in available_modes(self.settings) if m != "llm")
        return self.answerer(first).answer(query)

    def _passage(self, hit) -> Passage:
        c = self.data.chunks[hit.chunk]
        return Passage(id=c.id, source=c.source, start=c.start, end=c.end, text=c.text, score=round(hit.score, 6))

    def answer(self, question: str, *, top_k: int | None = None, mode: str | None = None) -> Answer:
        """Answer ``question`` from the documents, with exact citations, or decline.

        ``mode`` is one of :func:`available_modes` (default: the first, the trained reader).
        """
        result = None
        for event in self.stream(question, top_k=top_k, mode=mode):
            result = event
        assert isinstance(result, Answer)
        return result

    def stream(self, question: str, *, top_k: int | None = None, mode: str | None = None) -> Iterator[Delta | Answer]:
        """Yield the reply as it is produced: zero or more :class:`Delta` pieces, then the final Answer.

        Extractive modes yield only the Answer; a generative mode yields text deltas first. The last
        event is always the verified Answer.
        """
        answerer = self.answerer(mode)
        yield from answerer.stream(self.query(question, top_k=top_k))

    def answerer(self, mode: str | None = None):
        """The answerer for ``mode`` (built once per QA; an unknown or unavailable mode is refused
        with a message listing the ones that work here)."""
        from czqa.answering.registry import modes

        self.warm_up()
        name = mode or self.default_mode
        if name not in self._answerers:
            spec = modes().get(name)
            if spec is None:
                raise UsageError(f"Unknown answer mode {name!r}; available: {', '.join(available_modes(self.settings))}.")
            with self._answerer_lock:
                if name not in self._answerers:
                    self._answerers[name] = spec.factory(self.corpus)
        return self._answerers[name]

    @property
    def default_mode(self) -> str:
        return available_modes(self.settings)[0]

    def query(self, question: str, *, top_k: int | None = None):
        """Retrieve for ``question``: the candidate chunks an answerer reads and the passages shown."""
        from czqa.answering.registry import Query

        q = self.validate(question)
        self.warm_up()
        top_k = self._top_k(top_k)
        qvec = self.encoder.encode([q])[0]
        hits = self.retriever.search(qvec, q, top_k=max(top_k, CANDIDATE_CHUNKS))
        return Query(question=q, vector=qvec, hits=hits, passages=[self._passage(h) for h in hits[:top_k]])

    def _top_k(self, top_k) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50:
            raise InvalidQuestion(f"top_k must be a whole number from 1 to 50, not {top_k!r}.")
        return top_k
