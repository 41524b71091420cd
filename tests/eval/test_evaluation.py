"""Loading the question file, scoring answers and aggregating: hand-computed cases for the
arithmetic, and a real run over the committed index for the runner."""

import json

import pytest

from czqa.errors import EvalSetError
from czqa.eval.evaluation import (
    QuestionScore,
    aggregate,
    by_type,
    evaluate,
    failure_groups,
    load_qa,
    select_split,
)

TENG = "However, he was forced to step down from the CEO position at Binance and was replaced with Richard Teng"


def rec(id, question, answers, evidence=(), type="factoid", split="test"):
    return {"id": id, "question": question, "answers": list(answers),
            "evidence": [{"file": f, "quote": q} for f, q in evidence], "type": type, "split": split}


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def qs(**kw) -> QuestionScore:
    base = dict(id="x", type="factoid", split="test", question="?", expected=["a"], answerable=True, reply="",
                prediction="", abstained=False, correct=False, contains=False, exact_match=0.0, f1=0.0,
                gold_rank=None, citations=0, citations_valid=0, supported=None, conflict_flagged=False,
                confidence=0.5, seconds=0.0, failure=None)
    return QuestionScore(**{**base, **kw})


# --- load_qa / select_split ---------------------------------------------------------------------


def test_load_qa_reads_records_and_skips_blank_lines(tmp_path):
    p = write_jsonl(tmp_path / "qa.jsonl", [rec("a", "Who?", ["X"]), "", rec("b", "Why?", [], type="unanswerable")])
    records = load_qa(p)
    assert [r.id for r in records] == ["a", "b"]
    assert records[0].answerable and not records[1].answerable


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([rec("a", "Who?", ["X"]), "{not json"], "qa.jsonl:2: "),
        ([rec("a", "Who?", ["X"], type="trivia")], "qa.jsonl:1: type"),
        ([rec("a", "Who?", ["X"], split="train")], "qa.jsonl:1: split"),
        ([rec("a", "Who?", [], type="factoid")], "qa.jsonl:1: type 'unanswerable' must go with answers == []"),
        ([rec("a", "Who?", ["X"]), rec("a", "Again?", ["Y"])], "qa.jsonl:2: duplicate id 'a' (first on line 1)"),
        ([{"id": "a", "question": "Who?"}], "qa.jsonl:1: answers: Field required"),
        ([""], "holds no questions"),
    ],
)
def test_load_qa_errors_name_the_line(tmp_path, rows, message):
    p = write_jsonl(tmp_path / "qa.jsonl", rows)
    with pytest.raises(EvalSetError) as exc:
        load_qa(p)
    assert message in str(exc.value)


def test_load_qa_missing_file(tmp_path):
    with pytest.raises(EvalSetError, match="Question file not found"):
        load_qa(tmp_path / "nope.jsonl")


def test_select_split(tmp_path):
    records = load_qa(write_jsonl(tmp_path / "qa.jsonl", [rec("a", "Who?", ["X"], split="dev"), rec("b", "Who?", ["Y"])]))
    assert [r.id for r in select_split(records, "dev")] == ["a"]
    assert [r.id for r in select_split(records, "all")] == ["a", "b"]
    with pytest.raises(EvalSetError, match="No questions in the 'test' split"):
        select_split(records[:1], "test")
    with pytest.raises(EvalSetError, match="Unknown split"):
        select_split(records, "train")


# --- aggregate (hand-computed) ------------------------------------------------------------------------


def test_aggregate_hand_computed():
    scores = [
        qs(id="A", correct=True, contains=True, gold_rank=1, f1=1.0, exact_match=1.0, citations=2, citations_valid=2,
           supported=True, seconds=0.1),
        qs(id="B", gold_rank=3, f1=0.5, citations=1, citations_valid=1, supported=False, seconds=0.3,
           failure="wrong_not_quoted"),
        qs(id="C", abstained=True, seconds=0.2, failure="declined_not_retrieved"),
        qs(id="D", type="unanswerable", expected=[], answerable=False, contains=None, exact_match=None, f1=None,
           citations=1, citations_valid=0, seconds=0.4, failure="answered_unanswerable"),
    ]
    s = aggregate(scores)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (4, 3, 1)
    assert s["accuracy"] == 25.0
    assert s["answer_accuracy"] == 33.3
    assert s["exact_match"] == 33.3
    assert s["token_f1"] == 50.0  # (1 + 0.5 + 0) / 3
    assert s["hit@1"] == 33.3 and s["hit@5"] == 66.7
    assert s["mrr"] == 0.444  # (1 + 1/3 + 0) / 3
    assert s["abstention_accuracy"] == 0.0
    assert s["false_abstention_rate"] == 33.3
    assert s["citation_validity"] == 75.0  # 3 of 4 citations
    assert s["citation_support"] == 50.0  # A and B answered, A supported
    assert s["conflict_all_sides_cited"] is None  # no conflict questions
    assert s["latency_p50_ms"] == 200.0 and s["latency_p95_ms"] == 400.0
    types = by_type(scores)
    assert list(types) == ["factoid", "unanswerable"]
    assert types["factoid"]["questions"] == 3 and types["factoid"]["accuracy"] == 33.3
    assert types["unanswerable"]["hit@5"] is None and types["unanswerable"]["declined"] == 0.0
    groups = failure_groups(scores)
    assert [len(g) for g in groups.values()] == [1, 1, 1]
    assert list(groups)[0] == "answered_unanswerable"  # ties keep FAILURE_GROUPS order


