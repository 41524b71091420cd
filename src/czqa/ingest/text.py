"""A document's exact text kept as its UTF-8 bytes, and cut into passages when one is shown.

Why bytes: CPython stores a ``str`` at 1, 2 or 4 bytes per character, whichever its widest
character needs, so one emoji makes a 1 MB file 4 MB in memory; and decoding a whole folder at
start-up was most of a large index's load (8 of 11 s for 853 MB of documents). The file's own
bytes cost what the file costs, and ASCII and UTF-8 files need no decoding to be hashed, counted
or cut. Offsets stay what every czqa offset is: character (code point) positions in the decoded
text, so ``Utf8Text(data)[a:b] == data.decode("utf-8")[a:b]`` for every ``a`` and ``b``.

How a cut finds its bytes: an ASCII file's characters are its bytes. Otherwise every code point
has exactly one lead byte (any byte but ``10xxxxxx``), so the number of lead bytes before each
4 KiB block (:data:`BLOCK`), computed once per document on first use (about 1 ms per MB, 8
bytes per block kept), names the block a character starts in. A cut decodes the blocks holding
its first and last characters and everything between (from the first block's first character
start), and slices the passage from that: its own bytes and at most two blocks more, whatever
the document's size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

BLOCK = 4096  # bytes per entry of a document's character index
DECODED_CHARS = 8_000_000  # whole texts kept decoded by DocumentTexts (the most recently used)


def _leads(data: np.ndarray) -> np.ndarray:
    """Where a character starts: every byte that is not a UTF-8 continuation byte (10xxxxxx)."""
    return (data & 0xC0) != 0x80


class Utf8Text:
    """One document's exact text as UTF-8 bytes: ``len``, slices and ``str`` as the decoded
    text would give them, without holding the decoded text."""

    __slots__ = ("data", "_ascii", "_chars_before", "_length")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._ascii = data.isascii()
        self._chars_before: np.ndarray | None = None  # per block: characters that start before it
        self._length: int | None = len(data) if self._ascii else None

    @classmethod
    def of(cls, text: str) -> Utf8Text:
        """A text given as ``str`` (tests, documents built in code)."""
        made = cls(text.encode("utf-8"))
        made._length = len(text)
        return made

    def _index(self) -> np.ndarray:
        if self._chars_before is None:
            lead = _leads(np.frombuffer(self.data, dtype=np.uint8))
            whole = len(lead) // BLOCK * BLOCK
            per_block = lead[:whole].reshape(-1, BLOCK).sum(axis=1, dtype=np.int64)
            before = np.zeros(len(per_block) + 1, dtype=np.int64)
            np.cumsum(per_block, out=before[1:])
            self._length = int(before[-1]) + int(np.count_nonzero(lead[whole:]))
            self._chars_before = before
        return self._chars_before

    def __len__(self) -> int:
        if self._length is None:
            self._index()
        assert self._length is not None
        return self._length

    def _block(self, char: int) -> int:
        """The block holding character ``char``'s lead byte."""
        return int(np.searchsorted(self._index(), char, side="right")) - 1

    def _aligned(self, position: int) -> int:
        """``position`` moved past continuation bytes to where a character starts (or the end)."""
        data = self.data
        while position < len(data) and data[position] & 0xC0 == 0x80:
            position += 1
        return position

    def cut(self, start: int, end: int) -> str:
        """Characters ``start`` to ``end`` (as a slice of the decoded text would give them): the
        blocks holding them are decoded, from the first one's first character to the end of the
        last one, and the passage sliced from those few kilobytes."""
        start, end, _ = slice(start, end).indices(len(self))
        if end <= start:
            return ""
        if self._ascii:
            return self.data[start:end].decode("ascii")
        first, last = self._block(start), self._block(end - 1)
        chars_before = int(self._index()[first])
        text = self.data[self._aligned(first * BLOCK) : self._aligned((last + 1) * BLOCK)].decode("utf-8")
        return text[start - chars_before : end - chars_before]

    def line(self, char: int) -> int:
        """The 1-based line holding character ``char``, lines ending at ``\\r\\n``, ``\\n`` or a
        lone ``\\r`` (as the page's line index counts them): line breaks counted in the bytes
        before it, after decoding only the block that holds it."""
        char = max(0, min(char, len(self)))
        if self._ascii:
            pos = char
        else:
            block = self._block(char) if char < len(self) else len(self._index()) - 1
            start = self._aligned(block * BLOCK)
            chars_before = int(self._index()[block])
            head = self.data[start : self._aligned((block + 1) * BLOCK)].decode("utf-8")[: char - chars_before]
            pos = start + len(head.encode("utf-8"))
        data = self.data
        breaks = data.count(b"\n", 0, pos) + data.count(b"\r", 0, pos) - data.count(b"\r\n", 0, pos)
        if pos and data[pos - 1 : pos + 1] == b"\r\n":  # between the two bytes of one break
            breaks -= 1
        return breaks + 1

    def __getitem__(self, key: int | slice) -> str:
        if isinstance(key, slice):
            if key.step not in (None, 1):
                return str(self)[key]
            return self.cut(*key.indices(len(self))[:2])
        index = range(len(self))[key]  # IndexError as a str would raise it
        return self.cut(index, index + 1)

    def __str__(self) -> str:
        return self.data.decode("utf-8")

    def __repr__(self) -> str:
        return f"Utf8Text({len(self.data)} bytes)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Utf8Text):
            return self.data == other.data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class DocumentTexts(Mapping[str, str]):
    """Source name → exact text of the documents being served, held as :class:`Utf8Text`.

    ``texts[source]`` is the whole decoded text (for what reads a document as a whole: the
    evaluation's evidence search, the page's titles, the LLM mode's excerpts); the last few are
    kept decoded, up to :data:`DECODED_CHARS` characters. What runs per question cuts instead:
    :meth:`cut` decodes a passage's own bytes only.
    """

    def __init__(self, contents: Mapping[str, Utf8Text] | None = None, *, decoded_chars: int = DECODED_CHARS) -> None:
        self._contents = dict(contents or {})
        self._decoded: OrderedDict[str, str] = OrderedDict()
        self._decoded_chars = 0
        self._budget = decoded_chars
        self._lock = threading.Lock()

    @classmethod
    def from_documents(cls, docs) -> DocumentTexts:
        """From :class:`czqa.ingest.documents.Document` objects (their ``content``)."""
        return cls({d.source: d.content for d in docs})

    @classmethod
    def from_strings(cls, texts: Mapping[str, str]) -> DocumentTexts:
        """From texts given as strings; a :class:`DocumentTexts` is returned as it is."""
        if isinstance(texts, DocumentTexts):
            return texts
        return cls({source: Utf8Text.of(text) for source, text in texts.items()})

    def cut(self, source: str, start: int, end: int) -> str:
        """``self[source][start:end]``, decoding only those characters' bytes."""
        return self._contents[source].cut(start, end)

    def line(self, source: str, char: int) -> int:
        """The 1-based line of ``source`` that holds character ``char``."""
        return self._contents[source].line(char)

    def __getitem__(self, source: str) -> str:
        with self._lock:
            text = self._decoded.get(source)
            if text is not None:
                self._decoded.move_to_end(source)
                return text
        text = str(self._contents[source])
        with self._lock:
            if len(text) <= self._budget and source not in self._decoded:
                self._decoded[source] = text
                self._decoded_chars += len(text)
                while self._decoded_chars > self._budget:
                    _, old = self._decoded.popitem(last=False)
                    self._decoded_chars -= len(old)
        return text

    def __contains__(self, source: object) -> bool:
        return source in self._contents

    def __iter__(self) -> Iterator[str]:
        return iter(self._contents)

    def __len__(self) -> int:
        return len(self._contents)
