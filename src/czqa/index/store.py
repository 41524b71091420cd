"""The on-disk index: FAISS vectors, JSON metadata and a manifest, written atomically.

Layout of ``embeddings/``::

    manifest.json            what was built, from what (model, chunking, seed sha256s), and which
                             generation folder holds the data, with a sha256 of every data file
    gen-<hash>/chunks.faiss  chunk vectors (the VectorIndex backend's file: FAISS exact or IVF)
    gen-<hash>/chunks.npy    exact chunk vectors (float32), only beside an IVF index
    gen-<hash>/chunks.json   chunk metadata (id, source, start, end, text, embed_text)
    gen-<hash>/sentences.json  sentence spans and their visible text
    gen-<hash>/sentences.npy sentence embeddings (float32; loaded with allow_pickle=False)

The ``.npy`` files are memory-mapped on load, so memory holds the vectors that questions read,
not every vector of the collection (see :mod:`czqa.index.ivf` for the index kinds).

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

import bisect
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from czqa.errors import IndexLocationError, IndexUnusable
from czqa.ingest.chunking import Chunk
from czqa.ingest.clean import visible_text
from czqa.ingest.documents import Document, FileIssue, IngestReport, issue_kind
from czqa.index.digest import all_finite, finite, matches, sha256_file, spot_checks
from czqa.index.vectors import VectorIndex, new_index, open_index, open_matrix
from czqa.settings import ChunkingSettings

try:
    import fcntl
except ImportError:  # Windows: no flock; saves are not serialised and loads do not sweep there
    fcntl = None

log = logging.getLogger(__name__)

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
    skipped: dict[str, str] = {}  # path -> reason: not a document by design (another file type …)
    refused: dict[str, str] = {}  # path -> reason: a document czqa must not or cannot read
    generation: str
    previous_generation: str | None = None  # kept on disk for readers that read the old manifest
    data: dict[str, str]  # data file name -> sha256
    spot_checks: dict[str, str] = {}  # data file name -> what load checks instead (files over 64 MiB)
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
    def ingest_report(self) -> IngestReport:
        """What became of every file of the documents folder at build time: indexed, skipped or
        refused, with reasons (manifests from before ``refused`` existed kept both in ``skipped``)."""
        m = self.manifest
        issues = [FileIssue(path=p, reason=r, kind=issue_kind(r)) for p, r in m.skipped.items()]
        issues += [FileIssue(path=p, reason=r, kind="refused") for p, r in m.refused.items()]
        return IngestReport.from_parts(m.files, issues)

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


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())


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
    manifest_fields: dict,
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentences: list[SentenceRecord],
    sentence_vectors: np.ndarray,
) -> Manifest:
    """Write a new generation and switch the manifest to it atomically, then sweep leftovers."""
    check_index_location(index_dir)
    with _index_lock(index_dir, wait=True) as locked:
        try:
            old = read_manifest(index_dir)
        except IndexUnusable:
            old = None
        tmp = Path(tempfile.mkdtemp(dir=index_dir, prefix=".tmp-"))
        try:
            if not (all_finite(chunk_vectors) and all_finite(sentence_vectors)):
                raise ValueError("the encoder returned vectors that are not finite")  # load checks only samples
            vectors = new_index(manifest_fields.get("vector_index", DEFAULT_VECTOR_INDEX), manifest_fields["model"].dimension)
            vectors.add(chunk_vectors)
            vectors.save(tmp)
            if vectors.kind != DEFAULT_VECTOR_INDEX:  # approximate: keep the exact vectors beside it
                _save_npy(tmp / "chunks.npy", chunk_vectors)
            _write_json(
                tmp / "chunks.json",
                [
                    {"id": c.id, "source": c.source, "start": c.start, "end": c.end, "text": c.text, "embed_text": c.embed_text}
                    for c in chunks
                ],
            )
            _write_json(tmp / "sentences.json", [[s.source, s.start, s.end, s.embed_text] for s in sentences])
            _save_npy(tmp / "sentences.npy", sentence_vectors)
            data = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
            generation = "gen-" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
            previous = old.generation if old and old.generation != generation else (old.previous_generation if old else None)
            manifest = Manifest(
                **manifest_fields,
                generation=generation,
                previous_generation=previous,
                data=data,
                spot_checks=spot_checks(tmp),
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


def _sweep_if_free(index_dir: Path) -> None:
    """On load, remove leftovers when no writer is busy (never waits; a read-only folder is fine)."""
    try:
        with _index_lock(index_dir, wait=False) as locked:
            if locked:
                sweep(index_dir)
    except OSError as exc:
        log.info("could not clean %s: %s", index_dir, exc)


def load_index(index_dir: Path, *, documents: Iterable[Document] | None = None, nprobe: int | None = None) -> IndexData:
    """Load and verify the current generation. Raises IndexUnusable with the reason.

    With ``documents`` (the seeds as read now), each chunk and sentence of a document whose
    sha256 still matches the manifest is checked against that document's text (:func:`verify`).
    ``nprobe``: IVF cells an approximate index reads per search (``IndexSettings.nprobe``).
    """
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexUnusable(f"No index in {index_dir}.")
    if manifest.format != FORMAT_VERSION:
        raise IndexUnusable(f"The index in {index_dir} has format {manifest.format}; this czqa reads {FORMAT_VERSION}.")
    _sweep_if_free(index_dir)
    gen = index_dir / manifest.generation
    if not matches(gen, manifest.data, manifest.spot_checks):
        raise IndexUnusable(f"The index in {gen} is damaged: a data file is missing or does not match its checksum.")
    try:
        exact = open_matrix(gen / "chunks.npy") if "chunks.npy" in manifest.data else None
        vectors = open_index(manifest.vector_index, gen, exact=exact, nprobe=nprobe)
        raw_chunks = json.loads((gen / "chunks.json").read_text(encoding="utf-8"))
        chunks = [Chunk(**c) for c in raw_chunks]
        sentences = [SentenceRecord(*row) for row in json.loads((gen / "sentences.json").read_text(encoding="utf-8"))]
        sentence_vectors = open_matrix(gen / "sentences.npy")
    except Exception as exc:  # checksums matched, so this is a czqa bug or a foreign index
        raise IndexUnusable(f"The index in {gen} could not be read: {exc}") from exc
    if len(vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexUnusable(f"The index in {gen} is inconsistent (vector and metadata counts differ).")
    data = IndexData(manifest, chunks, sentences, vectors, sentence_vectors)
    verify(data, documents)
    return data


def verify(data: IndexData, documents: Iterable[Document] | None = None) -> None:
    """Refuse metadata that cannot be right, naming the first fault (IndexUnusable).

    Checksums prove the files are the ones the manifest lists, not that they are right: a
    hand-edited index with updated checksums can hold offsets that are consistent but point at
    other text, which an answer would quote. So ranges must be well formed, sources listed and
    vectors finite; and for each given document whose sha256 matches the manifest, every chunk's
    text must be its slice and every sentence's embedded text its slice's visible text (string
    comparisons only: about 2 ms for the seeds, less than the checksums).
    """
    m, chunks, sentences = data.manifest, data.chunks, data.sentences
    where = f"The index ({m.generation})"
    if len(chunks) != m.chunks or len(sentences) != m.sentences:
        raise IndexUnusable(f"{where} holds {len(chunks)} chunks and {len(sentences)} sentences; its manifest says {m.chunks} and {m.sentences}.")
    c = np.array([(x.start, x.end, len(x.text)) for x in chunks], dtype=np.int64).reshape(-1, 3)
    s = np.array([(x.start, x.end) for x in sentences], dtype=np.int64).reshape(-1, 2)
    bad_c = np.flatnonzero((c[:, 0] < 0) | (c[:, 1] <= c[:, 0]) | (c[:, 1] - c[:, 0] != c[:, 2]))
    bad_s = np.flatnonzero((s[:, 0] < 0) | (s[:, 1] <= s[:, 0]))
    if bad_c.size or bad_s.size:
        x = chunks[int(bad_c[0])] if bad_c.size else sentences[int(bad_s[0])]
        raise IndexUnusable(f"{where} is damaged: a passage of {x.source} has impossible offsets {x.start}-{x.end}.")
    unknown = sorted(({c.source for c in chunks} | {s.source for s in sentences}) - set(m.files))
    if unknown:
        raise IndexUnusable(f"{where} is damaged: it quotes {unknown[0]}, a file its manifest does not list.")
    sv = data.sentence_vectors
    if sv.ndim != 2 or (len(sv) and sv.shape[1] != m.model.dimension) or not finite(sv):
        raise IndexUnusable(f"{where} is damaged: its sentence vectors are not finite {m.model.dimension}-d vectors.")
    docs = {d.source: d for d in documents or () if m.files.get(d.source) == d.sha256}
    if not docs:
        return
    for c in chunks:
        d = docs.get(c.source)
        if d is not None and (c.end > len(d.text) or d.text[c.start : c.end] != c.text):
            raise IndexUnusable(f"{where} does not match its documents: chunk {c.id} quotes other text than {c.source} holds at chars {c.start}-{c.end}.")
    for s in sentences:
        d = docs.get(s.source)
        if d is not None and (s.end > len(d.text) or visible_text(d.text[s.start : s.end], is_html=d.is_html) != s.embed_text):
            raise IndexUnusable(f"{where} does not match its documents: the sentence at chars {s.start}-{s.end} of {s.source} is not the text that was embedded for it.")
