"""The question-answering service: load the index once, answer many questions, from any thread.

``QA`` is what the CLI, the chat page, the evaluation runner and :func:`czqa.answer` share.
Loading is lazy (``warm_up`` on first use, Haystack-style) and guarded by a lock; after that,
answering only reads immutable state, so concurrent calls need no locking.

Everything loaded from the folder (index, texts, aliases, retriever, answerers) lives in one
:class:`_Loaded` snapshot. :meth:`QA.refresh` (documents added or removed from the chat page)
builds a new snapshot and swaps it in with one assignment; each question takes the snapshot
once and uses only it, so an answer in flight during a refresh is wholly old or wholly new,
never an old retriever's offsets read against a new corpus.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from czqa.embed.threads import one_blas_thread
from czqa.index import residency
from czqa.index.build import BuildReport, ensure_index
from czqa.index.store import indexed_files
from czqa.ingest.documents import Document, IngestReport, ingest
from czqa.ingest.text import DocumentTexts
from czqa.ingest.readable import readable
from czqa.answering.modes.registry import CANDIDATE_CHUNKS, modes
from czqa.errors import InvalidQuestion, UsageError
from czqa.types import Answer, Delta, Passage
from czqa.settings import Settings

if TYPE_CHECKING:
    from czqa.answering.followup.conversation import Conversation


def available_modes(settings: Settings | None = None) -> tuple[str, ...]:
    """The answer modes usable in this installation, default first (from the answerer registry;
    optional modes appear only when they can run here; nothing is loaded to find out)."""
    from czqa.answering.modes.registry import available_modes as registered

    return registered(settings or Settings.from_env())


@dataclass(frozen=True, eq=False)
class _Loaded:
    """One consistent state of the documents: the index and everything derived from it.

    Never changed once made (a refresh makes a new one); only its answerer cache fills in, under
    its own lock, so an answerer always reads the corpus it was built over.
    """

    data: object  # czqa.index.store.IndexData
    texts: DocumentTexts
    aliases: object  # czqa.index.aliases.AliasTable, the index's
    retriever: object  # czqa.retrieve.retriever.HybridRetriever
    corpus: object  # czqa.answering.modes.registry.Corpus
    encoder: object  # the query encoder
    answerers: dict = field(default_factory=dict)  # mode name -> Answerer, built on first use
    answerer_lock: threading.Lock = field(default_factory=threading.Lock)


class QA:
    """Documents folder + index + answer modes: the one object every way in (CLI, chat page,
    evaluation, :func:`czqa.answer`) asks questions through."""

    def __init__(
        self, settings: Settings | None = None, *, query_encoder=None, build_encoder=None, show_progress: bool = False
    ) -> None:
        """``show_progress``: when the index must be built or refreshed first, show progress bars
        on standard error (the CLI and ``czqa serve`` turn it on for a terminal)."""
        self.settings = settings or Settings.from_env()
        self._show_progress = show_progress
        self._query_encoder = query_encoder
        self._build_encoder = build_encoder
        self._lock = threading.Lock()  # serializes loading and refreshing
        self._loaded: _Loaded | None = None
        self.build_report: BuildReport | None = None
        self.load_seconds = 0.0

    def warm_up(self) -> None:
        """Read the seeds, load (or build) the index, and load the query encoder."""
        if self._loaded is not None:
            return
        with self._lock:
            if self._loaded is not None:
                return
            started = time.perf_counter()
            from czqa.embed.encoder import encoders_for

            self._build_encoder, self._query_encoder = encoders_for(
                self.settings.precision, build=self._build_encoder, query=self._query_encoder)
            encoder = self._query_encoder
            if self._build_encoder.name != encoder.name:
                raise UsageError(
                    f"The index would be built with encoder {self._build_encoder.name} but questions embedded "
                    f"with {encoder.name}; both must be the same model."
                )
            self._loaded, self.build_report, _ = self._load(self.settings)
            self.load_seconds = time.perf_counter() - started

    def refresh(self) -> BuildReport:
        """Read the documents folder again and bring the index up to date, then answer from it.

        For documents added or removed while serving (the chat page's upload and remove). Only
        new or changed texts are embedded (:func:`czqa.index.build.ensure_index`). The index is
        refreshed even when ``auto_build`` is off: refreshing is the explicit request. Questions
        asked meanwhile are answered from the previous state; if the refresh fails (say the
        folder has no readable document left) the previous state stays and the error is raised.
        Returns what the build did; when nothing had changed, a report of the files as they are.
        """
        self.warm_up()
        with self._lock:
            started = time.perf_counter()
            loaded, built, (docs, ingested) = self._load(self.settings.model_copy(update={"auto_build": True}))
            self._loaded = loaded  # the one assignment every later question sees
            self.build_report = built
        if built is not None:
            return built
        data = loaded.data
        return BuildReport(
            files=len(docs), files_reused=len(docs), ingest=ingested, chunks=len(data.chunks),
            sentences=len(data.sentences), seconds=time.perf_counter() - started,
        )

    def _load(self, settings: Settings) -> tuple[_Loaded, BuildReport | None, tuple[list[Document], IngestReport]]:
        """Ingest the folder, ensure the index and derive a new snapshot (the caller holds the lock)."""
        from czqa.answering.modes.registry import Corpus
        from czqa.retrieve.retriever import HybridRetriever

        docs, report = ingest(settings.seeds_dir, settings=settings.ingest, exclude=[settings.index_dir], known=indexed_files(settings.index_dir))
        data, built = ensure_index(
            settings, docs=docs, skipped=report.refused + report.skipped, encoder=self._build_encoder,
            show_progress=self._show_progress,
        )
        texts = DocumentTexts.from_documents(docs)
        residency.enforce(settings.index.mapped_mb)  # the load's checks read much of the tables once
        aliases = data.aliases  # built with the index, from these documents (it is fresh)
        made: list[_Loaded] = []
        # The llm mode falls back to the default mode's answer, over the same snapshot, when its reply fails the check.
        corpus = Corpus(data, texts, aliases, self.settings, fallback=lambda query: self._fallback(made[0], query))
        made.append(_Loaded(
            data=data, texts=texts, aliases=aliases, retriever=HybridRetriever(data, aliases=aliases),
            corpus=corpus, encoder=self._query_encoder,
        ))
        return made[0], built, (docs, report)

    def _current(self) -> _Loaded:
        """The snapshot now in use (loading it first if need be); take it once per question."""
        self.warm_up()
        loaded = self._loaded
        assert loaded is not None
        return loaded

    # Read-only views of the current snapshot, for the CLI, evaluation, page and tests.
    @property
    def data(self):
        return self._current().data

    @property
    def texts(self) -> DocumentTexts:
        return self._current().texts

    @property
    def aliases(self):
        return self._current().aliases

    @property
    def retriever(self):
        return self._current().retriever

    @property
    def corpus(self):
        return self._current().corpus

    @property
    def encoder(self):
        return self._current().encoder

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
        if not any(unicodedata.category(ch)[0] in "LN" for ch in q):
            # only punctuation, symbols or invisible characters: nothing to search for, and a
            # "nearest" passage would be an answer to nothing
            raise InvalidQuestion("The question has no words. Ask something about the documents.")
        if len(q) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"The question is {len(q):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,}. Ask a shorter question."
            )
        return " ".join(q.split())

    def retrieve(self, question: str, *, top_k: int | None = None) -> list[Passage]:
        """The passages that match ``question`` best, best first (no answering)."""
        return self.query(question, top_k=top_k).passages

    def _fallback(self, loaded: _Loaded, query) -> Answer:
        specs = modes()
        first = next(m for m in available_modes(self.settings) if not specs[m].generative)
        return self._answerer(loaded, first).answer(query)

    @staticmethod
    def _passage(loaded: _Loaded, hit) -> Passage:
        c = loaded.data.chunks[hit.chunk]  # the one record built, of the whole table
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
        loaded = self._current()
        answerer = self._answerer(loaded, mode)
        try:
            with one_blas_thread():  # small matrices: one BLAS thread each, the reader's windows side by side
                for event in answerer.stream(self._query(loaded, question, top_k=top_k)):
                    yield with_lines(event, loaded.corpus.texts) if isinstance(event, Answer) else event
        finally:  # what the question read of the index files goes back to the page cache past the budget
            residency.enforce(self.settings.index.mapped_mb)

    def conversation(
        self, *, mode: str | None = None, top_k: int | None = None, policy: str = "best", turns=()
    ) -> Conversation:
        """A conversation over these documents: follow-ups ("When was he sentenced?") are resolved
        against earlier turns, answered in ``mode``, and the better of the rewrite and the
        question as typed is searched, decided by the default mode (as on the chat page).
        ``turns`` continues an earlier one (:attr:`Conversation.turns`)."""
        from czqa.answering.followup.conversation import conversation_over

        self._answerer(self._current(), mode)  # an unknown or unavailable mode is refused now, not at the first question
        return conversation_over(self, mode=mode, top_k=top_k, policy=policy, turns=turns)

    def answerer(self, mode: str | None = None):
        """The answerer for ``mode`` over the current documents (built once per snapshot; an unknown
        or unavailable mode is refused with a message listing the ones that work here)."""
        return self._answerer(self._current(), mode)

    def _answerer(self, loaded: _Loaded, mode: str | None):
        from czqa.answering.modes.registry import modes

        name = mode or self.default_mode
        found = loaded.answerers.get(name)
        if found is not None:
            return found
        spec = modes().get(name)
        if spec is None:
            raise UsageError(f"Unknown answer mode {name!r}; available: {', '.join(available_modes(self.settings))}.")
        with loaded.answerer_lock:
            if name not in loaded.answerers:
                loaded.answerers[name] = spec.factory(loaded.corpus)
            return loaded.answerers[name]

    @property
    def default_mode(self) -> str:
        return available_modes(self.settings)[0]

    def query(self, question: str, *, top_k: int | None = None):
        """Retrieve for ``question``: the candidate chunks an answerer reads and the passages shown."""
        self.validate(question)  # a bad question is refused before anything is loaded
        return self._query(self._current(), question, top_k=top_k)

    def _query(self, loaded: _Loaded, question: str, *, top_k: int | None):
        from czqa.answering.modes.registry import Query

        q = self.validate(question)
        top_k = self._top_k(top_k)
        qvec = loaded.encoder.encode([q])[0]
        hits = loaded.retriever.search(qvec, q, top_k=max(top_k, CANDIDATE_CHUNKS))
        return Query(question=q, vector=qvec, hits=hits, passages=[self._passage(loaded, h) for h in hits[:top_k]])

    def _top_k(self, top_k) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50:
            raise InvalidQuestion(f"top_k must be a whole number from 1 to 50, not {top_k!r}.")
        return top_k


def with_lines(answer: Answer, texts) -> Answer:
    """``answer`` with each citation's line and readable text filled in from the documents, so
    the CLI, the JSON and the page name the same line (``file, line N``) and show the same words."""

    def lined(c):
        if c.line is not None or c.source not in texts:
            return c
        return c.model_copy(update={"line": texts.line(c.source, c.start), "shown": readable(c.quote, c.source).strip()})

    claims = [cl.model_copy(update={"citations": [lined(c) for c in cl.citations]}) for cl in answer.claims]
    conflicts = [v.model_copy(update={"citation": lined(v.citation)}) for v in answer.conflicts]
    return answer.model_copy(update={"claims": claims, "conflicts": conflicts})
