"""The numpy reader computes what the torch model computes (the query path never imports torch)."""

from __future__ import annotations

import numpy as np
import pytest

from czqa.answering.reader.model import Reader, best_span


def test_best_span_respects_order_and_length():
    start = np.array([9.0, 0.0, 5.0, 1.0, 0.0])
    end = np.array([9.0, 4.0, 0.0, 0.0, 6.0])
    assert best_span(start, end, 30)[:2] == (2, 4)  # [CLS] (position 0) is never a span
    assert best_span(start, end, 2)[:2] == (3, 4)  # 2..4 is three pieces long


def test_numpy_forward_equals_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from czqa.answering.reader.features import windows
    from czqa.answering.reader.train import TrainConfig, _collate, export, make_model

    torch.manual_seed(0)
    net = make_model(torch).eval()
    with torch.no_grad():  # heads away from zero, so the comparison means something
        net.span.weight.normal_(0, 0.5)
        net.answerable.weight.normal_(0, 0.5)
    cfg = TrainConfig(data_dir=tmp_path, out_dir=tmp_path / "w")
    export(net, cfg, final_loss=None)
    reader = Reader(tmp_path / "w", precision="fp32")
    q = "Who founded the Quenford Lantern Festival?"
    texts = ["The Quenford Lantern Festival began in 1987. It was founded by Mira Talvik.", "Short one."]
    ws = [w for t in texts for w in windows(q, t)]
    ids, types, mask, ctx, _, _ = _collate(ws, torch)
    with torch.no_grad():
        # the exported weights are fp16: compare against the torch model holding the same values
        for name, p in net.named_parameters():
            if "word_embeddings" not in name:  # not exported: the numpy reader reads the package's
                p.copy_(p.half().float())
        ts, te, ta = net(ids, types, mask, ctx)
    ns, ne, na = reader.logits(ws)
    finite = np.isfinite(ns)
    assert np.allclose(ns[finite], ts.numpy()[finite], atol=1e-3)
    assert np.allclose(ne[finite], te.numpy()[finite], atol=1e-3)
    assert np.allclose(na, ta.numpy(), atol=1e-3)


