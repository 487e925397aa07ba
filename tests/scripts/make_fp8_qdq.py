#!/usr/bin/env python3
"""An explicitly FP8-quantized MLP as NVIDIA ModelOpt's ONNX export writes one: float8e4m3fn
QuantizeLinear -> DequantizeLinear pairs (per-tensor scales, zero point 0) on the inputs of two
matmuls, their weights stored as float8e4m3fn initializers behind a DequantizeLinear, f32 biases,
a ReLU between them. Also writes an input and the output of ONNX's own reference implementation
(onnx.reference.ReferenceEvaluator) on it, the control infc's FP8 engine is compared with.

    make_fp8_qdq.py OUT_DIR   ->  OUT_DIR/fp8_qdq.onnx, input.npy, expected.npy, float.npy,
                                  fp8_int8_mixed.onnx (h's pair in int8 instead: refused)

float.npy is the same MLP without quantization (float32 weights and activations): what the
quantization changes, so that a test can tell an engine that honors the Q/DQ scales from one
that ignores them.
"""
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

E4M3_MAX = 448.0


def e4m3_initializer(name, w, scale):
    """w / scale rounded to float8e4m3fn, as an initializer (ONNX's own cast, saturating)."""
    t = helper.make_tensor(name, TensorProto.FLOAT8E4M3FN, w.shape, (w / scale).astype(np.float32).ravel().tolist())
    return t


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 64)).astype(np.float32)
    w1 = (rng.standard_normal((64, 32)) * 0.2).astype(np.float32)
    b1 = (rng.standard_normal(32) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((32, 16)) * 0.2).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    sx = float(np.abs(x).max() / E4M3_MAX)
    sh = float(4.0 / E4M3_MAX)  # the ReLU's range, as a calibration would have found it
    sw1 = float(np.abs(w1).max() / E4M3_MAX)
    sw2 = float(np.abs(w2).max() / E4M3_MAX)
    zp = helper.make_tensor("zp", TensorProto.FLOAT8E4M3FN, [], [0.0])
    inits = [zp, e4m3_initializer("w1_q", w1, sw1), e4m3_initializer("w2_q", w2, sw2),
             numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(b2, "b2")]
    for n, v in (("sx", sx), ("sh", sh), ("sw1", sw1), ("sw2", sw2)):
        inits.append(numpy_helper.from_array(np.array(v, np.float32), n))
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zp"], ["x_q"], name="q_x"),
        helper.make_node("DequantizeLinear", ["x_q", "sx", "zp"], ["x_dq"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w1_q", "sw1", "zp"], ["w1"], name="dq_w1"),
        helper.make_node("MatMul", ["x_dq", "w1"], ["mm1"], name="fc1"),
        helper.make_node("Add", ["mm1", "b1"], ["add1"], name="fc1_bias"),
        helper.make_node("Relu", ["add1"], ["h"], name="relu"),
        helper.make_node("QuantizeLinear", ["h", "sh", "zp"], ["h_q"], name="q_h"),
        helper.make_node("DequantizeLinear", ["h_q", "sh", "zp"], ["h_dq"], name="dq_h"),
        helper.make_node("DequantizeLinear", ["w2_q", "sw2", "zp"], ["w2"], name="dq_w2"),
        helper.make_node("MatMul", ["h_dq", "w2"], ["mm2"], name="fc2"),
        helper.make_node("Add", ["mm2", "b2"], ["y"], name="fc2_bias"),
    ]
    graph = helper.make_graph(nodes, "fp8_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9  # float8 types need IR version 9
    onnx.checker.check_model(model)
    onnx.save(model, out / "fp8_qdq.onnx")
    np.save(out / "input.npy", x)
    np.save(out / "expected.npy", ReferenceEvaluator(model).run(None, {"x": x})[0])
    np.save(out / "float.npy", np.maximum(x @ w1 + b1, 0) @ w2 + b2)
    # The same with h's pair in int8: infc takes one quantized type per model.
    zp8 = helper.make_tensor("zp8", TensorProto.INT8, [], [0])
    model.graph.initializer.append(zp8)
    for n in model.graph.node:
        if n.name in ("q_h", "dq_h"):
            n.input[2] = "zp8"
    onnx.save(model, out / "fp8_int8_mixed.onnx")


if __name__ == "__main__":
    main()
