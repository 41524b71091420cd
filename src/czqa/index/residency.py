"""A cap on the pages of memory-mapped index files that this process keeps mapped.

Why: the big index files (sentence vectors, 8.4 GB at a million passages; exact chunk vectors;
``tables.bin``) are memory-mapped so that a question reads its candidates' rows, not the files.
But a page a question touched stays mapped in the process afterwards, and the kernel maps up to
64 KiB of already-cached file around each row it faults in (``MADV_RANDOM`` stops read-ahead
from disk, not this). So the resident set grew by about 25 MB per question, without bound:
5.2 GB of mapped pages after 200 questions at a million passages, 1.4 GB of them the load's
checks of ``tables.bin``, although the process held none of it: those pages belong to the page
cache, which keeps them whether or not they are mapped.

Every mapping opened by :func:`czqa.index.vectors.open_matrix` and
:func:`czqa.index.tables.read_tables` is :func:`track`-ed. :func:`enforce` (called after loading
and after each answer) reads the process's mapped file pages from ``/proc/self/statm``, about
10 µs, and past the budget (``CZQA_INDEX__MAPPED_MB``, default 1024) tells each mapping
``MADV_DONTNEED``: its pages leave the process and stay in the page cache, so the next read of
one is a minor fault (microseconds, no disk), and arrays viewing the mapping stay valid. Safe
while other threads read: a shared read-only file mapping is only re-faulted. Where
``/proc/self/statm`` or ``MADV_DONTNEED`` is missing (not Linux) nothing is released.
"""

from __future__ import annotations

import logging
import mmap
import os
import threading
import weakref

log = logging.getLogger(__name__)

_mappings: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()
_lock = threading.Lock()
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def track(mapping: mmap.mmap | None) -> mmap.mmap | None:
    """Put ``mapping`` under the budget (held weakly: a closed index's mappings drop out)."""
    if mapping is not None:
        with _lock:
            _mappings.add(mapping)
    return mapping


def mapped_bytes() -> int | None:
    """File-backed (and shared) pages mapped in this process now, or None where it cannot tell."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[2]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def release() -> int:
    """Unmap the pages of every tracked mapping (they stay cached); returns how many mappings."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return 0
    with _lock:
        live = list(_mappings)
    done = 0
    for mapping in live:
        try:
            mapping.madvise(mmap.MADV_DONTNEED)
            done += 1
        except (ValueError, OSError):  # closed meanwhile, or a platform without it
            continue
    return done


def enforce(budget_mb: float) -> bool:
    """Release the tracked mappings' pages when the process maps more than ``budget_mb`` of
    file pages; returns whether it did."""
    now = mapped_bytes()
    if now is None or now <= budget_mb * 1024 * 1024:
        return False
    count = release()
    log.debug("mapped index pages %.0f MB over %.0f MB: released %d mappings", now / 2**20, budget_mb, count)
    return count > 0
