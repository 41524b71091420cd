"""Typed settings: CZQA_* variables (nested with __), .env, one-line errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from czqa.errors import SettingsError
from czqa.settings import Settings, load_settings


def test_environment_and_nested_groups(monkeypatch, tmp_path):
    monkeypatch.setenv("CZQA_TOP_K", "7")
    monkeypatch.setenv("CZQA_SEEDS", str(tmp_path))
    monkeypatch.setenv("CZQA_LLM__MAX_TOKENS", "64")
    monkeypatch.setenv("CZQA_READER__PASSAGES", "3")
    s = load_settings()
    assert (s.top_k, s.seeds_dir, s.llm.max_tokens, s.reader.passages) == (7, tmp_path, 64, 3)


def test_keyword_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("CZQA_TOP_K", "7")
    assert load_settings(top_k=3).top_k == 3
    assert load_settings(top_k=None).top_k == 7


def test_dotenv_file_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CZQA_TOP_K=9\n")
    assert Settings().top_k == 9


@pytest.mark.parametrize(
    "var, value, expected",
    [("CZQA_TOP_K", "abc", "whole number"), ("CZQA_AUTO_BUILD", "maybe", "true or false"), ("CZQA_LLM__TEMPERATURE", "hot", "number"),
     ("CZQA_TOP_K", "0", "greater than or equal to 1")],
)
def test_bad_value_names_the_variable(monkeypatch, var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{var}={value!r}") and expected in message and "\n" not in message


def test_cli_bad_environment_is_one_line_and_exit_2():
    env = {"CZQA_TOP_K": "abc", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "czqa.cli", "ask", "x"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "CZQA_TOP_K" in proc.stderr and "Traceback" not in proc.stderr


def test_a_path_the_file_system_cannot_hold_is_a_settings_error():
    import pytest

    from czqa.errors import SettingsError
    from czqa.settings import load_settings

    with pytest.raises(SettingsError, match="too long for the file system") as info:
        load_settings(index_dir=Path("a" * 300))
    assert "PosixPath" not in str(info.value) and "='aaa" in str(info.value)
    with pytest.raises(SettingsError, match="NUL"):
        load_settings(seeds_dir="docs\x00x")
