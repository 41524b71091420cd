"""Scale benchmark: build, load and answer over N passages; is a question's cost independent of N?

Run it with the project's virtualenv, one size per run (figures in the README's "Scale" section)::

    .venv/bin/python bench/scale.py --passages 10000 [--embed real] [--threads 1] [--json out.json]
    .venv/bin/python bench/scale.py --passages 100000 [--vector-index auto] [--nprobe 64]
    .venv/bin/python bench/scale.py --passages 1000000 --threads 1   # end to end: ~11 min to build
    .venv/bin/python bench/scale.py --passages 1000000 --vectors-only

What it does:

1. **Corpus** (cached under ``~/.cache/czqa/scale/``, reused by later runs): N passages of four
   to seven of the seeds' own sentences, each passage a new combination (deterministic: the
   same N gives the same text), 1,000 passages per file, blank lines between them.
2. **Index**, written by czqa's own store code, so loading is exactly what ``QA`` does:

   * ``--embed real`` (the default below 100k): ``build_index`` with the ``--encoder`` (int8 by
     default, as ``czqa index`` runs it: clean, split, chunk, embed, save). ``build_passages_per_s``
     is compared with both build encoders' own throughput (torch float32, int8) on a sample of
     the same passages, in this run (``build_over_torch_encoder``); with int8, the eval
     questions' ten nearest chunks are also found with float32 vectors of the same chunks and
     questions (sentence-transformers), and ``int8_recall_at_10_vs_fp32`` is the share of them
     that the int8 vectors find too.
   * ``--embed synthetic`` (the default from 100k): each passage is one chunk and each of its
     sentences one sentence record (offsets exact, so load-time verification passes), and the
     vectors are precomputed clustered random vectors instead of embeddings, to isolate the
     index: passage vectors from a mixture of 1,024 Gaussians on the unit sphere (cosine to
     their centre ≈ 0.78), each sentence's vector near its passage's (cosine ≈ 0.86). The
     tables are built from columns (:func:`synthetic_tables`: row arrays and string pools, no
     object per row), the vectors written straight into memory-mapped ``.npy`` files (staged
     beside the index, removed after), the documents read one at a time
     (:class:`FileTexts`); then ``save_index`` as a build would call it (IVF training and
     the lexical analysis included in ``index_build_s``), which is what lets a million passages
     build in about 5 GB of private memory.
3. **Serving**, in a fresh child process (so its peak memory is its own): ``QA.warm_up``
   (``load_s``: read the documents, load and verify the index; its BM25 matrix and alias table
   are read from it, built at index time),
   the answer mode's own start-up (``answerer_init_s``), then the eval questions
   (``eval/qa.jsonl``, cycled to ``--questions``) through ``QA.answer``, questions embedded by
   the numpy MiniLM query encoder: ``first_answer_s`` (lazy start-up work included), then
   ``p50_ms``/``p95_ms``; ``retrieval_p50_ms`` is ``HybridRetriever.search`` alone. ``rss_mb``
   is the child's peak resident memory (``VmHWM``), pages of memory-mapped files included (see
   :func:`memory`; ``rss_anon_mb`` is the process's private memory). ``--threads 1`` pins the
   child's BLAS/OpenMP threads: on a machine busy with other work, thread teams waiting for a
   core cost more than they bring to one question.
4. **Recall@10** of the vector index against exact search over the same (exact, memory-mapped)
   vectors: questions' vectors for real embeddings; for synthetic ones, vectors drawn near
   random passages, as questions about them would be. 1.0 by construction for a flat index.

``--vectors-only`` (the dense side alone, without the 10 minutes of a million passages' lexical
analysis) writes only synthetic vectors, straight to memory-mapped ``.npy``
files, builds the vector index with czqa's own classes, and times per question what the
retriever's dense side does: the index search for the candidates and their re-scoring, chunk
and sentence vectors, on the exact vectors (``dense_retrieval_p50_ms``).

``--backend milvus`` keeps the chunk vectors in a Milvus collection (:mod:`czqa.index.milvus`)
at ``--milvus-uri``, by default a Milvus Lite file beside the cached index (in-process and pure
Python: its timings are Milvus Lite's, not a server's); not with ``--vectors-only``. Timings on
the shared 2-core development machine vary with other work: ``load_avg`` is recorded with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from czqa import __version__  # noqa: E402
from czqa.settings import Settings  # noqa: E402

CACHE = Path.home() / ".cache" / "czqa" / "scale"
PER_FILE = 1000
CENTRES = 1024
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def seed_sentences() -> list[str]:
    """The seeds' plain-text sentences of more than six words, white space normalised."""
    from czqa.ingest.documents import ingest

    docs, _ = ingest(ROOT / "seeds")
    found = [s for d in docs if not d.is_html for s in re.split(r"(?<=[.!?])\s+", d.text) if len(s.split()) > 6 and "://" not in s]
    return sorted({" ".join(s.split()) for s in found})


