"""The ``czqa`` command: a thin layer over the library (argparse, so it starts fast).

Exit codes: 0 answered (or declined: an honest "the documents don't say" is a success),
1 other czqa error, 2 bad question or usage, 3 seeds folder problem, 4 index unusable,
5 index build unavailable (sentence-transformers missing), 6 the llm answer mode is not set up
or its server cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
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
    p_ask.add_argument("--top-k", type=int, help="passages to retrieve (default 5)")
    p_ask.add_argument("--mode", default="extractive", help="answer mode: extractive (default) or llm (a local model; see README)")
    p_ask.add_argument("--seeds", type=Path, help="seeds folder (default: ./seeds)")
    p_ask.add_argument("--index", type=Path, help="index folder (default: ./embeddings)")
    p_ask.set_defaults(func=cmd_ask)
    return parser


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
