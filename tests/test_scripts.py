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


def _script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "eval" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_reader_soup_is_the_weighted_mean_of_the_two_readers(tmp_path):
    import json

    import numpy as np
    from safetensors.numpy import load_file, save_file

    soup = _script("soup_reader").soup
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, value in ((first, 1.0), (second, 3.0)):
        folder.mkdir()
        save_file({"layer.weight": np.full((2, 3), value, dtype=np.float16)}, str(folder / "reader.safetensors"))
        (folder / "reader.json").write_text(json.dumps({"max_length": 256, "decision": {"threshold": value}}))
    out = soup(first, second, alpha=0.25, out=tmp_path / "soup", int8=False)
    mixed = load_file(str(out / "reader.safetensors"))["layer.weight"]
    assert mixed.dtype == np.float16 and np.allclose(mixed, 1.5)
    meta = json.loads((out / "reader.json").read_text())
    assert meta["decision"] == {"threshold": 3.0} and meta["soup"]["alpha"] == 0.25
    save_file({"other.weight": np.zeros((2, 3), dtype=np.float16)}, str(second / "reader.safetensors"))
    with pytest.raises(SystemExit, match="same tensors"):
        soup(first, second, alpha=0.5, out=tmp_path / "bad", int8=False)


def test_reader_calibration_scores_the_seeds_dev_split_as_czqa_eval_does():
    """An answerable question is right when answered with a span holding its answer; an
    unanswerable one when declined; the cap declines at most the allowed share of answerable ones."""
    cal = _script("calibrate_reader")
    rows = [  # windows: (margin, answerable, coverage, span, could answer, evidence)
        (["Tokyo"], [(3.0, 0.0, 0.0, "in Tokyo", True, 0.0), (1.0, 0.0, 0.0, "Shanghai", True, 0.0)]),
        (["1987"], [(-1.0, 0.0, 0.0, "1990", True, 0.0), (-2.0, 0.0, 0.0, "1987", True, 1.0)]),
        ([], [(0.5, 0.0, 0.0, "a guess", True, 0.0), (9.0, 0.0, 0.0, "CEO", False, 0.0)]),  # "CEO" cannot answer
    ]
    assert cal.seeds_dev_accuracy(rows, 0.0, 0.0, 0.0, 0.0) == 100.0 / 3  # Tokyo right; 1990 declined; guess answered
    assert cal.seeds_dev_accuracy(rows, 0.0, 0.0, 0.0, 1.0) == 200.0 / 3  # the guess is now declined
    assert cal.seeds_dev_accuracy(rows, 0.0, 0.0, 4.0, -5.0) == 200.0 / 3  # evidence picks the 1987 window
    cap, auc = cal.seeds_dev_figures(rows, 0.0, 0.0, 0.0, 0.0)
    assert cap == -1.0 and auc == 0.5  # no answerable question may fall below: the lowest one's confidence


def test_calibration_rows_survive_a_rewritten_decision_but_not_other_windows():
    """``--write`` rewrites ``reader.json``'s decision; the rows read before stay valid (re-reading
    1,200 questions costs minutes), while another window size or precision must read again."""
    key = _script("calibrate_reader").rows_key
    config = {"max_length": 256, "stride": 96, "decision": {"threshold": -0.5}}
    rewritten = {**config, "decision": {"threshold": 2.0, "evidence_weight": 4.0}}
    assert key(config, "abc", "int8", ["q1"]) == key(rewritten, "abc", "int8", ["q1"])
    assert key(config, "abc", "int8", ["q1"]) != key({**config, "max_length": 384}, "abc", "int8", ["q1"])
    assert key(config, "abc", "int8", ["q1"]) != key(config, "abc", "fp32", ["q1"])
    assert key(config, "abc", "int8", ["q1"]) != key(config, "abd", "int8", ["q1"])
