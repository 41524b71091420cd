"""The page's per-document titles and line indexes are made when a reply needs them, not all at start."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from czqa.web import sources as sources_module
from czqa.web.folder import folder_info
from czqa.web.sources import TITLE_SCAN_CHARS, describe_sources

HEADING = "Binance Founder Pardoned By The President\n\n"
PROSE = "Changpeng Zhao, who founded the exchange in 2017, was released in September. " * 40 + "\n\n"


class CountingTexts(Mapping[str, str]):
    """Texts that count how often each one is read."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts, self.reads = texts, []

    def __getitem__(self, source: str) -> str:
        self.reads.append(source)
        return self.texts[source]

    def __contains__(self, source: object) -> bool:
        return source in self.texts

    def __iter__(self):
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


def _texts(n: int) -> CountingTexts:
    return CountingTexts({f"{i:03d}.txt": f"Story Number {i} About The Exchange\n\n" + PROSE for i in range(n)})


def test_nothing_is_read_until_a_source_is_asked_for():
    texts = _texts(10)
    sources = describe_sources(texts)
    assert texts.reads == [] and len(sources) == 10 and "003.txt" in sources and "x.txt" not in sources
    assert sources["003.txt"].title == "Story Number 3 About The Exchange"
    assert sources["003.txt"].line(len("Story Number 3 About The Exchange\n\n")) == 3
    assert texts.reads == ["003.txt"]  # made once, kept
    assert sources.get("x.txt") is None


def test_only_the_latest_sources_are_kept():
    texts = _texts(5)
    sources = sources_module.SourceMap(texts, keep=2)
    for name in ["000.txt", "001.txt", "002.txt", "000.txt"]:
        sources[name]
    assert texts.reads == ["000.txt", "001.txt", "002.txt", "000.txt"]  # 000 was dropped for 002


def test_title_is_looked_for_at_the_start_only(monkeypatch):
    cleaned = []
    real = sources_module.clean
    monkeypatch.setattr(sources_module, "clean", lambda text, **kw: cleaned.append(len(text)) or real(text, **kw))
    text = HEADING + PROSE * 200  # about 1.2 MB
    info = describe_sources({"big.txt": text})["big.txt"]
    assert info.title == HEADING.strip()
    assert cleaned == [TITLE_SCAN_CHARS] and info.text == text and info.line(len(text)) == text.count("\n") + 1


def test_the_folder_description_reads_four_titles(tmp_path: Path):
    texts = _texts(12)
    info = folder_info(tmp_path, describe_sources(texts))
    assert texts.reads == ["000.txt", "001.txt", "002.txt", "003.txt"]
    assert "12 documents" in info.description and "and 8 more" in info.description
    assert "Story Number 0 About The Exchange" in info.description
