"""czqa: offline question answering over a document collection, with exact cited quotes.

``from czqa import answer`` is the whole API for most scripts. Heavy modules (faiss, numpy,
the encoders) load on first use, so ``import czqa`` and the CLI start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

_TYPES = ("Answer", "Citation", "Claim", "ConflictValue", "Delta", "Passage")

__all__ = ["answer", "QA", *_TYPES, "Settings", "__version__"]

if TYPE_CHECKING:
    from czqa.api import answer
    from czqa.types import Answer, Citation, Claim, ConflictValue, Delta, Passage
    from czqa.qa import QA
    from czqa.settings import Settings


def __getattr__(name: str):
    if name == "answer":
        from czqa.api import answer

        return answer
    if name == "QA":
        from czqa.qa import QA

        return QA
    if name in _TYPES:
        from czqa import types

        return getattr(types, name)
    if name == "Settings":
        from czqa.settings import Settings

        return Settings
    raise AttributeError(f"module 'czqa' has no attribute {name!r}")
