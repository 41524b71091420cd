"""BLAS on one thread while questions are answered, restored when the last one is done."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from czqa.embed.threads import blas_threads, one_blas_thread

pytest.importorskip("threadpoolctl")


def test_one_thread_inside_and_what_was_there_after():
    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    before = blas_threads()
    assert before
    with one_blas_thread():
        assert set(blas_threads()) == {1}
        with one_blas_thread():  # nested (a reader inside a question)
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}  # still inside the outer one
    assert blas_threads() == before


def test_questions_on_several_threads_share_the_scope():
    before = blas_threads()
    inside, leave = threading.Event(), threading.Event()
    seen = []

    def question():
        with one_blas_thread():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=question)
    t.start()
    inside.wait(5)
    with one_blas_thread():
        pass  # a second question ends first: the first is still inside
    seen.append(blas_threads())
    leave.set()
    t.join(5)
    assert set(seen[0]) == {1} and blas_threads() == before


def test_every_answer_is_computed_on_one_blas_thread(qa, monkeypatch):
    from czqa.answering.reader.model import Reader

    seen = []
    logits = Reader.logits
    monkeypatch.setattr(Reader, "logits", lambda self, batch: seen.append(blas_threads()) or logits(self, batch))
    before = blas_threads()
    qa.answer("When was Binance founded?", mode="reader")
    assert seen and all(set(s) == {1} for s in seen) and blas_threads() == before


def test_a_question_on_a_worker_thread_after_one_on_the_main_thread(qa, monkeypatch):
    """The chat page answers on worker threads. threadpoolctl lets only the thread that first set
    OpenBLAS's count set it again; uncleared, a worker's limit silently did nothing (and its
    windows, read side by side on BLAS's two threads each, took twice as long)."""
    from czqa.answering.reader.model import Reader

    seen = []
    logits = Reader.logits
    monkeypatch.setattr(Reader, "logits", lambda self, batch: seen.append(blas_threads()) or logits(self, batch))
    qa.answer("When was Binance founded?", mode="reader")
    worker = threading.Thread(target=lambda: qa.answer("Who replaced Changpeng Zhao as Binance's CEO?", mode="reader"))
    worker.start()
    worker.join(60)
    assert len(seen) == 2 and all(set(s) == {1} for s in seen)
