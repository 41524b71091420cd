"""What the ``czqa`` command prints: document text made safe for a terminal and for JSON."""

from __future__ import annotations

import sys

# Characters from documents that a terminal would act on instead of showing: C0 and C1 controls
# (ESC starts colour, cursor and title sequences; CR overwrites the line) and the bidirectional
# overrides that make text read differently from what it is. Newlines and tabs stay.
_UNSAFE = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)]}
_UNSAFE |= {c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_UNSAFE[0x0D] = "\\r"


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on written out visibly (ESC as
    ``\\x1b``): quotes come from documents, and a document must not recolour, retitle or
    rewrite the user's terminal. A CRLF line ending is just a line ending."""
    return text.replace("\r\n", "\n").translate(_UNSAFE)


def json_safe(text: str) -> str:
    """JSON text with the C1 controls and bidirectional overrides escaped as ``\\uXXXX`` too
    (JSON already escapes the C0 ones): the same data, nothing a terminal acts on."""
    return "".join(f"\\u{ord(c):04x}" if ord(c) in _UNSAFE else c for c in text)


def say(text: str = "", *, end: str = "\n", file=None) -> None:
    print(terminal_safe(text), end=end, file=file or sys.stdout, flush=True)
