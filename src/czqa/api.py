"""``czqa.answer``: one call for scripts, backed by a shared, lazily loaded :class:`QA`."""

from __future__ import annotations

import threading

from czqa.types import Answer
from czqa.qa import QA

_default: QA | None = None
_lock = threading.Lock()


def default_qa() -> QA:
    """The process-wide QA over the default settings (environment variables apply)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = QA()
    return _default


def answer(question: str, *, top_k: int | None = None, mode: str | None = None) -> Answer:
    """Answer a question about the documents in the seeds folder, with exact cited quotes.

    ``mode`` None is the default answer mode (the first of ``czqa.qa.available_modes()``, the
    trained reader), the same one the CLI and the page use. The index is loaded once per process
    and reused; safe to call from several threads.
    """
    return default_qa().answer(question, top_k=top_k, mode=mode)
