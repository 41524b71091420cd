import numpy as np
import pytest

from czqa.embed.encoder import DIMENSION


def test_numpy_port_matches_sentence_transformers(np_encoder, st_encoder, qa):
    texts = [c.embed_text for c in qa.data.chunks[::7]] + [
        "Who replaced Changpeng Zhao as Binance's CEO?",
        "biotech",
        "x",
    ]
    a = np_encoder.encode(texts)
    b = st_encoder.encode(texts)
    assert a.shape == b.shape == (len(texts), DIMENSION)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(1).min() > 0.9999


def test_short_text_batched_with_long_text_is_not_padded_into_the_mean(np_encoder, st_encoder, qa):
    # Regression: tokenizer.json ships with fixed padding to 128; counting pad tokens as real
    # ones dragged short questions towards the [PAD] embedding (cosine 0.29 with the reference).
    long_text = qa.data.chunks[0].embed_text
    q = "What did CZ say about biotech?"
    alone = np_encoder.encode([q])[0]
    batched = np_encoder.encode([q, long_text])[0]
    ref = st_encoder.encode([q])[0]
    assert float(alone @ ref) > 0.9999
    assert float(batched @ ref) > 0.9999


def test_int8_encoder_is_close_to_float32_and_a_texts_vector_never_depends_on_its_batch(int8_encoder, np_encoder, qa):
    texts = [c.embed_text for c in qa.data.chunks[::5]] + [s.embed_text for s in qa.data.sentences[::40]] + [
        "Who replaced Changpeng Zhao as Binance's CEO?", "x"]
    q = int8_encoder.encode(texts)
    ref = np_encoder.encode(texts)
    assert q.shape == (len(texts), DIMENSION) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert (q * ref).sum(1).min() > 0.98
    # One text per forward pass: the same bits alone, in any batch, in any order (a Ray build's
    # workers and a local build agree exactly).
    alone = np.stack([int8_encoder.encode([t])[0] for t in texts[:6]])
    assert np.array_equal(alone, q[:6])
    assert np.array_equal(int8_encoder.encode(texts[:6][::-1])[::-1], q[:6])


def test_precision_picks_the_encoders_and_int8_names_itself():
    from czqa.embed.encoder import INT8_NAME, MODEL_NAME, NumpyMiniLM, OnnxMiniLM, SentenceTransformerEncoder, encoders_for

    build, query = encoders_for("int8")
    assert build is query and isinstance(build, OnnxMiniLM) and build.name == INT8_NAME != MODEL_NAME
    build, query = encoders_for("fp32")
    assert isinstance(build, SentenceTransformerEncoder) and isinstance(query, NumpyMiniLM) and build.name == query.name == MODEL_NAME


def test_only_the_missing_encoder_is_made(monkeypatch):
    """A caller that brings one encoder does not pay for loading another: at fp32 the numpy
    MiniLM (all its tensors) was loaded beside a given query encoder; at int8 one file serves both."""
    from czqa.embed import encoder as enc

    query = enc.NumpyMiniLM()

    def refuse(*args, **kwargs):
        raise AssertionError("made an encoder that was given")

    monkeypatch.setattr(enc, "NumpyMiniLM", refuse)
    build, got = enc.encoders_for("fp32", query=query)
    assert got is query and isinstance(build, enc.SentenceTransformerEncoder)
    int8 = enc.OnnxMiniLM()
    monkeypatch.setattr(enc, "OnnxMiniLM", refuse)
    assert enc.encoders_for("int8", query=int8) == (int8, int8)
    assert enc.encoders_for("int8", build=int8) == (int8, int8)
    with pytest.raises(ValueError, match="int8 or fp32"):
        enc.encoders_for("fp16")


def test_the_committed_int8_encoder_was_exported_from_the_installed_weights():
    from czqa.embed.encoder import INT8_FILE, minilm_word_embeddings, model_dir
    from czqa.embed.export import source_digest
    from czqa.embed.onnx_bert import OnnxBert

    assert OnnxBert(INT8_FILE, word_embeddings=minilm_word_embeddings()).source_sha256 == source_digest(model_dir() / "model.safetensors")


def test_a_missing_int8_encoder_says_how_to_write_it(tmp_path):
    import pytest

    from czqa.embed.encoder import EncoderUnavailable, OnnxMiniLM

    with pytest.raises(EncoderUnavailable, match="czqa quantize --encoder.*CZQA_PRECISION=fp32"):
        OnnxMiniLM(tmp_path / "none.onnx")
