"""Fast, offline test doubles for czqa's plug-in points."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEncoder:
    """An :class:`czqa.embed.encoder.Encoder` that hashes words into a vector: no model, no torch,
    microseconds per text, and texts sharing words are similar (enough for retrieval tests)."""

    def __init__(self, *, name: str = "test/hashing-encoder", dimension: int = 64, max_tokens: int = 256) -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class ScriptedBackend:
    """A :class:`czqa.answering.llm.backends.ChatBackend` that replies with a fixed script, in
    pieces, and records the messages it was sent: the LLM mode's logic without a model."""

    description = "scripted test backend"

    def __init__(self, reply: str, *, piece: int = 7) -> None:
        self.reply = reply
        self.piece = piece
        self.sent: list[list[dict[str, str]]] = []

    def stream_chat(self, messages, *, max_tokens: int, temperature: float):
        self.sent.append(messages)
        for i in range(0, len(self.reply), self.piece):
            yield self.reply[i : i + self.piece]


def docs_folder(root, files: dict[str, str], *, name: str = "seeds"):
    """A documents folder ``root/name`` holding ``files`` (name -> UTF-8 text): the small corpora
    the index and ingestion tests build from."""
    folder = root / name
    folder.mkdir()
    for file_name, text in files.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return folder


def rewrite_tables(index_dir, change) -> None:
    """Change a format 2 index's tables through ``change(arrays, meta)`` and fix the manifest's
    checksums, as a hand editor (or an attacker) would: what loading must still catch."""
    import json

    from czqa.index import format as fmt
    from czqa.index.store import MANIFEST
    from czqa.index.tables import read_tables, write_tables

    manifest = json.loads((index_dir / MANIFEST).read_text())
    gen = index_dir / manifest["generation"]
    arrays, meta = read_tables(gen)
    arrays = {k: np.array(v) for k, v in arrays.items()}
    change(arrays, meta)
    write_tables(gen, arrays, meta)
    for name in fmt.FILES:
        manifest["data"][name] = hashlib.sha256((gen / name).read_bytes()).hexdigest()
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
