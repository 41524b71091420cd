"""Hard negatives at question time: the passages retrieval puts first that do not answer.

In czqa the reader never sees a random passage: it sees the few that hybrid retrieval ranked
highest for the question, and when the answer is missing those are the *most* tempting passages
of the collection (same names, same topic, a date of the right kind). :func:`other_passages`
pairs a question with any other passage of its article; this module pairs it with the ones that
czqa's retrieval would actually show it. Each article of the training data is treated as an open
corpus of its passages, ranked the way :class:`czqa.retrieve.retriever.HybridRetriever` ranks
chunks (MiniLM cosine and BM25, fused by reciprocal rank), and the best-ranked passage within the
top ``depth`` that holds none of the question's answers becomes a "no answer" example.

Embedding every passage once costs a few minutes on 2 cores, so the mined pairs are cached
(keyed by the examples and options) beside the training checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from czqa.answering.reader.examples import QAExample
from czqa.embed.encoder import Encoder
from czqa.retrieve.lexical import BM25, terms
from czqa.retrieve.retriever import RRF_K

log = logging.getLogger(__name__)


def _fused_ranking(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Passage rows best first, by reciprocal-rank fusion of two score arrays (as the retriever)."""
    score = np.zeros(len(dense))
    for s in (dense, lexical):
        order = np.argsort(-s, kind="stable")
        score[order] += 1.0 / (RRF_K + 1 + np.arange(len(s)))
    return np.argsort(-score, kind="stable")


def mine(
    examples: Sequence[QAExample],
    encoder: Encoder,
    *,
    rng: random.Random,
    rate: float,
    depth: int = 3,
    min_passages: int = 4,
) -> list[QAExample]:
    """For a share ``rate`` of the answerable examples whose article has at least
    ``min_passages`` passages: the question against the best-ranked passage of its article
    (within the top ``depth``) that holds none of its answers, labelled "no answer"."""
    by_doc: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ex in examples:
        passages = by_doc[(ex.source, ex.document)]
        if ex.context not in passages:
            passages.append(ex.context)
    chosen = [
        ex for ex in examples
        if ex.answerable and len(by_doc[(ex.source, ex.document)]) >= min_passages and rng.random() < rate
    ]
    by_question: dict[tuple[str, str], list[QAExample]] = defaultdict(list)
    for ex in chosen:
        by_question[(ex.source, ex.document)].append(ex)
    texts = sorted({c for key in by_question for c in by_doc[key]} | {ex.question for ex in chosen})
    log.info("hard negatives: embedding %d passages and questions of %d articles", len(texts), len(by_question))
    vectors = dict(zip(texts, encoder.encode(texts, show_progress=True)))
    out: list[QAExample] = []
    for key, questions in by_question.items():
        passages = by_doc[key]
        matrix = np.stack([vectors[p] for p in passages])
        bm25 = BM25(passages)
        for ex in questions:
            ranking = _fused_ranking(matrix @ vectors[ex.question], bm25.scores(terms(ex.question)))
            for row in ranking[:depth].tolist():
                candidate = passages[row]
                if candidate != ex.context and not any(a.text.lower() in candidate.lower() for a in ex.answers):
                    out.append(ex.model_copy(update={"id": f"{ex.id}#hard", "context": candidate, "answers": ()}))
                    break
    log.info("hard negatives: %d of %d questions got one", len(out), len(chosen))
    return out


def cached_mine(examples: Sequence[QAExample], *, cache_dir: Path, seed: int, rate: float, depth: int = 3,
                encoder_factory=None) -> list[QAExample]:
    """:func:`mine`, reusing the pairs mined before for the same examples and options."""
    h = hashlib.sha256(json.dumps([seed, rate, depth]).encode())
    for ex in examples:
        h.update(f"{ex.id}\x00{ex.question}\x00{ex.context[:64]}\x00".encode())
    path = cache_dir / f"hard-negatives-{h.hexdigest()[:12]}.jsonl"
    if path.exists():
        return [QAExample.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if encoder_factory is None:
        from czqa.embed.encoder import SentenceTransformerEncoder as encoder_factory
    mined = mine(examples, encoder_factory(), rng=random.Random(seed), rate=rate, depth=depth)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(ex.model_dump_json() + "\n" for ex in mined), encoding="utf-8")
    tmp.replace(path)
    return mined
