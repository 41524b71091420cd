"""Finished embeddings survive a crashed build: one sqlite file per encoder in the index folder.

A build embeds in batches and commits each batch's vectors here as soon as it is encoded, so a
crash, Ctrl-C or ``kill -9`` loses at most the batch in flight; the next build looks every text
up here first and embeds only what is missing. Once the new index is saved its vectors live in
the index (which incremental builds reuse), so the build removes the cache: it never holds more
than one unfinished build's work.

Why sqlite (standard library) rather than files of our own: each batch is one transaction with a
rollback journal, so a batch torn by a kill is rolled back when the file is next opened and never
half-read, and lookup by key needs no index of ours. Layout:
``<index>/.embed-cache/<encoder>-<hash>.sqlite`` holding ``vectors(key, vector)``: the key is the
sha256 of the embedded text, the vector its float32 bytes. The hash covers the encoder's name and
dimension, so one model's vectors are never served to another. The cache saves work and must
never cost a build: a damaged file is replaced, and one that cannot be written (read-only
folder, another build holding it) is used as far as it works, with a log line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_DIR = ".embed-cache"
_LOOKUP = 500  # keys per SELECT (well under sqlite's limit on bound parameters)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cache_path(index_dir: Path, *, name: str, dimension: int) -> Path:
    """Where ``index_dir`` keeps unfinished work of the encoder ``name`` (``dimension``-d)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "encoder"
    digest = hashlib.sha256(f"{name}\x00{dimension}".encode()).hexdigest()[:12]
    return index_dir / CACHE_DIR / f"{readable}-{digest}.sqlite"


def remove_caches(index_dir: Path) -> None:
    """Drop every encoder's cache (after a successful save; see the module docstring)."""
    shutil.rmtree(index_dir / CACHE_DIR, ignore_errors=True)


class EmbeddingCache:
    """One encoder's finished vectors, by text. Best effort: a failure is logged, never raised."""

    def __init__(self, index_dir: Path, *, name: str, dimension: int) -> None:
        self.path = cache_path(index_dir, name=name, dimension=dimension)
        self.dimension = dimension
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._connect()
            except sqlite3.DatabaseError:  # not a database (damaged, or something else): start over
                log.warning("embedding cache %s is damaged; starting it again", self.path)
                for leftover in (self.path, self.path.with_name(self.path.name + "-journal")):
                    leftover.unlink(missing_ok=True)
                self._db = self._connect()
        except (sqlite3.Error, OSError) as exc:
            log.warning("embedding cache %s unavailable (%s); a crash will lose this build's progress", self.path, exc)
            self.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            db.commit()
            db.execute("SELECT count(*) FROM vectors").fetchone()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those ``texts`` that have one (wrong-sized or non-finite ones are ignored)."""
        if self._db is None or not texts:
            return {}
        by_key = {text_key(t): t for t in texts}
        keys = list(by_key)
        found: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(keys), _LOOKUP):
                part = keys[i : i + _LOOKUP]
                query = f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})"
                for key, blob in self._db.execute(query, part):
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dimension,) and np.isfinite(vector).all():
                        found[by_key[key]] = vector.copy()
        except (sqlite3.Error, ValueError) as exc:
            log.warning("embedding cache %s could not be read (%s); embedding everything", self.path, exc)
            return {}
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Commit one finished batch: after this returns, a crash cannot lose it."""
        if self._db is None:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(text_key(t), v.tobytes()) for t, v in zip(texts, vectors)]
        try:
            with self._db:  # one transaction: the whole batch survives a kill, or none of it
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not written (%s); continuing without it", self.path, exc)
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
