"""The reader's int8 export (``reader.int8.onnx``), written after every training run.

``czqa train-reader`` calls :func:`quantize_reader` on the folder it wrote, and ``czqa quantize``
does it for any reader folder (the shipped one by default). The file records the digest of the
``reader.safetensors`` it came from: the reader reads in float32 instead of trusting an export
of other weights (:mod:`czqa.answering.reader.model`).
"""

from __future__ import annotations

from pathlib import Path

from czqa.answering.reader.model import INT8_FILE, WEIGHTS_DIR, WEIGHTS_FILE, ReaderUnavailable, word_embeddings


def quantize_reader(directory: Path | None = None) -> Path:
    """Export the reader in ``directory`` (default: the shipped weights) to int8 beside its weights."""
    from safetensors.numpy import load_file

    from czqa.embed.bert import NumpyBert
    from czqa.embed.export import export_int8

    directory = directory or WEIGHTS_DIR
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ReaderUnavailable(f"no reader weights at {weights}; train them with `czqa train-reader`")
    tensors = load_file(str(weights))
    bert = NumpyBert(tensors, heads=12, word_embeddings=word_embeddings(tensors))
    return export_int8(bert, directory / INT8_FILE, source=weights, name="czqa-reader")
