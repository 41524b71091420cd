"""The ``czqa`` command: a thin layer over the library (argparse, so it starts fast).

Exit codes: 0 answered (or declined: an honest "the documents don't say" is a success),
1 other czqa error, 2 bad question or usage, 3 seeds folder problem, 4 index unusable,
5 index build unavailable (sentence-transformers missing), 6 the llm answer mode is not set up
or its server cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from czqa.errors import CzqaError


def _settings(args: argparse.Namespace, **extra):
    from czqa.settings import Settings

    return Settings.from_env(
        seeds_dir=getattr(args, "seeds", None),
        index_dir=getattr(args, "out", None) or getattr(args, "index", None),
        **extra,
    )


def cmd_index(args: argparse.Namespace) -> int:
    from czqa.build import build_index
    from czqa.documents import read_seeds

    settings = _settings(args)
    docs, skipped = read_seeds(settings.seeds_dir)
    for s in skipped:
        print(f"warning: skipped {s.source}: {s.reason}", file=sys.stderr)
    _, report = build_index(
        settings,
        docs=docs,
        skipped={s.source: s.reason for s in skipped},
        show_progress=not args.quiet and sys.stderr.isatty(),
    )
    print(f"Indexed {settings.seeds_dir} into {settings.index_dir}: {report.summary()}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from czqa.qa import QA

    question = " ".join(args.question)
    extra = {"top_k": args.top_k} if args.top_k else {}
    qa = QA(_settings(args, **extra))
    qa.validate(question)  # fail fast on bad input, before loading anything
    if args.mode != "extractive" and not args.json and sys.stdout.isatty():
        result = _stream_draft(qa, question, args.mode)
    else:
        result = qa.answer(question, mode=args.mode)
    if qa.build_report is not None:
        print(f"(index refreshed: {qa.build_report.summary()})", file=sys.stderr)
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0
    print(result.text)
    if result.abstained and result.passages:
        print("\nClosest matches:")
        for p in result.passages[:3]:
            snippet = " ".join(p.text.split())
            print(f"  - {p.source}, chars {p.start}–{p.end}: {snippet[:160]}{'…' if len(snippet) > 160 else ''}")
    return 0


class UsageError(CzqaError):
    """Options that cannot go together or name something that does not exist."""

    exit_code = 2


def cmd_eval(args: argparse.Namespace) -> int:
    from czqa import quality_gate, report
    from czqa.evaluation import evaluate, load_qa, select_split
    from czqa.qa import QA, available_modes

    if args.mode not in available_modes():
        raise UsageError(f"Unknown answer mode {args.mode!r}; available: {', '.join(available_modes())}.")
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


def _baseline_note(run, path: Path) -> str | None:
    from czqa import quality_gate

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


def cmd_serve(args: argparse.Namespace) -> int:
    from czqa.web.app import serve  # imports Gradio: only this command pays for it

    serve(host=args.host, port=args.port, settings=_settings(args))
    return 0


def _stream_draft(qa, question: str, mode: str):
    """Show a generative mode's draft as it is generated, then return the verified Answer."""
    from czqa.models import Delta

    result, streamed = None, False
    for event in qa.stream(question, mode=mode):
        if isinstance(event, Delta):
            print(event.text, end="", flush=True)
            streamed = True
        else:
            result = event
    if streamed:
        print("\n\n— checked against the sources —\n")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="czqa", description="Ask questions about a document collection; get exact, cited quotes.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what czqa is doing")
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="build or refresh the index from the seeds folder")
    p_index.add_argument("--seeds", type=Path, help="folder of .txt/.md/.html files (default: ./seeds)")
    p_index.add_argument("--out", type=Path, help="index folder (default: ./embeddings)")
    p_index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="answer a question with cited quotes")
    p_ask.add_argument("question", nargs="+", help="the question (quote it)")
    p_ask.add_argument("--json", action="store_true", help="print the full answer as JSON")
    p_ask.add_argument("--top-k", type=_positive_int, metavar="N", help="passages to retrieve (default 5)")
    p_ask.add_argument("--mode", default="extractive", help="answer mode: extractive (default) or llm (a local model; see README)")
    _corpus_options(p_ask)
    p_ask.set_defaults(func=cmd_ask)

    p_eval = sub.add_parser(
        "eval", help="score answers on the evaluation questions; write report.md, metrics.json and a chart"
    )
    p_eval.add_argument("--qa", type=Path, metavar="FILE", default=_default_qa_file(), help="question file (default: eval/qa.jsonl)")
    p_eval.add_argument("--split", choices=("dev", "test", "all"), default="test", help="which questions (default: test)")
    p_eval.add_argument("--mode", metavar="MODE", default="extractive", help="answer mode, one of czqa.qa.available_modes() (default: extractive)")
    p_eval.add_argument("--out", dest="out_dir", metavar="DIR", type=Path, default=Path("eval/runs/latest"), help="report folder (default: eval/runs/latest)")
    p_eval.add_argument("--top-k", type=_positive_int, metavar="N", help="passages to retrieve (default 5)")
    p_eval.add_argument("--write-baseline", action="store_true", help="record this run as the CI quality-gate baseline (baseline.json beside the question file; test split only)")
    _corpus_options(p_eval)
    p_eval.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_eval.set_defaults(func=cmd_eval)

    p_serve = sub.add_parser("serve", help="open the chat page (a local web app)")
    p_serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p_serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    _corpus_options(p_serve)
    p_serve.set_defaults(func=cmd_serve)
    return parser


def _corpus_options(parser: argparse.ArgumentParser) -> None:
    """--seeds and --index, for the commands that answer questions (the index is built if missing)."""
    parser.add_argument("--seeds", type=Path, help="seeds folder (default: ./seeds)")
    parser.add_argument("--index", type=Path, help="index folder (default: ./embeddings)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _default_qa_file() -> Path:
    """eval/qa.jsonl in the current directory, else beside the source tree (editable install)."""
    here = Path("eval/qa.jsonl")
    beside_source = Path(__file__).resolve().parents[2] / "eval" / "qa.jsonl"
    return here if here.exists() or not beside_source.exists() else beside_source


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    for noisy in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    try:
        return args.func(args)
    except CzqaError as exc:
        print(f"czqa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`czqa ask … | head`): not an error worth a traceback. Point
        # stdout at devnull so the interpreter's final flush doesn't raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
