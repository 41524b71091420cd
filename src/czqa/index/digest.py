"""Checksums of an index generation's data files, cheap enough to run on every load.

Every data file's full sha256 is recorded in the manifest at build time. Loading re-hashes the
files in full up to ``FULL_CHECK_BYTES``; a larger file (the vectors of a big collection: 7 GB of
sentence vectors at a million chunks) is checked by its size and ``SPOT_BLOCKS`` blocks spread
evenly over it, against a second digest the build records (``Manifest.spot_checks``). Reading
4 MiB instead of gigabytes keeps a load in seconds and the pages out of memory. It still catches
a truncated, replaced or regenerated file; a few flipped bytes inside a vector file may pass,
and cost ranking quality, never a wrong quote: the text and offsets that answers quote are
checked against the documents themselves (:func:`czqa.index.verify.verify`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

FULL_CHECK_BYTES = 64 << 20
SPOT_BLOCKS = 64
SPOT_BLOCK = 64 << 10


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def spot_digest(path: Path) -> str:
    """sha256 of the file's size and of ``SPOT_BLOCKS`` blocks spread evenly over it (the first
    and the last included)."""
    size = path.stat().st_size
    h = hashlib.sha256(f"size={size};".encode())
    step = max(size - SPOT_BLOCK, 0) / max(SPOT_BLOCKS - 1, 1)
    with open(path, "rb") as f:
        for i in range(SPOT_BLOCKS):
            f.seek(int(i * step))
            h.update(f.read(SPOT_BLOCK))
    return h.hexdigest()


def spot_checks(folder: Path) -> dict[str, str]:
    """The spot digests of the files in ``folder`` too large to re-hash on every load."""
    return {p.name: spot_digest(p) for p in sorted(folder.iterdir()) if p.is_file() and p.stat().st_size > FULL_CHECK_BYTES}


def matches(folder: Path, data: dict[str, str], spots: dict[str, str] | None = None) -> bool:
    """Does ``folder`` hold these files with these sha256s? With ``spots``, a file listed there
    is checked by its spot digest instead of its full sha256 (see the module doc)."""
    spots = spots or {}
    for name, digest in data.items():
        path = folder / name
        if not path.is_file():
            return False
        if (spot_digest(path) if name in spots else sha256_file(path)) != spots.get(name, digest):
            return False
    return True


def all_finite(matrix: np.ndarray, *, rows: int = 1 << 16) -> bool:
    """Whether every value is finite, a block of rows at a time (no temporary of the matrix's size)."""
    return all(np.isfinite(matrix[i : i + rows]).all() for i in range(0, len(matrix), rows))


def finite(matrix: np.ndarray) -> bool:
    """Whether the vectors are finite: every row of a small matrix, 4096 rows of a large
    (memory-mapped) one, whose every row the build checked before saving it: 64 runs of 64 rows
    spread evenly (first and last included), 64 reads from a cold disk rather than 4096."""
    if matrix.nbytes <= FULL_CHECK_BYTES:
        return bool(np.isfinite(matrix).all())
    starts = np.linspace(0, max(len(matrix) - 64, 0), 64).astype(np.int64)
    return all(bool(np.isfinite(matrix[a : a + 64]).all()) for a in starts.tolist())
