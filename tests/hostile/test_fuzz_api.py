"""A short run of the API fuzz (bench/fuzz.py runs 4,000): any input to ``QA.answer`` ends in an
Answer or a CzqaError, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from czqa.errors import CzqaError
from czqa.types import Answer

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
QUESTIONS = st.one_of(TEXT, st.integers(), st.none(), st.binary(max_size=8), st.lists(st.text(max_size=3), max_size=2),
                      st.sampled_from(["\ud800", "\x00", "   ", "a" * 5000, "Who founded Binance?"]))
TOP_K = st.one_of(st.none(), st.integers(-3, 60), st.text(max_size=3), st.floats(allow_nan=True), st.booleans())
MODES = st.one_of(st.none(), st.sampled_from(["reader", "extractive", "poetry", "", "READER"]), TEXT)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(QUESTIONS, TOP_K, MODES)
def test_any_input_is_an_answer_or_a_clear_error(qa, question, top_k, mode):
    if mode == "llm":
        return
    try:
        result = qa.answer(question, top_k=top_k, mode=mode)
    except CzqaError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert isinstance(result, Answer)
