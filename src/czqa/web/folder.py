"""How the chat page presents a documents folder: its title, description and example questions.

Library code knows nothing about any particular corpus. A folder may carry a ``czqa.toml``::

    title = "Ask the documents"
    description = "Questions about …, answered only from these documents."
    examples = ["Who …?", { question = "Where did he …?", label = "…then a follow-up" }]

Without one, the page is titled after the folder and described by the documents' own titles.
A malformed file is reported as a clear error naming it, never silently ignored.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from czqa.errors import SettingsError
from czqa.ingest.documents import FOLDER_FILE
from czqa.web.sources import SourceInfo



class Example(BaseModel):
    """An example question the page offers, with an optional label shown instead of the question."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(min_length=1)
    label: str | None = None


class FolderInfo(BaseModel):
    """What the page shows about the folder it serves."""

    model_config = ConfigDict(frozen=True)

    title: str = "Ask the documents"
    description: str = ""
    examples: list[Example] = Field(default_factory=list)


def folder_info(folder: Path, sources: Mapping[str, SourceInfo]) -> FolderInfo:
    """The folder's ``czqa.toml`` if it has one, else a description derived from its documents."""
    path = folder / FOLDER_FILE
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            raw["examples"] = [e if isinstance(e, dict) else {"question": e} for e in raw.get("examples", [])]
            info = FolderInfo.model_validate(raw)
        except (tomllib.TOMLDecodeError, ValidationError, UnicodeDecodeError, TypeError) as exc:
            raise SettingsError(f"{path}: not a valid czqa folder file ({str(exc).splitlines()[0]})") from None
        if info.description:
            return info
        return info.model_copy(update={"description": _derived(folder, sources)})
    return FolderInfo(title=f"Ask the documents in {folder.name}", description=_derived(folder, sources))


def _derived(folder: Path, sources: Mapping[str, SourceInfo]) -> str:
    n = len(sources)
    labels = [sources[name].label for name in itertools.islice(sources, 4)]  # not every document's title
    shown = "; ".join(labels) + (f"; and {n - 4} more" if n > 4 else "")
    return (
        f"Answers come only from the {n} document{'s' if n != 1 else ''} in {folder.name}"
        + (f" ({shown})" if shown else "")
        + ": every answer is an exact, cited quote, and when the documents don't say, the page says so."
    )