def test_windows_read_one_at_a_time_equal_a_padded_batch():
    """Reading each window at its own length (faster) gives the logits a padded batch gives."""
    import numpy as np

    from czqa.answering.reader.model import shared_reader

    reader = shared_reader(precision="fp32")  # int8 scales activations per call: a padded batch is not the same
    question = "Who founded the festival in Quenford?"
    passages = ["In 1987 Mira Talvik founded the festival in Quenford.", "The museum in Velm opened in 1990. " * 30]
    batch = [w for _, w in reader.windows(question, passages)]
    assert len({len(w.ids) for w in batch}) > 1  # windows of different lengths
    start, end, answerable = reader.logits(batch)
    length = max(len(w.ids) for w in batch)
    ids = np.zeros((len(batch), length), np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros((len(batch), length), np.float32)
    for r, w in enumerate(batch):
        ids[r, : len(w.ids)], types[r, : len(w.ids)], mask[r, : len(w.ids)] = w.ids, w.types, 1
    hidden = reader.bert.forward(ids, mask, types)
    span = hidden @ reader.span_w + reader.span_b
    for r, w in enumerate(batch):
        n = len(w.ids)
        ctx = w.offsets[:, 0] >= 0
        ctx[0] = True
        assert np.allclose(start[r, :n][ctx], span[r, :n, 0][ctx], atol=1e-4)
        assert np.allclose(end[r, :n][ctx], span[r, :n, 1][ctx], atol=1e-4)
        assert np.all(np.isneginf(start[r, :n][~ctx])) and np.all(np.isneginf(start[r, n:]))
    assert np.allclose(answerable, (hidden[:, 0] @ reader.ans_w + reader.ans_b)[:, 0], atol=1e-4)


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_windows_read_side_by_side_are_the_same_bits_as_one_after_another(precision):
    """Several windows on several threads (one BLAS thread each) give exactly the sequential logits."""
    from czqa.answering.reader.model import Reader

    reader = Reader(precision=precision)
    assert reader.precision == precision
    question = "Who founded the festival in Quenford?"
    passages = ["In 1987 Mira Talvik founded the festival in Quenford.", "The museum in Velm opened in 1990. " * 30,
                "Quenford's festival draws 40,000 visitors.", "Mira Talvik is a glassblower."]
    batch = [w for _, w in reader.windows(question, passages)]
    reader._workers = 1
    sequential = reader.logits(batch)
    reader._workers = 2
    calls = []
    forward = reader._forward
    reader._forward = lambda w: calls.append(w) or forward(w)
    side_by_side = reader.logits(batch)
    assert len(calls) == len(batch) and reader._pool is not None  # the pool read them
    for a, b in zip(sequential, side_by_side):
        assert np.array_equal(a, b)


def test_int8_reads_as_float32_does(caplog):
    """The shipped int8 export is in use, and finds the same answers as the float32 reference."""
    from czqa.answering.reader.model import shared_reader

    int8, fp32 = shared_reader(precision="int8"), shared_reader(precision="fp32")
    assert int8.precision == "int8" and fp32.precision == "fp32" and int8.bert is not fp32.bert
    question = "Who founded the festival in Quenford?"
    passages = ["In 1987 Mira Talvik founded the festival in Quenford.", "The museum in Velm opened in 1990.",
                "Quenford's festival draws 40,000 visitors a year, most of them in August."]
    a, b = int8.read(question, passages), fp32.read(question, passages)
    assert [(s.passage, s.start, s.end) for s in a] == [(s.passage, s.start, s.end) for s in b]
    assert max(abs(x.margin - y.margin) for x, y in zip(a, b)) < 1.5


def test_the_shipped_int8_reader_was_exported_from_the_shipped_weights():
    from czqa.answering.reader.model import INT8_FILE, WEIGHTS_DIR, WEIGHTS_FILE
    from czqa.embed.export import source_digest
    from czqa.embed.onnx_bert import OnnxBert

    exported = OnnxBert(WEIGHTS_DIR / INT8_FILE, word_embeddings=np.zeros((1, 384), np.float32))
    assert exported.source_sha256 == source_digest(WEIGHTS_DIR / WEIGHTS_FILE), "run: czqa quantize --reader"


def test_an_export_of_other_weights_is_not_used_and_quantize_mends_it(tmp_path, caplog):
    """A reader retrained without a new export reads in float32 (saying so) instead of answering
    from a quantised copy of the old weights; `czqa quantize --reader DIR` writes the new export."""
    import shutil
    import logging

    from safetensors.numpy import load_file, save_file

    from czqa.answering.reader.model import WEIGHTS_DIR, WEIGHTS_FILE
    from czqa.cli import main

    folder = tmp_path / "reader"
    shutil.copytree(WEIGHTS_DIR, folder)
    tensors = load_file(str(folder / WEIGHTS_FILE))
    tensors["span.bias"] = tensors["span.bias"] + np.float16(0.5)  # "retrained"
    save_file(tensors, str(folder / WEIGHTS_FILE))
    with caplog.at_level(logging.WARNING):
        assert Reader(folder).precision == "fp32"
    assert "exported from other weights" in caplog.text and f"czqa quantize --reader {folder}" in caplog.text
    assert main(["quantize", "--reader", str(folder)]) == 0
    assert Reader(folder).precision == "int8"
    (folder / "reader.int8.onnx").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert Reader(folder).precision == "fp32"
    assert "No reader.int8.onnx" in caplog.text


def test_the_int8_reader_reads_only_the_heads_from_its_weights(monkeypatch):
    """The encoder's matrices are in the export: at int8 the safetensors gives only the heads
    (it was read whole, 22 MB, and its matrices thrown away). Falling back re-reads it whole."""
    from czqa.answering.reader import model

    read = []
    real = model._read_tensors

    def spy(path, *, only=None):
        tensors = real(path, only=only)
        read.append(set(tensors))
        return tensors

    monkeypatch.setattr(model, "_read_tensors", spy)
    reader = Reader(precision="int8")
    assert reader.precision == "int8" and len(read) == 1
    assert {"span.weight", "span.bias", "answerable.weight", "answerable.bias"} <= read[0] <= set(model.INT8_TENSORS)
    read.clear()
    assert Reader(precision="fp32").precision == "fp32"
    assert len(read) == 1 and "encoder.layer.0.attention.self.query.weight" in read[0]
