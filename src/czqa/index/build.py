"""Build or refresh the index from the seeds, re-embedding only what changed.

A seed file whose sha256 is unchanged keeps its chunks and sentences as they are; a changed or
new file is cleaned and chunked again, and any text whose embedding the previous index already
holds (same visible text) reuses that vector. So editing one file re-embeds that file's changed
passages and nothing else, and the report says exactly how much was embedded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from czqa import __version__
from czqa.ingest.chunking import Chunk, fit_pieces, pack_chunks
from czqa.ingest.clean import clean
from czqa.ingest.documents import Document, read_seeds
from czqa.embed.encoder import DIMENSION, MAX_WORDPIECES, MODEL_NAME, Encoder, count_wordpieces
from czqa.errors import IndexUnusable
from czqa.ingest.sentences import split_sentences
from czqa.settings import ChunkingSettings, Settings
from czqa.index.store import PIPELINE_VERSION, IndexData, Manifest, ModelInfo, SentenceRecord, load_index, save_index
from czqa.ingest.tokens import count_tokens

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What one index build did: files read, reused and skipped, texts embedded, chunks, time."""

    files: int = 0
    files_reused: int = 0
    files_processed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{self.files} files ({self.files_reused} unchanged)",
            f"{self.chunks} chunks",
            f"{self.sentences} sentences",
            f"{self.embedded} texts embedded",
            f"{self.seconds:.1f} s",
        ]
        if self.skipped:
            parts.append("skipped: " + ", ".join(f"{k} ({v})" for k, v in self.skipped.items()))
        return "; ".join(parts)


def default_encoder() -> Encoder:
    """The encoder that builds indexes unless another is given (torch loads on first encode)."""
    from czqa.embed.encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder()


def model_info(encoder: Encoder | None = None) -> ModelInfo:
    """What the manifest records about the encoder that built (or would build) an index."""
    if encoder is None:
        return ModelInfo(name=MODEL_NAME, dimension=DIMENSION, max_wordpieces=MAX_WORDPIECES)
    return ModelInfo(name=encoder.name, dimension=encoder.dimension, max_wordpieces=encoder.max_tokens)


def process_document(doc: Document, chunking: ChunkingSettings) -> tuple[list[Chunk], list[SentenceRecord]]:
    """Clean, split and chunk one document (no embedding)."""
    cleaned = clean(doc.text, is_html=doc.is_html)
    chunks: list[Chunk] = []
    sentences: list[SentenceRecord] = []
    for region_sentences in split_sentences(doc.text, cleaned):
        pieces = fit_pieces(
            doc.text,
            region_sentences,
            max_tokens=chunking.max_tokens,
            max_wordpieces=chunking.max_wordpieces,
            tokens=count_tokens,
            wordpieces=count_wordpieces,
            is_html=doc.is_html,
        )
        sentences.extend(SentenceRecord(doc.source, p.start, p.end, p.embed_text) for p in pieces)
        chunks.extend(
            pack_chunks(
                doc.source,
                doc.text,
                pieces,
                max_tokens=chunking.max_tokens,
                overlap_tokens=chunking.overlap_tokens,
                max_wordpieces=chunking.max_wordpieces,
                tokens=count_tokens,
                wordpieces=count_wordpieces,
            )
        )
    return chunks, sentences


def staleness(manifest: Manifest, docs: list[Document], settings: Settings, encoder: Encoder | None = None) -> list[str]:
    """Why an index no longer matches the seeds, settings and encoder (empty when it is fresh)."""
    reasons = []
    expected = model_info(encoder)
    if manifest.model != expected:
        reasons.append(f"it was built with encoder {manifest.model.name} ({manifest.model.dimension}-d), not {expected.name} ({expected.dimension}-d)")
    if manifest.pipeline_version != PIPELINE_VERSION:
        reasons.append(f"cleaning/chunking rules changed (v{manifest.pipeline_version} -> v{PIPELINE_VERSION})")
    if manifest.chunking != settings.chunking:
        reasons.append("chunking settings changed")
    current = {d.source: d.sha256 for d in docs}
    added = sorted(set(current) - set(manifest.files))
    removed = sorted(set(manifest.files) - set(current))
    changed = sorted(n for n in set(current) & set(manifest.files) if current[n] != manifest.files[n])
    if added:
        reasons.append("added: " + ", ".join(added))
    if removed:
        reasons.append("removed: " + ", ".join(removed))
    if changed:
        reasons.append("changed: " + ", ".join(changed))
    return reasons


