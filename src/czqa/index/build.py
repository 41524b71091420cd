"""Build or refresh the index from the seeds, re-embedding only what changed.

A seed file whose sha256 is unchanged keeps its chunks and sentences as they are; a changed or
new file is cleaned and chunked again, and any text whose embedding the previous index already
holds (same visible text) reuses that vector. So editing one file re-embeds that file's changed
passages and nothing else, and the report says exactly how much was embedded.

Texts are embedded in batches of ``EMBED_BATCH``, each committed to the index folder's embedding
cache (:mod:`czqa.index.cache`) as it finishes: a build killed at 50% and started again embeds
only the other half. The cache is removed once the new index is saved.

The vector index kind is chosen here, from the number of chunks and ``settings.index``
(:func:`czqa.index.ivf.choose_kind`): exact FAISS search below ``ivf_above`` chunks, an IVF index
trained on this build's vectors from there; with ``backend="milvus"`` a Milvus collection
(:mod:`czqa.index.milvus`). Changing the setting does not make an index stale;
the next build uses it (reusing every vector, so nothing is embedded again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from czqa import __version__
from czqa.ingest.chunking import Chunk, fit_pieces, pack_chunks
from czqa.ingest.clean import Cleaned, Region, clean
from czqa.ingest.documents import Document, FileIssue, IngestReport, ingest
from czqa.embed.encoder import DIMENSION, INT8_NAME, MAX_WORDPIECES, MODEL_NAME, Encoder, count_wordpieces
from czqa.errors import IndexUnusable
from czqa.index.progress import BuildInterrupted, ProgressLines
from czqa.index.cache import EmbeddingCache, remove_caches
from czqa.index.ivf import choose_kind
from czqa.index.milvus import KIND as MILVUS, check_server
from czqa.ingest.sentences import split_sentences
from czqa.ingest.text import DocumentTexts
from czqa.settings import ChunkingSettings, Settings
from czqa.index.store import (
    PIPELINE_VERSION, IndexData, Manifest, ManifestDraft, ModelInfo, SentenceRecord, check_index_location, load_index, save_index,
)
from czqa.ingest.tokens import count_tokens

log = logging.getLogger(__name__)

EMBED_BATCH = 256  # texts per encode call and per cache commit: a crash loses at most this many


@dataclass
class BuildReport:
    """What one index build did: files read, reused and not indexed, texts embedded, chunks, time."""

    files: int = 0
    files_reused: int = 0
    files_processed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    resumed: int = 0  # vectors found in the cache an interrupted build left
    seconds: float = 0.0

    @property
    def skipped(self) -> dict[str, str]:
        """Every file not indexed (skipped or refused) -> why."""
        return {i.path: i.reason for i in self.ingest.refused + self.ingest.skipped}

    def summary(self) -> str:
        embedded = f"{self.embedded} texts embedded"
        if self.resumed:
            embedded += f" ({self.resumed} more kept from an interrupted build)"
        parts = [
            f"{self.files} files ({self.files_reused} unchanged)",
            f"{self.chunks} chunks",
            f"{self.sentences} sentences",
            embedded,
            f"{self.seconds:.1f} s",
        ]
        if self.ingest.skipped or self.ingest.refused:
            parts.append(f"{len(self.ingest.skipped)} skipped, {len(self.ingest.refused)} refused")
        return "; ".join(parts)


def default_encoder(settings: Settings | None = None) -> Encoder:
    """The encoder that builds indexes unless another is given: the int8 one, or with
    ``precision="fp32"`` sentence-transformers (torch loads on first encode)."""
    from czqa.embed.encoder import build_encoder_for

    return build_encoder_for(settings.precision if settings is not None else "int8")


def model_info(encoder: Encoder | None = None, *, precision: str = "fp32") -> ModelInfo:
    """What the manifest records about the encoder that built (or would build) an index: without
    an encoder, the default build encoder of ``precision``'s (named without loading it)."""
    if encoder is None:
        return ModelInfo(name=INT8_NAME if precision == "int8" else MODEL_NAME, dimension=DIMENSION, max_wordpieces=MAX_WORDPIECES)
    return ModelInfo(name=encoder.name, dimension=encoder.dimension, max_wordpieces=encoder.max_tokens)


