"""Documents held as UTF-8 bytes: every cut equals the decoded text's slice."""

from __future__ import annotations

import random

import pytest

from czqa.ingest import documents as documents_module
from czqa.ingest.documents import Document, ingest, sha256_bytes
from czqa.ingest.text import BLOCK, DocumentTexts, Utf8Text

# one-, two-, three- and four-byte characters, and a newline
ALPHABET = ["a", "Z", " ", "\n", "é", "ß", "—", "€", "“", "漢", "😀", "𝔘", "\ufeff"]


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.mark.parametrize("seed", range(6))
def test_cuts_equal_slices_of_the_decoded_text(seed):
    rng = random.Random(seed)
    text = _text(rng, rng.choice([0, 1, 7, BLOCK // 3, BLOCK, 3 * BLOCK + 17]))
    content = Utf8Text(text.encode("utf-8"))
    assert len(content) == len(text)
    assert str(content) == text
    for _ in range(300):
        a, b = sorted(rng.randint(-5, len(text) + 5) for _ in range(2))
        assert content.cut(a, b) == text[a:b]
        assert content[a:b] == text[a:b]
    if text:
        assert content[0] == text[0] and content[-1] == text[-1]
        assert content[::2] == text[::2]


def test_ascii_text_needs_no_index():
    content = Utf8Text(b"plain ascii " * 1000)
    assert content.cut(6, 11) == "ascii" and len(content) == 12000
    assert content._chars_before is None  # nothing computed: characters are bytes


def test_char_and_byte_offsets_differ_after_wide_characters():
    text = "😀" * BLOCK + "The SEC sued Binance."  # the passage starts 4*BLOCK bytes in
    content = Utf8Text(text.encode("utf-8"))
    start = text.index("SEC")
    assert content.cut(start, start + 3) == "SEC" and content.cut(BLOCK - 1, BLOCK + 3) == "😀The"


def test_index_error_as_a_str_would_raise_it():
    with pytest.raises(IndexError):
        Utf8Text.of("ab")[2]


def test_document_texts_cut_and_whole_texts():
    texts = DocumentTexts.from_strings({"a.txt": "Zhao — CEO 😀 of Binance.", "b.txt": "plain"})
    assert texts.cut("a.txt", 0, 4) == "Zhao"
    assert texts["a.txt"] == "Zhao — CEO 😀 of Binance."
    assert sorted(texts) == ["a.txt", "b.txt"] and "b.txt" in texts and "c.txt" not in texts
    assert texts.get("c.txt") is None
    assert DocumentTexts.from_strings(texts) is texts


def test_whole_texts_kept_decoded_within_their_budget():
    texts = DocumentTexts({f"{i}.txt": Utf8Text.of(str(i) * 40) for i in range(5)}, decoded_chars=100)
    for i in range(5):
        assert texts[f"{i}.txt"] == str(i) * 40
    assert list(texts._decoded) == ["3.txt", "4.txt"]  # two of 40 chars fit in 100
    assert texts._decoded_chars == 80


def test_document_takes_text_or_content():
    doc = Document("a.txt", "Café", "h")
    assert doc.text == "Café" and len(doc.content) == 4 and doc.content.data == "Café".encode()
    assert doc == Document("a.txt", sha256="h", content=Utf8Text("Café".encode()))
    with pytest.raises(TypeError):
        Document("a.txt", sha256="h")
    with pytest.raises(TypeError):
        Document("a.txt", "x", "h", content=Utf8Text(b"x"))


def test_known_files_are_not_decoded_again(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("Changpeng Zhao founded Binance in 2017. 😀", encoding="utf-8")
    (tmp_path / "b.txt").write_text("A second file, new since the index was built.", encoding="utf-8")
    decoded = []
    real = documents_module.utf8_bytes
    monkeypatch.setattr(documents_module, "utf8_bytes", lambda data: decoded.append(data) or real(data))
    known = {"a.txt": sha256_bytes((tmp_path / "a.txt").read_bytes())}
    docs, report = ingest(tmp_path, known=known)
    assert [d.source for d in docs] == ["a.txt", "b.txt"] and report.indexed == ["a.txt", "b.txt"]
    assert decoded == [(tmp_path / "b.txt").read_bytes()]  # the indexed file was only hashed
    assert docs[0].text == (tmp_path / "a.txt").read_text(encoding="utf-8")


def test_a_changed_known_file_is_checked_again(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"caf\xe9, not utf-8")  # (\xff\xfe would be a UTF-16 byte-order mark)
    (tmp_path / "b.txt").write_text("Still readable.", encoding="utf-8")
    docs, report = ingest(tmp_path, known={"a.txt": "0" * 64})  # the hash of what was indexed before
    assert [d.source for d in docs] == ["b.txt"]
    assert [(i.path, i.reason) for i in report.refused] == [("a.txt", "not valid UTF-8 text")]