def build_index(
    settings: Settings,
    *,
    encoder: Encoder | None = None,
    previous: IndexData | None = None,
    docs: list[Document] | None = None,
    skipped: dict[str, str] | None = None,
    show_progress: bool = False,
) -> tuple[IndexData, BuildReport]:
    """Build (or incrementally refresh) the index for ``settings.seeds_dir`` into ``settings.index_dir``.

    ``docs``/``skipped`` let a caller that already read the seeds pass them in.
    """
    started = time.perf_counter()
    encoder = encoder or default_encoder()
    skipped = dict(skipped or {})
    if docs is None:
        docs, skipped_list = read_seeds(settings.seeds_dir)
        skipped = {s.source: s.reason for s in skipped_list}
    if previous is None:
        try:
            previous = load_index(settings.index_dir)
        except IndexUnusable:
            previous = None
    compatible = (
        previous is not None
        and previous.manifest.model == model_info(encoder)
        and previous.manifest.pipeline_version == PIPELINE_VERSION
        and previous.manifest.chunking == settings.chunking
    )
    report = BuildReport(files=len(docs), skipped=skipped)
    if previous is not None:
        report.files_removed = sorted(set(previous.manifest.files) - {d.source for d in docs})

    # Vectors we already have, by visible text.
    known: dict[str, np.ndarray] = {}
    if compatible:
        for c, v in zip(previous.chunks, previous.chunk_vectors()):
            known[c.embed_text] = v
        for s, v in zip(previous.sentences, previous.sentence_vectors):
            known[s.embed_text] = v

    chunks: list[Chunk] = []
    sentences: list[SentenceRecord] = []
    for doc in docs:
        if compatible and previous.manifest.files.get(doc.source) == doc.sha256:
            chunks.extend(c for c in previous.chunks if c.source == doc.source)
            sentences.extend(s for s in previous.sentences if s.source == doc.source)
            report.files_reused += 1
            continue
        c, s = process_document(doc, settings.chunking)
        chunks.extend(c)
        sentences.extend(s)
        report.files_processed.append(doc.source)

    todo = sorted({t for t in [c.embed_text for c in chunks] + [s.embed_text for s in sentences] if t not in known})
    if todo:
        vectors = encoder.encode(todo, show_progress=show_progress)
        known.update(zip(todo, vectors))
    report.embedded = len(todo)

    def stack(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, encoder.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    chunk_vectors = stack([c.embed_text for c in chunks])
    sentence_vectors = stack([s.embed_text for s in sentences])
    manifest = save_index(
        settings.index_dir,
        manifest_fields=dict(
            czqa_version=__version__,
            pipeline_version=PIPELINE_VERSION,
            model=model_info(encoder),
            chunking=settings.chunking,
            files={d.source: d.sha256 for d in docs},
            skipped=skipped,
        ),
        chunks=chunks,
        chunk_vectors=chunk_vectors,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
    )
    report.chunks, report.sentences = len(chunks), len(sentences)
    report.seconds = time.perf_counter() - started
    log.info("index built: %s", report.summary())
    return load_index(settings.index_dir), report


def ensure_index(
    settings: Settings,
    *,
    docs: list[Document] | None = None,
    skipped: dict[str, str] | None = None,
    encoder: Encoder | None = None,
) -> tuple[IndexData, BuildReport | None]:
    """The index for ``settings``, fresh: loaded as is, or (with auto_build) built or refreshed.

    Never returns a stale index: without auto_build a missing, damaged or stale index raises
    IndexUnusable with the reasons.
    """
    if docs is None:
        docs, skipped_list = read_seeds(settings.seeds_dir)
        skipped = {s.source: s.reason for s in skipped_list}
    try:
        data = load_index(settings.index_dir)
    except IndexUnusable as exc:
        if not settings.auto_build:
            raise IndexUnusable(f"{exc} Run `czqa index` to build it.") from exc
        log.warning("%s Building it now.", exc)
        return build_index(settings, encoder=encoder, docs=docs, skipped=skipped, previous=None)
    encoder = encoder or default_encoder()
    reasons = staleness(data.manifest, docs, settings, encoder)
    if not reasons:
        return data, None
    if not settings.auto_build:
        raise IndexUnusable(f"The index in {settings.index_dir} is stale: {'; '.join(reasons)}. Run `czqa index`.")
    log.warning("The index is stale (%s); refreshing it.", "; ".join(reasons))
    return build_index(settings, encoder=encoder, docs=docs, skipped=skipped, previous=data)
