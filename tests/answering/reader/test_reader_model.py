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
    reader = Reader(tmp_path / "w")
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
