"""Render an :class:`czqa.eval.evaluation.EvalRun`: report.md, metrics.json, a per-type PNG chart and
the compact table ``czqa eval`` prints. Rendering only: nothing here runs or scores questions.

matplotlib is imported only when the chart is drawn, through its object API (``Figure`` renders
with the Agg canvas), so no GUI backend or pyplot global state is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from czqa.eval.evaluation import FAILURE_GROUPS, METRIC_DEFINITIONS, EvalRun, QuestionScore, failure_groups

REPORT = "report.md"
METRICS = "metrics.json"
CHART = "per_type.png"
TRADEOFF = "tradeoff.png"

# (metric, label, population) in the order tables show them.
SUMMARY_ROWS = (
    ("accuracy", "accuracy (all questions)", "questions"),
    ("answer_accuracy", "answer accuracy (contains gold)", "answerable"),
    ("exact_match", "exact match (SQuAD)", "answerable"),
    ("token_f1", "token F1 (SQuAD)", "answerable"),
    ("hit@1", "retrieval hit@1", "answerable"),
    ("hit@5", "retrieval hit@5", "answerable"),
    ("mrr", "retrieval MRR (0-1)", "answerable"),
    ("abstention_accuracy", "unanswerable declined", "unanswerable"),
    ("false_abstention_rate", "answerable declined (false abstention)", "answerable"),
    ("citation_validity", "citation validity", "citations"),
    ("citation_support", "citation support", "answered"),
    ("conflict_all_sides_cited", "conflict: all sides cited", "conflict"),
    ("conflict_side_recall", "conflict: share of sides cited", "conflict"),
    ("conflict_flagged", "conflict: disagreement reported", "conflict"),
    ("replies_replaced", "LLM replies replaced (citations did not verify)", "questions"),
    ("claims_removed", "LLM sentences removed (citations did not verify)", "questions"),
    ("latency_p50_ms", "latency p50 (ms)", "questions"),
    ("latency_p95_ms", "latency p95 (ms)", "questions"),
)
TYPE_COLUMNS = ("questions", "accuracy", "hit@1", "hit@5", "mrr", "token_f1", "declined")


def fmt(name: str, value: float | int | None) -> str:
    """A metric value as people read it: percent for rates, plain for counts, MRR and latency."""
    if value is None:
        return "n/a"
    if name in ("questions", "answerable", "unanswerable", "replies_replaced", "claims_removed"):
        return str(value)
    if name == "mrr":
        return f"{value:.3f}"
    if name.endswith("_ms"):
        return f"{value:,.0f}"
    return f"{value:.1f}%"


def write_all(run: EvalRun, out_dir: Path, *, baseline_note: str | None = None) -> dict[str, Path]:
    """Write report.md, metrics.json and the chart into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"report": out_dir / REPORT, "metrics": out_dir / METRICS, "chart": out_dir / CHART, "tradeoff": out_dir / TRADEOFF}
    paths["metrics"].write_text(run.model_dump_json(indent=1) + "\n", encoding="utf-8")
    write_chart(run, paths["chart"])
    points, marker = seeds_tradeoff(run)
    write_tradeoff(points, paths["tradeoff"], marker=marker, title=f"czqa eval: {run.split} split, mode {run.mode}")
    paths["report"].write_text(render_markdown(run, chart=CHART, baseline_note=baseline_note), encoding="utf-8")
    return paths


