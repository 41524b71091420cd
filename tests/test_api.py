"""``czqa.answer`` and the package's lazy exports: the API scripts use."""

from __future__ import annotations

import czqa
import czqa.api


def test_the_public_types_import_from_the_package():
    from czqa import Answer, Citation, Claim, ConflictValue, Delta, Passage  # noqa: F401

    assert czqa.Answer is czqa.types.Answer
    assert set(czqa.__all__) >= {"answer", "QA", "Answer", "Citation", "Settings"}


class RecordingQA:
    """Stands in for the shared QA and records how ``answer()`` called it."""

    def __init__(self):
        self.calls = []

    def answer(self, question, *, top_k=None, mode=None):
        self.calls.append((question, top_k, mode))
        return "answered"


def test_answer_uses_the_default_mode_like_the_cli_and_the_page(monkeypatch):
    fake = RecordingQA()
    monkeypatch.setattr(czqa.api, "_default", fake)
    assert czqa.answer("Who founded it?") == "answered"
    assert fake.calls == [("Who founded it?", None, None)]
    czqa.answer("Who founded it?", top_k=3, mode="extractive")
    assert fake.calls[-1] == ("Who founded it?", 3, "extractive")
