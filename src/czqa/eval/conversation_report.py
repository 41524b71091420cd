"""Render a :class:`czqa.eval.conversations.ConversationRun`: the JSON report, the markdown report
and the compact table ``czqa eval --conversations`` prints. Rendering only: nothing here runs or
scores conversations."""

from __future__ import annotations

from pathlib import Path

from czqa.eval.conversations import STANDALONE, STANDALONE_LABEL, WAYS, ConversationRun, ConversationScore, TurnOutcome

REPORT = "conversations.md"
METRICS = "conversations.json"
# The targets for "best" against "typed".
TARGET_BETTER_SHARE = 80.0

LABELS = {"typed": "typed (no rewriting)", "rewrite": "rewrite (always)", "best": "best (when it helps)"}

DEFINITIONS = {
    "follow-ups right": "Turns after the first: an answerable one is right when not declined and the reply "
    "contains a gold answer (SQuAD-normalized); an unanswerable one is right when declined.",
    "worse than typed": "Conversations where some follow-up right with no rewriting is wrong this way.",
    "better (needs context)": "Conversations with a follow-up marked needs_context (the writer's judgement: "
    "the typed question alone does not settle what it refers to) where this way gets more follow-ups "
    "right than no rewriting.",
    "rewrites searched": "Follow-up turns where the rewritten question, not the typed one, was searched.",
    "standalone (hand-written: a perfect rewrite)": "Each follow-up asked as a question written by hand to stand alone "
    "(its references replaced from the earlier turns and their gold answers), without the follow-up path: "
    "what a perfect rewrite would reach. A conversation it does not make better is lost by the reader, "
    "not by the rewriting.",
    "better where typed misses": "The same as 'better (needs context)', counted only over the conversations where "
    "no rewriting gets some needs_context follow-up wrong: one that no rewriting already gets right cannot be "
    "better, so this is the share of what rewriting could win.",
}