# --- markdown ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _clip(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_markdown(run: EvalRun, *, chart: str | None = CHART, baseline_note: str | None = None) -> str:
    s = run.summary
    counts = _populations(run)
    lines = [
        f"# czqa evaluation: {run.split} split",
        "",
        f"{s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} unanswerable) from "
        f"`{run.qa_file}`; mode `{run.mode}`, top-k {run.top_k}, abstention threshold {run.abstain_threshold}; "
        f"czqa {run.czqa_version}, {run.created}.",
        "",
    ]
    if baseline_note:
        lines += [baseline_note, ""]
    lines += ["## Summary", "", "| metric | value | over |", "|---|---:|---|"]
    for key, label, pop in SUMMARY_ROWS:
        lines.append(f"| {label} | {fmt(key, s.get(key))} | {counts[pop]} {pop} |")
    lines += ["", "## Per question type", "", "| type | " + " | ".join(TYPE_COLUMNS) + " |",
              "|---|" + "---:|" * len(TYPE_COLUMNS)]
    for t, row in run.per_type.items():
        lines.append(f"| {t} | " + " | ".join(fmt(c, row.get(c)) for c in TYPE_COLUMNS) + " |")
    if chart:
        lines += ["", f"![per-type accuracy, hit@5 and token F1]({chart})", "",
                  "Abstention trade-off (each point a decline threshold; the red dot is the one in use):", "",
                  f"![abstention trade-off]({TRADEOFF})"]

    groups = failure_groups(run.questions)
    failed = sum(len(g) for g in groups.values())
    lines += ["", f"## Failed questions ({failed} of {s['questions']})", ""]
    if groups:
        lines += ["| failure group | questions |", "|---|---:|"]
        lines += [f"| {FAILURE_GROUPS[k]} | {len(v)} |" for k, v in groups.items()]
        for key, items in groups.items():
            lines += ["", f"### {FAILURE_GROUPS[key]} ({len(items)})", ""]
            lines += [_failure_entry(q) for q in items]
    else:
        lines.append("None.")
    lines += ["", "## What the metrics mean", ""]
    lines += [f"- **{k}**: {v}" for k, v in METRIC_DEFINITIONS.items()]
    lines += [
        "- **gold evidence**: every occurrence of each evidence quote of the question in its seed file. "
        "A passage or citation *overlaps* it when it is in the same file and shares at least one character.",
        "- **failure groups**: a wrong answer is *not retrieved* when no retrieved passage overlaps gold "
        "evidence, *not quoted* when one does but no citation does, and *quoted* when a citation overlaps "
        "gold evidence yet the reply does not contain a gold answer.",
        "- `n/a`: no question in this run qualifies for the metric (e.g. a split without unanswerable questions).",
        "",
    ]
    return "\n".join(lines)


def _failure_entry(q: QuestionScore) -> str:
    expected = " / ".join(f"“{a}”" for a in q.expected) if q.expected else "a decline (the documents don't say)"
    if q.abstained:
        got = "declined"
    else:
        got = f"“{_clip(q.prediction, 160)}”" if q.prediction else "(no short answer)"
        if q.prediction != q.reply:
            got += f"; full reply: {_clip(q.reply)}"
    rank = f"gold passage rank {q.gold_rank}" if q.gold_rank else ("no gold passage retrieved" if q.answerable else "")
    extra = ", ".join(x for x in (rank, f"confidence {q.confidence:.3f}") if x)
    return f"- **{q.id}** ({q.type}) {_cell(q.question)}\n  - expected: {expected}\n  - answered: {got}\n  - {extra}"


def _populations(run: EvalRun) -> dict[str, int]:
    qs = run.questions
    return {
        "questions": len(qs),
        "answerable": sum(q.answerable for q in qs),
        "unanswerable": sum(not q.answerable for q in qs),
        "answered": sum(q.answerable and not q.abstained for q in qs),
        "citations": sum(q.citations for q in qs),
        "conflict": sum(q.type == "conflict" for q in qs),
    }


# --- chart --------------------------------------------------------------------------------------------

CHART_SERIES = (("accuracy", "accuracy"), ("hit@5", "retrieval hit@5"), ("token_f1", "token F1"))


