"""The on-disk index: FAISS vectors, JSON metadata and a manifest, written atomically.

Layout of ``embeddings/``::

    manifest.json            what was built, from what (model, chunking, seed sha256s), and which
                             generation folder holds the data, with a sha256 of every data file
    gen-<hash>/chunks.faiss  chunk vectors (the VectorIndex backend's file; FAISS inner product)
    gen-<hash>/chunks.json   chunk metadata (id, source, start, end, text, embed_text)
    gen-<hash>/sentences.json  sentence spans and their visible text
    gen-<hash>/sentences.npy sentence embeddings (float32; loaded with allow_pickle=False)

A build writes a new generation folder first and only then replaces ``manifest.json`` with
``os.replace``; a crash at any point leaves the previous manifest pointing at the previous, intact
generation. Nothing is pickled. Loading verifies every data file against the manifest, so a
damaged index is reported, never half-used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
import bisect
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from czqa.ingest.chunking import Chunk
from czqa.errors import IndexUnusable
from czqa.index.vectors import VectorIndex, new_index, open_index
from czqa.settings import ChunkingSettings

DEFAULT_VECTOR_INDEX = "faiss-flat-ip"

FORMAT_VERSION = 1
# Bump when cleaning, sentence splitting or chunking rules change: old indexes become stale.
PIPELINE_VERSION = "2"


class ModelInfo(BaseModel):
    """The encoder that built an index (name, vector size, word-piece limit), recorded in its manifest."""

    name: str
    dimension: int
    max_wordpieces: int


class Manifest(BaseModel):
    """What an index generation was built from and holds; written last and atomically, so it is the commit point."""

    format: int = FORMAT_VERSION
    czqa_version: str
    pipeline_version: str
    model: ModelInfo
    vector_index: str = DEFAULT_VECTOR_INDEX
    chunking: ChunkingSettings
    files: dict[str, str]  # seed file name -> sha256 of its bytes
    skipped: dict[str, str] = {}
    generation: str
    data: dict[str, str]  # data file name -> sha256
    chunks: int
    sentences: int
    built_at: str


@dataclass(frozen=True)
class SentenceRecord:
    """One sentence of a seed file (offsets into the original text) and the text that was embedded for it."""

    source: str
    start: int
    end: int
    embed_text: str


@dataclass
class IndexData:
    """A loaded index: manifest, chunk and sentence metadata, the chunk vector index and sentence vectors."""

    manifest: Manifest
    chunks: list[Chunk]
    sentences: list[SentenceRecord]
    vectors: VectorIndex  # chunk vectors, row i = chunks[i]
    sentence_vectors: np.ndarray

    def chunk_vectors(self) -> np.ndarray:
        return self.vectors.vectors()

    @cached_property
    def chunk_sentences(self) -> list[list[int]]:
        """For each chunk, the rows of the sentences lying wholly inside it, in text order.

        The retriever scores a chunk by its best sentence and the answerer scores the sentences
        of the retrieved chunks; both read this one mapping.
        """
        by_source: dict[str, tuple[list[int], list[int]]] = {}
        for row, sent in enumerate(self.sentences):
            starts, rows = by_source.setdefault(sent.source, ([], []))
            starts.append(sent.start)
            rows.append(row)
        out = []
        for c in self.chunks:
            starts, rows = by_source.get(c.source, ([], []))
            inside = []
            for k in range(bisect.bisect_left(starts, c.start), len(starts)):
                sent = self.sentences[rows[k]]
                if sent.start >= c.end:
                    break
                if sent.end <= c.end:
                    inside.append(rows[k])
            out.append(inside)
        return out


MANIFEST = "manifest.json"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _matches(folder: Path, data: dict[str, str]) -> bool:
    """Does ``folder`` hold exactly these files with these sha256s?"""
    return all((folder / name).exists() and _sha256_file(folder / name) == digest for name, digest in data.items())


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())


def save_index(
    index_dir: Path,
    *,
    manifest_fields: dict,
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentences: list[SentenceRecord],
    sentence_vectors: np.ndarray,
) -> Manifest:
    """Write a new generation and switch the manifest to it atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=index_dir, prefix=".tmp-"))
    try:
        vectors = new_index(manifest_fields.get("vector_index", DEFAULT_VECTOR_INDEX), manifest_fields["model"].dimension)
        vectors.add(chunk_vectors)
        vectors.save(tmp)
        _write_json(
            tmp / "chunks.json",
            [
                {"id": c.id, "source": c.source, "start": c.start, "end": c.end, "text": c.text, "embed_text": c.embed_text}
                for c in chunks
            ],
        )
        _write_json(tmp / "sentences.json", [[s.source, s.start, s.end, s.embed_text] for s in sentences])
        with open(tmp / "sentences.npy", "wb") as f:
            np.save(f, np.ascontiguousarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        data = {p.name: _sha256_file(p) for p in sorted(tmp.iterdir())}
        generation = "gen-" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
        manifest = Manifest(
            **manifest_fields,
            generation=generation,
            data=data,
            chunks=len(chunks),
            sentences=len(sentences),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        target = index_dir / generation
        if target.exists() and _matches(target, data):
            shutil.rmtree(tmp)  # identical content already on disk (and intact)
        else:
            if target.exists():  # same name but damaged: it was unusable anyway
                shutil.rmtree(target)
            os.replace(tmp, target)
        manifest_tmp = index_dir / f".{MANIFEST}.{uuid.uuid4().hex}"
        with open(manifest_tmp, "w", encoding="utf-8") as f:
            f.write(manifest.model_dump_json(indent=2))
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(manifest_tmp, index_dir / MANIFEST)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Only now is the old generation unreferenced.
    for old in index_dir.iterdir():
        if old.is_dir() and old.name != generation and old.name.startswith(("gen-", ".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return manifest


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest, or None when there is no index; IndexUnusable when it is unreadable."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        raise IndexUnusable(f"The index manifest {path} is damaged ({type(exc).__name__}).") from exc


def load_index(index_dir: Path) -> IndexData:
    """Load and verify the current generation. Raises IndexUnusable with the reason."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexUnusable(f"No index in {index_dir}.")
    if manifest.format != FORMAT_VERSION:
        raise IndexUnusable(f"The index in {index_dir} has format {manifest.format}; this czqa reads {FORMAT_VERSION}.")
    gen = index_dir / manifest.generation
    if not _matches(gen, manifest.data):
        raise IndexUnusable(f"The index in {gen} is damaged: a data file is missing or does not match its checksum.")
    try:
        vectors = open_index(manifest.vector_index, gen)
        raw_chunks = json.loads((gen / "chunks.json").read_text(encoding="utf-8"))
        chunks = [Chunk(**c) for c in raw_chunks]
        sentences = [SentenceRecord(*row) for row in json.loads((gen / "sentences.json").read_text(encoding="utf-8"))]
        with open(gen / "sentences.npy", "rb") as f:
            sentence_vectors = np.load(f, allow_pickle=False)
    except Exception as exc:  # checksums matched, so this is a czqa bug or a foreign index
        raise IndexUnusable(f"The index in {gen} could not be read: {exc}") from exc
    if len(vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexUnusable(f"The index in {gen} is inconsistent (vector and metadata counts differ).")
    return IndexData(manifest, chunks, sentences, vectors, sentence_vectors)
