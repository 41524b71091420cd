"""The on-disk index: FAISS vectors, metadata tables and a manifest, written atomically.

Layout of ``embeddings/``::

    manifest.json            what was built, from what (model, chunking, seed sha256s), and which
                             generation folder holds the data, with a sha256 of every data file
    gen-<hash>/chunks.faiss  chunk vectors (the VectorIndex backend's file: FAISS exact or IVF)
    gen-<hash>/chunks.npy    exact chunk vectors (float32), beside a backend that keeps them (IVF, Milvus)
    gen-<hash>/tables.bin    chunk and sentence metadata as arrays (offsets, sources, ids, texts) and
                             what start-up would otherwise compute from them: BM25 matrix, terms
    gen-<hash>/tables.json   the directory of tables.bin, source names, vocabularies, alias table
    gen-<hash>/sentences.npy sentence embeddings (float32; loaded with allow_pickle=False)

The ``.npy`` files and ``tables.bin`` are memory-mapped on load, so memory holds what questions
read, not every vector and passage of the collection (see :mod:`czqa.index.ivf` for the index
kinds, :mod:`czqa.index.format` for the tables). Loading builds no per-passage object: a load of
100k passages reads the manifest, checksums, the FAISS file and the JSON header, and verifies.
Format 1 indexes (``chunks.json``, ``sentences.json``) still load (:mod:`czqa.index.format`).

A build writes a new generation folder first and only then replaces ``manifest.json`` with
``os.replace``; a crash at any point leaves the previous manifest pointing at the previous, intact
generation. Nothing is pickled. Loading verifies every data file against the manifest (large
vector files by spot checks, :mod:`czqa.index.digest`), and the metadata against the documents
(:func:`verify`), so a damaged or tampered index is reported, never half-used.

Writers hold an advisory lock (POSIX ``flock`` on the folder) while they save, so whoever holds it
knows that temporary files (``.tmp-*``, ``.manifest.json.<id>``) are a dead writer's, and
:func:`sweep` removes them, after each save and on load when the lock is free, with superseded
generations except the previous one. ``.embed-cache/`` (:mod:`czqa.index.cache`) is not swept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from czqa.errors import IndexLocationError, IndexUnusable
from czqa.ingest.chunking import Chunk
from czqa.ingest.documents import FOLDER_FILE, Document, FileIssue, IngestReport, issue_kind
from czqa.index import format as fmt
from czqa.index.digest import all_finite, matches, sha256_file, spot_checks
from czqa.index.tables import ChunkTable, Ragged, SentenceRecord, SentenceTable
from czqa.index.verify import verify
from czqa.index.backends import backend_for, new_index, open_index
from czqa.index.vectors import VectorIndex, open_matrix
from czqa.settings import ChunkingSettings, IndexSettings

try:
    import fcntl
except ImportError:  # Windows: no flock; saves are not serialised and loads do not sweep there
    fcntl = None

log = logging.getLogger(__name__)

DEFAULT_VECTOR_INDEX = "faiss-flat-ip"

# 2: metadata and what start-up computed from it as memory-mapped tables (czqa.index.format);
# 1 (chunks.json, sentences.json) still loads, computing them at load.
FORMAT_VERSION = 2
READABLE_FORMATS = (2,)  # an index of another format is rebuilt
# Bump when cleaning, sentence splitting or chunking rules change: old indexes become stale.
PIPELINE_VERSION = "2"


class ModelInfo(BaseModel):
    """The encoder that built an index (name, vector size, word-piece limit), recorded in its manifest."""

    name: str
    dimension: int
    max_wordpieces: int


class ManifestDraft(BaseModel):
    """What a build says about the index it hands to :func:`save_index`: what it was built from
    (software, model, chunking, files) and which vector index to build. Saving adds the rest."""

    czqa_version: str
    pipeline_version: str
    model: ModelInfo
    vector_index: str = DEFAULT_VECTOR_INDEX
    chunking: ChunkingSettings
    files: dict[str, str]  # seed file name -> sha256 of its bytes
    skipped: dict[str, str] = {}  # path -> reason: not a document by design (another file type …)
    refused: dict[str, str] = {}  # path -> reason: a document czqa must not or cannot read


class Manifest(ManifestDraft):
    """What an index generation was built from and holds; written last and atomically, so it is the commit point."""

    format: int = FORMAT_VERSION
    vector_store: dict[str, str] = {}  # where a server holds the vectors (Milvus: uri, collection); {}: this folder
    generation: str
    previous_generation: str | None = None  # kept on disk for readers that read the old manifest
    data: dict[str, str]  # data file name -> sha256
    spot_checks: dict[str, str] = {}  # data file name -> what load checks instead (files over 64 MiB)
    chunks: int
    sentences: int
    built_at: str


@dataclass
class IndexData:
    """A loaded index: manifest, chunk and sentence metadata, the chunk vector index, sentence
    vectors and what the build derived from the texts (alias table, BM25, terms)."""

    manifest: Manifest
    chunks: ChunkTable  # records built on access; a list of Chunk is converted
    sentences: SentenceTable
    vectors: VectorIndex  # chunk vectors, row i = chunks[i]
    sentence_vectors: np.ndarray
    derived: fmt.Derived | None = None  # None: computed now, with the chunk texts standing in for the documents

    def __post_init__(self) -> None:
        self.chunks, self.sentences = fmt.tables(self.chunks, self.sentences)
        if self.derived is None:
            self.derived = fmt.derive(self.chunks, self.sentences)

    def chunk_vectors(self) -> np.ndarray:
        return self.vectors.vectors()

    @cached_property
    def ingest_report(self) -> IngestReport:
        """What became of every file of the documents folder at build time: indexed, skipped or
        refused, with reasons (manifests from before ``refused`` existed kept both in ``skipped``)."""
        m = self.manifest
        # czqa's own czqa.toml was listed as skipped by builds before it was left out of the report
        issues = [FileIssue(path=p, reason=r, kind=issue_kind(r)) for p, r in m.skipped.items() if p != FOLDER_FILE]
        issues += [FileIssue(path=p, reason=r, kind="refused") for p, r in m.refused.items()]
        return IngestReport.from_parts(m.files, issues)

    @property
    def chunk_sentences(self) -> Ragged:
        """For each chunk, the rows of the sentences lying wholly inside it, in text order.

        The retriever scores a chunk by its best sentence and the answerer scores the sentences
        of the retrieved chunks; both read this one mapping (computed by the build).
        """
        return self.derived.chunk_sentences

    @property
    def aliases(self):
        """The documents' other names for their entities (:class:`czqa.index.aliases.AliasTable`)."""
        return self.derived.aliases


