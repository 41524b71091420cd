"""Settings that used to slip through or end in a traceback: each is one line naming the variable.

Before: ``CZQA_INGEST__MAX_FILE_MB=inf`` raised OverflowError at ingestion; a NaN threshold and
an overlap as large as the chunk were accepted; an empty ``CZQA_SEEDS`` indexed the current
folder; ``Settings(...)`` with a bad value raised pydantic's raw ValidationError from the API.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from czqa.errors import SettingsError
from czqa.settings import Settings, load_settings


@pytest.mark.parametrize("variable, value, said", [
    ("CZQA_INGEST__MAX_FILE_MB", "inf", "finite number"),
    ("CZQA_INGEST__MAX_FILE_MB", "1e300", "less than or equal"),
    ("CZQA_ABSTAIN_THRESHOLD", "nan", "finite number"),
    ("CZQA_READER__THRESHOLD", "NaN", "finite number"),
    ("CZQA_WEB__MAX_UPLOAD_MB", "inf", "finite number"),
    ("CZQA_SEEDS", "", "empty path"),
    ("CZQA_INDEX", "  ", "empty path"),
    ("CZQA_CHUNKING__OVERLAP_TOKENS", "160", "must be below max_tokens"),
])
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch, variable, value, said):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert said in message and "\n" not in message
    assert variable.split("__")[0] in message


def test_the_api_raises_czqas_error_not_pydantics():
    with pytest.raises(SettingsError, match="CZQA_TOP_K=0"):
        Settings(top_k=0)
    with pytest.raises(SettingsError, match="empty path"):
        Settings(seeds_dir="")
    with pytest.raises(ValueError):  # still a ValueError for callers that catch that
        Settings(abstain_threshold=float("nan"))


def test_the_cli_refuses_an_empty_seeds_folder_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "czqa.cli", "index", "--seeds", ""], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "empty path" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "embeddings").exists()
