"""A build that crashes halfway keeps the embeddings it finished: the restart embeds the rest.

The encoder double counts the texts it embeds and can fail after a given number, like a power
cut in the middle of a long build.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from czqa.index.build import build_index
from czqa.index.cache import CACHE_DIR, cache_path
from czqa.index.store import MANIFEST, load_index
from czqa.settings import Settings
from doubles import HashingEncoder

TESTS = Path(__file__).resolve().parents[1]

BATCH = 8
TOPICS = ["bridge", "tunnel", "ferry", "harbour", "museum", "library", "stadium", "market"]


class CountingEncoder(HashingEncoder):
    """HashingEncoder that counts what it embeds and fails once ``crash_after`` texts are done."""

    def __init__(self, *, crash_after: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoded = 0
        self.crash_after = crash_after

    def encode(self, texts, *, show_progress=False):
        if self.crash_after is not None and self.encoded + len(texts) > self.crash_after:
            raise RuntimeError("power cut")
        self.encoded += len(texts)
        return super().encode(texts)


def write_corpus(seeds):
    seeds.mkdir(parents=True)
    for n, topic in enumerate(TOPICS):
        text = " ".join(
            f"The {topic} number {k} was inspected by crew {n * 10 + k} on day {k + 1} of the survey, and it passed."
            for k in range(5)
        )
        (seeds / f"{n:02d}-{topic}.txt").write_text(text + "\n", encoding="utf-8")
    return seeds


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "seeds")


def _settings(seeds, index):
    return Settings(seeds_dir=seeds, index_dir=index)


def assert_same_index(a, b):
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert a.sentences == b.sentences
    assert np.array_equal(a.chunk_vectors(), b.chunk_vectors())
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)


def test_a_build_crashed_halfway_embeds_only_the_rest_when_restarted(tmp_path, corpus):
    clean, clean_report = build_index(_settings(corpus, tmp_path / "clean"), encoder=CountingEncoder(), embed_batch=BATCH)
    total = clean_report.embedded
    assert total >= 5 * BATCH

    settings = _settings(corpus, tmp_path / "index")
    crashing = CountingEncoder(crash_after=total // 2)
    with pytest.raises(RuntimeError, match="power cut"):
        build_index(settings, encoder=crashing, embed_batch=BATCH)
    finished = crashing.encoded  # whole batches done before the crash
    assert total // 2 - BATCH < finished <= total // 2
    assert not (settings.index_dir / MANIFEST).exists()

    restarted = CountingEncoder()
    data, report = build_index(settings, encoder=restarted, embed_batch=BATCH)
    assert restarted.encoded == report.embedded == total - finished
    assert report.resumed == finished and "interrupted build" in report.summary()
    assert_same_index(data, clean)
    assert not (settings.index_dir / CACHE_DIR).exists()  # removed once the index is saved


def test_a_second_crash_keeps_the_progress_of_both(tmp_path, corpus):
    settings = _settings(corpus, tmp_path / "index")
    first, second = CountingEncoder(crash_after=2 * BATCH), CountingEncoder(crash_after=2 * BATCH)
    for encoder in (first, second):
        with pytest.raises(RuntimeError):
            build_index(settings, encoder=encoder, embed_batch=BATCH)
    third = CountingEncoder()
    _, report = build_index(settings, encoder=third, embed_batch=BATCH)
    assert report.resumed == 4 * BATCH and third.encoded == report.embedded


def test_another_encoders_progress_is_not_used(tmp_path, corpus):
    settings = _settings(corpus, tmp_path / "index")
    with pytest.raises(RuntimeError):
        build_index(settings, encoder=CountingEncoder(crash_after=3 * BATCH), embed_batch=BATCH)
    other = CountingEncoder(name="test/another-encoder")
    _, report = build_index(settings, encoder=other, embed_batch=BATCH)
    assert report.resumed == 0 and other.encoded == report.embedded


def test_a_damaged_cache_costs_its_contents_not_the_build(tmp_path, corpus):
    settings = _settings(corpus, tmp_path / "index")
    enc = CountingEncoder()
    path = cache_path(settings.index_dir, name=enc.name, dimension=enc.dimension)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    data, report = build_index(settings, encoder=enc, embed_batch=BATCH)
    assert report.resumed == 0 and enc.encoded == report.embedded and data.chunks


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_a_build_killed_mid_way_resumes_from_its_finished_batches(tmp_path, corpus):
    """``kill -9``: nothing runs on the way out, yet the finished batches are there."""
    index = tmp_path / "index"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(TESTS)!r})
        from doubles import HashingEncoder
        from czqa.index.build import build_index
        from czqa.settings import Settings

        class DiesOnThirdBatch(HashingEncoder):
            calls = 0
            def encode(self, texts, *, show_progress=False):
                DiesOnThirdBatch.calls += 1
                if DiesOnThirdBatch.calls == 3:
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().encode(texts)

        settings = Settings(seeds_dir={str(corpus)!r}, index_dir={str(index)!r})
        build_index(settings, encoder=DiesOnThirdBatch(), embed_batch={BATCH})
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert not (index / MANIFEST).exists()

    enc = CountingEncoder()
    data, report = build_index(_settings(corpus, index), encoder=enc, embed_batch=BATCH)
    assert report.resumed == 2 * BATCH and enc.encoded == report.embedded
    assert load_index(index).chunks == data.chunks
    assert sorted(p.name for p in index.iterdir()) == sorted([MANIFEST, data.manifest.generation])
