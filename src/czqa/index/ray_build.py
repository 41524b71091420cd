"""Building an index on a Ray cluster (``czqa index --ray auto|ADDRESS|local``; ``pip install 'czqa[ray]'``).

What a build spends its time on is spread over the cluster with Ray Data, and everything that
decides the index stays on the driver, in the same code as a local build:

* **workers** read each file and check it as text (:func:`czqa.ingest.documents.read_file`),
  then clean, split and chunk it (:func:`czqa.index.build.process_document`), one task per
  file; and embed the texts, in batches, on one actor per worker CPU (each holding the encoder);
* **the driver** lists the folder (links, hidden files, sizes: the same walk and the same
  report), decides which texts need embedding (the previous index's and the embedding cache's
  vectors are reused), commits each part's vectors to the cache as it arrives (so a stopped
  build resumes), and writes the index with :func:`czqa.index.build.build_index` itself.

The index is the local build's: the same manifest, chunks and sentences; and with the int8
encoder, which embeds each text alone (:class:`czqa.embed.encoder.OnnxMiniLM`), the same vectors
bit for bit on workers with the same CPU instructions. (The fp32 sentence-transformers encoder
pads texts into batches, so its vectors depend, in the last bits, on which texts share a batch.)

Every worker must see the documents at the same path as the driver (a shared or copied folder)
and have czqa installed; ``docs/benchmarks.md`` has the throughput model.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from czqa.errors import BuildUnavailable, UsageError
from czqa.ingest.documents import Document, FileIssue, collect, list_files, read_file
from czqa.settings import ChunkingSettings, Settings

#: Texts per embedding job: one job's vectors are committed to the cache together (a stopped
#: build loses at most one job), and each job pays Ray Data's start-up (about a second).
PART = 8192
#: Texts per batch handed to one actor.
BATCH = 128


def connect(address: str) -> int:
    """Join the Ray cluster at ``address`` (``auto``: the one ``ray start`` started on this machine;
    ``local``: a new one in this process, on this machine's cores). Returns its CPU count."""
    try:
        import ray
    except ImportError as exc:
        raise BuildUnavailable(f"--ray needs Ray ({exc}); install it with: pip install 'czqa[ray]'") from exc
    if not ray.is_initialized():
        if address not in ("auto", "local"):
            _reachable(address)
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        try:
            if address == "local":
                ray.init(num_cpus=os.cpu_count() or 1, **options)
            else:
                ray.init(address=address, **options)
        except ConnectionError as exc:
            raise UsageError(f"--ray {address}: no Ray cluster there ({exc}). Start one with `ray start --head` "
                             "(then --ray auto), or pass --ray local to build on this machine's cores.") from None
    import logging

    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no execution plans on the terminal
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _reachable(address: str) -> None:
    """Fail in seconds on an address nothing listens at (Ray itself retries for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray {address}: expected auto, local, host:port or ray://host:port")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(f"--ray {address}: no Ray cluster there ({exc.strerror or exc}). Start one with `ray start --head` "
                         "(then --ray auto), or pass --ray local to build on this machine's cores.") from None


class _ReadAndProcess:
    """Row → the file read, checked and chunked (pickled: Ray Data rows hold plain values)."""

    def __init__(self, limit: int, known: dict[str, str], chunking: ChunkingSettings) -> None:
        self.limit, self.known, self.chunking = limit, known, chunking

    def __call__(self, row: dict) -> dict:
        from czqa.index.build import process_document

        got = read_file(row["rel"], Path(row["path"]), limit=self.limit, known=self.known)
        records = None
        # A file the previous index holds unchanged is reused by the driver as it is.
        if isinstance(got, Document) and self.known.get(got.source) != got.sha256:
            records = process_document(got, self.chunking)
        return {"i": row["i"], "result": pickle.dumps((got, records))}


def read_on_workers(settings: Settings, *, known: dict[str, str] | None = None):
    """The documents, the ingest report, and each changed document's records, read and chunked by
    the cluster's workers (the folder listed here, as a local build lists it)."""
    import ray.data

    files, issues = list_files(settings.seeds_dir, settings=settings.ingest, exclude=[settings.index_dir])
    limit = int(settings.ingest.max_file_mb * 1024 * 1024)
    results: list[Document | FileIssue] = [None] * len(files)  # type: ignore[list-item]
    processed = {}
    if files:
        ds = ray.data.from_items([{"i": i, "rel": rel, "path": str(path)} for i, (rel, path) in enumerate(files)])
        ds = ds.map(_ReadAndProcess(limit, dict(known or {}), settings.chunking))
        for row in ds.iter_rows():
            got, records = pickle.loads(row["result"])
            results[row["i"]] = got
            if records is not None:
                processed[got.source] = records
    docs, report = collect(settings.seeds_dir, results, issues)
    return docs, report, processed


class _Embed:
    """A worker's encoder (loaded once per actor) applied to batches of texts. The precision is a
    class attribute (:func:`_embedder`): constructor arguments would be kept in the object store."""

    precision = "int8"

    def __init__(self) -> None:
        # One core per actor (Ray gives each one CPU): no thread pool of its own.
        if self.precision == "int8":
            from czqa.embed.encoder import OnnxMiniLM

            self.encoder = OnnxMiniLM(workers=1)
        else:
            import torch

            from czqa.embed.encoder import SentenceTransformerEncoder

            torch.set_num_threads(1)
            self.encoder = SentenceTransformerEncoder()

    def __call__(self, batch: dict) -> dict:
        return {"i": batch["i"], "vector": np.asarray(self.encoder.encode(list(batch["text"])), dtype=np.float32)}


def _embedder(precision: str) -> type[_Embed]:
    return _Embed if precision == _Embed.precision else type(f"_Embed_{precision}", (_Embed,), {"precision": precision})


class RayEncoder:
    """The build encoder of ``precision``, run on the cluster's workers: the Encoder protocol, so
    the build's own embedding loop (cache, resume, progress) drives it."""

    def __init__(self, precision: str, *, workers: int) -> None:
        from czqa.embed.encoder import DIMENSION, INT8_NAME, MAX_WORDPIECES, MODEL_NAME

        self.precision = precision
        self.name = INT8_NAME if precision == "int8" else MODEL_NAME
        self.dimension = DIMENSION
        self.max_tokens = MAX_WORDPIECES
        self.workers = workers

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        import ray.data

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        # Each actor runs the encoder on one core (the int8 encoder's texts side by side would
        # otherwise compete with the other actors for the same cores).
        ds = ds.map_batches(_embedder(self.precision), batch_size=BATCH, batch_format="numpy", concurrency=self.workers, num_cpus=1)
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            out[batch["i"]] = batch["vector"]
        return out


def build_on_ray(settings: Settings, *, address: str, show_progress: bool = False, progress_lines: bool = False):
    """``build_index`` with the reading, chunking and embedding done on the cluster at ``address``."""
    from czqa.index.build import build_index
    from czqa.index.store import indexed_files

    workers = connect(address)
    docs, report, processed = read_on_workers(settings, known=indexed_files(settings.index_dir))
    encoder = RayEncoder(settings.precision, workers=workers)
    return build_index(settings, encoder=encoder, docs=docs, skipped=report.refused + report.skipped, processed=processed,
                       embed_batch=PART, show_progress=show_progress, progress_lines=progress_lines)
