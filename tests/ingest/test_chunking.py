from pathlib import Path

from hypothesis import given, settings, strategies as st

from czqa.index.build import process_document
from czqa.ingest.chunking import fit_pieces, pack_chunks
from czqa.ingest.clean import clean
from czqa.ingest.documents import Document, ingest
from czqa.embed.encoder import count_wordpieces
from czqa.ingest.sentences import Sentence, split_sentences
from czqa.settings import ChunkingSettings
from czqa.ingest.tokens import count_tokens

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

WORDS = st.sampled_from(
    ["Binance", "paid", "a", "$4.3", "billion", "fine.", "U.S.", "Mr.", "Zhao", "said:", "“Let", "me", "try", "again.”",
     "[link](https://example.com/x)", "cookies", "Register Now", "—", "2024", "the", "court", "and", "?", "Sign Up",
     "résumé", "漢字", "\u00a0", "e.g.", "Dr.", "A.", "Jones"]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "\r\n", "\n  * ", "\n# ", "  "])


@st.composite
def documents(draw):
    parts = draw(st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=400))
    return "".join(w + s for w, s in parts)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_offsets_always_point_at_the_original_text(text):
    doc = Document(source="x.md", text=text, sha256="0")
    cleaned = clean(text)
    for region in split_sentences(text, cleaned):
        prev_end = -1
        for s in region:
            assert 0 <= s.start < s.end <= len(text)
            assert s.start >= prev_end
            prev_end = s.end
    chunks, sentences = process_document(doc, ChunkingSettings(max_tokens=40, overlap_tokens=10))
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert count_wordpieces(c.embed_text) <= 256
    for s in sentences:
        assert 0 <= s.start < s.end <= len(text)


def test_seed_chunks_fit_the_model_window_and_overlap():
    docs, _ = ingest(SEEDS)
    for doc in docs:
        chunks, sentences = process_document(doc, ChunkingSettings())
        assert chunks, doc.source
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            assert count_wordpieces(c.embed_text) <= 256
            assert count_tokens(c.embed_text) <= 160
        # Neighbouring chunks of one region overlap (share trailing sentences).
        overlaps = sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end)
        assert overlaps >= 1 or len(chunks) == 1


def test_an_overlong_sentence_is_split_not_truncated():
    words = [f"word{i}" for i in range(900)]
    text = " ".join(words) + "."
    pieces = fit_pieces(
        text, [Sentence(0, len(text))], max_tokens=160, max_wordpieces=256, tokens=count_tokens, wordpieces=count_wordpieces
    )
    assert len(pieces) > 1
    assert all(count_wordpieces(p.embed_text) <= 256 and count_tokens(p.embed_text) <= 160 for p in pieces)
    assert " ".join(p.embed_text for p in pieces).split() == text.split()  # nothing lost
    chunks = pack_chunks("x.txt", text, pieces, max_tokens=160, overlap_tokens=40, max_wordpieces=256, tokens=count_tokens, wordpieces=count_wordpieces)
    covered = set()
    for c in chunks:
        covered.update(c.embed_text.split())
    assert covered == set(text.split())


def test_letter_sentences_run_across_hard_wrapped_lines():
    docs, _ = ingest(SEEDS)
    letter = next(d for d in docs if d.source.startswith("000"))
    cleaned = clean(letter.text)
    sentences = [letter.text[s.start : s.end] for region in split_sentences(letter.text, cleaned) for s in region]
    joined = [" ".join(s.split()) for s in sentences]
    assert "Looking forward, I see many opportunities in biotech as well." in joined
    assert "Dear Judge Jones," in joined  # a short line before a capitalised one is its own line
    assert "The Honorable Richard A. Jones" in joined  # "A." is an initial, not a sentence end
