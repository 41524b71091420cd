"""The question-answering service: load the index once, answer many questions, from any thread.

``QA`` is what the CLI, the chat page, the evaluation runner and :func:`czqa.answer` share.
Loading is lazy (``warm_up`` on first use, Haystack-style) and guarded by a lock; after that,
answering only reads immutable state, so concurrent calls need no locking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from czqa.build import BuildReport, ensure_index
from czqa.documents import read_seeds
from czqa.errors import CzqaError, InvalidQuestion
from czqa.models import Answer, Delta, Passage
from czqa.settings import Settings

MODES = ("extractive",)
LLM_MODE = "llm"


def available_modes(settings: Settings | None = None) -> tuple[str, ...]:
    """The answer modes usable in this installation, default first.

    The chat page offers exactly these; optional modes appear only when their extra is installed:
    ``"llm"`` when llama-cpp-python and a GGUF model are installed, or a server URL is configured
    (a cheap check: nothing is loaded).
    """
    from czqa.llm.backends import unavailable_reason

    llm = (settings or Settings.from_env()).llm
    return MODES + (LLM_MODE,) if unavailable_reason(llm) is None else MODES


class QA:
    def __init__(self, settings: Settings | None = None, *, query_encoder=None, build_encoder=None) -> None:
        self.settings = settings or Settings.from_env()
        self._query_encoder = query_encoder
        self._build_encoder = build_encoder
        self._lock = threading.Lock()
        self._ready = False
        self.build_report: BuildReport | None = None
        self.load_seconds = 0.0
        self._generative = None  # czqa.llm.generative.GenerativeAnswerer, built on first llm answer
        self._llm_lock = threading.Lock()

    def warm_up(self) -> None:
        """Read the seeds, load (or build) the index, and load the query encoder."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            started = time.perf_counter()
            from czqa.aliases import AliasTable
            from czqa.encoder import NumpyMiniLM
            from czqa.extractive import ExtractiveAnswerer
            from czqa.retriever import HybridRetriever

            docs, skipped = read_seeds(self.settings.seeds_dir)
            self.data, self.build_report = ensure_index(
                self.settings,
                docs=docs,
                skipped={s.source: s.reason for s in skipped},
                encoder=self._build_encoder,
            )
            self.texts = {d.source: d.text for d in docs}
            self.aliases = AliasTable.from_texts(self.texts.values())
            self.encoder = self._query_encoder or NumpyMiniLM()
            self.retriever = HybridRetriever(self.data, aliases=self.aliases)
            self.extractive = ExtractiveAnswerer(
                self.data, self.texts, threshold=self.settings.abstain_threshold, aliases=self.aliases
            )
            self.load_seconds = time.perf_counter() - started
            self._ready = True

    def validate(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidQuestion(f"The question must be text, not {type(question).__name__}.")
        q = question.strip()
        if not q:
            raise InvalidQuestion("The question is empty. Ask something about the documents.")
        if len(q) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"The question is {len(q):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,}. Ask a shorter question."
            )
        return " ".join(q.split())

    def retrieve(self, question: str, *, top_k: int | None = None) -> list[Passage]:
        q = self.validate(question)
        self.warm_up()
        qvec = self.encoder.encode([q])[0]
        hits = self.retriever.search(qvec, q, top_k=top_k or self.settings.top_k)
        return [self._passage(h) for h in hits]

    def _passage(self, hit) -> Passage:
        c = self.data.chunks[hit.chunk]
        return Passage(id=c.id, source=c.source, start=c.start, end=c.end, text=c.text, score=round(hit.score, 6))

    def answer(self, question: str, *, top_k: int | None = None, mode: str = "extractive") -> Answer:
        """Answer ``question`` from the documents, with exact citations, or abstain."""
        result = None
        for event in self.stream(question, top_k=top_k, mode=mode):
            result = event
        assert isinstance(result, Answer)
        return result

    def stream(self, question: str, *, top_k: int | None = None, mode: str = "extractive") -> Iterator[Delta | Answer]:
        """Yield the reply as it is produced: zero or more :class:`Delta` pieces, then the final Answer.

        The extractive answerer has nothing to stream and yields only the Answer; a generative mode
        yields text deltas first. The last event is always the verified Answer.
        """
        if mode == LLM_MODE:
            yield from self._llm_stream(question, top_k=top_k)
            return
        if mode not in MODES:
            raise CzqaError(f"Unknown answer mode {mode!r}; available: {', '.join(available_modes(self.settings))}.")
        yield self._extractive(question, top_k=top_k)

    def generative(self):
        """The LLM answerer, built once per QA (the model itself loads on its first answer).

        Raises :class:`czqa.errors.LLMUnavailable`, saying how to enable the mode, before loading
        anything when no backend is set up.
        """
        if self._generative is None:
            from czqa.llm.backends import make_backend
            from czqa.llm.generative import GenerativeAnswerer
            from czqa.llm.prompting import load_templates

            backend = make_backend(self.settings.llm)
            templates = load_templates(self.settings.llm.prompts_dir, self.settings.llm.prompt_version)
            self.warm_up()
            with self._llm_lock:
                if self._generative is None:
                    self._generative = GenerativeAnswerer(backend, templates, self.texts, self.settings.llm)
        return self._generative

    def _llm_stream(self, question: str, *, top_k: int | None) -> Iterator[Delta | Answer]:
        q = self.validate(question)
        generative = self.generative()
        passages = self.retrieve(q, top_k=top_k)
        yield from generative.stream(q, passages, fallback=lambda: self._extractive(q, top_k=top_k))

    def _extractive(self, question: str, *, top_k: int | None = None) -> Answer:
        q = self.validate(question)
        self.warm_up()
        top_k = top_k or self.settings.top_k
        qvec = self.encoder.encode([q])[0]
        from czqa.extractive import CANDIDATE_CHUNKS

        hits = self.retriever.search(qvec, q, top_k=max(top_k, CANDIDATE_CHUNKS))
        passages = [self._passage(h) for h in hits[:top_k]]
        return self.extractive.answer(q, qvec, hits, passages)
