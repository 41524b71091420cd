"""Decide which parts of a seed file are content and which are web boilerplate.

Cleaning never rewrites text. It returns *spans* (character offsets into the original file) of
the content that should be indexed; whatever is quoted later is cut from the original text at
those offsets. That is what keeps every citation exact.

The rules are general, in the spirit of jusText's block classification, not per-file fixes:

1. Split the file into *units*: a hard-wrapped paragraph (markdown exported at ~80 columns) is
   one unit, otherwise each line is; HTML files give one unit per block element.
2. Mark a unit **bad** when it is link-dominated (navigation, link lists), image-only, cookie or
   consent text, a disclaimer or advertisement marker, a short call to action ("Register Now",
   "Sign Up", "Share Post").
3. Mark it **good** when it reads like prose: 15+ words, or 8+ words ending like a sentence.
4. Everything else is **short** (headings, titles, dates, address lines), and so is a short line
   repeated elsewhere in the file (banners, outlines): it cannot stand on its own. A short unit is kept only
   when it sits next to good content with nothing bad in between: within two units of it, or,
   in a small group of short lines (a letter's address block), within 200 characters of it.
   Long runs of short lines are menus; only the two lines nearest the content (its title) stay.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

Kind = Literal["good", "short", "bad"]

GOOD_MIN_WORDS = 15
GOOD_MIN_WORDS_SENTENCE = 8
HEADING_UNITS = 2
HEADER_RUN_MAX_UNITS = 8
HEADER_MAX_CHARS = 200
REPEAT_MAX_WORDS = 15
CTA_MAX_WORDS = 12
WRAP_MIN_WIDTH = 40
WRAP_MAX_WIDTH = 120

# Each inner class also excludes its own opening character, so a failed match attempt stops at
# the next place a match could start: scanning stays linear in long runs of "![", "[", "(" or
# "<" (with "[^\]]*" every "[" of a run scanned to the end of the text: quadratic, a 128 KB
# upload took 255 s). A bracket inside link text ("[a [b] c](u)") now keeps its outer part.
_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_TAG = re.compile(r"<[^<>]+>")
_MARKDOWN_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|[*+-]\s+|>\s+)")
_EMPHASIS = re.compile(r"[*_`]+")
_WORD = re.compile(r"[^\W\d_]{2,}")
_TERMINAL = re.compile(r"[.!?:;…][\"'”’)\]]*\s*$")

_COOKIE = re.compile(
    r"\bcookies?\b|privacy preference|manage consent|consent preferences|\bstrictly necessary\b",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"\bdisclaimer\b|for informational purposes only|\bnot liable\b|conduct your own research"
    r"|do your own research|^\s*advertisement\s*$|^\s*sponsored\s*$",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(
    r"\b(?:register now|sign ?up|log ?in|sign ?in|subscribe|download(?: the)? app|scan to download"
    r"|share (?:post|this|article)|follow us|read more|learn more|get started|join (?:now|us)"
    r"|allow all|reject all|accept all|confirm my choices|back to top|stay tuned)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Unit:
    """A paragraph or line of a file, with its classification and the reason for it."""

    start: int
    end: int
    kind: Kind
    reason: str
    heading: bool = False


@dataclass(frozen=True)
class Region:
    """A run of kept units with no dropped text between them: chunks never cross regions."""

    start: int
    end: int
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class Cleaned:
    """The result of cleaning one file: kept regions, and every unit for inspection."""

    regions: tuple[Region, ...]
    units: tuple[Unit, ...]

    def kept_spans(self) -> list[tuple[int, int]]:
        return [(u.start, u.end) for r in self.regions for u in r.units]


def visible_text(text: str, *, is_html: bool = False) -> str:
    """The words a reader sees: markdown images, link targets, URLs, tags and emphasis removed.

    Used for classification, embedding and BM25; never for quotes.
    """
    if is_html:
        text = html.unescape(_TAG.sub(" ", text))
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    if "http" in text or "www." in text:  # the only ways a URL starts: skip a scan of every character
        text = _URL.sub(" ", text)
    # The same as _MARKDOWN_PREFIX.sub on each line (it can only match at a line's start) and
    # _EMPHASIS.sub("", text), without trying a pattern at every character: a 1 MB file took
    # 0.1 s here, which every start-up paid once per document.
    text = "\n".join(line[m.end() :] if (m := _MARKDOWN_PREFIX.match(line)) else line for line in text.split("\n"))
    for mark in "*_`":
        text = text.replace(mark, "")
    return " ".join(text.split())


# After images, links and URLs are gone, a character outside this set survives every other rule
# of visible_text (markdown line prefixes, emphasis marks and white space are all it drops).
_SURVIVES = re.compile(r"[^\s#*+\->_`]")
_RUN = re.compile(r"\S+")


def has_visible_text(text: str, *, is_html: bool = False) -> bool:
    """``bool(visible_text(text))``, without building the text: a document is checked once per
    start-up, and splitting a large file into words only to see that there are some cost seconds."""
    rest = html.unescape(_TAG.sub(" ", text)) if is_html else text
    rest = _LINK.sub(r"\1", _IMAGE.sub(" ", rest))
    for run in _RUN.finditer(rest):  # a URL lies inside one run of non-space: each run alone
        word = run.group()
        if _SURVIVES.search(_URL.sub(" ", word) if "http" in word or "www." in word else word):
            return True  # usually the first word: the rest of the file is never scanned
    return bool(visible_text(text, is_html=is_html))  # only marks left: the exact rule decides


def _link_words(text: str) -> int:
    return sum(len(_WORD.findall(m.group(1))) for m in _LINK.finditer(text))


# --------------------------------------------------------------------------- units


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, pos + len(body)))
        pos += len(line)
    return out


def _is_wrapped(text: str, block: list[tuple[int, int]]) -> bool:
    """True for a hard-wrapped paragraph: most lines fill a typical terminal width.

    Exported markdown wraps at ~80 columns but breaks early around long link targets, so only
    most lines (not all) need to be near the widest, and most lines end mid-sentence (a stack of
    titles does not). Files whose lines are whole paragraphs (hundreds of characters) are never
    taken for wrapped text.
    """
    if len(block) < 2:
        return False
    widths = [len(text[s:e].rstrip()) for s, e in block]
    widest = max(widths)
    if not WRAP_MIN_WIDTH <= widest <= WRAP_MAX_WIDTH:
        return False
    inner = [text[s:e] for s, e in block[:-1]]
    full = sum(w >= 0.5 * widest for w in widths[:-1])
    ended = sum(bool(_TERMINAL.search(line)) for line in inner)
    return full >= 0.7 * len(inner) and ended <= 0.5 * len(inner)


def _text_units(text: str) -> list[tuple[int, int]]:
    """Units of a plain-text or markdown file: wrapped paragraphs whole, other lines alone."""
    units: list[tuple[int, int]] = []
    block: list[tuple[int, int]] = []
    for start, end in _lines(text) + [(len(text), len(text))]:
        if text[start:end].strip():
            block.append((start, end))
            continue
        if block:
            if _is_wrapped(text, block):
                units.append((block[0][0], block[-1][1]))
            else:
                units.extend(block)
            block = []
    return units


_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "td", "th",
    "section", "article", "blockquote", "pre", "table", "dd", "dt", "figcaption", "main", "body",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg",
              "button", "select", "template", "head", "title"}  # fmt: skip


class _HtmlUnits(HTMLParser):
    """Collects one unit per block element: from its first text character to its last."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [s for s, _ in _lines(text)] or [0]
        self.units: list[tuple[int, int]] = []
        self.current: list[int] | None = None
        self.skip_depth = 0

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _flush(self) -> None:
        if self.current:
            self.units.append((self.current[0], self.current[1]))
        self.current = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
        if tag in _BLOCK_TAGS or tag in _SKIP_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self.skip_depth:
            self.skip_depth -= 1
        if tag in _BLOCK_TAGS or tag in _SKIP_TAGS:
            self._flush()

    def _text(self, raw: str, at: int | None = None) -> None:
        if self.skip_depth or not raw.strip():
            return
        at = self._offset() if at is None else at
        start = at + (len(raw) - len(raw.lstrip()))
        end = at + len(raw.rstrip())
        if self.current is None:
            self.current = [start, end]
        else:
            self.current[1] = end

    def handle_data(self, data: str) -> None:
        self._text(data)

    def handle_entityref(self, name: str) -> None:
        self._text(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._text(f"&#{name};")


def _html_units(text: str) -> list[tuple[int, int]]:
    """One span per block of visible text.

    Markup after the file's last ">" can never complete (every tag, comment and declaration ends
    with one), yet the standard parser rescans the rest of the text from each "<" of it: a run of
    "<a " after the last ">" made parsing quadratic (16k of them: 20 s). That tail is text, so it
    is handed over as text; everything up to the last ">" parses in linear time.
    """
    parser = _HtmlUnits(text)
    cut = text.rfind(">") + 1
    parser.feed(text[:cut])
    parser.close()
    if cut < len(text):
        parser._text(text[cut:], at=cut)
    parser._flush()
    return parser.units


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span past surrounding white space and a leading markdown marker."""
    segment = text[start:end]
    m = _MARKDOWN_PREFIX.match(segment)
    lead = m.end() if m else len(segment) - len(segment.lstrip())
    trail = len(segment) - len(segment.rstrip())
    return start + lead, max(start + lead, end - trail)


# ------------------------------------------------------------------- classification


def _classify(raw: str, vis: str, *, repeated: bool) -> tuple[Kind, str]:
    words = _WORD.findall(vis)
    if not vis:
        return "bad", "no visible text"
    if _COOKIE.search(vis):
        return "bad", "cookie or consent text"
    if _DISCLAIMER.search(vis):
        return "bad", "disclaimer or advertisement"
    if len(words) <= CTA_MAX_WORDS and _CALL_TO_ACTION.search(vis):
        return "bad", "call to action"
    link_words = _link_words(raw)
    if link_words and len(words) - link_words < 4 and link_words >= len(words) / 2:
        return "bad", "links only"
    if words and len(_URL.sub("", raw).split()) <= 2 and _URL.search(raw):
        return "bad", "links only"
    if repeated and len(words) < REPEAT_MAX_WORDS:
        return "short", "repeated line"
    if len(words) >= GOOD_MIN_WORDS:
        return "good", "prose"
    if len(words) >= GOOD_MIN_WORDS_SENTENCE and _TERMINAL.search(vis):
        return "good", "sentence"
    return "short", "short line"


def _keep_short(units: list[Unit], vis_len: list[int]) -> list[bool]:
    """Which short units stay: headings and header lines next to good content."""
    n = len(units)
    keep = [u.kind == "good" for u in units]
    i = 0
    while i < n:
        if units[i].kind != "short":
            i += 1
            continue
        j = i
        while j < n and units[j].kind == "short":
            j += 1
        run = range(i, j)  # units[i:j] are short; units[i-1] and units[j] are not
        good_before = i > 0 and units[i - 1].kind == "good"
        good_after = j < n and units[j].kind == "good"
        small = len(run) <= HEADER_RUN_MAX_UNITS
        for k in run:
            near = False
            if good_before:
                between = range(i, k)
                near |= len(between) < HEADING_UNITS or (
                    small and sum(vis_len[b] for b in between) <= HEADER_MAX_CHARS
                )
            if good_after:
                between = range(k + 1, j)
                near |= len(between) < HEADING_UNITS or (
                    small and sum(vis_len[b] for b in between) <= HEADER_MAX_CHARS
                )
            keep[k] = near
        i = j
    return keep


def clean(text: str, *, is_html: bool = False) -> Cleaned:
    """Classify every unit of ``text`` and group the kept ones into regions."""
    spans = _html_units(text) if is_html else _text_units(text)
    raws = [text[s:e] for s, e in spans]
    vis = [visible_text(r, is_html=is_html) for r in raws]
    counts: dict[str, int] = {}
    for v in vis:
        key = v.casefold()
        counts[key] = counts.get(key, 0) + 1

    units: list[Unit] = []
    for (s, e), raw, v in zip(spans, raws, vis):
        heading = raw.lstrip().startswith("#")
        kind, reason = _classify(raw, v, repeated=counts[v.casefold()] > 1)
        ts, te = _trim(text, s, e)
        units.append(Unit(ts, te, kind, reason, heading))

    keep = _keep_short(units, [len(v) for v in vis])
    units = [
        u if keep[i] or u.kind != "short" else Unit(u.start, u.end, "bad", "short, away from content")
        for i, u in enumerate(units)
    ]
    # A repeated long unit (a title printed twice) is indexed once.
    seen: set[str] = set()
    regions: list[Region] = []
    current: list[Unit] = []
    for i, u in enumerate(units):
        key = vis[i].casefold()
        if keep[i] and u.end > u.start and key not in seen:
            seen.add(key)
            current.append(u)
            continue
        if keep[i] and key in seen:
            units[i] = Unit(u.start, u.end, "bad", "duplicate of earlier text")
        if current:
            regions.append(Region(current[0].start, current[-1].end, tuple(current)))
            current = []
    if current:
        regions.append(Region(current[0].start, current[-1].end, tuple(current)))
    return Cleaned(regions=tuple(regions), units=tuple(units))