MANIFEST = "manifest.json"


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _chunk_ids(chunks) -> list[str]:
    """The chunks' ids; of a table, read from its id column (no Chunk object, no text decoded)."""
    if isinstance(chunks, ChunkTable):
        return [chunks.id(i) for i in range(len(chunks))]
    return [c.id for c in chunks]


def check_index_location(index_dir: Path) -> None:
    """Create ``index_dir`` or say in one line why it cannot hold an index (``--out`` names a
    file, ``manifest.json`` is a folder, no permission). Builds call it before embedding, so a
    wrong path costs a second, not a build; nothing the user made is ever deleted to make room."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexLocationError(f"The index folder {index_dir} is a file, not a folder: choose another --out (or CZQA_INDEX).")
    manifest = index_dir / MANIFEST
    if manifest.is_dir():
        raise IndexLocationError(f"{manifest} is a folder where the index manifest belongs: move it away or choose another index folder.")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexLocationError(f"Cannot create the index folder {index_dir}: {exc.strerror or exc}.") from None
    if not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexLocationError(f"The index folder {index_dir} is not writable.")
    others = [e.name for e in os.scandir(index_dir) if not _index_entry(e.name)]
    if others and not manifest.is_file():
        # An index goes in a folder of its own: `--out .` or `--out ~` would otherwise scatter
        # generations among the user's files, and cleaning up would share the folder with them.
        shown = ", ".join(sorted(others)[:3]) + (", …" if len(others) > 3 else "")
        raise IndexLocationError(
            f"The index folder {index_dir} holds other files ({shown}) and no index: choose an empty or new folder."
        )


def _index_entry(name: str) -> bool:
    """Whether a name in an index folder is one czqa writes there."""
    return name == MANIFEST or name.startswith(("gen-", ".tmp-", f".{MANIFEST}.", ".embed-cache"))


@contextmanager
def _index_lock(index_dir: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the index folder's writer lock; yields whether it is held (False: busy and not
    waiting, a read-only folder, or no flock on this system, where only saves sweep)."""
    fd = None
    try:
        if fcntl is not None:  # the folder itself is locked: no lock file to leave behind
            fd = os.open(index_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        held = fd is not None or wait
    except OSError:
        held = False
    try:
        yield held
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def sweep(index_dir: Path) -> list[str]:
    """Remove leftovers; call only while holding the lock. Returns the names removed.

    Temporary build folders and manifests go (their writer died: live writers hold the lock).
    Generations go unless the manifest names them as current or previous; the previous one
    stays for readers that read the old manifest just before the switch. A reader slower than
    a whole further build would find its files gone and report the index damaged, which a retry
    fixes. With no readable manifest no generation is touched: a person may want to look.
    """
    try:
        manifest = read_manifest(index_dir)
    except IndexUnusable:
        manifest = None
    keep = {manifest.generation, manifest.previous_generation} if manifest else set()
    removed = []
    for entry in sorted(index_dir.iterdir()):
        old = manifest is not None and entry.name.startswith("gen-") and entry.name not in keep
        if old or entry.name.startswith((".tmp-", f".{MANIFEST}.")):
            try:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
                removed.append(entry.name)
            except OSError as exc:
                log.info("could not remove %s: %s", entry, exc)
    return removed


def save_index(
    index_dir: Path,
    *,
    draft: ManifestDraft,
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentences: list[SentenceRecord],
    sentence_vectors: np.ndarray,
    index_settings: IndexSettings | None = None,
    texts: Mapping[str, str] | None = None,
) -> Manifest:
    """Write a new generation and switch the manifest to it atomically, then sweep leftovers.

    ``texts`` (source -> the document's text) are what the alias table and lower-case words are
    read from (:func:`czqa.index.format.derive`); without them each source's chunk texts stand in.
    """
    check_index_location(index_dir)
    with _index_lock(index_dir, wait=True) as locked:
        try:
            old = read_manifest(index_dir)
        except IndexUnusable:
            old = None
        tmp = Path(tempfile.mkdtemp(dir=index_dir, prefix=".tmp-"))
        # mkdtemp makes the folder private (0700); the generation is readable by whoever can read
        # the index folder itself (another user serving an index someone else built).
        os.chmod(tmp, stat.S_IMODE(os.stat(index_dir).st_mode))
        try:
            if not (all_finite(chunk_vectors) and all_finite(sentence_vectors)):
                raise ValueError("the encoder returned vectors that are not finite")  # load checks only samples
            vectors = new_index(draft.vector_index, draft.model.dimension,
                                settings=index_settings, ids=_chunk_ids(chunks), previous=old.vector_store if old else {})
            vectors.add(chunk_vectors)
            vectors.save(tmp)
            if backend_for(vectors.kind).keeps_exact_vectors:  # approximate or remote: exact vectors beside it
                _save_npy(tmp / "chunks.npy", chunk_vectors)
            chunk_table, sentence_table = fmt.tables(chunks, sentences)
            fmt.write(tmp, chunk_table, sentence_table, fmt.derive(chunk_table, sentence_table, texts))
            _save_npy(tmp / "sentences.npy", sentence_vectors)
            data = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
            generation = "gen-" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
            previous = old.generation if old and old.generation != generation else (old.previous_generation if old else None)
            manifest = Manifest(
                **draft.model_dump(),
                generation=generation,
                previous_generation=previous,
                data=data,
                spot_checks=spot_checks(tmp), vector_store=getattr(vectors, "location", {}),
                chunks=len(chunks),
                sentences=len(sentences),
                built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
            target = index_dir / generation
            if target.exists() and matches(target, data):
                shutil.rmtree(tmp)  # identical content already on disk (and intact)
            else:
                if target.exists():  # same name but damaged: it was unusable anyway
                    shutil.rmtree(target)
                os.replace(tmp, target)
            manifest_tmp = index_dir / f".{MANIFEST}.{uuid.uuid4().hex}"
            try:
                with open(manifest_tmp, "w", encoding="utf-8") as f:
                    f.write(manifest.model_dump_json(indent=2))
                    f.write("\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(manifest_tmp, index_dir / MANIFEST)
            finally:
                manifest_tmp.unlink(missing_ok=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if locked:  # only now is the old generation unreferenced
            sweep(index_dir)
    return manifest


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest, or None when there is no index; IndexUnusable when it is unreadable."""
    path = index_dir / MANIFEST
    if path.is_dir():
        raise IndexUnusable(f"{path} is a folder, not an index manifest.")
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        raise IndexUnusable(f"The index manifest {path} is damaged ({type(exc).__name__}).") from exc
    except OSError as exc:
        raise IndexUnusable(f"The index manifest {path} cannot be read ({exc.strerror or exc}).") from exc


def indexed_files(index_dir: Path) -> dict[str, str]:
    """Source → sha256 of the files the current index was built from ({} without a readable
    index): what :func:`czqa.ingest.documents.ingest` need not check as text again."""
    try:
        manifest = read_manifest(index_dir)
    except IndexUnusable:
        return {}  # loading it reports why
    return dict(manifest.files) if manifest is not None else {}


def _sweep_if_free(index_dir: Path) -> None:
    """On load, remove leftovers when no writer is busy (never waits; a read-only folder is fine)."""
    try:
        with _index_lock(index_dir, wait=False) as locked:
            if locked:
                sweep(index_dir)
    except OSError as exc:
        log.info("could not clean %s: %s", index_dir, exc)


def load_index(index_dir: Path, *, documents: Iterable[Document] | None = None, nprobe: int | None = None, index_settings: IndexSettings | None = None) -> IndexData:
    """Load and verify the current generation. Raises IndexUnusable with the reason.

    With ``documents`` (the seeds as read now), each chunk and sentence of a document whose
    sha256 still matches the manifest is checked against that document's text (:func:`verify`).
    ``nprobe``, ``index_settings``: IVF cells read per search; a Milvus index's address and token.
    """
    documents = list(documents or ())
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexUnusable(f"No index in {index_dir}.")
    if manifest.format not in READABLE_FORMATS:
        raise IndexUnusable(f"The index in {index_dir} has format {manifest.format}; this czqa reads {', '.join(map(str, READABLE_FORMATS))}.")
    _sweep_if_free(index_dir)
    gen = index_dir / manifest.generation
    if not matches(gen, manifest.data, manifest.spot_checks):
        raise IndexUnusable(f"The index in {gen} is damaged: a data file is missing or does not match its checksum.")
    try:
        exact = open_matrix(gen / "chunks.npy") if "chunks.npy" in manifest.data else None
        vectors = open_index(manifest.vector_index, gen, exact=exact, nprobe=nprobe, store=manifest.vector_store, settings=index_settings)
        sentence_vectors = open_matrix(gen / "sentences.npy")
        chunks, sentences, derived = fmt.read(gen)
    except Exception as exc:  # checksums matched, so this is a czqa bug or a foreign index
        raise IndexUnusable(f"The index in {gen} could not be read: {exc}") from exc
    if len(vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexUnusable(f"The index in {gen} is inconsistent (vector and metadata counts differ).")
    data = IndexData(manifest, chunks, sentences, vectors, sentence_vectors, derived)
    verify(data, documents)
    # Passages show the documents' own text, cut at the verified offsets (ChunkTable.documents).
    data.chunks.documents = {d.source: d.content for d in documents if manifest.files.get(d.source) == d.sha256}
    return data
