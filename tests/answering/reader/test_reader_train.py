"""Training runs end to end on a tiny fixture and resumes exactly where a stopped run left off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qa-formats"


def _config(tmp_path: Path, name: str, **extra):
    from czqa.answering.reader.train import TrainConfig

    return TrainConfig(
        data_dir=FIXTURES, out_dir=tmp_path / name / "out", cache_dir=tmp_path / name / "cache",
        max_steps=4, batch_size=4, checkpoint_every=2, threads=1, **extra,
    )


def _weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "reader.safetensors"))


def test_stopped_run_resumes_to_the_same_weights(tmp_path):
    pytest.importorskip("torch")
    from czqa.answering.reader.model import Reader
    from czqa.answering.reader.train import train

    straight = train(_config(tmp_path, "a"), progress=False)
    assert train(_config(tmp_path, "b", stop_after=2), progress=False) is None  # "crashed" at step 2
    assert not (tmp_path / "b" / "out").exists()
    resumed = train(_config(tmp_path, "b"), progress=False)
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and "embeddings.word_embeddings.weight" not in a
    for k in a:
        assert np.allclose(a[k].astype(np.float32), b[k].astype(np.float32), atol=1e-3), k
    assert Reader(resumed).read("Who founded the festival?", ["It was founded by Mira Talvik."])


def test_second_stage_starts_from_exported_weights_and_keeps_the_first_recipe(tmp_path):
    pytest.importorskip("torch")
    import json

    from czqa.answering.reader.negatives import ALL_KINDS
    from czqa.answering.reader.train import train

    from safetensors.numpy import save_file

    first = train(_config(tmp_path, "first"), progress=False)
    marked = {k: (v + np.float16(0.25) if k in ("span.bias", "encoder.layer.0.output.dense.bias") else v) for k, v in _weights(first).items()}
    save_file(marked, str(first / "reader.safetensors"))  # far from anything the base model would give
    # (almost) zero learning rate: a second stage that truly starts from `first` ends exactly there
    still = train(_config(tmp_path, "still", init_from=first, learning_rate=1e-12, perturb_kinds=ALL_KINDS), progress=False)
    a, b = _weights(first), _weights(still)
    for k in a:
        assert np.allclose(a[k].astype(np.float32), b[k].astype(np.float32), atol=1e-3), k
    meta = json.loads((still / "reader.json").read_text())
    assert meta["initialised_from"]["training"]["max_steps"] == 4
    assert meta["training"]["perturb_kinds"] == list(ALL_KINDS)
    with pytest.raises(FileNotFoundError, match="no reader.safetensors"):
        train(_config(tmp_path, "bad", init_from=tmp_path / "nowhere"), progress=False)


def test_an_unknown_look_alike_kind_is_refused_not_taken_for_a_name_swap(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="perturb_kinds"):
        _config(tmp_path, "typo", perturb_kinds=("keywrod",))


def test_a_checkpoint_exports_as_the_weights_the_run_would_write(tmp_path):
    """A run can be measured before it ends: its checkpoint exported is the reader ``export``
    writes at that step, marked with the step, keeping the decision it was given until it is
    recalibrated; the finished run's export drops the mark."""
    pytest.importorskip("torch")
    import json

    from czqa.answering.reader.model import WEIGHTS_DIR, Reader
    from czqa.answering.reader.train import export_checkpoint, train

    cfg = _config(tmp_path, "a")
    done = train(cfg, progress=False)
    (checkpoint,) = cfg.cache_dir.glob("run-*.pt")
    interim = export_checkpoint(checkpoint, tmp_path / "interim", config_from=WEIGHTS_DIR)
    a, b = _weights(done), _weights(interim)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    meta = json.loads((interim / "reader.json").read_text())
    shipped = json.loads((WEIGHTS_DIR / "reader.json").read_text())
    assert meta["checkpoint"] == {"file": checkpoint.name, "step": 4} and meta["decision"] == shipped["decision"]
    assert Reader(interim, precision="fp32").read("Who founded the festival?", ["It was founded by Mira Talvik."])
    (done / "reader.json").write_text(json.dumps(meta))
    train(cfg, progress=False)  # already at its last step: exports again
    assert "checkpoint" not in json.loads((done / "reader.json").read_text())


def test_reader_json_records_the_steps_the_run_trained_not_the_default_length(tmp_path):
    """With ``epochs`` set the run's length comes from the mix, so ``training.max_steps`` (the
    unused default) is not what ran; the model card reads the trained steps from ``steps``."""
    pytest.importorskip("torch")
    import json

    from czqa.answering.reader.train import build_mix, total_steps, train

    cfg = _config(tmp_path, "epochs", epochs=0.5)
    expected = total_steps(cfg, len(build_mix(cfg)))
    assert expected != cfg.max_steps
    meta = json.loads((train(cfg, progress=False) / "reader.json").read_text())
    assert meta["steps"] == {"trained": expected, "batch_size": 4, "windows_seen": expected * 4}
