"""Average two readers' weights ("model soup"): ``(1 - alpha) * first + alpha * second`` per tensor.

Two fine-tunings of the same base model often sit in one basin, and their average can keep what
each does best without any training. Writes a reader folder (weights, ``reader.json`` marked with
the soup, and its int8 export) to measure with ``eval/calibrate_reader.py --weights OUT``.

    python eval/soup_reader.py --first src/czqa/answering/reader/weights \\
        --second ~/.cache/czqa/reader-v2 --alpha 0.5 --out /tmp/soup-50
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from czqa.answering.reader.model import CONFIG_FILE, WEIGHTS_FILE
from czqa.answering.reader.quantize import quantize_reader


def soup(first: Path, second: Path, *, alpha: float, out: Path, int8: bool = True) -> Path:
    """Write the average of ``first`` and ``second`` to ``out``; ``reader.json`` is ``second``'s
    (its decision is recalibrated afterwards), and with ``int8`` the int8 export czqa runs."""
    from safetensors.numpy import load_file, save_file

    a, b = load_file(str(first / WEIGHTS_FILE)), load_file(str(second / WEIGHTS_FILE))
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise SystemExit("the two readers do not have the same tensors; only readers of one architecture average")
    mixed = {k: ((1 - alpha) * a[k].astype(np.float32) + alpha * b[k].astype(np.float32)).astype(a[k].dtype) for k in a}
    out.mkdir(parents=True, exist_ok=True)
    save_file(mixed, str(out / WEIGHTS_FILE))
    meta = json.loads((second / CONFIG_FILE).read_text())
    meta["soup"] = {"first": str(first), "second": str(second), "alpha": alpha}
    (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    if int8:
        quantize_reader(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=Path, required=True)
    ap.add_argument("--second", type=Path, required=True)
    ap.add_argument("--alpha", type=float, required=True, help="the second reader's share, 0 to 1")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if not 0 <= args.alpha <= 1:
        ap.error("--alpha must be between 0 and 1")
    print(soup(args.first.expanduser(), args.second.expanduser(), alpha=args.alpha, out=args.out.expanduser()))


if __name__ == "__main__":
    main()
