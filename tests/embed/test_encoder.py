import numpy as np

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
