"""One conversation turn of the chat page, free of Gradio so it can be tested in-process.

:meth:`ChatSession.respond` is the page's whole behaviour for a submitted message: check the
input, then run the conversation service (:meth:`czqa.qa.QA.conversation`: a follow-up is
resolved against the earlier turns and its rewrite searched only when it helps), stream the reply (provisional text first when the
answer mode generates it), then replace it with the verified Answer and fill the Sources panel.
It yields complete screen states, which the Gradio layer hands to its components unchanged.
Chat messages are plain ``{"role", "content"}`` dicts with HTML content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from czqa.errors import CzqaError, InvalidQuestion, SettingsError
from czqa.answering.followup.resolver import Resolution, Turn
from czqa.types import Answer, Delta
from czqa.index.build import BuildReport
from czqa.qa import QA, available_modes
from czqa.web.folder import FolderInfo, folder_info
from czqa.web.render import (
    render_answer,
    render_notice,
    render_searching,
    render_sources,
    render_streaming,
    render_user,
)
from czqa.web.sources import SourceInfo, describe_sources

log = logging.getLogger(__name__)

Message = dict  # {"role": "user" | "assistant", "content": str (HTML)}


@dataclass(frozen=True)
class Screen:
    """Everything one step of a reply changes on the page."""

    messages: list[Message]
    sources_html: str | None  # None: leave the Sources panel as it is
    turns: list[Turn]
    textbox: str
    answer: Answer | None = None
    resolution: Resolution | None = None


@dataclass
class ChatSession:
    """The page's logic over one loaded :class:`QA`, shared by every visitor (it keeps no per-user state)."""

    qa: QA
    sources: Mapping[str, SourceInfo] = field(default_factory=dict)
    folder: FolderInfo = field(default_factory=FolderInfo)

    @classmethod
    def start(cls, qa: QA) -> "ChatSession":
        """Load the index now (not on the first message) and read the documents' titles."""
        qa.warm_up()
        sources = describe_sources(qa.texts)
        return cls(qa=qa, sources=sources, folder=folder_info(qa.settings.seeds_dir, sources))

    def refresh(self) -> BuildReport:
        """Re-read the documents folder (a file was added or removed from the page) and show the
        result: the QA answers from the new index, and the Sources panel knows the new titles.

        Serialized by :meth:`QA.refresh`; the titles are swapped in one assignment after it, so
        a reply in flight renders with either the old map or the new one, never a half-built one.
        """
        report = self.qa.refresh()
        self.sources = describe_sources(self.qa.texts)
        try:  # the header's count and titles follow the folder too
            self.folder = folder_info(self.qa.settings.seeds_dir, self.sources)
        except SettingsError as exc:  # czqa.toml broken since the start: keep what the page shows
            log.warning("%s", exc)
        return report

    def empty_sources(self) -> str:
        return render_sources(None, sources=self.sources)

    def respond(
        self, message: str | None, history: list[Message] | None, turns: list[Turn] | None, mode: str | None
    ) -> Iterator[Screen]:
        """Yield the page's states while answering ``message``; the last one is final.

        The conversation logic is :meth:`czqa.qa.QA.conversation`'s; the page only turns its
        events into screens (it keeps the turns per visitor, in the page's state)."""
        history = list(history or [])
        turns = list(turns or [])
        mode = mode or available_modes(self.qa.settings)[0]
        sources = self.sources  # one titles map per reply, even if a refresh swaps it meanwhile
        text = message if isinstance(message, str) else ""
        try:
            self.qa.validate(text)
        except InvalidQuestion as exc:
            # Keep a too-long question in the box so it can be shortened; clear an empty one.
            yield Screen(
                messages=[*history, {"role": "assistant", "content": render_notice(str(exc))}],
                sources_html=None,
                turns=turns,
                textbox=text if text.strip() else "",
            )
            return
        user = {"role": "user", "content": render_user(text)}
        resolution = Resolution(asked=text, resolved=text)
        streamed = ""
        try:
            conversation = self.qa.conversation(mode=mode, turns=turns)
            for event in conversation.stream(text):
                if isinstance(event, Resolution):  # what is searched: first the reading, then the choice
                    resolution = event
                    yield Screen(
                        messages=[*history, user, {"role": "assistant", "content": render_searching(resolution=resolution)}],
                        sources_html=render_sources(None, sources=sources, resolution=resolution),
                        turns=turns, textbox="", resolution=resolution,
                    )
                elif isinstance(event, Delta):
                    streamed += event.text
                    yield Screen(
                        messages=[*history, user, {"role": "assistant", "content": render_streaming(streamed, resolution=resolution)}],
                        sources_html=render_sources(None, sources=sources, resolution=resolution),
                        turns=turns, textbox="", resolution=resolution,
                    )
                else:
                    reply = {"role": "assistant", "content": render_answer(event, sources=sources, resolution=resolution)}
                    yield Screen(
                        messages=[*history, user, reply],
                        sources_html=render_sources(event, sources=sources, resolution=resolution),
                        turns=list(conversation.turns), textbox="", answer=event, resolution=resolution,
                    )
        except CzqaError as exc:
            yield self._failed(history, user, turns, str(exc), resolution)
        except Exception:  # a page must answer with a message, never hang or show a traceback
            log.exception("answering %r failed", resolution.resolved)
            yield self._failed(
                history, user, turns, "Something went wrong while answering; please try again.", resolution
            )

    def _failed(self, history, user, turns, message: str, resolution: Resolution) -> Screen:
        return Screen(
            messages=[*history, user, {"role": "assistant", "content": render_notice(message)}],
            sources_html=render_sources(None, sources=self.sources, resolution=resolution),
            turns=turns,
            textbox="",
            resolution=resolution,
        )
