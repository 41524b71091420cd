"""The README's commands are the ones that run: CI runs its test command, its main command serves the page."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines if line.startswith("python3 -m venv .venv && ")]


def test_ci_runs_exactly_the_readmes_test_command():
    main, tests = _commands()[:2]
    assert tests.endswith("&& .venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == tests
    assert "export CZQA_REQUIRE_BROWSER=1" in ci


def test_readmes_main_command_opens_the_chat_page():
    main = _commands()[0]
    assert main.endswith("&& .venv/bin/czqa serve")
    assert "http://127.0.0.1:7860" in (ROOT / "README.md").read_text()
