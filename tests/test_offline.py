"""Nothing downloads anything: build and answer with every socket connection refused."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import socket, sys, os
def refuse(*a, **k):
    raise OSError("network disabled by test: " + repr(a[:2]))
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.pop(var, None)  # czqa must set what it needs itself
from pathlib import Path
from czqa.index.build import build_index
from czqa.qa import QA
from czqa.settings import Settings
tmp = Path(sys.argv[1])
settings = Settings(seeds_dir=Path(sys.argv[2]), index_dir=tmp / "idx")
_, report = build_index(settings)
a = QA(settings).answer("Who replaced Changpeng Zhao as Binance's CEO?")
print(report.embedded, a.short_answer)
"""


def test_build_and_answer_with_the_network_blocked(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(ROOT / "seeds")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    embedded, short = r.stdout.split(maxsplit=1)
    assert int(embedded) > 100
    assert short.strip() == "Richard Teng"
    # tiktoken's BPE file came from the bpe-openai package into the fresh cache, not the network.
    assert list((tmp_path / "cache" / "czqa" / "tiktoken").iterdir())
