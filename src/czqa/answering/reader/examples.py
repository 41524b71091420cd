"""Extractive-QA training data: every public format in ``../shared/qa-train`` as one example type.

The reader is trained on several public sets (SQuAD, SQuADShifts, MRQA, SubjQA, PolicyQA, QED,
Molweni, COVID-QA, TAT-QA, CUAD), each in its own file format. :func:`load_file` turns any of them
into :class:`QAExample` rows: a question, its context and the character spans of its answers (none
for an unanswerable question). Spans are checked against the context as they are read, and an
example whose offsets do not hold its answer text is repaired by searching for the text, or
dropped, so training never learns from a misplaced label.

``squad2-dev-8-articles.json`` is the validation set; :func:`training_files` never lists it.
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

VALIDATION_FILE = "squad2-dev-8-articles.json"


class AnswerSpan(BaseModel):
    """One gold answer: ``context[start:end] == text``."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class QAExample(BaseModel):
    """A question about one context; ``answers`` is empty when the context does not answer it."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    context: str
    answers: tuple[AnswerSpan, ...] = ()
    source: str = Field(description="File the example came from, e.g. 'policyqa_dev.json'.")
    document: str = Field(default="", description="Article or item the context belongs to.")

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _span(context: str, start: int, text: str) -> AnswerSpan | None:
    """The answer at ``start`` if the context holds ``text`` there, else its nearest occurrence."""
    text = text.strip()
    if not text:
        return None
    if context[start : start + len(text)] == text:
        return AnswerSpan(start=start, end=start + len(text), text=text)
    found = [i for i in _occurrences(context, text)]
    if not found:
        return None
    best = min(found, key=lambda i: abs(i - start))
    return AnswerSpan(start=best, end=best + len(text), text=text)


def _occurrences(haystack: str, needle: str) -> Iterator[int]:
    i = haystack.find(needle)
    while i >= 0:
        yield i
        i = haystack.find(needle, i + 1)


def _example(source: str, document: str, qid: str, question: str, context: str, spans) -> QAExample | None:
    question = " ".join(str(question).split())
    if not question or not context:
        return None
    answers = tuple(dict.fromkeys(s for s in spans if s is not None))
    return QAExample(id=str(qid), question=question, context=context, answers=answers, source=source, document=document)


def _squad_json(path: Path) -> Iterator[QAExample]:
    """SQuAD v1/v2 JSON (also SQuADShifts, PolicyQA, COVID-QA, TAT-QA, CUAD)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for art_no, article in enumerate(data):
        title = str(article.get("title", art_no))
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                spans = [] if impossible else [_span(context, a["answer_start"], a["text"]) for a in qa["answers"]]
                if not impossible and not any(spans):
                    continue  # answerable, but no offset holds its text: not a usable label
                ex = _example(path.name, title, str(qa["id"]), qa["question"], context, spans)
                if ex:
                    yield ex


def _mrqa(path: Path) -> Iterator[QAExample]:
    """MRQA 2019 jsonl.gz: a header line, then one context with its questions per line."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            row = json.loads(line)
            if "header" in row:
                continue
            context = row["context"]
            for qa in row["qas"]:
                spans = [
                    _span(context, s, a["text"]) for a in qa["detected_answers"] for s, _e in a["char_spans"]
                ]
                if any(spans):
                    yield _example(path.name, str(row.get("id", line_no)), qa["qid"], qa["question"], context, spans)


def _subjqa(path: Path) -> Iterator[QAExample]:
    """SubjQA CSV: the review ends with the token ANSWERNOTFOUND, which the reader must not see."""
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            review = row["review"]
            context = review.removesuffix("ANSWERNOTFOUND").rstrip()
            spans = []
            if row["human_ans_spans"] != "ANSWERNOTFOUND":
                start, end = ast.literal_eval(row["human_ans_indices"])
                if end > len(context) or start >= end:
                    continue
                # About 20% of span texts are tokenized ("it 's"); the indices are right, so the
                # label is the context's own text at them.
                spans = [AnswerSpan(start=start, end=end, text=context[start:end])]
            ex = _example(path.name, row["item_id"], row["q_review_id"], row["question"], context, spans)
            if ex:
                yield ex


def _qed(path: Path) -> Iterator[QAExample]:
    """QED JSON lines: dev carries ``original_nq_answers``, the train shards ``answer_spans``."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            context = row["paragraph_text"]
            spans = []
            if "original_nq_answers" in row:
                for group in row["original_nq_answers"]:
                    for a in group:
                        spans.append(_span(context, a["start"], a["string"]))
            else:
                for start, end in _literal(row.get("answer_spans", "[]")):
                    spans.append(_span(context, start, context[start:end]))
            if any(spans):
                yield _example(path.name, row.get("title_text", ""), row["example_id"], row["question_text"], context, spans)


