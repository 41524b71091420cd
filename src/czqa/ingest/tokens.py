"""Token counting for chunk budgets: tiktoken, made to work offline.

tiktoken normally downloads its BPE files on first use, which fails on an offline machine. The
``bpe-openai`` package ships the same files (gzipped); tiktoken reads a local copy when it sits
in ``TIKTOKEN_CACHE_DIR`` under the sha1 of the URL it *would* have downloaded from. So we
decompress the shipped file into that cache once. The URL below is only ever hashed into that
cache key, never fetched; tiktoken then checks the file against its own expected sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING = "cl100k_base"
_lock = threading.Lock()


def cache_dir() -> Path:
    """Where czqa keeps its decompressed BPE files (XDG cache, or a temp dir as a fallback)."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "czqa" / "tiktoken"


def _cache_key(name: str) -> str:
    # tiktoken's cache key for this encoding: the sha1 of its download location (hashed only).
    location = "https://openaipublic.blob.core.windows.net/encodings/" + name + ".tiktoken"
    return hashlib.sha1(location.encode()).hexdigest()


def install_bpe(name: str = ENCODING, *, directory: Path | None = None) -> Path:
    """Place the BPE file shipped by ``bpe-openai`` where tiktoken looks for it offline."""
    directory = directory or cache_dir()
    target = directory / _cache_key(name)
    if target.exists():
        return target
    shipped = resources.files("bpe_openai.data") / f"{name}.tiktoken.gz"
    data = gzip.decompress(shipped.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".bpe-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, target)  # atomic: a concurrent reader sees the whole file or none
    return target


@lru_cache(maxsize=4)
def encoding(name: str = ENCODING) -> "tiktoken.Encoding":
    """The tiktoken encoding, loaded from the shipped BPE file with no network access."""
    import tiktoken

    with _lock:
        directory = cache_dir()
        install_bpe(name, directory=directory)
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        try:
            return tiktoken.get_encoding(name)
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
