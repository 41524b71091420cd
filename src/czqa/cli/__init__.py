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

from czqa import __version__
from czqa.errors import CzqaError, UsageError

DEFAULT_EVAL_OUT = Path("eval/runs/latest")

from czqa.cli.output import json_safe, say as _say, terminal_safe  # noqa: F401  (tests import them from here)


def _settings(args: argparse.Namespace, **extra):
    from czqa.settings import Settings

    return Settings.from_env(
        seeds_dir=getattr(args, "seeds", None),
        index_dir=getattr(args, "out", None) or getattr(args, "index", None),
        **extra,
    )


def cmd_index(args: argparse.Namespace) -> int:
    """Build or refresh the index, then print the ingestion report: what was built, how many
    files were indexed, skipped and refused, and one line per file not indexed (on stderr,
    refused ones first as warnings), so no file in the folder goes unmentioned."""
    from czqa.index.build import build_index, index_command
    from czqa.index.progress import BuildInterrupted

    settings = _settings(args)
    tty = sys.stderr.isatty()
    progress = {"show_progress": not args.quiet and tty, "progress_lines": not args.quiet and not tty}
    try:
        if args.ray:
            from czqa.index.ray_build import build_on_ray

            _, report = build_on_ray(settings, address=args.ray, **progress)
        else:
            _, report = build_index(settings, **progress)
    except BuildInterrupted as stop:
        print(f"\nStopped: {stop.kept:,} of the {stop.total:,} texts to embed were embedded and are kept in "
              f"{settings.index_dir}; the index itself was not changed. Run the same command again to embed "
              f"only the rest:\n  {index_command(settings)}", file=sys.stderr)
        return 130
    print(f"Indexed {settings.seeds_dir} into {settings.index_dir}: {report.summary()}")
    print(f"Files: {report.ingest.summary()}")
    for issue in report.ingest.refused:
        print(f"warning: skipped {issue.path}: {issue.reason} (refused)", file=sys.stderr)
    for issue in report.ingest.skipped:
        print(f"note: skipped {issue.path}: {issue.reason}", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from czqa.qa import QA

    question = " ".join(args.question)
    if question == "-":  # `echo "Who …?" | czqa ask -`
        question = sys.stdin.read()
    extra = {"top_k": args.top_k} if args.top_k else {}
    qa = QA(_settings(args, **extra), show_progress=sys.stderr.isatty())
    qa.validate(question)  # fail fast on bad input, before loading anything
    if not args.json and sys.stdout.isatty():
        result = _stream_draft(qa, question, args.mode)
    else:
        result = qa.answer(question, mode=args.mode)
    if qa.build_report is not None:
        print(f"(index refreshed: {qa.build_report.summary()})", file=sys.stderr)
    if args.json:
        print(json_safe(result.model_dump_json(indent=2)))
        return 0
    show_answer(qa, result)
    return 0


def show_answer(qa, result) -> None:
    """A reply as the terminal shows it: its text, and a decline's closest passages (file, line)."""
    from czqa.types import CLOSEST_MATCHES

    _say(result.text)
    if result.abstained and result.passages:
        _say("\nClosest matches:")
        for p in result.passages[:CLOSEST_MATCHES]:
            snippet = " ".join(p.text.split())
            line = qa.corpus.texts.line(p.source, p.start)
            _say(f"  - {p.source}, line {line}: {snippet[:160]}{'…' if len(snippet) > 160 else ''}")


def cmd_eval(args: argparse.Namespace) -> int:
    from czqa.cli.evaluate import evaluate_command

    return evaluate_command(args)


EVAL_JOBS = ("qa", "squad", "conversations")


def cmd_train_reader(args: argparse.Namespace) -> int:
    from czqa.answering.reader.model import WEIGHTS_DIR, WEIGHTS_FILE
    from czqa.answering.reader.train import TrainConfig, train

    from czqa.answering.reader.examples import WRITTEN_CONTEXTS, WRITTEN_QUESTIONS

    # The options' own checks first: they hold without the data folder (a fresh clone has none).
    if args.init_from is not None and not (args.init_from / WEIGHTS_FILE).is_file():
        raise UsageError(f"--init-from {args.init_from}: no {WEIGHTS_FILE} there")
    if args.written is not None and not all((args.written / f).is_file() for f in (WRITTEN_QUESTIONS, WRITTEN_CONTEXTS)):
        raise UsageError(f"--written {args.written}: needs {WRITTEN_QUESTIONS} and {WRITTEN_CONTEXTS} (see data/written-qa/README.md)")
    if not args.data.is_dir():
        raise UsageError(f"--data {args.data}: training data folder not found (see README, 'Training the reader')")
    fields = {"data_dir": args.data, "out_dir": args.out or WEIGHTS_DIR, "max_steps": args.steps, "seed": args.seed,
              "limit_examples": args.limit, "cache_dir": args.cache, "batch_size": args.batch_size,
              "init_from": args.init_from, "learning_rate": args.learning_rate, "perturb_rate": args.perturb_rate,
              "other_passage_rate": args.other_passage_rate, "answerability_weight": args.answerability_weight,
              "written_dir": args.written, "written_weight": args.written_weight, "hard_negative_rate": args.hard_negative_rate,
              "public_fraction": args.public_fraction, "epochs": args.epochs, "stop_after": args.stop_after,
              "threads": args.threads}
    if args.all_negatives:
        from czqa.answering.reader.negatives import ALL_KINDS

        fields["perturb_kinds"] = ALL_KINDS
    cfg = TrainConfig(**{k: v for k, v in fields.items() if v is not None})
    out = train(cfg, progress=not args.quiet and sys.stderr.isatty())
    if out is None:
        print(f"Stopped after {args.stop_after} steps (checkpointed); run the same command again to resume.")
        return 0
    from czqa.answering.reader.quantize import quantize_reader

    print(f"Reader weights written to {out}; int8 export: {quantize_reader(out)}")
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    """Export the reader and the encoder to int8 (what ``precision=int8`` runs)."""
    from czqa.answering.reader.quantize import quantize_reader
    from czqa.embed.encoder import quantize_encoder

    both = args.reader is None and not args.encoder
    if both or args.reader is not None:  # --reader alone (True): the shipped weights
        print(f"Reader: {quantize_reader(args.reader if isinstance(args.reader, Path) else None)}")
    if both or args.encoder:
        print(f"Encoder: {quantize_encoder()}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """The JSON Schema of an Answer: what ``czqa ask --json`` prints, field by field."""
    import json

    from czqa.types import Answer

    print(json.dumps(Answer.model_json_schema(mode="serialization"), indent=2))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from czqa.cli.chat import chat

    return chat(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from czqa.web.app import serve  # imports Gradio: only this command pays for it

    serve(host=args.host, port=args.port, settings=_settings(args))
    return 0


def _stream_draft(qa, question: str, mode: str):
    """Show a generative mode's draft as it is generated, then return the verified Answer."""
    from czqa.types import Delta

    result, streamed = None, False
    for event in qa.stream(question, mode=mode):
        if isinstance(event, Delta):
            _say(event.text, end="")
            streamed = True
        else:
            result = event
    if streamed:
        print("\n\n— checked against the sources —\n")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="czqa", description="Ask questions about a document collection; get exact, cited quotes.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what czqa is doing (before the command)")
    parser.add_argument("-q", "--quiet", dest="log_quiet", action="store_true", help="log errors only: no warnings (before the command)")
    parser.add_argument("--version", action="version", version=f"czqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="build or refresh the index from the seeds folder")
    p_index.add_argument("--seeds", type=_folder, help="folder of .txt/.md/.html files, read recursively (default: ./seeds)")
    p_index.add_argument("--out", type=_folder, help="index folder (default: ./embeddings)")
    p_index.add_argument("--ray", metavar="ADDRESS", help="read, chunk and embed on a Ray cluster: auto (the one `ray start` "
                         "joined), ray://host:10001, or local (this machine's cores); needs pip install 'czqa[ray]'")
    p_index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_index.set_defaults(func=cmd_index)

    p_ask = sub.add_parser("ask", help="answer a question with cited quotes")
    p_ask.add_argument("question", nargs="+", help="the question (quote it; - reads it from standard input)")
    p_ask.add_argument("--json", action="store_true", help="print the full answer as JSON (its schema: czqa schema)")
    p_ask.add_argument("--top-k", type=_top_k, metavar="N", help="passages to retrieve, 1 to 50 (default 5)")
    p_ask.add_argument("--mode", default=None, help="answer mode: reader (default), extractive, or llm (a local model; see README)")
    _corpus_options(p_ask)
    p_ask.set_defaults(func=cmd_ask)

    p_chat = sub.add_parser(
        "chat", help="a conversation in the terminal: one question per line, follow-ups understood",
        description="Ask questions one per line (typed, or piped in); a follow-up such as \"When did he "
        "take over?\" is read against the earlier answers, and the question searched is shown as "
        "\"Understood as …\". An empty line or end of input ends it; /reset forgets the conversation.",
    )
    p_chat.add_argument("--top-k", type=_top_k, metavar="N", help="passages to retrieve, 1 to 50 (default 5)")
    p_chat.add_argument("--mode", default=None, help="answer mode: reader (default), extractive, or llm")
    _corpus_options(p_chat)
    p_chat.set_defaults(func=cmd_chat)

    _add_eval(sub)
    _add_train_reader(sub)

    p_quant = sub.add_parser("quantize", help="export the reader and the encoder to int8 (after training a reader)",
                             description="Write reader.int8.onnx beside a reader's weights and the encoder's int8 file, "
                             "which the default precision (CZQA_PRECISION=int8) runs. With no option, both, in the package.")
    p_quant.add_argument("--reader", type=_folder, nargs="?", const=True, default=None, metavar="DIR",
                         help="only the reader in DIR (default: the shipped weights)")
    p_quant.add_argument("--encoder", action="store_true", help="only the encoder")
    p_quant.set_defaults(func=cmd_quantize)

    p_schema = sub.add_parser("schema", help="print the JSON Schema of `czqa ask --json` output")
    p_schema.set_defaults(func=cmd_schema)

    p_serve = sub.add_parser("serve", help="open the chat page (a local web app)")
    p_serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p_serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    _corpus_options(p_serve)
    p_serve.set_defaults(func=cmd_serve)
    return parser


def _add_eval(sub) -> None:
    """``czqa eval``'s arguments (its jobs: :mod:`czqa.cli.evaluate`)."""
    p_eval = sub.add_parser(
        "eval", help="score answers on the evaluation questions; write report.md, metrics.json and a chart",
        description="czqa eval [qa|squad|conversations] [FILE]: the seeds' question file (default), an open-corpus "
        "SQuAD 2.0 run over a SQuAD-format file, or multi-turn follow-ups. The flags --qa, --squad and "
        "--conversations do the same.",
    )
    p_eval.add_argument("job", nargs="?", choices=EVAL_JOBS, help="what to evaluate (default: qa)")
    p_eval.add_argument("file", nargs="?", type=Path, help="its file (qa: eval/qa.jsonl; conversations: eval/conversations.jsonl; squad: required)")
    p_eval.add_argument("--qa", type=Path, metavar="FILE", default=_default_qa_file(), help="question file (default: eval/qa.jsonl)")
    p_eval.add_argument("--split", choices=("dev", "test", "all"), default="test", help="which questions (default: test)")
    p_eval.add_argument("--mode", metavar="MODE", default=None, help="answer mode, one of czqa.qa.available_modes() (default: the first, reader)")
    p_eval.add_argument("--out", dest="out_dir", metavar="DIR", type=Path, default=DEFAULT_EVAL_OUT, help="report folder (default: eval/runs/latest; eval/runs/squad with --squad)")
    p_eval.add_argument("--squad", type=Path, metavar="FILE", help="instead: open-corpus SQuAD 2.0 evaluation of this SQuAD-format file's articles")
    p_eval.add_argument("--limit", type=_positive_int, metavar="N", help="with --squad: ask N questions spread over the file")
    p_eval.add_argument("--calibrate", action="store_true", help="with --squad: choose the reader's decline threshold on this run and store it beside the weights")
    p_eval.add_argument("--top-k", type=_top_k, metavar="N", help="passages to retrieve, 1 to 50 (default 5)")
    p_eval.add_argument("--conversations", type=Path, nargs="?", const=Path("eval/conversations.jsonl"), metavar="FILE", help="instead: multi-turn follow-ups from FILE (default eval/conversations.jsonl), each answered without rewriting, always rewriting, and rewriting only when it helps; report in eval/runs/conversations")
    p_eval.add_argument("--write-baseline", action="store_true", help="record this run as the CI quality-gate baseline (baseline.json beside the question file; test split only)")
    _corpus_options(p_eval)
    p_eval.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_eval.set_defaults(func=cmd_eval)


def _add_train_reader(sub) -> None:
    """``czqa train-reader``'s arguments."""
    p_train = sub.add_parser("train-reader", help="train czqa's reader on extractive-QA data (see README)")
    p_train.add_argument("--data", type=Path, default=Path("../shared/qa-train"), help="training data folder (default: ../shared/qa-train)")
    p_train.add_argument("--out", type=Path, help="where the weights go (default: the package's reader weights folder)")
    p_train.add_argument("--steps", type=_positive_int, help="optimizer steps (default 2000, about 95 min on 2 cores)")
    p_train.add_argument("--batch-size", type=_positive_int, help="windows per step (default 32)")
    p_train.add_argument("--seed", type=int, help="random seed (default 13)")
    p_train.add_argument("--limit", type=_positive_int, help="use only N examples (a quick trial)")
    p_train.add_argument("--cache", type=Path, help="checkpoint folder (default: ~/.cache/czqa/reader-train); a stopped run resumes from it")
    p_train.add_argument("--init-from", type=Path, metavar="DIR", help="second stage: start from the reader weights in DIR instead of the base model")
    p_train.add_argument("--learning-rate", type=_positive_float, help="peak learning rate (default 8e-5)")
    p_train.add_argument("--perturb-rate", type=_rate, help="share of answerable questions given a look-alike unanswerable twin (default 0.15)")
    p_train.add_argument("--other-passage-rate", type=_rate, help="share paired with a passage of the same document without the answer (default 0.12)")
    p_train.add_argument("--answerability-weight", type=_positive_float, help="weight of the answerability loss (default 0.5)")
    p_train.add_argument("--written", type=Path, metavar="DIR", help="add czqa's written look-alike questions (data/written-qa)")
    p_train.add_argument("--written-weight", type=_positive_int, help="times each written question is in the mix (default 2)")
    p_train.add_argument("--hard-negative-rate", type=_rate, help="share of answerable questions also paired with their article's best-ranked passage that does not answer (default 0)")
    p_train.add_argument("--public-fraction", type=_rate, help="share of each public file's examples kept, after the caps (default 1)")
    p_train.add_argument("--epochs", type=_positive_float, help="passes over the mix (sets the steps from the mix's size)")
    p_train.add_argument("--stop-after", type=_positive_int, help="checkpoint and stop after N steps in this invocation; run again to resume")
    p_train.add_argument("--threads", type=_positive_int, help="torch threads (default: all cores)")
    p_train.add_argument("--all-negatives", action="store_true", help="look-alikes also by negation and key-word swaps (default: names, years, numbers, opposites)")
    p_train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_train.set_defaults(func=cmd_train_reader)


def _corpus_options(parser: argparse.ArgumentParser) -> None:
    """--seeds and --index, for the commands that answer questions (the index is built if missing)."""
    parser.add_argument("--seeds", type=_folder, help="seeds folder (default: ./seeds)")
    parser.add_argument("--index", type=_folder, help="index folder (default: ./embeddings)")


def _top_k(text: str) -> int:
    value = _positive_int(text)
    if value > 50:
        raise argparse.ArgumentTypeError(f"must be at most 50, not {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _positive_float(text: str) -> float:
    if not 0 < _number(text) < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return float(text)


def _folder(text: str) -> Path:
    """A folder argument; an empty one would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a folder (\".\" for the current one)")
    return Path(text)


def _rate(text: str) -> float:
    if not 0.0 <= _number(text) <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return float(text)


def _default_qa_file() -> Path:
    """eval/qa.jsonl in the current directory, else beside the source tree (editable install)."""
    here = Path("eval/qa.jsonl")
    beside_source = Path(__file__).resolve().parents[2] / "eval" / "qa.jsonl"
    return here if here.exists() or not beside_source.exists() else beside_source


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR if args.log_quiet else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    for noisy in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    try:
        return args.func(args)
    except CzqaError as exc:
        _say(f"czqa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`czqa ask … | head`): not an error worth a traceback. Point
        # stdout at devnull so the interpreter's final flush doesn't raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # The file system refused something (disk full, permissions, a name it cannot hold):
        # the user's to fix, so one line naming the file, not a traceback.
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"czqa: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