def _whole(cleaned: Cleaned) -> Cleaned:
    """Every unit of the text as one region: for a file the cleaner kept nothing of."""
    units = tuple(u for u in cleaned.units if u.end > u.start)
    if not units:
        return cleaned
    return Cleaned(regions=(Region(units[0].start, units[-1].end, units),), units=cleaned.units)


def process_document(doc: Document, chunking: ChunkingSettings) -> tuple[list[Chunk], list[SentenceRecord]]:
    """Clean, split and chunk one document (no embedding).

    When cleaning keeps nothing (a one-sentence or one-word file, a file of short lines) the
    whole text is indexed: the cleaner tells boilerplate by its place beside prose, and a file
    without prose gives it nothing to go by; dropping it would lose the file without a word.
    """
    text = doc.text  # decoded once here, dropped when the document is done
    cleaned = clean(text, is_html=doc.is_html)
    if not cleaned.regions:
        cleaned = _whole(cleaned)
    chunks: list[Chunk] = []
    sentences: list[SentenceRecord] = []
    for region_sentences in split_sentences(text, cleaned):
        pieces = fit_pieces(
            text,
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
                text,
                pieces,
                max_tokens=chunking.max_tokens,
                overlap_tokens=chunking.overlap_tokens,
                max_wordpieces=chunking.max_wordpieces,
                tokens=count_tokens,
                wordpieces=count_wordpieces,
            )
        )
    return chunks, sentences


def staleness(
    manifest: Manifest,
    docs: list[Document],
    settings: Settings,
    encoder: Encoder | None = None,
    *,
    indexed_sources: Collection[str] | None = None,
) -> list[str]:
    """Why an index no longer matches the seeds, settings and encoder (empty when it is fresh).

    With ``indexed_sources`` (the sources the index has chunks for), an unchanged file that has
    no chunks but would get some now is stale too: earlier versions dropped short files.
    """
    reasons = []
    expected = model_info(encoder, precision=settings.precision)
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
        reasons.append("added: " + _some(added))
    if removed:
        reasons.append("removed: " + _some(removed))
    if changed:
        reasons.append("changed: " + _some(changed))
    if indexed_sources is not None:
        unchanged = [d for d in docs if manifest.files.get(d.source) == d.sha256 and d.source not in indexed_sources]
        missing = [d.source for d in unchanged if process_document(d, settings.chunking)[0]]
        if missing:
            reasons.append("not indexed before (short files were dropped): " + _some(missing))
    return reasons


