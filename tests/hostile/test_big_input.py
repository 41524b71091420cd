"""Ordinary big or strange input must not hang indexing or start-up.

The splitter's abbreviation check once re-scanned the text at every period (a 1 MB file took
213 s, 50 MB never finished) and the alias finder's pattern backtracked on one long token (a
40k-character token cost 30 s at every start-up, 1 MB hung). These run each stage on a 1 MB
adversarial text in a child process and only ask that it *finishes* within a generous bound: a
hang guard, not a speed target (speed per MB is measured by bench/ingest_scale.py).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from czqa.retrieve.aliases import AliasTable

MB = 1_000_000
CASES = {
    "one long capitalized token": '"A" * MB',
    "one long token then a definition": '"Q" * MB + " Long Form (LF)"',
    "a run of dots": '"." * MB',
    "a run of exclamation marks": '"Hi" + "!" * MB',
    "periods between initials": '"A. " * (MB // 3)',
    "capitalized words before a parenthesis": '"Abc " * (MB // 8) + "(" * (MB // 8)',
    "white space after a period": '"a." + " " * MB + "b"',
}
# What runs in the child: clean, split and chunk the text (all of indexing but the embedding),
# then build the alias table that every start-up builds.
PROGRAM = textwrap.dedent(
    """
    import sys
    from czqa.index.build import process_document
    from czqa.ingest.documents import Document
    from czqa.retrieve.aliases import AliasTable
    from czqa.settings import ChunkingSettings
    MB = 1_000_000
    text = eval(sys.argv[1])
    name = sys.argv[2] if len(sys.argv) > 2 else "big.txt"
    process_document(Document(source=name, text=text, sha256="0"), ChunkingSettings())
    AliasTable.from_texts([text])
    """
)
HANG_GUARD_S = 120  # each case takes well under 5 s; quadratic code takes hours


# Runs of the characters the cleaner's patterns start with, in the file type that reaches each
# pattern: before the fix, each "[" or "![" scanned to the end of the text, and the HTML parser
# rescanned the rest of the file from each "<" after the last ">" (128 KB of them: 255 s).
MARKUP = {
    "image openers in markdown": ('"![" * (MB // 2)', "big.md"),
    "link openers in text": ('"[" * MB', "big.txt"),
    "links without an end": ('"[x](" * (MB // 4)', "big.md"),
    "unclosed tags in html": ('"<a " * (MB // 3)', "big.html"),
    "unclosed quoted attributes in html": ("'<a x=\"' * (MB // 6)", "big.html"),
    "unclosed comments in html": ('"<!--" * (MB // 4)', "big.html"),
}
ALL = {**{k: (v, "big.txt") for k, v in CASES.items()}, **MARKUP}


@pytest.mark.parametrize("expression, name", ALL.values(), ids=ALL.keys())
def test_a_megabyte_of_adversarial_text_is_processed(expression, name):
    try:
        subprocess.run([sys.executable, "-c", PROGRAM, expression, name], check=True, timeout=HANG_GUARD_S, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"indexing {expression} as {name} did not finish in {HANG_GUARD_S} s")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("AaBbZ (LFW)&.-’' \n"), max_size=300))
def test_aliases_only_name_what_the_text_says(text):
    table = AliasTable.from_texts([text])
    for surface, canonical in table.canonical.items():
        assert surface in text and canonical in text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["Alpha", "Beta", "Gamma", "of", "the", "and", "x"]), min_size=1, max_size=10),
    st.text(alphabet="ABGO", min_size=2, max_size=4),
)
def test_a_definition_long_form_starts_and_ends_with_a_capitalized_word(words, short):
    table = AliasTable.from_texts([" ".join(words) + f" ({short}) is defined."])
    if short in table.canonical:
        long = table.canonical[short].split()
        assert long[0][0].isupper() and long[-1][0].isupper()