def _literal(value):
    return ast.literal_eval(value) if isinstance(value, str) else value


def _molweni(path: Path) -> Iterator[QAExample]:
    """Molweni: dialogues, each a context with SQuAD v2 style questions."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for d_no, dialogue in enumerate(data["dialogues"]):
        context = dialogue["context"]
        for qa in _literal(dialogue["qas"]):
            impossible = qa.get("is_impossible", False)
            spans = [] if impossible else [_span(context, a["answer_start"], a["text"]) for a in qa["answers"]]
            if not impossible and not any(spans):
                continue
            ex = _example(path.name, f"dialogue-{d_no}", qa["id"], qa["question"], context, spans)
            if ex:
                yield ex


def load_file(path: Path) -> Iterator[QAExample]:
    """Every usable example of one data file, whatever its format (chosen by its name)."""
    name = path.name
    if name.endswith(".jsonl.gz"):
        return _mrqa(path)
    if name.startswith("subjqa_") and name.endswith(".csv"):
        return _subjqa(path)
    if name.startswith("qed_") and name.endswith(".jsonl"):
        return _qed(path)
    if name.startswith("molweni"):
        return _molweni(path)
    if name.endswith(".json"):
        return _squad_json(path)
    raise ValueError(f"{path}: not a known QA data format (.json SQuAD, .jsonl.gz MRQA, SubjQA .csv, QED .jsonl)")


def training_files(folder: Path) -> list[Path]:
    """The data files of ``folder`` a reader may be trained on: all but the validation set."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: training data folder not found")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name != VALIDATION_FILE and p.suffix in {".json", ".gz", ".csv", ".jsonl"}
    )
    return files


#: czqa's own written look-alike questions (``data/written-qa/``): questions and their contexts.
WRITTEN_QUESTIONS, WRITTEN_CONTEXTS = "questions.jsonl", "contexts.jsonl"


def load_written(folder: Path) -> Iterator[QAExample]:
    """The project's written questions (see ``data/written-qa/README.md``), each with its context.

    A question names its context by id (``contexts.jsonl`` holds each passage once); an answer's
    ``answer_start`` must hold its text, or the row is dropped with a warning, like the public sets.
    """
    contexts = {}
    for line in (folder / WRITTEN_CONTEXTS).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            contexts[row["passage"]] = row
    dropped = 0
    for line in (folder / WRITTEN_QUESTIONS).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        ctx = contexts.get(row["context"])
        if ctx is None:
            dropped += 1
            continue
        text = ctx["context"]
        spans = [_span(text, a["answer_start"], a["text"]) for a in row["answers"]]
        if row["answers"] and not any(spans):
            dropped += 1
            continue
        ex = _example(f"written:{row['source']}", f"written:{row['context']}", row["id"], row["question"], text, spans)
        if ex:
            yield ex
    if dropped:
        log.warning("%s: %d written questions dropped (unknown context or misplaced answer)", folder, dropped)
