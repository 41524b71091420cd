"""Answer modes do not depend on import order: every built-in mode is listed, the reader first."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import {first}
from czqa.answering.modes.registry import modes
from czqa.qa import available_modes
from czqa.settings import Settings
print(",".join(modes()))
print(available_modes(Settings())[0])
"""


@pytest.mark.parametrize("first", ["czqa.answering.modes.extractive", "czqa.answering.modes.llm", "czqa.answering.modes.reader",
                                   "czqa.answering.modes.registry", "czqa"])
def test_importing_any_mode_first_lists_every_mode_with_the_reader_as_default(first):
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(first=first)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    listed, default = out.stdout.split()
    assert listed == "reader,extractive,llm" and default == "reader"


def test_a_plug_in_mode_follows_the_built_ins_and_says_what_it_is():
    from czqa.answering.modes.registry import ModeSpec, _MODES, modes, register

    spec = register(ModeSpec(name="echo-test", description="repeats the question", factory=lambda corpus: None, generative=True))
    try:
        assert list(modes())[-1] == "echo-test" and list(modes())[:3] == ["reader", "extractive", "llm"]
        assert modes()["echo-test"].generative and modes()["llm"].generative and not modes()["reader"].generative
    finally:
        _MODES.pop(spec.name)
