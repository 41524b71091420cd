"""The training-data loader: every public format becomes one QAExample type, labels checked."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from czqa.answering.reader.examples import VALIDATION_FILE, load_file, training_files
from czqa.answering.reader.features import training_windows, windows
from czqa.answering.reader.negatives import other_passages, perturb_question

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qa-formats"


def _all(name):
    return list(load_file(FIXTURES / name))


def test_validation_file_is_never_a_training_file():
    names = [p.name for p in training_files(FIXTURES)]
    assert VALIDATION_FILE not in names
    assert "squad_v2_tiny.json" in names


@pytest.mark.parametrize(
    "name, answerable, unanswerable",
    [
        ("squad_v2_tiny.json", 3, 1),
        ("mrqa_tiny.jsonl.gz", 1, 0),
        ("subjqa_electronics_tiny.csv", 1, 1),
        ("qed_dev_tiny.jsonl", 1, 0),
        ("qed_train_tiny.jsonl", 1, 0),
        ("molweni_tiny.json", 1, 1),
    ],
)
def test_each_format_loads_with_exact_spans(name, answerable, unanswerable):
    examples = _all(name)
    assert sum(e.answerable for e in examples) == answerable
    assert sum(not e.answerable for e in examples) == unanswerable
    for e in examples:
        for a in e.answers:
            assert e.context[a.start : a.end] == a.text


def test_subjqa_marker_token_is_not_part_of_the_context():
    for e in _all("subjqa_electronics_tiny.csv"):
        assert "ANSWERNOTFOUND" not in e.context


def test_misplaced_offset_is_repaired_from_the_answer_text(tmp_path):
    import json

    ctx = "Alpha beta gamma. The capital is Velm."
    data = {"data": [{"title": "t", "paragraphs": [{"context": ctx, "qas": [
        {"id": "x", "question": "What is the capital?", "answers": [{"text": "Velm", "answer_start": 3}]}]}]}]}
    path = tmp_path / "squad_off.json"
    path.write_text(json.dumps(data))
    (ex,) = load_file(path)
    assert ex.answers[0].start == ctx.index("Velm")


def test_unknown_format_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match="not a known QA data format"):
        load_file(path)


def test_windows_label_the_answer_tokens():
    ex = _all("squad_v2_tiny.json")[0]
    (w,) = training_windows(ex, random.Random(0), max_length=256, stride=96, negative_rate=0.0)
    a = ex.answers[0]
    assert w.start > 0 and w.offsets[w.start, 0] == a.start and w.offsets[w.end, 1] == a.end


def test_long_context_is_windowed_and_answerless_windows_are_negatives():
    ex = _all("squad_v2_tiny.json")[0]
    long = ex.model_copy(update={"context": ex.context + " Filler sentence about nothing." * 80})
    ws = windows(long.question, long.context, max_length=64, stride=16)
    assert len(ws) > 3
    out = training_windows(long, random.Random(1), max_length=64, stride=16, negative_rate=1.0)
    assert [w.start > 0 for w in out] == [True, False]


def test_look_alike_negatives_are_unanswerable_and_differ():
    from czqa.answering.reader.examples import AnswerSpan, QAExample

    ctx = "In 1987 Mira Talvik founded the festival in Quenford. In 1990 Oskar Lind opened the first museum in Velm."
    ex = QAExample(id="p", question="What did Mira Talvik found in 1987?", context=ctx, source="t",
                   answers=(AnswerSpan(start=ctx.index("the festival"), end=ctx.index("the festival") + 12, text="the festival"),))
    rng = random.Random(3)
    made = [perturb_question(ex, rng) for _ in range(5)]
    made = [m for m in made if m is not None]
    assert made and all(not m.answerable and m.question != ex.question for m in made)


def test_other_passage_negatives_hold_none_of_the_answers():
    examples = _all("squad_v2_tiny.json")
    negs = list(other_passages(examples, random.Random(0), rate=1.0))
    assert negs
    for n in negs:
        original = next(e for e in examples if e.id + "#other" == n.id)
        assert not n.answerable and n.context != original.context
        assert not any(a.text in n.context for a in original.answers)


def test_negation_and_key_word_swaps_make_grammatical_unanswerable_twins():
    from czqa.answering.reader.examples import AnswerSpan, QAExample
    from czqa.answering.reader.negatives import question_words

    ctx = "In 1987 Mira Talvik founded the festival in Quenford. The festival drew a crowd of 4,000."
    ex = QAExample(id="p", question="When did Mira Talvik found the festival?", context=ctx, source="t",
                   answers=(AnswerSpan(start=3, end=7, text="1987"),))
    other = QAExample(id="o", question="Who painted the mural in the harbour?", context="x", source="t", answers=())
    vocabulary = question_words([ex, other])
    assert "mural" in vocabulary and "harbour" in vocabulary and "who" not in vocabulary
    negated = perturb_question(ex, random.Random(0), kinds=("negation",))
    assert negated is not None and negated.question == "When didn't Mira Talvik found the festival?"
    assert not negated.answerable and negated.id == "p#swap"
    swapped = perturb_question(ex, random.Random(0), kinds=("keyword",), vocabulary=vocabulary)
    assert swapped is not None and not swapped.answerable
    # the word the question shared with its context ("festival") is gone, replaced by one the context never uses
    assert "festival" not in swapped.question and swapped.question.startswith("When did Mira Talvik found the ")
    new_word = swapped.question.removeprefix("When did Mira Talvik found the ").rstrip("?")
    assert new_word in {"mural", "harbour"} and new_word not in ctx.lower()
    # without a vocabulary, or with only stage-1 kinds, nothing of the kind is made
    assert perturb_question(ex, random.Random(0), kinds=("keyword",)) is None
    assert perturb_question(ex.model_copy(update={"question": "Who?"}), random.Random(0), kinds=("negation",)) is None
