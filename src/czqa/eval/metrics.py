"""Pure metric functions for evaluating answers: no I/O, no models, easy to test by hand.

Every rate is a fraction in [0, 1], or ``None`` when there is nothing to measure (an empty list,
a split with no unanswerable questions): "not applicable" must not read as 0% or 100%.
Offsets are character offsets into a seed file's original text, as in :mod:`czqa.types`.
"""

from __future__ import annotations

import bisect

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

# Typographic punctuation the seeds use; SQuAD's list is ASCII only, so curly quotes and dashes
# would otherwise survive normalization and make "Lindqvist”" differ from "Lindqvist".
_PUNCTUATION = frozenset(string.punctuation) | {"“", "”", "‘", "’", "—", "–", "…"}

Span = tuple[str, int, int]  # (source file, start, end)


# --- answer text --------------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """SQuAD's official normalization: lower-case, drop punctuation and articles, fold spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_answer(reply: str, answers: Sequence[str]) -> bool:
    """Whether the normalized reply contains any normalized gold answer as a substring."""
    r = normalize_answer(reply)
    return any((g := normalize_answer(a)) and g in r for a in answers)


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD exact match: 1.0 when the normalized prediction equals any normalized gold answer."""
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD token F1 against the best-matching gold answer (0.0 when there are none)."""
    return max((_f1(prediction, a) for a in answers), default=0.0)


def _f1(prediction: str, gold: str) -> float:
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)  # both empty: 1, one empty: 0 (the official script's rule)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


# --- rates ---------------------------------------------------------------------------------


def rate(flags: Iterable[bool]) -> float | None:
    """The fraction of true flags, or ``None`` for no flags."""
    xs = list(flags)
    return sum(map(bool, xs)) / len(xs) if xs else None


def mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Fraction of questions whose first relevant passage is ranked 1..k (``None`` rank: never)."""
    return rate(r is not None and r <= k for r in ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank of the first relevant passage; a question with none scores 0."""
    return mean(1.0 / r if r else 0.0 for r in ranks)


def abstention_accuracy(abstained_on_unanswerable: Sequence[bool]) -> float | None:
    """Share of unanswerable questions the system declined (higher is better)."""
    return rate(abstained_on_unanswerable)


def false_abstention_rate(abstained_on_answerable: Sequence[bool]) -> float | None:
    """Share of answerable questions the system declined anyway (lower is better)."""
    return rate(abstained_on_answerable)


def abstention_curve(answerable: Sequence[float], unanswerable: Sequence[float]) -> list[tuple[float, float, float]]:
    """The decline trade-off as the threshold moves: (threshold, % of answerable questions
    declined, % of unanswerable ones declined) at every distinct confidence (declined = below)."""
    a = sorted(answerable)
    u = sorted(unanswerable)
    points = []
    for t in [float("-inf"), *sorted({c for c in [*a, *u] if c != float("-inf")}), float("inf")]:
        below_a = bisect.bisect_left(a, t)
        below_u = bisect.bisect_left(u, t)
        points.append((t, 100.0 * below_a / max(1, len(a)), 100.0 * below_u / max(1, len(u))))
    return points


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100): the smallest value with at least p% at or below."""
    if not values:
        return None
    xs = sorted(values)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]


# --- spans and citations ---------------------------------------------------------------------


def find_all(text: str, quote: str) -> list[tuple[int, int]]:
    """Every (start, end) where ``quote`` occurs in ``text`` (an empty quote occurs nowhere)."""
    if not quote:
        return []
    out, i = [], text.find(quote)
    while i >= 0:
        out.append((i, i + len(quote)))
        i = text.find(quote, i + 1)
    return out


def overlaps(a: Span, b: Span) -> bool:
    """Whether two spans share at least one character of the same file."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def overlaps_any(span: Span, gold: Iterable[Span]) -> bool:
    return any(overlaps(span, g) for g in gold)


def first_relevant_rank(passages: Sequence[Span], gold: Sequence[Span]) -> int | None:
    """1-based rank of the first passage overlapping any gold span, or ``None``."""
    return next((i for i, p in enumerate(passages, 1) if overlaps_any(p, gold)), None)


def citation_is_valid(source: str, start: int, end: int, quote: str, texts: dict[str, str]) -> bool:
    """A citation is valid when its quote equals the source text at its offsets, character for
    character (an unknown source or an empty quote is invalid)."""
    text = texts.get(source)
    return bool(quote) and text is not None and 0 <= start <= end and text[start:end] == quote


def sides_cited(citations: Sequence[Span], sides: Sequence[Sequence[Span]]) -> tuple[int, int]:
    """(cited, total): how many sides have at least one citation overlapping one of their spans.

    A side is one gold evidence quote, given as all of its occurrences in its file.
    """
    cited = sum(any(overlaps_any(c, side) for c in citations) for side in sides)
    return cited, len(sides)