def _some(names: list[str], shown: int = 5) -> str:
    """The first few names and how many more: a reason stays one readable line (5,000 added
    files made a 95 KB error message)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more:,} more" if more > 0 else "")


def _documents(settings: Settings, docs: list[Document] | None, skipped: Sequence[FileIssue] | None) -> tuple[list[Document], list[FileIssue]]:
    """The documents and the files not indexed: read now, or as the caller read them."""
    if docs is None:
        docs, report = ingest(settings.seeds_dir, settings=settings.ingest, exclude=[settings.index_dir])
        return docs, report.refused + report.skipped
    return docs, list(skipped or [])


def _reading_bar(docs: list[Document], *, show_progress: bool):
    """A progress bar over the characters of ``docs`` for cleaning, splitting and chunking: a
    50 MB file takes most of a minute before the first text is embedded."""
    if not show_progress or not docs:
        return None
    from tqdm import tqdm

    return tqdm(total=sum(len(d.content) for d in docs), unit="char", unit_scale=True, desc="Reading and chunking")


def _embed(
    todo: list[str], known: dict[str, np.ndarray], encoder: Encoder, settings: Settings, *, batch: int, show_progress: bool,
    progress_lines: bool = False,
) -> tuple[int, int]:
    """Embed ``todo`` into ``known``, batch by batch, each batch committed to the embedding cache
    as soon as it is encoded. Returns (vectors found in the cache, texts embedded now)."""
    if not todo:
        return 0, 0
    with EmbeddingCache(settings.index_dir, name=encoder.name, dimension=encoder.dimension) as cache:
        found = cache.get(todo)
        known.update(found)
        rest = [t for t in todo if t not in found]
        bar = None
        lines = ProgressLines("Embedding", len(rest)) if progress_lines and rest and not show_progress else None
        if show_progress and rest:
            from tqdm import tqdm

            # Shown before the model loads (seconds of torch import), so the wait is never silent.
            bar = tqdm(total=len(rest), unit="text", desc="Embedding (loading the model)")
        for i in range(0, len(rest), batch):
            part = rest[i : i + batch]
            try:
                vectors = np.asarray(encoder.encode(part), dtype=np.float32)
            except KeyboardInterrupt:
                if bar is not None:
                    bar.close()
                raise BuildInterrupted(kept=i, total=len(rest)) from None
            cache.put(part, vectors)
            known.update(zip(part, vectors))
            if bar is not None:
                bar.set_description("Embedding", refresh=False)
                bar.update(len(part))
            if lines is not None:
                lines.update(len(part))
        if bar is not None:
            bar.close()
    return len(found), len(rest)


def _records(docs: list[Document], previous: IndexData | None, settings: Settings, report: BuildReport, *,
             show_progress: bool, processed: Mapping[str, tuple[list[Chunk], list[SentenceRecord]]] | None = None,
             ) -> tuple[dict[str, np.ndarray], list[Chunk], list[SentenceRecord]]:
    """(the vectors already known, by visible text; every chunk; every sentence): an unchanged
    file's records and vectors come from ``previous`` (a compatible index), the others are made
    now, or taken from ``processed`` (source → records that a Ray build's workers made with the
    same :func:`process_document` and chunking settings)."""
    known: dict[str, np.ndarray] = {}
    previous_chunks: dict[str, list[Chunk]] = {}
    previous_sentences: dict[str, list[SentenceRecord]] = {}
    if previous is not None:
        for c, v in zip(previous.chunks, previous.chunk_vectors()):  # each record read once
            known[c.embed_text] = v
            previous_chunks.setdefault(c.source, []).append(c)
        for s, v in zip(previous.sentences, previous.sentence_vectors):
            known[s.embed_text] = v
            previous_sentences.setdefault(s.source, []).append(s)
    chunks: list[Chunk] = []
    sentences: list[SentenceRecord] = []
    reading = _reading_bar(docs, show_progress=show_progress)
    for doc in docs:
        if doc.source in previous_chunks and previous.manifest.files.get(doc.source) == doc.sha256:
            chunks.extend(previous_chunks[doc.source])
            sentences.extend(previous_sentences.get(doc.source, ()))
            report.files_reused += 1
        else:
            c, s = processed[doc.source] if processed and doc.source in processed else process_document(doc, settings.chunking)
            chunks.extend(c)
            sentences.extend(s)
            report.files_processed.append(doc.source)
        if reading is not None:
            reading.update(len(doc.content))
    if reading is not None:
        reading.close()
    return known, chunks, sentences


def build_index(
    settings: Settings,
    *,
    encoder: Encoder | None = None,
    previous: IndexData | None = None,
    docs: list[Document] | None = None,
    skipped: Sequence[FileIssue] | None = None,
    show_progress: bool = False,
    progress_lines: bool = False,
    embed_batch: int = EMBED_BATCH,
    processed: Mapping[str, tuple[list[Chunk], list[SentenceRecord]]] | None = None,
) -> tuple[IndexData, BuildReport]:
    """Build (or incrementally refresh) the index for ``settings.seeds_dir`` into ``settings.index_dir``.

    ``docs``/``skipped`` let a caller that already read the seeds pass them in (``skipped``: the
    :class:`FileIssue` list of the files not indexed). The index folder is checked
    first, so a wrong ``--out`` fails before any embedding.
    """
    started = time.perf_counter()
    check_index_location(settings.index_dir)
    check_server(settings.index)  # a Milvus backend: reachable before any embedding
    encoder = encoder or default_encoder(settings)
    docs, issues = _documents(settings, docs, skipped)
    if previous is None:
        try:
            previous = load_index(settings.index_dir, documents=docs, nprobe=settings.index.nprobe, index_settings=settings.index)
        except IndexUnusable:
            previous = None
    compatible = (
        previous is not None
        and previous.manifest.model == model_info(encoder)
        and previous.manifest.pipeline_version == PIPELINE_VERSION
        and previous.manifest.chunking == settings.chunking
    )
    report = BuildReport(files=len(docs), ingest=IngestReport.from_parts((d.source for d in docs), issues))
    if previous is not None:
        report.files_removed = sorted(set(previous.manifest.files) - {d.source for d in docs})

    known, chunks, sentences = _records(docs, previous if compatible else None, settings, report, show_progress=show_progress,
                                        processed=processed)
    todo = sorted({t for t in [c.embed_text for c in chunks] + [s.embed_text for s in sentences] if t not in known})
    report.resumed, report.embedded = _embed(
        todo, known, encoder, settings, batch=max(1, embed_batch), show_progress=show_progress, progress_lines=progress_lines
    )

    def stack(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, encoder.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    save_index(
        settings.index_dir,
        draft=ManifestDraft(
            czqa_version=__version__,
            pipeline_version=PIPELINE_VERSION,
            model=model_info(encoder),
            # exact below settings.index.ivf_above chunks, IVF (trained now) from there
            vector_index=MILVUS if settings.index.backend == MILVUS else choose_kind(settings.index.vector_index, len(chunks), ivf_above=settings.index.ivf_above),
            chunking=settings.chunking,
            files={d.source: d.sha256 for d in docs},
            skipped={i.path: i.reason for i in report.ingest.skipped},
            refused={i.path: i.reason for i in report.ingest.refused},
        ),
        chunks=chunks,
        chunk_vectors=stack([c.embed_text for c in chunks]),
        sentences=sentences,
        sentence_vectors=stack([s.embed_text for s in sentences]),
        index_settings=settings.index,
        texts=DocumentTexts.from_documents(docs),  # the alias table and lower-case words are read from them, one at a time
    )
    remove_caches(settings.index_dir)  # its vectors are in the saved index now
    report.chunks, report.sentences = len(chunks), len(sentences)
    report.seconds = time.perf_counter() - started
    log.info("index built: %s", report.summary())
    return load_index(settings.index_dir, documents=docs, nprobe=settings.index.nprobe, index_settings=settings.index), report


def index_command(settings: Settings) -> str:
    """The exact command that builds the index for ``settings``, to paste into a shell."""
    import shlex

    return f"czqa index --seeds {shlex.quote(str(settings.seeds_dir))} --out {shlex.quote(str(settings.index_dir))}"


def ensure_index(
    settings: Settings,
    *,
    docs: list[Document] | None = None,
    skipped: Sequence[FileIssue] | None = None,
    encoder: Encoder | None = None,
    show_progress: bool = False,
) -> tuple[IndexData, BuildReport | None]:
    """The index for ``settings``, fresh: loaded as is, or (with auto_build) built or refreshed
    (with progress bars on standard error when ``show_progress``).

    Never returns a stale index: without auto_build a missing, damaged, tampered (its offsets
    checked against the documents on load) or stale index raises IndexUnusable with the reasons.
    """
    docs, issues = _documents(settings, docs, skipped)
    try:
        data = load_index(settings.index_dir, documents=docs, nprobe=settings.index.nprobe, index_settings=settings.index)
    except IndexUnusable as exc:
        if not settings.auto_build:
            raise IndexUnusable(f"{exc} Build it with: {index_command(settings)}") from exc
        log.warning("%s Building it now.", exc)
        return build_index(settings, encoder=encoder, docs=docs, skipped=issues, previous=None, show_progress=show_progress)
    encoder = encoder or default_encoder(settings)
    reasons = staleness(data.manifest, docs, settings, encoder, indexed_sources=data.chunks.source_names())
    if not reasons:
        return data, None
    if not settings.auto_build:
        raise IndexUnusable(f"The index in {settings.index_dir} is stale: {'; '.join(reasons)}. Refresh it with: {index_command(settings)}")
    log.warning("The index is stale (%s); refreshing it.", "; ".join(reasons))
    return build_index(settings, encoder=encoder, docs=docs, skipped=issues, previous=data, show_progress=show_progress)
