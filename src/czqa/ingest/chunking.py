"""Pack sentences into overlapping, token-budgeted chunks that the embedding model sees whole.

A chunk is a run of consecutive sentences from one cleaned region (so it never spans dropped
boilerplate), at most ``max_tokens`` tiktoken tokens of visible text, and in every case at most
the model's 256 word pieces: sentence-transformers would otherwise cut the tail off silently and
that text could never be found. Consecutive chunks share trailing sentences (``overlap_tokens``)
so a fact that straddles a boundary is whole in at least one chunk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from czqa.ingest.clean import visible_text
from czqa.ingest.sentences import Sentence

Counter = Callable[[str], int]


@dataclass(frozen=True)
class Piece:
    """A sentence (or a slice of an over-long one) with its visible text and token count."""

    start: int
    end: int
    embed_text: str
    tokens: int
    wordpieces: int  # the model's word pieces for embed_text alone, [CLS] and [SEP] included


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a run of whole sentences of one file, with a stable content-hash id."""

    id: str
    source: str
    start: int
    end: int
    text: str
    embed_text: str


def chunk_id(source: str, text: str) -> str:
    """Content-addressed id: the same chunk text in the same file keeps its id across builds."""
    return hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:16]


def fit_pieces(
    original: str,
    sentences: list[Sentence],
    *,
    max_tokens: int,
    max_wordpieces: int,
    tokens: Counter,
    wordpieces: Counter,
    is_html: bool = False,
) -> list[Piece]:
    """Turn sentences into pieces that each fit the budgets, splitting over-long sentences at
    the white space nearest their middle (recursively) rather than truncating them."""
    out: list[Piece] = []
    stack = list(reversed([(s.start, s.end) for s in sentences]))
    while stack:
        start, end = stack.pop()
        vis = visible_text(original[start:end], is_html=is_html)
        if not vis:
            continue
        n_tokens = tokens(vis)
        n_wordpieces = wordpieces(vis) if n_tokens <= max_tokens else max_wordpieces + 1
        if n_tokens <= max_tokens and n_wordpieces <= max_wordpieces:
            out.append(Piece(start, end, vis, n_tokens, n_wordpieces))
            continue
        middle = (start + end) // 2
        cuts = [m.start() for m in re.finditer(r"\s+", original[start:end])]
        if not cuts:  # one enormous "word": cut it in half, still never truncate
            stack.extend([(middle, end), (start, middle)])
            continue
        cut = start + min(cuts, key=lambda c: abs(start + c - middle))
        right = cut + len(original[cut:end]) - len(original[cut:end].lstrip())
        stack.extend([(right, end), (start, cut)])
    return out


def pack_chunks(
    source: str,
    original: str,
    pieces: list[Piece],
    *,
    max_tokens: int,
    overlap_tokens: int,
    max_wordpieces: int,
    tokens: Counter,
    wordpieces: Counter,
) -> list[Chunk]:
    """Greedy packing of one region's pieces into chunks, with sentence-level overlap."""
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        # Both budgets summed piece by piece ([CLS] and [SEP] once), so the check below on the
        # joined text rarely has to drop a piece: re-tokenizing a chunk per dropped piece made
        # text of tiny sentences (a run of dots) cost a tokenization per character.
        j, total, pieces_wp = i, 0, 2
        while j < len(pieces) and (
            j == i or (total + pieces[j].tokens <= max_tokens and pieces_wp + pieces[j].wordpieces - 2 <= max_wordpieces)
        ):
            total += pieces[j].tokens
            pieces_wp += pieces[j].wordpieces - 2
            j += 1
        # Summed piece counts are an estimate (joining can merge tokens); check the real text.
        # The word-piece limit is the hard one: the model would silently truncate past it.
        def over(k: int) -> bool:
            joined = " ".join(p.embed_text for p in pieces[i:k])
            return tokens(joined) > max_tokens or wordpieces(joined) > max_wordpieces

        while j - i > 1 and over(j):
            j -= 1
        group = pieces[i:j]
        start, end = group[0].start, group[-1].end
        text = original[start:end]
        chunks.append(
            Chunk(
                id=chunk_id(source, text),
                source=source,
                start=start,
                end=end,
                text=text,
                embed_text=" ".join(p.embed_text for p in group),
            )
        )
        if j >= len(pieces):
            break
        # Step back over trailing pieces that fit in the overlap budget, but always advance.
        k, carried = j, 0
        while k - 1 > i and carried + pieces[k - 1].tokens <= overlap_tokens:
            carried += pieces[k - 1].tokens
            k -= 1
        i = k
    return chunks
