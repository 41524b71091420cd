"""A document's citation name from the name the operating system gives its file.

File names are bytes on POSIX systems, and nothing makes them printable: a name may not be
UTF-8 at all (Python hands those bytes over as lone surrogates, which cannot be written to JSON,
an index table or the terminal: one such file stopped ``czqa index``, ``ask`` and ``serve``), may
hold a newline (which fakes a citation line in the terminal), an escape sequence (which reaches
the terminal raw), a right-to-left override (``x\u202etxt.png`` shows as ``xgnp.txt``), or may
differ from another name only in Unicode normalisation (two files shown as one).

:func:`citation_name` turns such a name into text that is safe everywhere and still says which
file it is: each byte that is not UTF-8 as ``\\xNN``, each character that does not print as
itself (controls, invisible formatting, spaces other than the plain one, such as a no-break
space that makes ``a b.txt`` look like ``a b.txt``) as ``\\xNN``/``\\uNNNN``, and, in a name that is not in composed (NFC) form, each
combining mark as ``\\uNNNN``. An ordinary name is returned unchanged. The file is still read
under its real name: ingestion keeps the pair.
"""

from __future__ import annotations

import unicodedata

__all__ = ["citation_name"]


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def citation_name(name: str) -> str:
    """``name`` (as ``os.fsdecode`` gives it) as printable, unambiguous text (see the module doc)."""
    if name.isprintable() and name.isascii():
        return name
    raw = name.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "surrogateescape")  # undecodable bytes stay lone surrogates
    composed = unicodedata.is_normalized("NFC", "".join(ch for ch in text if not _surrogate(ch)))
    out = []
    for ch in text:
        code = ord(ch)
        if _surrogate(ch):  # a byte that is not UTF-8 (surrogateescape maps it to U+DC80..U+DCFF)
            out.append(f"\\x{code & 0xFF:02x}")
        elif not ch.isprintable():  # controls, invisible formatting, unassigned, and spaces other than " "
            out.append(_escape(ch))
        elif not composed and unicodedata.combining(ch):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def _surrogate(ch: str) -> bool:
    return 0xD800 <= ord(ch) <= 0xDFFF