def test_aggregate_all_abstained_and_no_unanswerables():
    s = aggregate([qs(abstained=True), qs(abstained=True, gold_rank=2)])
    assert s["answer_accuracy"] == 0.0  # a decline counts as wrong
    assert s["false_abstention_rate"] == 100.0
    assert s["abstention_accuracy"] is None  # no unanswerable questions: not applicable, not 0 or 100
    assert s["citation_validity"] is None  # no citations at all
    assert s["citation_support"] is None  # nothing answered
    assert s["hit@5"] == 50.0


def test_aggregate_conflict_sides():
    s = aggregate([qs(type="conflict", sides=2, sides_cited=2, conflict_flagged=True),
                   qs(type="conflict", sides=3, sides_cited=1)])
    assert s["conflict_all_sides_cited"] == 50.0
    assert s["conflict_side_recall"] == 66.7  # (1 + 1/3) / 2
    assert s["conflict_flagged"] == 50.0


def test_aggregate_empty():
    s = aggregate([])
    assert s["questions"] == 0
    assert all(v is None for k, v in s.items() if k not in ("questions", "answerable", "unanswerable", "replies_replaced", "claims_removed"))
    assert s["replies_replaced"] == 0 and s["claims_removed"] == 0
    assert by_type([]) == {}


# --- a real run -----------------------------------------------------------------------------------------


def test_evaluate_scores_real_answers(qa, tmp_path):
    rows = [
        rec("right", "Who replaced Changpeng Zhao as Binance's CEO?", ["Richard Teng"],
            [("003_a6700be50d59b7d1.txt", TENG)], type="person"),
        rec("wrong-expectation", "Who replaced Changpeng Zhao as Binance's CEO?", ["Satoshi Nakamoto"],
            [("003_a6700be50d59b7d1.txt", TENG)], type="person"),
        rec("absent", "What is the boiling point of mercury?", [], type="unanswerable"),
    ]
    records = load_qa(write_jsonl(tmp_path / "qa.jsonl", rows))
    run = evaluate(qa, records, top_k=3, split="all")
    by_id = {q.id: q for q in run.questions}
    right, wrong, absent = by_id["right"], by_id["wrong-expectation"], by_id["absent"]
    assert right.correct and right.contains and right.failure is None
    assert right.gold_rank is not None and right.supported
    assert right.f1 > 0 and right.citations == right.citations_valid >= 1
    assert not wrong.correct and wrong.failure == "wrong_quoted"  # quoted the evidence, answer not the gold
    assert wrong.f1 == 0.0
    assert absent.correct and absent.abstained and absent.f1 is None and absent.failure is None
    assert run.top_k == 3 and run.summary["questions"] == 3
    assert run.summary["citation_validity"] == 100.0
    assert all(q.seconds > 0 for q in run.questions)


def test_evaluate_rejects_evidence_not_in_the_seeds(qa, tmp_path):
    records = load_qa(write_jsonl(tmp_path / "qa.jsonl", [
        rec("bad", "Who?", ["X"], [("003_a6700be50d59b7d1.txt", "a sentence nobody wrote")])]))
    with pytest.raises(EvalSetError, match="bad: evidence quote not found verbatim"):
        evaluate(qa, records)
    records = load_qa(write_jsonl(tmp_path / "qa.jsonl", [rec("bad", "Who?", ["X"], [("nope.txt", "x")])]))
    with pytest.raises(EvalSetError, match="'nope.txt' is not among the seed documents"):
        evaluate(qa, records)
