"""Index format 2: what start-up used to compute is stored by the build, and loading reads it.

A load analyses no passage (no BM25 analysis, no alias table, no per-chunk objects), gives the
retriever and the extractive answerer the same numbers an in-memory computation gives, still
rebuilds a format 1 index rather than reading it, and refuses a format it does not know, or tables that do not fit together, with a message.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random

import numpy as np
import pytest

from czqa.errors import IndexUnusable
from czqa.index import format as fmt
from czqa.index import lexicon
from czqa.index.aliases import AliasTable
from czqa.index.build import build_index, ensure_index
from czqa.index.store import MANIFEST, load_index, read_manifest
from czqa.index.tables import ChunkTable, SentenceRecord, SentenceTable, chunk_sentences
from czqa.ingest.chunking import Chunk
from czqa.ingest.documents import ingest
from czqa.retrieve.lexical import BM25, terms
from czqa.retrieve.retriever import HybridRetriever
from czqa.settings import IngestSettings, Settings
from doubles import HashingEncoder, docs_folder, rewrite_tables

DOCS = {
    "bridge.txt": "The Securities and Exchange Commission (SEC) sued the bridge company in March. "
    "The SEC said the repair cost 84 million euros. Ming Yao inspected the bridge on Monday.\n\n"
    "Later the company paid a fine of 4 million euros to the SEC.\n",
    "people.md": "# People\n\nYao Ming founded the harbour trust. The trust rebuilt the old lighthouse in 1999. "
    "John Smith (JS) was its first director, and JS retired in 2010.\n",
    "jane.txt": "Jane Smith (JS) runs the ferry line. JS bought three boats in 2021, and the ferries "
    "now cross the bay every hour.\n",
}
QUESTIONS = ["What did the SEC say about the repair?", "Who founded the harbour trust?", "When did JS retire?", "How often do ferries cross?"]


@pytest.fixture
def built(tmp_path):
    seeds = docs_folder(tmp_path, DOCS, name="docs")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", auto_build=False)
    data, _ = build_index(settings, encoder=HashingEncoder())
    return settings, data


def documents(settings):
    return ingest(settings.seeds_dir, settings=IngestSettings())[0]


def retrieval(data, aliases=None):
    enc = HashingEncoder()
    r = HybridRetriever(data, aliases=aliases)
    return [[(h.id, h.score, h.dense, h.lexical) for h in r.search(enc.encode([q])[0], q, top_k=5)] for q in QUESTIONS]


def test_loading_analyses_no_passage(built, monkeypatch):
    settings, _ = built

    def refuse(*args, **kwargs):
        raise AssertionError("start-up work that the build stores")

    monkeypatch.setattr(lexicon, "terms", refuse)
    monkeypatch.setattr(lexicon.SparseBM25, "from_tokens", refuse)
    monkeypatch.setattr(lexicon.TermRows, "from_tokens", refuse)
    monkeypatch.setattr(AliasTable, "from_documents", refuse)
    monkeypatch.setattr(fmt, "derive", refuse)
    monkeypatch.setattr(ChunkTable, "_record", refuse)  # no Chunk object is made to load
    data = load_index(settings.index_dir, documents=documents(settings))
    retriever = HybridRetriever(data)  # the stored BM25 matrix, not one computed now
    assert retriever.bm25.matrix is data.derived.chunk_bm25


def test_the_qa_start_up_builds_no_alias_table_and_no_bm25(built, monkeypatch):
    from czqa.qa import QA

    settings, _ = built
    enc = HashingEncoder()
    monkeypatch.setattr(AliasTable, "from_documents", lambda *a: pytest.fail("alias table built at start-up"))
    monkeypatch.setattr(lexicon.SparseBM25, "from_tokens", lambda *a: pytest.fail("BM25 analysed at start-up"))
    monkeypatch.setattr(lexicon.TermRows, "from_tokens", lambda *a: pytest.fail("sentence terms analysed at start-up"))
    qa = QA(settings, query_encoder=enc, build_encoder=enc)
    qa.answerer("extractive")
    assert qa.answer("When did JS retire?", mode="extractive").mode == "extractive"


def test_stored_tables_give_what_computing_them_now_gives(built):
    settings, data = built
    texts = {d.source: d.text for d in documents(settings)}
    fresh = fmt.derive(data.chunks, data.sentences, texts)
    assert fresh.aliases == data.aliases
    assert fresh.chunk_bm25.vocab == data.derived.chunk_bm25.vocab
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(fresh.chunk_bm25, name), getattr(data.derived.chunk_bm25, name))
    assert np.array_equal(fresh.sentence_terms.ids, data.derived.sentence_terms.ids)
    assert fresh.lowercase == data.derived.lowercase
    # Scores as bm25s's own get_scores adds them, bit for bit.
    import bm25s

    model = bm25s.BM25()
    expanded = [terms(data.aliases.expand(c.embed_text, c.source)) for c in data.chunks]
    vocab = {t: i for i, t in enumerate(data.derived.chunk_bm25.vocab)}
    model.index(bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in doc] for doc in expanded], vocab=vocab), show_progress=False)
    for q in QUESTIONS:
        known = [t for t in terms(data.aliases.expand(q)) if t in vocab]
        if known:
            assert np.array_equal(model.get_scores(known), BM25.from_matrix(data.derived.chunk_bm25).scores(known))


def _reference_chunk_sentences(chunks, sentences):
    """The mapping as earlier versions computed it, a chunk at a time."""
    by_source = {}
    for row, s in enumerate(sentences):
        starts, rows = by_source.setdefault(s.source, ([], []))
        starts.append(s.start)
        rows.append(row)
    out = []
    for c in chunks:
        starts, rows = by_source.get(c.source, ([], []))
        inside = []
        for k in range(bisect.bisect_left(starts, c.start), len(starts)):
            if sentences[rows[k]].start >= c.end:
                break
            if sentences[rows[k]].end <= c.end:
                inside.append(rows[k])
        out.append(inside)
    return out


def test_chunk_sentences_match_the_chunk_at_a_time_computation():
    rng = random.Random(3)
    for _ in range(200):
        sentences, chunks = [], []
        for source in ("a", "b", "c")[: rng.randint(1, 3)]:
            at, spans = 0, []
            for _ in range(rng.randint(0, 12)):
                at += rng.randint(0, 3)
                end = at + rng.randint(1, 9)
                spans.append((at, end))
                sentences.append(SentenceRecord(source, at, end, "x"))
                at = end
            for _ in range(rng.randint(0, 6)):
                a = rng.randint(0, at + 2)
                b = a + rng.randint(1, 30)
                chunks.append(Chunk(f"{len(chunks):016d}", source, a, b, "t" * (b - a), "t"))
        sources = sorted({s.source for s in sentences} | {c.source for c in chunks})
        got = chunk_sentences(ChunkTable.from_records(chunks, sources), SentenceTable.from_records(sentences, sources))
        assert list(got) == _reference_chunk_sentences(chunks, sentences)


def test_a_format_1_index_is_rebuilt_not_read(built):
    """Format 1 (one JSON object per chunk, its tables computed at every load) is no longer read:
    an index in it is rebuilt, and answers alike."""
    settings, data = built
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    manifest["format"] = 1
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexUnusable, match=r"has format 1; this czqa reads 2\."):
        load_index(settings.index_dir, documents=documents(settings))
    again, report = ensure_index(settings.model_copy(update={"auto_build": True}), encoder=HashingEncoder())
    assert read_manifest(settings.index_dir).format == 2 and report is not None
    assert retrieval(again) == retrieval(data)


def test_a_format_this_czqa_does_not_know_is_refused_with_the_rebuild_command(built):
    settings, _ = built
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    manifest["format"] = 3
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexUnusable, match=r"has format 3; this czqa reads 2\. Build it with: czqa index"):
        ensure_index(settings, encoder=HashingEncoder())


@pytest.mark.parametrize(
    "change, fault",
    [
        (lambda a, m: a.__setitem__("chunk.bm25.indices", a["chunk.bm25.indices"] + 10_000), "BM25 matrix"),
        (lambda a, m: a.__setitem__("chunk.sentences", a["chunk.sentences"] + 10_000), "chunk sentences"),
        (lambda a, m: a.__setitem__("chunk.text_at", a["chunk.text_at"][::-1].copy()), "chunk texts"),
        (lambda a, m: a.__setitem__("sentence.rows", a["sentence.rows"] + np.array([7, 0, 0])), "source numbers"),
        (lambda a, m: m["aliases"]["names"].__setitem__("SEC", 99), "alias table"),
        (lambda a, m: a.__setitem__("sentence.terms.ids", a["sentence.terms.ids"][:-1]), "sentence terms"),
    ],
)
def test_tables_that_do_not_fit_together_are_refused_not_used(built, change, fault):
    settings, _ = built
    rewrite_tables(settings.index_dir, change)
    with pytest.raises(IndexUnusable, match=f"damaged: its {fault} do not fit together"):
        load_index(settings.index_dir)


def test_a_tables_file_cut_short_is_refused(built):
    settings, _ = built
    manifest = json.loads((settings.index_dir / MANIFEST).read_text())
    gen = settings.index_dir / manifest["generation"]
    path = gen / "tables.bin"
    path.write_bytes(path.read_bytes()[:100])
    manifest["data"]["tables.bin"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexUnusable, match="could not be read: .*lie outside tables.bin"):
        load_index(settings.index_dir)


def test_passages_show_the_documents_text_not_the_index_copy(built, monkeypatch):
    settings, _ = built
    data = load_index(settings.index_dir, documents=documents(settings))
    texts = {d.source: d.text for d in documents(settings)}
    assert set(data.chunks.documents) == set(DOCS)
    monkeypatch.setattr(ChunkTable, "stored_text", lambda self, i: pytest.fail("the index's copy was read"))
    for c in data.chunks:
        assert c.text == texts[c.source][c.start : c.end]
