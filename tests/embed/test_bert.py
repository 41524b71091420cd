"""The numpy BERT's in-place forward pass computes exactly the textbook formulas."""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from czqa.embed.bert import NumpyBert, layer_norm


def _textbook(bert: NumpyBert, ids, mask, types) -> np.ndarray:
    """The forward pass as the formulas read, a fresh array per step (the earlier implementation)."""
    batch, length = ids.shape
    width = bert.word.shape[1]
    dh = width // bert.heads
    x = layer_norm(bert.word[ids] + bert.pos[:length][None] + bert.types[types], *bert.emb_ln)
    bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
    scale = np.float32(1.0 / np.sqrt(dh))
    for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2 in bert.layers:
        qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, bert.heads, dh).transpose(2, 0, 3, 1, 4)
        scores = (qkv[0] @ qkv[1].transpose(0, 1, 3, 2)) * scale + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = (scores / scores.sum(-1, keepdims=True) @ qkv[2]).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = layer_norm(ctx @ o_w + o_b + x, *ln1)
        h = x @ i_w + i_b
        h = np.float32(0.5) * h * (np.float32(1.0) + erf(h * np.float32(0.7071067811865476)))
        x = layer_norm(h @ f_w + f_b + x, *ln2)
    return x


def test_forward_equals_the_textbook_formulas_bit_for_bit():
    from czqa.answering.reader.model import shared_reader

    bert = shared_reader(precision="fp32").bert
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, (3, 40))
    mask = np.ones((3, 40), np.float32)
    mask[1, 25:] = 0  # a padded row
    types = np.zeros_like(ids)
    types[:, 12:] = 1
    assert np.array_equal(bert.forward(ids, mask, types), _textbook(bert, ids, mask, types))
