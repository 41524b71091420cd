"""czqa's own written questions load with exact spans; hard negatives are the passages retrieval
ranks first that do not answer; training takes both into its mix."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from czqa.answering.reader.examples import QAExample, AnswerSpan, load_written
from czqa.answering.reader.hard_negatives import cached_mine, mine
from doubles import HashingEncoder

WRITTEN = Path(__file__).resolve().parents[2] / "fixtures" / "written-qa"


def test_written_questions_load_with_their_contexts_and_exact_spans(caplog):
    rows = {ex.id: ex for ex in load_written(WRITTEN)}
    # an unknown context, and an answer its offset does not hold ("40 days" is nowhere), are dropped
    assert sorted(rows) == ["b00q0000", "b00q0001", "b00q0002", "b00q0003"]
    bridge = rows["b00q0000"]
    assert bridge.answers[0].text == "Dorman Long" and bridge.context[bridge.answers[0].start:bridge.answers[0].end] == "Dorman Long"
    assert not rows["b00q0001"].answerable and rows["b00q0001"].context.startswith("The Harbour Bridge")
    assert rows["b00q0003"].answers[0].text == "30 days"  # a wrong offset is repaired from the text
    assert all(ex.source.startswith("written:") for ex in rows.values())
    assert "2 written questions dropped" in caplog.text


def _article(n: int) -> list[QAExample]:
    passages = [
        "Mira Talvik founded the Quenford Lantern Festival in 1987 in the old harbour.",
        "The Quenford Lantern Festival moved to the market square in 1999, led by Oskar Lind.",
        "Lanterns at the festival are blown from recycled glass by local artisans.",
        "The harbour of Quenford freezes in January, when the ferries stop.",
    ]
    question = QAExample(id=f"q{n}", question="Who founded the Quenford Lantern Festival?", context=passages[0],
                         answers=(AnswerSpan(start=0, end=11, text="Mira Talvik"),), source="wiki.json", document="Quenford")
    others = [QAExample(id=f"o{i}", question="What freezes?", context=p, source="wiki.json", document="Quenford",
                        answers=()) for i, p in enumerate(passages[1:])]
    return [question, *others]


def test_a_hard_negative_is_the_best_ranked_passage_without_the_answer():
    mined = mine(_article(0), HashingEncoder(), rng=random.Random(0), rate=1.0)
    assert len(mined) == 1
    neg = mined[0]
    assert neg.id == "q0#hard" and not neg.answerable and neg.question == "Who founded the Quenford Lantern Festival?"
    # the passage about the same festival (not the frozen harbour) is the tempting one
    assert neg.context.startswith("The Quenford Lantern Festival moved")
    # an article with too few passages gives none: there is nothing for retrieval to confuse
    assert mine(_article(0)[:3], HashingEncoder(), rng=random.Random(0), rate=1.0) == []


def test_mined_pairs_are_cached_and_reused(tmp_path):
    calls = []

    def factory():
        calls.append(1)
        return HashingEncoder()

    first = cached_mine(_article(0), cache_dir=tmp_path, seed=1, rate=1.0, encoder_factory=factory)
    again = cached_mine(_article(0), cache_dir=tmp_path, seed=1, rate=1.0, encoder_factory=factory)
    assert first == again and len(calls) == 1


def test_training_takes_written_questions_into_its_mix_and_runs_for_its_passes(tmp_path):
    pytest.importorskip("torch")
    from czqa.answering.reader.train import TrainConfig, build_mix, total_steps

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "qa-formats"
    base = dict(data_dir=fixtures, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache", batch_size=4)
    plain = build_mix(TrainConfig(**base))
    written = build_mix(TrainConfig(**base, written_dir=WRITTEN, written_weight=3))
    assert len(written) >= len(plain) + 3 * 4  # four written questions, three times each, a window or more each
    cfg = TrainConfig(**base, epochs=2.5)
    assert total_steps(cfg, 40) == 25 and total_steps(TrainConfig(**base, max_steps=7), 40) == 7
