"""The package tree reads as the pipeline: imports flow one way, down it; modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "czqa"

# Lower runs first. A module may import from its own stage or any stage below it, never above.
STAGES = {
    "czqa": 0, "czqa.types": 0, "czqa.errors": 0, "czqa.settings": 0,
    "czqa.ingest": 1, "czqa.embed": 2, "czqa.index": 3, "czqa.retrieve": 4, "czqa.answering": 5,
    "czqa.qa": 6, "czqa.api": 6, "czqa.eval": 7, "czqa.web": 7, "czqa.cli": 8,
}


def stage(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in STAGES:
            return STAGES[".".join(parts[:n])]
    raise KeyError(module)


def modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        yield name, path


def imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("czqa"):
            if node.module == "czqa":
                for alias in node.names:
                    yield f"czqa.{alias.name}" if f"czqa.{alias.name}" in STAGES else "czqa", node.lineno
            else:
                yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("czqa"):
                    yield alias.name, node.lineno


def test_every_module_belongs_to_a_stage():
    for name, _ in modules():
        stage(name)


def test_imports_flow_down_the_pipeline():
    upward = []
    for name, path in modules():
        if name == "czqa":
            continue  # the package's lazy re-exports of the public API
        for target, line in imports(path):
            if stage(target) > stage(name):
                upward.append(f"{path.relative_to(SRC)}:{line} {name} imports {target}")
    assert not upward, "imports that run back up the pipeline:\n" + "\n".join(upward)


FUNCTION_LINES = 80


def test_functions_stay_short():
    """No function past 80 lines: modules are split by role, functions by what their parts do."""
    long = []
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > FUNCTION_LINES:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_functions_stay_simple():
    """ruff's complexity, branch and statement limits (pyproject.toml's [tool.ruff.lint])."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(SRC)],
                       capture_output=True, text=True, cwd=SRC.parents[1], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_answering_is_split_by_role():
    """answering/ reads as its roles (modes/, followup/, reader/, llm/) with a few shared modules
    at its top, not a flat room of modules split by the line cap."""
    top = sorted(p.name for p in (SRC / "answering").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 6, top
    assert {p.name for p in (SRC / "answering").iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        "modes", "followup", "reader", "llm"}


# Names, tickers and places of the bundled seeds: the library must work on any corpus, so none of
# them may steer it, not even as a docstring's example (tests and eval files may use them).
SEED_NAMES = ("Binance", "Changpeng", "Zhao", "Teng", "He Yi", "Ming Yao", "Yao Ming", "MGX", "Xierqi",
              "OKCoin", "OKEX", "Lompoc", "Trump", "BNB", "USDT", "BTC", "Xiaohongshu", "Yiquan", "Christie")


def test_no_corpus_names_in_the_library():
    import re

    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".py", ".js", ".css", ".txt") or "weights" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(SRC)}: {n}" for n in SEED_NAMES if re.search(rf"\b{re.escape(n)}\b", text)]
    assert not found, found
