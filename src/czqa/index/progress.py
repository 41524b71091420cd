"""What a long build tells the person waiting: progress lines where no bar can draw, and what
Ctrl-C kept."""

from __future__ import annotations


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C during embedding, with what was kept: every finished batch is in the embedding
    cache, and the next build embeds only the rest."""

    def __init__(self, kept: int, total: int) -> None:
        super().__init__(f"{kept} of {total} texts embedded and kept")
        self.kept, self.total = kept, total


class ProgressLines:
    """Progress as a plain line on standard error at most every ``every`` seconds: for a build
    whose output is a log file or a pipe, where a bar would not draw (a 60 MB file otherwise
    showed nothing for many minutes)."""

    def __init__(self, what: str, total: int, *, every: float = 30.0, stream=None) -> None:
        import sys
        import time

        self.what, self.total, self.every, self.done = what, total, every, 0
        self.stream = stream or sys.stderr
        self._clock = time.monotonic
        self.started = self._last = self._clock()

    def update(self, n: int) -> None:
        self.done += n
        now = self._clock()
        if now - self._last >= self.every or self.done >= self.total:
            rate = self.done / max(now - self.started, 1e-9)
            print(f"{self.what}: {self.done:,} of {self.total:,} texts ({100 * self.done / max(1, self.total):.0f}%), "
                  f"{rate:.0f} texts/s", file=self.stream, flush=True)
            self._last = now
