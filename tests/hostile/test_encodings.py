"""Text as Windows and other tools save it: UTF-16 with a byte-order mark, CRLF line endings.

UTF-16 text used to be refused as "binary" (its NUL bytes); and the README's own check,
``original_text[start:end] == quote``, failed on a CRLF file read the default way. Offsets count
characters of the file's text as ``open(path, encoding=..., newline="")`` reads it.
"""

from __future__ import annotations

import codecs

import pytest

from czqa.ingest.documents import decode_text, ingest
from czqa.qa import QA
from czqa.settings import Settings
from doubles import HashingEncoder

TEXT = "Quenford Lantern Festival\r\n\r\nThe festival began in 1987.\r\nIt was founded by Mira Talvik, a glassblower.\r\n"


@pytest.mark.parametrize("codec, bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                        ("utf-32-le", codecs.BOM_UTF32_LE)])
def test_utf16_and_utf32_with_a_byte_order_mark_are_text(codec, bom):
    assert decode_text(bom + TEXT.encode(codec)) == TEXT
    assert decode_text(TEXT.encode("utf-16-le")) is None  # no mark: binary, not guessed at


def _qa(folder, tmp_path):
    enc = HashingEncoder()
    return QA(Settings(seeds_dir=folder, index_dir=tmp_path / "index"), query_encoder=enc, build_encoder=enc)


@pytest.mark.parametrize("name, data, codec", [
    ("windows.txt", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    ("crlf.txt", TEXT.encode("utf-8"), "utf-8"),
])
def test_quotes_satisfy_the_documented_offset_check(tmp_path, name, data, codec):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_bytes(data)
    docs, report = ingest(folder)
    assert [d.source for d in docs] == [name] and not report.refused
    answer = _qa(folder, tmp_path).answer("Who founded the festival?", mode="extractive")
    assert answer.claims
    with open(folder / name, encoding=codec, newline="") as f:  # the README's check
        original_text = f.read()
    for claim in answer.claims:
        for c in claim.citations:
            assert original_text[c.start:c.end] == c.quote
    # an unchanged file is taken from the manifest's hash on the next start, still as text
    again = _qa(folder, tmp_path).answer("Who founded the festival?", mode="extractive")
    assert [c.quote for cl in again.claims for c in cl.citations] == [c.quote for cl in answer.claims for c in cl.citations]
