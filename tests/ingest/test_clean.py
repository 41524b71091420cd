from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from czqa.ingest.clean import clean, visible_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def kept_text(text: str, *, is_html: bool = False) -> str:
    c = clean(text, is_html=is_html)
    return "\n".join(text[s:e] for s, e in c.kept_spans())


def seed(name: str) -> str:
    path = next(SEEDS.glob(name + "*"))
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "prefix, gone",
    [
        ("002", ["Access hundreds of perpetual contracts", "CandyDrop", "Demo Trading", "Hold GT and get massive airdrops"]),
        ("004", ["Cookie", "cookies", "Register Now", "USD-$", "Share Post", "Scan to Download", "Buy Crypto",
                 "195,054,383 users chose us", "Article Outlines", "Reject All", "Privacy Preference Center"]),
        ("003", ["Disclaimer", "Advertisement\n"]),
        ("001", ["Telegram:https://t.me", "Join TechFlow official community"]),
    ],
)
def test_seed_boilerplate_removed(prefix, gone):
    kept = kept_text(seed(prefix))
    for phrase in gone:
        assert phrase not in kept, phrase


@pytest.mark.parametrize(
    "prefix, kept_phrases",
    [
        ("002", ["First Unveiling of the Details in the Zhao Changpeng Case: $4.3 Billion Fine",
                 "The case concluded with Binance paying a $4.35 billion fine", "Release Date: February 26, 2026"]),
        ("004", ["A Letter From Our CEO: My First 100 Days Leading Binance", "more than 178\nmillion registered users",
                 "Products That Deliver Value", "a\nworld-class compliance expert", "That’s Binance’s\nplan for the future."]),
        ("000", ["February 2, 2024", "The Honorable Richard A. Jones", "Dear Judge Jones,", "Changpeng Zhao"]),
        ("003", ["replaced with Richard Teng in November 2023", "CZ denies any Binance stake negotiations"]),
    ],
)
def test_seed_article_text_survives(prefix, kept_phrases):
    kept = kept_text(seed(prefix))
    for phrase in kept_phrases:
        assert phrase in kept, phrase


def test_every_prose_paragraph_of_the_blog_article_survives():
    text = seed("004")
    start = text.index("In politics, a newly elected leader")
    end = text.index("plan for the future.") + len("plan for the future.")
    article_paragraphs = [p for p in text[start:end].split("\n\n") if len(p.split()) > 20]
    kept = kept_text(text)
    for para in article_paragraphs:
        assert para.strip() in kept


SYNTHETIC_PAGE = """[Home](https://example.com/) [News](https://example.com/news) [Sport](https://example.com/sport)

  * [World](https://example.com/world)
  * [Business](https://example.com/business)

Sign Up

# Harbour bridge reopens after two-year repair

The harbour bridge reopened to traffic on Monday after a repair programme that lasted two years and
cost the city 84 million euros, the transport office said in a statement on Sunday evening.

Engineers replaced all 212 suspension cables and resurfaced the deck, according to the office.

Share this

We use cookies to improve your experience. By clicking Accept All you consent to our use of cookies.

Accept All

EUR-€

GBP-£

© 2025 Example News. All rights reserved. [Privacy](https://example.com/privacy) [Terms](https://example.com/terms)
"""


def test_synthetic_page():
    kept = kept_text(SYNTHETIC_PAGE)
    assert "Harbour bridge reopens after two-year repair" in kept
    assert "cost the city 84 million euros" in kept
    assert "Engineers replaced all 212 suspension cables" in kept
    for junk in ["[Home]", "[World]", "Sign Up", "Share this", "cookies", "Accept All", "EUR-€", "All rights reserved"]:
        assert junk not in kept, junk


def test_html_page_offsets_point_into_the_markup():
    page = (
        "<html><head><title>t</title><script>var x = 'hidden text here';</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<h1>Harbour bridge reopens</h1>"
        "<p>The harbour bridge reopened to traffic on Monday after a repair programme that lasted two years &amp; cost 84 million euros.</p>"
        "<footer>© 2025 Example News</footer></body></html>"
    )
    c = clean(page, is_html=True)
    kept = [page[s:e] for s, e in c.kept_spans()]
    joined = " ".join(kept)
    assert "Harbour bridge reopens" in joined
    assert "lasted two years &amp; cost 84 million euros." in joined
    assert "hidden text" not in joined and "Home" not in joined and "Example News" not in joined
    assert "two years & cost" in visible_text(joined, is_html=True)


def test_cleaning_never_rewrites_text():
    text = seed("004")
    for s, e in clean(text).kept_spans():
        assert 0 <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()


def _visible_text_by_patterns(text: str, *, is_html: bool = False) -> str:
    """visible_text as it was written first, every rule a regular-expression substitution: the
    faster version must give exactly the same text (embeddings and BM25 terms depend on it)."""
    import html as html_module

    from czqa.ingest import clean as c

    if is_html:
        text = html_module.unescape(c._TAG.sub(" ", text))
    text = c._IMAGE.sub(" ", text)
    text = c._LINK.sub(r"\1", text)
    text = c._URL.sub(" ", text)
    text = "\n".join(c._MARKDOWN_PREFIX.sub("", line) for line in text.split("\n"))
    text = c._EMPHASIS.sub("", text)
    return " ".join(text.split())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*"ab Z\n\t#*+->_`![]()<>/:.w", "http://", "https://x", "www.", "**", "# ", "- ", "&amp;"]), max_size=40).map("".join))
def test_visible_text_is_the_same_as_the_pattern_version(text):
    for is_html in (False, True):
        assert visible_text(text, is_html=is_html) == _visible_text_by_patterns(text, is_html=is_html)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*" \n#*+->_`![]()<>a", "http://x", "www.", "&gt;", "&#35;", "](y)"]), max_size=30).map("".join))
def test_has_visible_text_is_whether_visible_text_is_empty(text):
    from czqa.ingest.clean import has_visible_text

    for is_html in (False, True):
        assert has_visible_text(text, is_html=is_html) == bool(visible_text(text, is_html=is_html))
