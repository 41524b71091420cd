#!/usr/bin/env python3
"""Export a reader training run's checkpoint to a weights folder, to measure the run before it ends.

Training spans sessions; a checkpoint's weights are what the run would write at that step (the
learning rate has not decayed to zero yet, so the finished run is usually better). The folder gets
the int8 export too, and a ``reader.json`` marked with the checkpoint's step. Then calibrate and
measure it like any reader:

    .venv/bin/python eval/reader_checkpoint.py --checkpoint ~/.cache/czqa/reader-train/run-KEY.pt --out ~/.cache/czqa/reader-interim
    .venv/bin/python eval/calibrate_reader.py --weights ~/.cache/czqa/reader-interim --write
    CZQA_READER__WEIGHTS_DIR=~/.cache/czqa/reader-interim czqa eval --split dev

Never calibrate or tune on the seeds' test split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True, help="a run-*.pt written by czqa train-reader")
    ap.add_argument("--out", type=Path, required=True, help="folder for the weights (created)")
    ap.add_argument("--config-from", type=Path, help="reader folder whose reader.json to start from (default: the shipped reader)")
    args = ap.parse_args()
    from czqa.answering.reader.model import WEIGHTS_DIR
    from czqa.answering.reader.quantize import quantize_reader
    from czqa.answering.reader.train import export_checkpoint

    if not args.checkpoint.is_file():
        print(f"no checkpoint at {args.checkpoint}", file=sys.stderr)
        return 2
    out = export_checkpoint(args.checkpoint, args.out, config_from=args.config_from or WEIGHTS_DIR)
    print(f"wrote {out} and {quantize_reader(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
