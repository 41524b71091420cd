"""The pure metric functions, on cases computed by hand (including the empty and degenerate ones)."""

import pytest

from czqa.eval import metrics as m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Quick, brown fox!", "quick brown fox"),
        ("“Richard Teng”.", "richard teng"),
        ("an apple a day", "apple day"),
        ("$4.32 billion—fine", "432 billionfine"),
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert m.normalize_answer(text) == expected


def test_contains_answer():
    assert m.contains_answer("He paid $4.32 billion.", ["$4.32 billion"])
    assert not m.contains_answer("He paid $4.32 billion.", ["$4.3 billion"])  # "43 billion" vs "432 billion"
    assert m.contains_answer("Replaced by THE Richard Teng", ["nobody", "Richard Teng"])
    assert not m.contains_answer("anything", [])
    assert not m.contains_answer("anything", ["", "the"])  # empty after normalization matches nothing


def test_exact_match():
    assert m.exact_match("the Richard Teng.", ["Richard Teng"]) == 1.0
    assert m.exact_match("Teng", ["Richard Teng"]) == 0.0
    assert m.exact_match("", []) == 0.0


def test_token_f1():
    assert m.token_f1("Richard Teng", ["Teng"]) == pytest.approx(2 / 3)  # P 1/2, R 1
    assert m.token_f1("x x y", ["x y y"]) == pytest.approx(2 / 3)  # multiset overlap 2 of 3 each way
    assert m.token_f1("x y", ["z", "x y"]) == 1.0  # best gold answer
    assert m.token_f1("x y", ["z"]) == 0.0
    assert m.token_f1("", ["x"]) == 0.0
    assert m.token_f1("the", ["a"]) == 1.0  # both empty after normalization: the official rule
    assert m.token_f1("x", []) == 0.0


def test_rates_and_empty_inputs():
    assert m.rate([True, False, False, True]) == 0.5
    assert m.rate([]) is None
    assert m.mean([]) is None
    assert m.abstention_accuracy([True, True]) == 1.0  # all abstained
    assert m.abstention_accuracy([]) is None  # no unanswerable questions in the split
    assert m.false_abstention_rate([True, False, False, False]) == 0.25
    assert m.false_abstention_rate([]) is None


def test_hit_at_k_and_mrr():
    ranks = [1, 3, None, 6]
    assert m.hit_at_k(ranks, 1) == 0.25
    assert m.hit_at_k(ranks, 5) == 0.5
    assert m.hit_at_k(ranks, 6) == 0.75
    assert m.hit_at_k([], 5) is None
    assert m.mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert m.mrr([None, None]) == 0.0
    assert m.mrr([]) is None


def test_percentile_nearest_rank():
    xs = list(range(1, 11))
    assert m.percentile(xs, 50) == 5
    assert m.percentile(xs, 95) == 10
    assert m.percentile([3, 1, 2], 50) == 2  # sorts first
    assert m.percentile([7.5], 95) == 7.5
    assert m.percentile(xs, 0) == 1
    assert m.percentile([], 50) is None


def test_find_all_and_overlaps():
    assert m.find_all("abcabc", "bc") == [(1, 3), (4, 6)]
    assert m.find_all("aaa", "aa") == [(0, 2), (1, 3)]
    assert m.find_all("abc", "") == []
    assert m.find_all("abc", "z") == []
    assert not m.overlaps(("f", 0, 5), ("f", 5, 9))  # touching is not overlapping
    assert m.overlaps(("f", 0, 6), ("f", 5, 9))
    assert m.overlaps(("f", 5, 9), ("f", 0, 20))  # containment
    assert not m.overlaps(("f", 0, 6), ("g", 0, 6))


def test_first_relevant_rank():
    gold = [("b", 10, 20)]
    assert m.first_relevant_rank([("a", 0, 50), ("b", 0, 9), ("b", 15, 30)], gold) == 3
    assert m.first_relevant_rank([("a", 0, 50)], gold) is None
    assert m.first_relevant_rank([], gold) is None
    assert m.first_relevant_rank([("b", 0, 99)], []) is None


def test_citation_is_valid():
    texts = {"f": "hello world"}
    assert m.citation_is_valid("f", 6, 11, "world", texts)
    assert not m.citation_is_valid("f", 6, 11, "World", texts)
    assert not m.citation_is_valid("f", 5, 11, "world", texts)
    assert not m.citation_is_valid("g", 6, 11, "world", texts)
    assert not m.citation_is_valid("f", 6, 6, "", texts)
    assert not m.citation_is_valid("f", 11, 6, "world", texts)


def test_sides_cited():
    sides = [[("a", 0, 10)], [("b", 0, 10), ("b", 50, 60)]]
    assert m.sides_cited([("a", 5, 8)], sides) == (1, 2)
    assert m.sides_cited([("a", 5, 8), ("b", 55, 70)], sides) == (2, 2)  # any occurrence of a side
    assert m.sides_cited([], sides) == (0, 2)
    assert m.sides_cited([("a", 0, 1)], []) == (0, 0)
