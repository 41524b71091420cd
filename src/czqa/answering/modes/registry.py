"""The ``Answerer`` plug-in point: answer modes by name.

An answer mode is one module that registers a :class:`ModeSpec`: a name, a one-line description,
a check that says why the mode cannot run here (or None), and a factory that builds its
:class:`Answerer` from the loaded index. ``czqa ask --mode``, ``answer(mode=...)`` and the chat
page's mode control all list :func:`available_modes`, so a new mode appears everywhere by
registering itself, with no edits elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: importing this module loads no index code
    import numpy as np

    from czqa.index.store import IndexData
    from czqa.ingest.text import DocumentTexts
    from czqa.retrieve.aliases import AliasTable
    from czqa.retrieve.retriever import Hit
    from czqa.settings import Settings
    from czqa.types import Answer, Delta, Passage


# Chunks retrieved for an answerer to consider: more than are shown (top_k), so a reader or a
# sentence scorer can look a little deeper than the passages listed.
CANDIDATE_CHUNKS = 8


@dataclass(frozen=True)
class Query:
    """What retrieval hands an answerer: the question, its vector, the ranked candidate chunks
    (more than are shown) and the passages shown to the user."""

    question: str
    vector: np.ndarray
    hits: list[Hit]
    passages: list[Passage]


@dataclass
class Corpus:
    """The loaded index and documents an answerer reads from (built once per ``QA``)."""

    data: IndexData
    texts: DocumentTexts  # source -> original text, what citations are cut from (a dict of str is converted)
    aliases: AliasTable
    settings: Settings
    fallback: Callable[[Query], Answer] | None = field(default=None)

    def __post_init__(self) -> None:
        from czqa.ingest.text import DocumentTexts

        self.texts = DocumentTexts.from_strings(self.texts)


@runtime_checkable
class Answerer(Protocol):
    """Turns retrieved passages into an :class:`Answer` with exact citations, or declines."""

    mode: str

    def answer(self, query: Query) -> Answer: ...

    def stream(self, query: Query) -> Iterator[Delta | Answer]:
        """Deltas while the reply is produced (generative modes), then the final Answer."""
        ...


@dataclass(frozen=True)
class ModeSpec:
    """A registered answer mode: its name, a one-line description, its factory, and why it cannot run here (None when it can)."""

    name: str
    description: str
    factory: Callable[[Corpus], Answerer]
    unavailable: Callable[[Settings], str | None] = lambda settings: None
    generative: bool = False  # writes new text (checked against quotes) rather than quoting spans


_MODES: dict[str, ModeSpec] = {}

#: The built-in modes, in the order they are listed; the first available one is the default.
#: Each module registers its mode when imported; a plug-in mode registers itself and follows.
BUILTIN = {
    "reader": "czqa.answering.modes.reader",
    "extractive": "czqa.answering.modes.extractive",
    "llm": "czqa.answering.modes.llm",
}
_builtin_loaded = False


def register(spec: ModeSpec) -> ModeSpec:
    _MODES[spec.name] = spec
    return spec


def _load_builtin() -> None:
    global _builtin_loaded
    import importlib

    for module in BUILTIN.values():
        importlib.import_module(module)
    _builtin_loaded = True


def modes() -> dict[str, ModeSpec]:
    """Every registered mode: the built-ins in :data:`BUILTIN`'s order, then plug-ins. The
    built-ins are always loaded first, so which module was imported first changes nothing (it
    used to: importing one mode's module first made it the only mode, and the default)."""
    if not _builtin_loaded:
        _load_builtin()
    ordered = {name: _MODES[name] for name in BUILTIN if name in _MODES}
    ordered.update((name, spec) for name, spec in _MODES.items() if name not in ordered)
    return ordered


def available_modes(settings: Settings) -> tuple[str, ...]:
    """The modes usable in this installation, default first (cheap: nothing is loaded)."""
    return tuple(name for name, spec in modes().items() if spec.unavailable(settings) is None)


def single_answer(answerer: Answerer, query: Query) -> Iterator[Delta | Answer]:
    """``stream`` for answerers that have nothing to stream."""
    yield answerer.answer(query)
