"""BLAS on one thread while a question is answered: the numpy models' matrices are small.

A question's matrices are small: the query encoder multiplies a 20-word-piece sentence, the
reader a 200-piece window, by 384 × 1,152 weights. Split over the cores by BLAS, each product
spends much of its time starting, joining and then spinning its threads (an OpenBLAS thread
busy-waits after a product, taking the core that the next step needs). One thread per product,
and the reader's windows read side by side on as many cores (:mod:`czqa.answering.reader.model`),
answered the seeds' 293 eval questions at p50 187 ms, p95 275 ms, against 261 and 371 ms
(``bench/bench.py``, 2 cores, the same evening).

BLAS's thread count is process-wide (threadpoolctl sets it in each loaded BLAS), so the scope is
reference-counted: the first question in sets one thread, the last one out restores what was
there, and questions answered at once from several threads (the chat page) share it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_lock = threading.Lock()
_depth = 0
_limiter = None


def _any_thread_may_set() -> None:
    """threadpoolctl (3.8) lets only the first thread that set OpenBLAS's (process-wide) count set
    it again, silently ignoring the others, until it is cleared: the scope is entered and left by
    whichever question comes first and last, on any thread (the page answers on worker threads,
    where, uncleared, the limit never took and a question took 388 ms instead of 190)."""
    from threadpoolctl import OpenBLASController

    clear = getattr(OpenBLASController, "clear_controlling_thread", None)  # absent before threadpoolctl had the rule
    if clear is not None:
        clear(force=True)


def _limit():
    from threadpoolctl import ThreadpoolController

    _any_thread_may_set()
    # A new controller each time (0.15 ms): it sees the libraries loaded since.
    return ThreadpoolController().limit(limits=1, user_api="blas")


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread until the last caller inside leaves."""
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            _limiter = _limit()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _any_thread_may_set()
                _limiter.restore_original_limits()
                _any_thread_may_set()
                _limiter = None


def blas_threads() -> list[int]:
    """The thread count of numpy's BLAS, the one the numpy models multiply with (for tests and
    diagnostics). Another BLAS may be loaded (FAISS ships an OpenMP build, whose count is kept per
    thread); numpy's is found by its folder (``numpy.libs``, or numpy's own on other builds)."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    mine = [lib for lib in blas if "numpy" in Path(lib["filepath"]).parent.name]
    return [lib["num_threads"] for lib in mine or blas]