def write_report(run: ConversationRun, out_dir: Path) -> dict[str, Path]:
    """Write conversations.json and conversations.md into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out_dir / METRICS, "report": out_dir / REPORT}
    paths["metrics"].write_text(run.model_dump_json(indent=1) + "\n", encoding="utf-8")
    paths["report"].write_text(render_markdown(run), encoding="utf-8")
    return paths


def targets(run: ConversationRun) -> dict[str, bool | None]:
    """Whether "best" met the issue's targets: never worse than no rewriting, and better on at
    least 80% of the conversations that need context (None when none do)."""
    best = run.summary["best"]
    share = best["needs_context_better_share"]
    return {
        "never_worse": best["conversations_worse_than_typed"] == 0,
        "better_where_needed": None if share is None else share >= TARGET_BETTER_SHARE,
    }


def _rows(run: ConversationRun) -> list[tuple[str, str, str, str, str]]:
    out = []
    for way in WAYS:
        s = run.summary[way]
        right = f"{s['followups_correct']}/{s['followups']} ({_pct(s['followup_accuracy'])})"
        if way == "typed":
            worse = better = "—"
        else:
            worse = f"{s['conversations_worse_than_typed']} of {s['conversations']}"
            better = f"{s['needs_context_better_than_typed']} of {s['needs_context_conversations']} ({_pct(s['needs_context_better_share'])})"
        out.append((LABELS[way], right, str(s["rewrites_searched"]), worse, better))
    if STANDALONE in run.summary:
        s = run.summary[STANDALONE]
        out.append((
            "standalone (hand-written: a perfect rewrite)",
            f"{s['followups_correct']}/{s['followups']} ({_pct(s['followup_accuracy'])})",
            "—",
            "—",
            f"{s['needs_context_better_than_typed']} of {s['needs_context_conversations']} ({_pct(s['needs_context_better_share'])})",
        ))
    return out


def _standalone_line(run: ConversationRun) -> str | None:
    """How much of what a perfect rewrite wins 'best' wins: the rest is lost by the reader."""
    s = run.summary.get(STANDALONE)
    if s is None:
        return None
    return (
        f"asked as {STANDALONE_LABEL}, {s['needs_context_better_than_typed']} of "
        f"{s['needs_context_conversations']} conversations needing context get more follow-ups right than typed "
        f"({_pct(s['needs_context_better_share'])}); best is better on {s['best_better_where_standalone_better']} of "
        f"those ({_pct(s['best_share_where_standalone_better'])})"
    )


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1f}%"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def _missed_line(run: ConversationRun) -> str:
    b, t = run.summary["best"], run.summary["typed"]
    return (
        f"where no rewriting misses a follow-up that needs context ({t['needs_context_typed_missed']} of "
        f"{t['needs_context_conversations']} conversations), best is better on {b['missed_better_than_typed']} "
        f"({_pct(b['missed_better_share'])})"
    )


def terminal_summary(run: ConversationRun, paths: dict[str, Path] | None = None) -> str:
    """The compact table ``czqa eval --conversations`` prints."""
    s = run.summary["typed"]
    head = (
        f"conversations: {run.split} split · {s['conversations']} conversations, {s['followups']} follow-up turns "
        f"({s['needs_context_conversations']} conversations need context) · mode {run.mode}, decided by {run.decision_mode}"
    )
    cols = ("way", "follow-ups right", "rewrites", "worse than typed", "better (needs context)")
    rows = [cols, *_rows(run)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    lines = [head] + ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    t = targets(run)
    lines.append(
        f"targets (best vs typed): never worse {_verdict(t['never_worse'])}; better on ≥{TARGET_BETTER_SHARE:.0f}% "
        f"of conversations needing context {_verdict(t['better_where_needed'])}"
    )
    lines.append(_missed_line(run))
    if (standalone := _standalone_line(run)) is not None:
        lines.append(standalone)
    if paths:
        lines.append("Wrote " + ", ".join(str(p) for p in paths.values()))
    return "\n".join(lines)


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _said(t: TurnOutcome) -> str:
    if t.abstained:
        return "declined"
    text = t.short_answer or t.reply
    text = " ".join(text.split())
    return "“" + (text if len(text) <= 80 else text[:79] + "…") + "”"


def _differs(c: ConversationScore, i: int) -> bool:
    turns = [c.turns[way][i] for way in c.turns]
    return len({t.searched for t in turns}) > 1 or len({t.correct for t in turns}) > 1


def render_markdown(run: ConversationRun) -> str:
    t = targets(run)
    standalone = _standalone_line(run)
    out = [
        f"# czqa multi-turn evaluation: {run.split} split",
        "",
        f"File `{run.conversations_file}` · mode `{run.mode}` · the choice between a follow-up's typed and "
        f"rewritten question made by `{run.decision_mode}` with typed margin {run.typed_margin} · "
        f"czqa {run.czqa_version} · {run.created}",
        "",
        "Each conversation is replayed three ways through the chat page's follow-up path: "
        + "; ".join(f"**{w}**: {d}" for w, d in WAYS.items())
        + ".",
        "",
        "## Summary",
        "",
        "| way | follow-ups right | rewrites searched | worse than typed | better (needs context) |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(r)} |" for r in _rows(run)),
        "",
        f"Targets for **best** against **typed**: never worse: **{_verdict(t['never_worse'])}**; better on at least "
        f"{TARGET_BETTER_SHARE:.0f}% of the conversations that need context: **{_verdict(t['better_where_needed'])}**.",
        "",
        _missed_line(run)[0].upper() + _missed_line(run)[1:] + ".",
        "",
        *([standalone[0].upper() + standalone[1:] + ".", ""] if standalone else []),
        "## Per conversation",
        "",
        "| id | needs context | follow-ups | typed | rewrite | best | best vs typed |" + (" standalone |" if standalone else ""),
        "|---|---|---|---|---|---|---|" + ("---|" if standalone else ""),
    ]
    for c in run.conversations:
        vs = "worse" if c.best_worse_than_typed else ("better" if c.best_beats_typed else "same")
        out.append(
            f"| {c.id} | {'yes' if c.needs_context else 'no'} | {c.followups} | {c.correct['typed']} | "
            f"{c.correct['rewrite']} | {c.correct['best']} | {vs} |" + (f" {c.correct[STANDALONE]} |" if standalone else "")
        )
    out += ["", "## Follow-up turns where the ways differ", ""]
    any_diff = False
    for c in run.conversations:
        for i in range(1, c.followups + 1):
            if not _differs(c, i):
                continue
            any_diff = True
            q = c.turns["typed"][i].question
            out.append(f"- **{c.id}** turn {i + 1}: “{_cell(q)}”")
            for way in (*WAYS, *([STANDALONE] if STANDALONE in c.turns else [])):
                tw = c.turns[way][i]
                mark = "right" if tw.correct else "wrong"
                out.append(f"  - {way}: searched “{_cell(tw.searched)}” → {_cell(_said(tw))} ({mark}; {_cell(tw.reason)})")
    if not any_diff:
        out.append("None: every way searched the same questions with the same results.")
    out += ["", "## What the figures mean", ""]
    out += [f"- **{k}**: {v}" for k, v in DEFINITIONS.items()]
    return "\n".join(out) + "\n"