def write_chart(run: EvalRun, path: Path) -> None:
    """A grouped bar chart of accuracy, hit@5 and token F1 per question type (percent)."""
    from matplotlib.figure import Figure

    types = list(run.per_type)
    fig = Figure(figsize=(max(6.0, 1.1 * len(types) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(CHART_SERIES)
    for i, (key, label) in enumerate(CHART_SERIES):
        xs = [j + (i - (len(CHART_SERIES) - 1) / 2) * width for j in range(len(types))]
        values = [run.per_type[t].get(key) for t in types]
        bars = ax.bar(xs, [v or 0.0 for v in values], width, label=label)
        ax.bar_label(bars, labels=["" if v is None else f"{v:.0f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(range(len(types)), [f"{t}\n(n={run.per_type[t]['questions']})" for t in types], fontsize=8)
    ax.set_ylim(0, 118)
    ax.set_ylabel("percent")
    ax.set_title(f"czqa eval: {run.split} split, mode {run.mode} ({run.summary['questions']} questions)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncols=len(CHART_SERIES), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, dpi=110)


def write_tradeoff(points: list[tuple[float, float, float]], path: Path, *, marker: tuple[float, float] | None = None, title: str = "") -> None:
    """The abstention trade-off as a PNG: x = answerable questions declined (%), y = unanswerable
    questions declined (%), one point per threshold; ``marker`` is the threshold in use."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([p[1] for p in points], [p[2] for p in points], color="#1f5f8b", lw=1.8, drawstyle="steps-post")
    if marker:
        ax.scatter([marker[0]], [marker[1]], color="#b5382f", zorder=3, label="threshold in use")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("answerable questions declined (%)")
    ax.set_ylabel("unanswerable questions declined (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title or "Abstention trade-off", fontsize=10)
    fig.savefig(path, dpi=110)


def seeds_tradeoff(run: EvalRun) -> tuple[list[tuple[float, float, float]], tuple[float, float] | None]:
    """The trade-off curve of a ``czqa eval`` run, from each question's confidence, and where the
    run itself sits on it."""
    from czqa.eval.metrics import abstention_curve

    answerable = [q.confidence for q in run.questions if q.answerable]
    unanswerable = [q.confidence for q in run.questions if not q.answerable]
    points = abstention_curve(answerable, unanswerable)
    marker = (run.summary.get("false_abstention_rate") or 0.0, run.summary.get("abstention_accuracy") or 0.0)
    return points, marker


# --- terminal ---------------------------------------------------------------------------------------------


def terminal_summary(run: EvalRun, paths: dict[str, Path] | None = None) -> str:
    """The compact table ``czqa eval`` prints."""
    s = run.summary

    def f(k: str) -> str:
        return fmt(k, s.get(k))

    lines = [
        f"czqa eval · {run.split} split · {s['questions']} questions ({s['answerable']} answerable, "
        f"{s['unanswerable']} unanswerable) · mode {run.mode} · top-k {run.top_k}",
        f"  answers     accuracy {f('answer_accuracy')}  EM {f('exact_match')}  F1 {f('token_f1')}"
        f"  (all questions {f('accuracy')})",
        f"  retrieval   hit@1 {f('hit@1')}  hit@5 {f('hit@5')}  MRR {f('mrr')}",
        f"  abstention  unanswerable declined {f('abstention_accuracy')}  answerable declined {f('false_abstention_rate')}",
        f"  citations   valid {f('citation_validity')}  support {f('citation_support')}"
        f"  conflict: all sides {f('conflict_all_sides_cited')}, flagged {f('conflict_flagged')}",
        f"  latency     p50 {f('latency_p50_ms')} ms  p95 {f('latency_p95_ms')} ms",
        *(
            [f"  checks      LLM replies replaced {f('replies_replaced')}  sentences removed {f('claims_removed')}"]
            if _generative(run.mode) else []
        ),
        "",
        "  " + _row("type", [c if c != "questions" else "n" for c in TYPE_COLUMNS]),
    ]
    for t, row in run.per_type.items():
        lines.append("  " + _row(t, [fmt(c, row.get(c)) for c in TYPE_COLUMNS]))
    groups = failure_groups(run.questions)
    if groups:
        lines += ["", "  failures: " + "; ".join(f"{FAILURE_GROUPS[k]} {len(v)}" for k, v in groups.items())]
    if paths:
        lines += ["", f"wrote {', '.join(str(p) for p in paths.values())}"]
    return "\n".join(lines)


def _row(first: str, cells: Sequence[str]) -> str:
    return f"{first:<13}" + "".join(f"{c:>9}" for c in cells)


def _generative(mode: str) -> bool:
    """Whether ``mode`` writes its own text (its reply checks are then worth reporting)."""
    from czqa.answering.modes.registry import modes

    spec = modes().get(mode)
    return bool(spec and spec.generative)
