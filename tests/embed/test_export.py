"""The int8 export: the ONNX graph computes NumpyBert's function, and the files know their source."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from czqa.embed.bert import NumpyBert

WIDTH, HEADS, LAYERS, VOCAB, POSITIONS = 32, 4, 2, 50, 40


def tiny_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """A random two-layer BERT in the Hugging Face layout NumpyBert reads."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.2):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(VOCAB, WIDTH),
        "embeddings.position_embeddings.weight": r(POSITIONS, WIDTH),
        "embeddings.token_type_embeddings.weight": r(2, WIDTH),
        "embeddings.LayerNorm.weight": 1 + r(WIDTH, scale=0.05),
        "embeddings.LayerNorm.bias": r(WIDTH, scale=0.05),
    }
    for n in range(LAYERS):
        p = f"encoder.layer.{n}."
        for name, (rows, cols) in {"attention.self.query": (WIDTH, WIDTH), "attention.self.key": (WIDTH, WIDTH),
                                   "attention.self.value": (WIDTH, WIDTH), "attention.output.dense": (WIDTH, WIDTH),
                                   "intermediate.dense": (4 * WIDTH, WIDTH), "output.dense": (WIDTH, 4 * WIDTH)}.items():
            w[p + name + ".weight"] = r(rows, cols)
            w[p + name + ".bias"] = r(rows, scale=0.05)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = 1 + r(WIDTH, scale=0.05)
            w[p + ln + ".bias"] = r(WIDTH, scale=0.05)
    return w


def _inputs(bert, rng, batch=2, length=11):
    ids = rng.integers(0, VOCAB, (batch, length))
    types = rng.integers(0, 2, (batch, length))
    mask = np.ones((batch, length), np.float32)
    if batch > 1:
        mask[1, 7:] = 0  # the second row is padded: masked keys must not count
    return ids, types, mask


def test_the_float32_graph_computes_numpy_berts_function():
    import onnxruntime as ort

    from czqa.embed.export import bert_graph

    bert = NumpyBert(tiny_weights(), heads=HEADS)
    session = ort.InferenceSession(bert_graph(bert).SerializeToString(), providers=["CPUExecutionProvider"])
    ids, types, mask = _inputs(bert, np.random.default_rng(1))
    want = bert.forward(ids, mask, types)
    got = session.run(["hidden"], {"words": bert.word[ids], "types": types, "mask": mask.astype(np.int32)})[0]
    real = mask.astype(bool)  # padded positions' states are never read
    assert np.abs(got[real] - want[real]).max() < 1e-4


def test_int8_export_stays_close_records_its_source_and_is_reproducible(tmp_path, caplog):
    from czqa.embed.export import export_int8, source_digest
    from czqa.embed.onnx_bert import OnnxBert

    bert = NumpyBert(tiny_weights(), heads=HEADS)
    source = tmp_path / "weights.bin"
    source.write_bytes(b"the weights the export came from")
    with caplog.at_level(logging.INFO):
        path = export_int8(bert, tmp_path / "m.int8.onnx", source=source)
    assert not [r for r in caplog.records if "quantiz" in r.getMessage()]  # no line per node from ONNX Runtime
    first = path.read_bytes()
    assert export_int8(bert, tmp_path / "m.int8.onnx", source=source).read_bytes() == first
    assert not (tmp_path / "m.int8.onnx.tmp").exists()

    onnx_bert = OnnxBert(path, word_embeddings=bert.word)
    assert onnx_bert.source_sha256 == source_digest(source)
    ids, types, mask = _inputs(bert, np.random.default_rng(2), batch=1)
    want = bert.forward(ids, mask, types)[0]
    got = onnx_bert.forward(ids, mask, types)[0]
    cosine = (want * got).sum(-1) / np.linalg.norm(want, axis=-1) / np.linalg.norm(got, axis=-1)
    assert cosine.min() > 0.98
    assert np.abs(got - want).max() > 0  # it is quantised: not the float32 graph under another name


def test_a_file_that_is_not_a_czqa_export_is_refused(tmp_path):
    import onnx

    from czqa.embed.export import bert_graph
    from czqa.embed.onnx_bert import OnnxBert, StaleExport

    bert = NumpyBert(tiny_weights(), heads=HEADS)
    path = tmp_path / "plain.onnx"
    onnx.save(bert_graph(bert), str(path))  # float32, no czqa metadata
    with pytest.raises(StaleExport, match="czqa quantize"):
        OnnxBert(path, word_embeddings=bert.word)
