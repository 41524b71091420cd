"""The built wheel is the product: installed on its own, outside the repository, it answers and
finds its prompts (before, the prompts lived only beside the source tree, so the LLM mode of an
installed czqa could not start)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from this checkout and unpacked into a folder of its own (no deps: the
    test interpreter already has them; what is tested is the package's own files)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(out.glob("czqa-*.whl"))
    target = out / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "HF_HUB_OFFLINE": "1", "CZQA_AUTO_BUILD": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_wheel_carries_what_runs(installed):
    names = {p.relative_to(installed).as_posix() for p in installed.rglob("*") if p.is_file()}
    assert {"czqa/answering/llm/prompts/system.v1.txt", "czqa/answering/llm/prompts/answer.v1.txt",
            "czqa/answering/reader/weights/reader.safetensors", "czqa/answering/reader/weights/reader.json",
            "czqa/web/style.css", "czqa/web/page.js", "czqa/web/templates/answer.html", "czqa/web/templates/sources.html"} <= names


def test_the_installed_package_answers_and_loads_its_prompts(installed, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    where = _run(installed, tmp_path, "-c", "import czqa; print(czqa.__file__)")
    assert where.stdout.strip().startswith(str(installed)), where.stdout + where.stderr  # not the checkout's source
    ask = _run(installed, tmp_path, "-m", "czqa.cli", "ask", "--seeds", str(docs), "--index", str(tmp_path / "index"),
               "Who replaced Changpeng Zhao as Binance's CEO?")
    assert ask.returncode == 0, ask.stderr[-2000:]
    assert "Richard Teng" in ask.stdout
    prompts = _run(installed, tmp_path, "-c",
                   "from czqa.settings import Settings; from czqa.answering.llm.prompting import load_templates; "
                   "llm = Settings().llm; t = load_templates(llm.prompts_dir, llm.prompt_version); "
                   "print(llm.prompts_dir); print(len(t.system))")
    assert prompts.returncode == 0, prompts.stderr[-2000:]
    folder, size = prompts.stdout.split()
    assert folder.startswith(str(installed)) and int(size) > 100
