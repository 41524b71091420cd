"""Milvus as the chunk vector index, for collections that outgrow one machine (``kind="milvus"``).

``CZQA_INDEX__BACKEND=milvus`` with ``CZQA_INDEX__URI=http://host:19530`` puts the chunk vectors
of an index in a collection of a Milvus standalone or cluster (pymilvus ``MilvusClient``); a
``*.db`` path runs Milvus Lite in-process instead, one process at a time (what the tests use).

What moves and what stays: Milvus holds the chunk vectors (``row`` = the chunk's row in the
index's chunk tables, its ``chunk_id``, the vector; HNSW on inner product, as FAISS's flat index
scores unit vectors) and answers the question's candidate search. The index folder keeps
everything else: manifest, chunk and sentence text, sentence vectors, and the exact chunk
vectors (``chunks.npy``, memory-mapped as beside an IVF index). So, as with IVF, Milvus decides
which rows are candidates and never their scores: they are re-scored on the exact vectors, and
the retriever's sentence scoring, BM25 and incremental rebuilds work unchanged, without a
round trip per row.

Collections are named ``<collection>_<hash>``, the hash over the vectors, the chunk ids and a
random id kept in the manifest for this index folder: a rebuild writes a new collection and
the manifest switch commits it, so a reader of the previous manifest keeps a collection to
search (the previous one is kept, the one before it dropped, as generations are swept), an
interrupted upload is never referenced, and an unchanged rebuild reuses the collection it finds
complete. Loading checks that the collection exists, holds as many vectors of the same
dimension as the index, and that sampled rows are the index's own vectors.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from czqa.errors import BuildUnavailable, IndexLocationError, IndexUnusable
from czqa.index.vectors import inner_products
from czqa.settings import IndexSettings

log = logging.getLogger(__name__)

KIND = "milvus"
EXTRA = "pip install 'czqa[milvus]'"
VECTOR, ROW, CHUNK_ID = "vector", "row", "chunk_id"
INSERT_BATCH = 2_000  # rows per insert: ~3 MB of 384-d vectors, well under gRPC's 64 MB message limit
MAX_TOPK = 16_384  # Milvus refuses a larger limit
HNSW = {"M": 16, "efConstruction": 200}
MIN_EF = 64  # HNSW's search breadth; Milvus wants ef >= limit, so it grows with k
SAMPLED_ROWS = 8  # rows whose vectors loading compares with chunks.npy


def pymilvus():
    """The pymilvus module, or a message naming the extra that installs it."""
    try:
        import pymilvus as module
    except ImportError:
        raise BuildUnavailable(f"The Milvus index backend needs pymilvus (and milvus-lite for a *.db file): {EXTRA}") from None
    return module


def _is_lite(uri: str) -> bool:
    return uri.endswith(".db") and not uri.startswith(("http://", "https://", "tcp://", "unix:"))


def normal_uri(uri: str) -> str:
    """A Milvus Lite file as an absolute path (the manifest is read from other directories); a
    server address as given."""
    return str(Path(uri).expanduser().resolve()) if _is_lite(uri) else uri


def connect(uri: str, *, token: str | None = None):
    """A ``MilvusClient`` for ``uri``, or IndexLocationError saying why there is none."""
    module = pymilvus()
    try:
        return module.MilvusClient(uri=uri, token=token or "")
    except module.MilvusException as exc:
        reason = getattr(exc, "message", "") or str(exc)
        if _is_lite(uri):
            reason += " (Milvus Lite serves one process at a time: is another czqa using this file?)"
        raise IndexLocationError(f"Cannot open the Milvus index at {uri}: {reason}. Check CZQA_INDEX__URI and CZQA_INDEX__TOKEN.") from None


def check_server(settings: IndexSettings) -> None:
    """Fail in a second, before any embedding, when a Milvus build could not save its vectors."""
    if settings.backend == KIND:
        connect(normal_uri(settings.uri or ""), token=_token(settings)).close()


def _token(settings: IndexSettings | None) -> str | None:
    return settings.token.get_secret_value() if settings is not None and settings.token is not None else None


def collection_name(prefix: str, instance: str, ids: Sequence[str], vectors: np.ndarray) -> str:
    """``<prefix>_<hash>``: the same content in the same index folder gives the same name."""
    h = hashlib.sha256(instance.encode())
    h.update("\0".join(ids).encode())
    for start in range(0, len(vectors), 65_536):  # a block at a time: the matrix may be memory-mapped
        h.update(np.ascontiguousarray(vectors[start : start + 65_536], dtype=np.float32).data)
    return f"{prefix}_{h.hexdigest()[:16]}"


class MilvusIndex:
    """The :class:`czqa.index.vectors.VectorIndex` protocol over a Milvus collection (see the module doc)."""

    kind = KIND

    def __init__(self, client: Any, *, uri: str, location: Mapping[str, str], exact: np.ndarray | None = None,
                 dimension: int = 0, prefix: str = "czqa", ids: Sequence[str] = (),
                 previous: Mapping[str, str] | None = None) -> None:
        self._client = client
        self.uri = uri
        self.location = dict(location)  # what the manifest records: uri, collection, instance, previous_collection
        self._exact = exact
        self.dimension = int(exact.shape[1]) if exact is not None and exact.ndim == 2 else dimension
        self._prefix = prefix
        self._ids = list(ids)
        self._previous = dict(previous or {})

    @property
    def collection(self) -> str:
        return self.location.get("collection", "")

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def create(cls, kind: str, dimension: int, *, settings: IndexSettings | None = None, ids: Sequence[str] = (),
               previous: Mapping[str, str] | None = None, **_: Any) -> "MilvusIndex":
        """An empty index to upload to ``settings.uri``; ``ids`` are the chunk ids, row by row;
        ``previous``: the vector store the index folder's current manifest records (its
        collection is kept for readers, the one before it dropped)."""
        if settings is None or not settings.uri:
            raise IndexLocationError("A Milvus index needs an address: set CZQA_INDEX__URI (http://host:19530 or a file ending in .db).")
        uri = normal_uri(settings.uri)
        return cls(connect(uri, token=_token(settings)), uri=uri, location={"uri": uri}, dimension=dimension,
                   prefix=settings.collection, ids=ids, previous=previous)

    def add(self, vectors: np.ndarray) -> None:
        """Keep ``vectors``; :meth:`save` uploads them (the collection's name needs them all)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors):
            self._exact = vectors if self._exact is None or not len(self._exact) else np.concatenate([self._exact, vectors])

    def save(self, path: Path) -> None:
        """Upload to a collection of its own (nothing is written under ``path``: the store keeps
        the exact vectors there as ``chunks.npy``), then drop the collection two builds back."""
        vectors = self._exact if self._exact is not None else np.zeros((0, self.dimension), np.float32)
        if len(self._ids) != len(vectors):
            raise ValueError(f"{len(self._ids)} chunk ids for {len(vectors)} vectors")
        same_place = self._previous.get("uri") == self.uri
        instance = self._previous.get("instance") if same_place else None
        instance = instance or secrets.token_hex(4)
        name = collection_name(self._prefix, instance, self._ids, vectors)
        if self._complete(name):
            log.info("Milvus collection %s at %s already holds these vectors: reused", name, self.uri)
        else:
            self._upload(name, vectors)
        before = self._previous.get("collection") if same_place else None
        kept = before if before != name else self._previous.get("previous_collection")
        self.location = {"uri": self.uri, "collection": name, "instance": instance, **({"previous_collection": kept} if kept else {})}
        stale = self._previous.get("previous_collection") if same_place else None
        if stale and stale not in (name, kept):
            try:
                self._client.drop_collection(stale)
                log.info("dropped Milvus collection %s (two builds back)", stale)
            except Exception as exc:  # a leftover on the server, not a failed build
                log.warning("could not drop the Milvus collection %s: %s", stale, exc)

    def _complete(self, name: str) -> bool:
        """Whether collection ``name`` exists with every row of this build (a reused name means
        the same content; an interrupted upload left fewer rows, and is dropped)."""
        if not self._client.has_collection(name):
            return False
        try:
            self._verify(name, len(self._ids))
            return True
        except IndexUnusable as exc:
            log.info("%s; uploading it again", exc)
            self._client.drop_collection(name)
            return False

    def _upload(self, name: str, vectors: np.ndarray) -> None:
        module = pymilvus()
        schema = module.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                                   description="czqa chunk vectors; row = the chunk's row in the chunk tables")
        schema.add_field(ROW, module.DataType.INT64, is_primary=True)
        schema.add_field(CHUNK_ID, module.DataType.VARCHAR, max_length=64)
        schema.add_field(VECTOR, module.DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]) if vectors.ndim == 2 else self.dimension)
        params = self._client.prepare_index_params()
        params.add_index(VECTOR, index_type="HNSW", metric_type="IP", params=dict(HNSW))
        self._client.create_collection(name, schema=schema, index_params=params)
        log.info("uploading %d vectors to the Milvus collection %s at %s", len(vectors), name, self.uri)
        for start in range(0, len(vectors), INSERT_BATCH):
            block = np.asarray(vectors[start : start + INSERT_BATCH], dtype=np.float32)
            rows = [{ROW: start + i, CHUNK_ID: self._ids[start + i], VECTOR: v} for i, v in enumerate(block)]
            self._client.insert(name, rows)
        self._client.flush(name)
        self._verify(name, len(vectors))

    # -- loading ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path, *, exact: np.ndarray | None = None, store: Mapping[str, str] | None = None,
             settings: IndexSettings | None = None, **_: Any) -> "MilvusIndex":
        """Reopen the collection the manifest records (``store``), at ``settings.uri`` when
        settings choose Milvus and name one (a server that moved), and verify it."""
        store = dict(store or {})
        if exact is None or not store.get("collection") or not store.get("uri"):
            raise IndexUnusable(f"The Milvus index in {path} is incomplete: its manifest names no collection or it has no chunks.npy.")
        uri = normal_uri(settings.uri) if settings is not None and settings.backend == KIND and settings.uri else store["uri"]
        index = cls(connect(uri, token=_token(settings)), uri=uri, location=store, exact=exact)
        index._verify(index.collection, len(exact))
        return index

    def _verify(self, name: str, count: int) -> None:
        """IndexUnusable unless collection ``name`` exists, holds ``count`` vectors of this
        index's dimension, and its sampled rows are the exact vectors kept locally."""
        client = self._client
        where = f"The Milvus collection {name} at {self.uri}"
        if not client.has_collection(name):
            raise IndexUnusable(f"{where} does not exist (dropped, or CZQA_INDEX__URI names another server): rebuild the index to upload it again.")
        fields = {f["name"]: f for f in client.describe_collection(name).get("fields", [])}
        dimension = int(fields.get(VECTOR, {}).get("params", {}).get("dim", -1))
        held = int(client.get_collection_stats(name).get("row_count", -1))
        if ROW not in fields or dimension != self.dimension or held != count:
            raise IndexUnusable(f"{where} holds {held} vectors of {dimension} dimensions; this index has {count} of {self.dimension}.")
        client.load_collection(name)  # after a server restart collections are released
        if self._exact is None or not count:
            return
        rows = np.unique(np.linspace(0, count - 1, min(SAMPLED_ROWS, count)).astype(np.int64))
        got = client.query(name, filter=f"{ROW} in {rows.tolist()}", output_fields=[ROW, VECTOR], consistency_level="Strong")
        found = {int(r[ROW]): np.asarray(r[VECTOR], dtype=np.float32) for r in got}
        if set(found) != set(rows.tolist()) or not all(np.allclose(found[r], self._exact[r], atol=1e-6) for r in found):
            raise IndexUnusable(f"{where} does not hold this index's vectors (rows differ from chunks.npy): rebuild the index.")

    # -- searching --------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The collection's nearest rows, re-scored on the exact vectors: (scores, rows), best first."""
        k = min(k, len(self), MAX_TOPK)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        module = pymilvus()
        try:
            found = self._client.search(self.collection, data=[q.tolist()], limit=k, anns_field=VECTOR, output_fields=[ROW],
                                        search_params={"metric_type": "IP", "params": {"ef": max(k, MIN_EF)}})
        except module.MilvusException as exc:  # the server went away after loading: one line, not a traceback
            reason = getattr(exc, "message", "") or str(exc)
            raise IndexLocationError(f"Milvus at {self.uri} did not answer a search in {self.collection}: {reason}") from None
        rows = np.fromiter((int(hit["entity"][ROW]) for hit in found[0]), dtype=np.int64)
        scores = self.score(q, rows)
        order = np.lexsort((rows, -scores))
        return scores[order], rows[order]

    def score(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return inner_products(self.vectors(), query, rows)

    def vectors(self) -> np.ndarray:
        """The exact vectors, from ``chunks.npy`` (not read back from the server)."""
        return self._exact if self._exact is not None else np.zeros((0, self.dimension), np.float32)

    def close(self) -> None:
        """Close the connection; for Milvus Lite also stop its in-process server, so that another
        process may open the file (Milvus Lite serves one process at a time)."""
        self._client.close()
        if _is_lite(self.uri):
            try:
                from milvus_lite.server_manager import server_manager_instance
            except ImportError:
                return
            server_manager_instance.release_server(self.uri)

    def __len__(self) -> int:
        return len(self.vectors())