def passages(n: int) -> list[list[str]]:
    """``n`` passages, each a list of 4-7 distinct seed sentences (the same for the same n)."""
    sentences = seed_sentences()
    rng = random.Random(13)
    return [rng.sample(sentences, rng.randint(4, 7)) for _ in range(n)]


def write_docs(folder: Path, parts: list[list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(0, len(parts), PER_FILE):
        text = "\n\n".join(" ".join(p) for p in parts[f : f + PER_FILE]) + "\n"
        (folder / f"part-{f // PER_FILE:05d}.txt").write_text(text, encoding="utf-8")


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_vectors(counts: list[int], chunk: np.ndarray, sent: np.ndarray, *, seed: int = 0) -> None:
    """Fill ``chunk`` with passage vectors from a mixture of Gaussians on the sphere and ``sent``
    with sentence vectors near their passage's (``counts[i]`` sentences for passage i), a block
    at a time (the arrays may be memory-mapped files larger than memory)."""
    rng = np.random.default_rng(seed)
    n, dim = chunk.shape
    centres = unit(rng.standard_normal((CENTRES, dim)))
    for i in range(0, n, 65536):
        m = min(65536, n - i)
        chunk[i : i + m] = unit(centres[rng.integers(0, CENTRES, m)] + rng.standard_normal((m, dim)) * (0.8 / dim**0.5))
    owner = np.repeat(np.arange(n), counts)
    for i in range(0, len(owner), 65536):
        rows = owner[i : i + 65536]
        sent[i : i + len(rows)] = unit(chunk[rows] + rng.standard_normal((len(rows), dim)) * (0.6 / dim**0.5))


def near(vectors: np.ndarray, count: int, *, seed: int = 5) -> np.ndarray:
    """``count`` question vectors, each near a random row of ``vectors`` (as near as a sentence)."""
    rng = np.random.default_rng(seed)
    picked = np.asarray(vectors[np.sort(rng.choice(len(vectors), count, replace=False))])
    return unit(picked + rng.standard_normal(picked.shape) * (0.6 / vectors.shape[1] ** 0.5))


class FileTexts(Mapping):
    """The documents' texts as ingestion reads them, each read from its file when asked: what
    ``save_index`` reads the alias table and lower-case words from, without holding them all
    (a million passages are 3.5 GB of Python strings)."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self.folder, self.names = folder, names

    def __getitem__(self, name: str) -> str:
        if name not in self.names:
            raise KeyError(name)
        return (self.folder / name).read_bytes().decode("utf-8")

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def synthetic_tables(parts: list[list[str]]):
    """The chunk and sentence tables of ``parts`` as :func:`write_docs` lays them out (each
    passage one chunk, each of its sentences one sentence; offsets exact), built from columns:
    row arrays and string pools, no Chunk or SentenceRecord object per row."""
    from array import array

    from czqa.index.tables import ChunkTable, SentenceTable
    from czqa.ingest.chunking import chunk_id
    from czqa.ingest.clean import visible_text

    sources = [f"part-{f // PER_FILE:05d}.txt" for f in range(0, len(parts), PER_FILE)]
    chunk_rows, sentence_rows, ids = array("q"), array("q"), bytearray()
    for i, p in enumerate(parts):
        f, at = divmod(i, PER_FILE)
        if not at:
            pos = 0
        text = " ".join(p)
        chunk_rows.extend((f, pos, pos + len(text)))
        ids += chunk_id(sources[f], text).encode("ascii")
        start = pos
        for sentence in p:
            sentence_rows.extend((f, start, start + len(sentence)))
            start += len(sentence) + 1
        pos += len(text) + 2
    cleaned: dict[str, str] = {}  # the seeds' sentences recur: each is cleaned once
    chunks = ChunkTable.from_columns(
        sources, np.frombuffer(chunk_rows, dtype=np.int64), np.frombuffer(bytes(ids), dtype="S16"),
        (" ".join(p) for p in parts), (visible_text(" ".join(p)) for p in parts))
    sentences = SentenceTable.from_columns(
        sources, np.frombuffer(sentence_rows, dtype=np.int64),
        (cleaned.get(s) or cleaned.setdefault(s, visible_text(s)) for p in parts for s in p))
    return chunks, sentences


def build_synthetic(settings: Settings, parts: list[list[str]]) -> dict:
    """Chunks and sentences laid out exactly as the documents hold them (tables built from
    columns), vectors synthetic, written straight to memory-mapped ``.npy`` files, and all of it
    saved by the store as a build would save it. The staged vector files are removed after."""
    from numpy.lib.format import open_memmap

    from czqa.index.build import model_info
    from czqa.index.ivf import choose_kind
    from czqa.index.store import PIPELINE_VERSION, ManifestDraft, save_index

    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    for name in ("czqa.index.format", "bench"):
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(handler)
    say = logging.getLogger("bench").debug
    write_docs(settings.seeds_dir, parts)
    started = time.perf_counter()
    chunks, sentences = synthetic_tables(parts)
    say("tables from columns: %.1f s", time.perf_counter() - started)
    tables_s = time.perf_counter() - started
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(settings.seeds_dir.iterdir())}
    texts = FileTexts(settings.seeds_dir, list(files))
    started = time.perf_counter()
    staging = settings.index_dir.parent / "vectors"
    staging.mkdir(parents=True, exist_ok=True)
    dim = model_info().dimension
    chunk_vectors = open_memmap(staging / "chunks.npy", mode="w+", dtype=np.float32, shape=(len(chunks), dim))
    sentence_vectors = open_memmap(staging / "sentences.npy", mode="w+", dtype=np.float32, shape=(len(sentences), dim))
    synthetic_vectors([len(p) for p in parts], chunk_vectors, sentence_vectors)
    chunk_vectors.flush(), sentence_vectors.flush()
    vectors_s = time.perf_counter() - started
    say("vectors: %.1f s", vectors_s)
    kind = "milvus" if settings.index.backend == "milvus" else choose_kind(settings.index.vector_index, len(chunks), ivf_above=settings.index.ivf_above)
    started = time.perf_counter()
    save_index(
        settings.index_dir,
        draft=ManifestDraft(czqa_version=__version__, pipeline_version=PIPELINE_VERSION, model=model_info(),
                            vector_index=kind, chunking=settings.chunking, files=files),
        chunks=chunks, chunk_vectors=chunk_vectors, sentences=sentences, sentence_vectors=sentence_vectors,
        index_settings=settings.index, texts=texts,
    )
    index_build_s = time.perf_counter() - started
    del chunk_vectors, sentence_vectors
    import shutil

    shutil.rmtree(staging)
    return {"embed": "synthetic", "tables_s": round(tables_s, 2), "vectors_s": round(vectors_s, 2), "index_build_s": round(index_build_s, 2),
            "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "chunks": len(chunks), "sentences": len(sentences), "vector_index": kind}


def build_real(settings: Settings, parts: list[list[str]], *, encoder_kind: str = "int8") -> dict:
    """``build_index`` as ``czqa index`` runs it, and both build encoders' own throughput beside
    it on the same sample; with the int8 encoder, also its recall@10 against float32 exact
    search (the eval questions' ten nearest chunks by int8 vectors, against those by float32
    vectors of the same chunks and questions)."""
    from czqa.embed.encoder import OnnxMiniLM, SentenceTransformerEncoder
    from czqa.index.build import build_index

    write_docs(settings.seeds_dir, parts)
    fp32, int8 = SentenceTransformerEncoder(), OnnxMiniLM()
    sample = [" ".join(p) for p in parts[:256]]
    rates = {}
    for name, encoder in (("torch_fp32", fp32), ("int8", int8)):
        encoder.encode(sample[:16])  # loads the model: not part of either figure
        started = time.perf_counter()
        encoder.encode(sample)
        rates[name] = len(sample) / (time.perf_counter() - started)
    encoder = int8 if encoder_kind == "int8" else fp32
    started = time.perf_counter()
    data, report = build_index(settings.model_copy(update={"precision": encoder_kind}), encoder=encoder)
    seconds = time.perf_counter() - started
    out = {"embed": "real", "encoder": encoder.name, "build_s": round(seconds, 1), "build_passages_per_s": round(len(parts) / seconds, 1),
           "encoder_passages_per_s": {k: round(v, 1) for k, v in rates.items()},
           "build_over_torch_encoder": round(len(parts) / seconds / rates["torch_fp32"], 2),
           "embedded_texts": report.embedded, "chunks": report.chunks, "sentences": report.sentences, "vector_index": data.manifest.vector_index}
    if encoder_kind == "int8":
        out["int8_recall_at_10_vs_fp32"] = int8_recall(data, fp32, int8)
    return out


def int8_recall(data, fp32, int8) -> float:
    """Mean share of the float32 ten nearest chunks (exact search, float32 question vectors) that
    the int8 vectors' exact search also returns, over the eval questions."""
    from czqa.index.vectors import inner_products, top_rows

    texts = [c.embed_text for c in data.chunks]
    exact_fp32 = np.asarray(fp32.encode(texts), dtype=np.float32)
    exact_int8 = np.asarray(data.chunk_vectors(), dtype=np.float32)
    rows = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    questions = [r["question"] for r in rows]
    q32, q8 = fp32.encode(questions), int8.encode(questions)
    hits = [len(set(top_rows(inner_products(exact_fp32, a), 10).tolist()) & set(top_rows(inner_products(exact_int8, b), 10).tolist())) / 10
            for a, b in zip(q32, q8)]
    return round(statistics.fmean(hits), 4)


def serve(args) -> dict:
    """The child: load as QA does, answer, measure (prints one JSON line)."""
    from czqa.embed.encoder import encoders_for
    from czqa.index.vectors import inner_products, top_rows
    from czqa.qa import QA

    settings = settings_for(args)
    # Synthetic vectors are recorded as the float32 model's (model_info()); the question vectors
    # only need to come from an encoder of that name.
    build_encoder, encoder = encoders_for(args.encoder if args.embed == "real" else "fp32")
    encoder.encode(["warm up"])  # the query encoder's own start-up is not the index's
    qa = QA(settings, query_encoder=encoder, build_encoder=build_encoder)
    started = time.perf_counter()
    qa.warm_up()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    qa.answerer(args.mode)
    answerer_init_s = time.perf_counter() - started
    rows = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    questions = [rows[i % len(rows)]["question"] for i in range(args.questions)]
    started = time.perf_counter()
    qa.answer(questions[0], mode=args.mode)  # lazy start-up work (chunk-sentence map) lands here
    first_answer_s = time.perf_counter() - started
    for q in questions[1:5]:
        qa.answer(q, mode=args.mode)
    answer_ms, retrieval_ms, vectors = [], [], []
    for q in questions:
        started = time.perf_counter()
        qa.answer(q, mode=args.mode)
        answer_ms.append(1000 * (time.perf_counter() - started))
        qvec = qa.encoder.encode([q])[0]
        vectors.append(qvec)
        started = time.perf_counter()
        qa.retriever.search(qvec, q, top_k=8)
        retrieval_ms.append(1000 * (time.perf_counter() - started))
    rss = memory()  # before the recall check, which reads every vector
    data = qa.data
    recall = 1.0
    if data.vectors.kind != "faiss-flat-ip":
        exact = data.chunk_vectors()
        if args.embed == "synthetic":  # questions near random passages, as the vectors are synthetic
            vectors = list(near(exact, 100))
        hits = []
        for v in vectors[:100]:
            truth = set(top_rows(inner_products(exact, v), 10).tolist())
            hits.append(len(truth & set(data.vectors.search(v, 10)[1].tolist())) / 10)
        recall = statistics.fmean(hits)
    pct = lambda xs, p: float(np.percentile(xs, p))  # noqa: E731
    return {
        "load_s": round(load_s, 2), "answerer_init_s": round(answerer_init_s, 2), "first_answer_s": round(first_answer_s, 2),
        "p50_ms": round(pct(answer_ms, 50), 1), "p95_ms": round(pct(answer_ms, 95), 1),
        "retrieval_p50_ms": round(pct(retrieval_ms, 50), 2), "retrieval_p95_ms": round(pct(retrieval_ms, 95), 2),
        "recall_at_10": round(recall, 4), **rss, "questions": len(questions), "mode": args.mode, "vector_index": data.manifest.vector_index,
        "nprobe": getattr(data.vectors, "nprobe", None), "chunks": len(data.chunks), "sentences": len(data.sentences),
    }


def memory() -> dict:
    """``rss_mb``: this process's peak resident memory (``VmHWM``; unlike ``ru_maxrss`` not
    inherited from the parent that started it), which counts the page-cache pages of the
    memory-mapped vector files it has touched (the kernel maps whole large folios, up to 2 MB,
    per row read); ``rss_anon_mb``: its own private memory now; ``rss_file_mb``: the mapped
    file pages now (shared and reclaimable: the page cache would hold them for ``pread`` too)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    mb = lambda key: round(int(status[key].split()[0]) / 1024) if key in status else None  # noqa: E731
    return {"rss_mb": mb("VmHWM") or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_anon_mb": mb("RssAnon"), "rss_file_mb": mb("RssFile")}


def vectors_folder(args) -> Path:
    return args.cache / f"{args.passages}-vectors-{args.vector_index}"


def build_vectors_only(args) -> dict:
    """``--vectors-only``: synthetic chunk and sentence vectors written straight to ``.npy``
    files (memory-mapped, so a million passages fit), and the vector index built and saved by
    czqa's own classes, as ``save_index`` would; no text, no metadata."""
    from numpy.lib.format import open_memmap

    from czqa.index.ivf import choose_kind
    from czqa.index.backends import new_index

    folder = vectors_folder(args)
    folder.mkdir(parents=True, exist_ok=True)
    counts = np.random.default_rng(13).integers(4, 8, args.passages)  # 4-7 sentences, as the passages
    np.save(folder / "counts.npy", counts)
    started = time.perf_counter()
    chunk = open_memmap(folder / "chunks.npy", mode="w+", dtype=np.float32, shape=(args.passages, 384))
    sent = open_memmap(folder / "sentences.npy", mode="w+", dtype=np.float32, shape=(int(counts.sum()), 384))
    synthetic_vectors(counts, chunk, sent)
    chunk.flush(), sent.flush()
    vectors_s = time.perf_counter() - started
    kind = choose_kind(args.vector_index, args.passages, ivf_above=Settings().index.ivf_above)
    started = time.perf_counter()
    index = new_index(kind, 384)
    index.add(chunk)
    index.save(folder)
    (folder / "kind.txt").write_text(kind)
    return {"embed": "synthetic, vectors only", "vectors_s": round(vectors_s, 1), "index_build_s": round(time.perf_counter() - started, 1),
            "chunks": args.passages, "sentences": int(counts.sum()), "vector_index": kind}


def serve_vectors_only(args) -> dict:
    """The child of ``--vectors-only``: open as the store does (index file and ``.npy`` files
    memory-mapped), then per question what the retriever's dense side does: search the index
    for the candidates, re-score them and their sentences on the exact vectors."""
    from czqa.index.backends import open_index
    from czqa.index.vectors import inner_products, open_matrix, top_rows
    from czqa.retrieve.retriever import CANDIDATES

    folder = vectors_folder(args)
    kind = (folder / "kind.txt").read_text()
    started = time.perf_counter()
    exact = open_matrix(folder / "chunks.npy")
    sentences = open_matrix(folder / "sentences.npy")
    index = open_index(kind, folder, exact=exact, nprobe=args.nprobe)
    starts = np.concatenate([[0], np.cumsum(np.load(folder / "counts.npy"))])
    load_s = time.perf_counter() - started
    questions = near(exact, args.questions)
    timings = []
    for q in questions:
        started = time.perf_counter()
        _, rows = index.search(q, CANDIDATES)
        chunk = index.score(q, rows)
        flat = np.concatenate([np.arange(starts[r], starts[r + 1]) for r in rows.tolist()])
        best = np.maximum.reduceat(inner_products(sentences, q, flat), np.concatenate([[0], np.cumsum(starts[rows + 1] - starts[rows])[:-1]]))
        top_rows(0.5 * chunk + 0.5 * best, 32)
        timings.append(1000 * (time.perf_counter() - started))
    rss = memory()  # before the recall check, which reads every vector
    hits = []
    for q in questions[:100]:
        truth = set(top_rows(inner_products(exact, q), 10).tolist())
        hits.append(len(truth & set(index.search(q, 10)[1].tolist())) / 10)
    return {"load_s": round(load_s, 3), "dense_retrieval_p50_ms": round(float(np.percentile(timings, 50)), 2),
            "dense_retrieval_p95_ms": round(float(np.percentile(timings, 95)), 2), "recall_at_10": round(statistics.fmean(hits), 4),
            **rss, "questions": len(questions), "vector_index": kind, "nprobe": args.nprobe}


def settings_for(args) -> Settings:
    encoder = f"-{args.encoder}" if args.embed == "real" else ""
    folder = args.cache / (f"{args.passages}-{args.embed}{encoder}-{args.vector_index}" + ("-milvus" if args.backend == "milvus" else ""))
    milvus = {"backend": "milvus", "uri": args.milvus_uri or str(folder / "milvus.db")} if args.backend == "milvus" else {}
    return Settings(seeds_dir=folder / "docs", index_dir=folder / "index", auto_build=False,
                    index={"vector_index": args.vector_index, "nprobe": args.nprobe, **milvus})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, required=True, help="passages in the corpus")
    parser.add_argument("--backend", choices=["faiss", "milvus"], default="faiss", help="vector index engine")
    parser.add_argument("--milvus-uri", help="--backend milvus: a Milvus server (http://host:19530); default: a Milvus Lite file in the cache")
    parser.add_argument("--embed", choices=["real", "synthetic"], help="default: real below 100k passages, synthetic from there")
    parser.add_argument("--encoder", choices=["int8", "fp32"], default="int8", help="--embed real: the build encoder (default int8, as czqa index)")
    parser.add_argument("--vector-index", choices=["auto", "flat", "ivf", "ivf-sq8"], default="auto")
    parser.add_argument("--nprobe", type=int, default=64, help="IVF cells read per search")
    parser.add_argument("--mode", default="extractive", help="answer mode timed (default extractive: retrieval-bound)")
    parser.add_argument("--questions", type=int, default=200, help="timed questions (eval questions, cycled)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="corpus and index cache folder")
    parser.add_argument("--rebuild", action="store_true", help="build even when the cache holds the index")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of the serving process (default: as set)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--vectors-only", action="store_true",
                        help="the vector index and dense candidate path alone (synthetic vectors; for 1M passages)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    args.embed = args.embed or ("real" if args.passages < 100_000 else "synthetic")
    if args.backend == "milvus" and args.vectors_only:
        parser.error("--vectors-only times FAISS classes directly; use --backend milvus without it")
    if args.serve:
        print(json.dumps(serve_vectors_only(args) if args.vectors_only else serve(args)))
        return
    settings = settings_for(args)
    result = {"passages": args.passages, "backend": args.backend, "load_avg_start": os.getloadavg()[0]}
    done = vectors_folder(args) / "kind.txt" if args.vectors_only else settings.index_dir / "manifest.json"
    if not args.vectors_only and done.is_file() and not args.rebuild:
        from czqa.index.store import FORMAT_VERSION

        if json.loads(done.read_text()).get("format") != FORMAT_VERSION:  # an older czqa's index: time this one's
            print(f"the cached index has another format than {FORMAT_VERSION}: building it again", flush=True)
            args.rebuild = True
    if args.rebuild or not done.is_file():
        import shutil

        shutil.rmtree(done.parent if args.vectors_only else settings.index_dir.parent, ignore_errors=True)
        started = time.perf_counter()
        if args.vectors_only:
            result["build"] = build_vectors_only(args)
        else:
            parts = passages(args.passages)
            result["build"] = build_real(settings, parts, encoder_kind=args.encoder) if args.embed == "real" else build_synthetic(settings, parts)
        result["build"]["total_s"] = round(time.perf_counter() - started, 1)
        print("build:", json.dumps(result["build"]), flush=True)
        if args.backend == "milvus" and str(settings.index.uri).endswith(".db"):  # Milvus Lite: one process at a time
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_all()  # the serving child opens the file next
    else:
        result["build"] = "reused from the cache"
    cmd = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:], "--serve", "--embed", args.embed]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CZQA_")}
    if args.threads:
        env.update({v: str(args.threads) for v in THREAD_VARS})
    result["serving_threads"] = {v: env.get(v) for v in THREAD_VARS}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode:
        raise SystemExit(f"serving child failed:\n{proc.stderr[-4000:]}")
    result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    result["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
