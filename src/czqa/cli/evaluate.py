"""``czqa eval [qa|squad|conversations] [FILE]``: the seeds' questions, an open-corpus SQuAD 2.0
run, or multi-turn follow-ups; each writes its report folder and prints a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from czqa.cli import DEFAULT_EVAL_OUT, _settings
from czqa.errors import UsageError


def evaluate_command(args: argparse.Namespace) -> int:
    from czqa.eval import quality_gate, report
    from czqa.eval.evaluation import evaluate, load_qa, select_split
    from czqa.qa import QA, available_modes

    if args.mode is not None and args.mode not in available_modes():
        raise UsageError(f"Unknown answer mode {args.mode!r}; available: {', '.join(available_modes())}.")
    _eval_job(args)
    if args.squad is not None:
        return cmd_eval_squad(args)
    if args.conversations is not None:
        # Multi-turn: each conversation replayed without rewriting, always rewriting, and rewriting
        # only when it helps (czqa.eval.conversations); the report goes to eval/runs/conversations.
        from czqa.eval import conversation_report as conv_report
        from czqa.eval.conversations import evaluate_conversations, load_conversations, select_conversations

        convs = select_conversations(load_conversations(args.conversations), args.split, source=args.conversations)
        out = args.out_dir if args.out_dir != DEFAULT_EVAL_OUT else Path("eval/runs/conversations")
        progress = not args.quiet and sys.stderr.isatty()
        run = evaluate_conversations(QA(_settings(args)), convs, mode=args.mode, top_k=args.top_k, conversations_file=args.conversations, split=args.split, progress=progress)
        print(conv_report.terminal_summary(run, conv_report.write_report(run, out)))
        return 0
    if args.write_baseline and args.split != "test":
        raise UsageError("--write-baseline records the test split; run it with --split test.")
    records = select_split(load_qa(args.qa), args.split, source=args.qa)
    qa = QA(_settings(args))
    progress = not args.quiet and sys.stderr.isatty()
    run = evaluate(qa, records, mode=args.mode, top_k=args.top_k, progress=progress, qa_file=args.qa, split=args.split)
    baseline_path = args.qa.parent / quality_gate.BASELINE_NAME
    note = _baseline_note(run, baseline_path) if args.split == "test" and not args.write_baseline else None
    paths = report.write_all(run, args.out_dir, baseline_note=note)
    print(report.terminal_summary(run, paths))
    if note:
        print(note)
    if args.write_baseline:
        quality_gate.write_baseline(run, baseline_path)
        print(f"Recorded these test-split metrics as the quality-gate baseline in {baseline_path}; commit it.")
    return 0


def _eval_job(args: argparse.Namespace) -> None:
    """``czqa eval JOB [FILE]`` as the flags it stands for (``--qa``, ``--squad``, ``--conversations``,
    which stay as aliases); refuse a job that contradicts a flag. (argparse refuses a FILE with no JOB.)"""
    if args.job is None:
        return
    flagged = [job for job, value in (("squad", args.squad), ("conversations", args.conversations)) if value is not None]
    if flagged and flagged != [args.job]:
        raise UsageError(f"czqa eval {args.job} cannot also take --{flagged[0]}")
    if args.job == "squad":
        if args.file is None and args.squad is None:
            raise UsageError("czqa eval squad needs the SQuAD-format file: czqa eval squad FILE")
        args.squad = args.file or args.squad
    elif args.job == "conversations":
        args.conversations = args.file or args.conversations or Path("eval/conversations.jsonl")
    elif args.file is not None:
        args.qa = args.file


def cmd_eval_squad(args: argparse.Namespace) -> int:
    """Open-corpus SQuAD: write the file's articles as documents, index them, ask every question."""
    from czqa.eval import squad

    if not args.squad.is_file():
        raise UsageError(f"--squad {args.squad}: no such file")
    out = args.out_dir if args.out_dir != DEFAULT_EVAL_OUT else Path("eval/runs/squad")
    settings = _settings(args)
    progress = not args.quiet and sys.stderr.isatty()
    result = squad.run(args.squad, out, settings=settings, mode=args.mode, limit=args.limit, calibrate=args.calibrate, progress=progress)
    written = squad.write_report(result, out, title=args.squad.name)
    print("\n".join(squad.summary_lines(result)))
    print("Wrote " + ", ".join(str(p) for p in written))
    if args.calibrate:
        from czqa.answering.reader.model import CONFIG_FILE, WEIGHTS_DIR

        path = (settings.reader.weights_dir or WEIGHTS_DIR) / CONFIG_FILE
        squad.store_threshold(result, path, source=args.squad.name)
        print(f"Calibrated decline threshold {result.threshold:.4f} written to {path}")
    return 0


def _baseline_note(run, path: Path) -> str | None:
    from czqa.eval import quality_gate

    if not path.exists():
        return None
    baseline = quality_gate.load_baseline(path)
    why = quality_gate.incomparable(baseline, run)
    if why:
        return f"Baseline {path}: not compared ({why})."
    found = quality_gate.regressions(baseline.metrics, run.summary)
    if not found:
        return f"Baseline {path}: no gated metric fell more than its margin."
    return f"Baseline {path}: REGRESSED: " + "; ".join(found) + "."
