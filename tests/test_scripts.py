"""The scripts beside the package (eval/, bench/) stay runnable: each parses, and each that takes
options prints its usage. They are run by hand, months apart, so nothing else would notice a
script broken by a bad merge (eval/collect_reader_signals.py once held two docstrings run
together and did not parse)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("eval/*.py"), *ROOT.glob("bench/*.py")])


def test_there_are_scripts():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_parses_and_says_how_to_use_it(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    assert ast.get_docstring(tree), f"{path.name} says what it is for"
    if "argparse" not in source:
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "0"}
    r = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("usage:")
