"""The evaluation question set (``eval/qa.jsonl``): records, loading with clear errors, splits,
and the gold evidence spans each record points at in the seed files."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, Field, ValidationError, model_validator

from czqa.errors import EvalSetError
from czqa.eval import metrics

M = TypeVar("M", bound=BaseModel)

QuestionType = Literal["factoid", "numeric", "date", "person", "list", "multi_hop", "conflict", "unanswerable"]
QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)
SPLITS = ("dev", "test")


class Evidence(BaseModel):
    """A gold evidence quote: a verbatim stretch of one seed file that supports a record's answer."""

    file: str
    quote: str = Field(min_length=1)


class QARecord(BaseModel):
    """One question of the eval set. ``answers == []`` means the documents do not answer it."""

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str]
    evidence: list[Evidence]
    type: QuestionType
    split: Literal["dev", "test"]

    @model_validator(mode="after")
    def _unanswerable_has_no_answers(self) -> "QARecord":
        if (self.type == "unanswerable") != (not self.answers):
            raise ValueError("type 'unanswerable' must go with answers == [] (and only it)")
        return self

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


# --- loading ----------------------------------------------------------------------------------


def load_qa(path: Path) -> list[QARecord]:
    """Read a JSON-lines question file; a bad line raises :class:`EvalSetError` naming its number."""
    return load_jsonl(path, QARecord, what="question")


def load_jsonl(path: Path, model: type[M], *, what: str) -> list[M]:
    """Read a JSON-lines file of ``model`` records with unique ``id``s (questions, conversations):
    a missing file, a bad line or a repeated id raises :class:`EvalSetError` naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalSetError(f"{what.capitalize()} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"Cannot read {what} file {path}: {exc}") from None
    records: list[M] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = model.model_validate_json(line)
        except ValidationError as exc:
            raise EvalSetError(f"{path}:{n}: {_describe(exc)}") from None
        if rec.id in seen:
            raise EvalSetError(f"{path}:{n}: duplicate id {rec.id!r} (first on line {seen[rec.id]})")
        seen[rec.id] = n
        records.append(rec)
    if not records:
        raise EvalSetError(f"{what.capitalize()} file {path} holds no {what}s.")
    return records


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"])
        # One JSON document per line: pydantic's "at line 1 column N" would name the wrong line.
        msg = err["msg"].removeprefix("Value error, ").replace("at line 1 column", "at column")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def select_split(records: Sequence[M], split: str, *, source: Path | str = "the question file", what: str = "questions") -> list[M]:
    """The records (questions, conversations) of ``split`` ("dev", "test" or "all"); an empty
    selection is an error."""
    if split not in (*SPLITS, "all"):
        raise EvalSetError(f"Unknown split {split!r}; use dev, test or all.")
    chosen = [r for r in records if split == "all" or r.split == split]
    if not chosen:
        raise EvalSetError(f"No {what} in the {split!r} split of {source}.")
    return chosen


def fingerprint(records: Sequence[QARecord]) -> str:
    """sha256 of the records' canonical JSON: tells whether a baseline was measured on this set."""
    blob = "\n".join(r.model_dump_json() for r in records)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def gold_spans(record: QARecord, texts: dict[str, str]) -> list[metrics.Span]:
    """Every occurrence of every evidence quote, as (file, start, end)."""
    return [span for side in evidence_sides(record, texts) for span in side]


def evidence_sides(record: QARecord, texts: dict[str, str]) -> list[list[metrics.Span]]:
    """One list of spans per evidence quote (all its occurrences in its file)."""
    return [[(ev.file, s, e) for s, e in metrics.find_all(texts.get(ev.file, ""), ev.quote)] for ev in record.evidence]


def check_evidence(records: Sequence[QARecord], texts: dict[str, str]) -> None:
    """Fail clearly when an evidence quote is not in the indexed documents (retrieval and citation
    support would otherwise be scored against nothing, silently)."""
    for rec in records:
        for ev in rec.evidence:
            if ev.file not in texts:
                raise EvalSetError(f"{rec.id}: evidence file {ev.file!r} is not among the seed documents.")
            if ev.quote not in texts[ev.file]:
                raise EvalSetError(f"{rec.id}: evidence quote not found verbatim in {ev.file}: {ev.quote[:80]!r}")
