"""The int8 BERT forward pass: an ONNX Runtime session over a graph that ``czqa quantize`` wrote.

:class:`OnnxBert` has :class:`czqa.embed.bert.NumpyBert`'s ``forward`` contract, so the query
encoder and the reader take either. The int8 products read a 248-piece reader window in 54.5 ms
on one thread against numpy's 93 ms in float32 (2-core development machine, docs/benchmarks.md),
and the files are about half the size of the fp16 weights.

A session runs on one thread with spinning off: czqa itself runs windows and texts side by side,
one per core (as with BLAS, :mod:`czqa.embed.threads`), and a spinning thread pool takes the core
the next question needs. Sessions are thread-safe; ``run`` releases the GIL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from czqa.embed.export import FORMAT, FORMAT_KEY, SOURCE_KEY


class StaleExport(RuntimeError):
    """An int8 file that was not exported from the weights beside it (retrained since)."""


class OnnxBert:
    """An exported BERT (:mod:`czqa.embed.export`) and the word embeddings it reads."""

    def __init__(self, path: Path, *, word_embeddings: np.ndarray, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: no notes about optimisations on stderr
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get(FORMAT_KEY) != FORMAT:
            raise StaleExport(f"{path} is not a czqa int8 export ({FORMAT_KEY}={meta.get(FORMAT_KEY)!r}); run `czqa quantize`")
        self.source_sha256 = meta.get(SOURCE_KEY, "")
        self.word = np.asarray(word_embeddings, dtype=np.float32)

    def forward(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray | None = None) -> np.ndarray:
        """Hidden states [batch, length, width] for padded ``ids`` (``mask`` is 1 on real tokens)."""
        ids = np.asarray(ids, dtype=np.int64)
        types = np.zeros_like(ids) if types is None else np.asarray(types, dtype=np.int64)
        feed = {"words": self.word[ids], "types": types, "mask": np.asarray(mask, dtype=np.int32)}
        return self.session.run(["hidden"], feed)[0]
