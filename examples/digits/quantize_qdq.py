#!/usr/bin/env python3
"""Make an explicitly quantized (QDQ) copy of digits_cnn.onnx with ONNX Runtime, plus reference outputs.

    pip install onnxruntime==1.32.0 ml_dtypes onnx==1.17.0 numpy==1.26.4
    python3 examples/digits/quantize_qdq.py

Runs onnxruntime.quantization.quantize_static on digits_cnn.onnx: QDQ format, int8 activations
and weights, per-channel weights, MinMax calibration over the 8 batches of calib/ (256 training
images), symmetric activations and weights (every zero point is 0). Writes, next to this script:

- digits_cnn_qdq.onnx               the QDQ model, IR version 8, default-domain opset 13..21
- digits_cnn_qdq.input.npy          float32 [40, 1, 8, 8]: test_input.npy[:40]
- digits_cnn_qdq.ort_logits.npy     float32 [40, 10]: ORT CPU logits of the QDQ model on those
                                    inputs, graph optimizations off (ORT_DISABLE_ALL), i.e. the
                                    Q/DQ nodes executed as written (float Conv between them)
- digits_cnn_qdq.json               ORT version, accuracies and logit differences (see below)

Every ORT session runs on one thread; MinMax calibration is a plain min/max reduction, so the
files are byte-identical from run to run with the same onnxruntime / onnx / numpy versions (the
committed ones came from onnxruntime 1.32.0, onnx 1.17.0, numpy 1.26.4, ml_dtypes 0.5.4).

The logits are quantized too (QuantizeLinear/DequantizeLinear after the Gemm, scale =
max|calibration logit| / 127), so a test logit beyond that range saturates; the JSON gives the
largest difference from the fp32 model both over all logits and over the unsaturated ones.
"""
import json
import pathlib
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

HERE = pathlib.Path(__file__).resolve().parent
FP32_MODEL = HERE / "digits_cnn.onnx"
QDQ_MODEL = HERE / "digits_cnn_qdq.onnx"
OUT_INPUT = HERE / "digits_cnn_qdq.input.npy"
OUT_LOGITS = HERE / "digits_cnn_qdq.ort_logits.npy"
OUT_JSON = HERE / "digits_cnn_qdq.json"
N_REF = 40
FP32_TEST_ACCURACY = 98.89  # torch_accuracy.json: 356/360


class CalibReader(CalibrationDataReader):
    """Feeds calib/batch0000.npy ... batch0007.npy (each float32 [32, 1, 8, 8]) as input `input`."""

    def __init__(self):
        self.files = sorted((HERE / "calib").glob("batch*.npy"))
        assert len(self.files) == 8, self.files
        self.it = iter(self.files)

    def get_next(self):
        f = next(self.it, None)
        if f is None:
            return None
        x = np.load(f)
        assert x.dtype == np.float32 and x.shape == (32, 1, 8, 8), (f, x.dtype, x.shape)
        return {"input": x}

    def rewind(self):
        self.it = iter(self.files)


def session(path, level):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run(sess, x):
    return sess.run(["logits"], {"input": x})[0]


def quantize():
    with tempfile.TemporaryDirectory(prefix="digits_qdq.") as tmp:
        tmp_out = pathlib.Path(tmp) / "qdq.onnx"
        quantize_static(
            str(FP32_MODEL),
            str(tmp_out),
            CalibReader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
        )
        model = onnx.load(str(tmp_out))
    # Debian's libonnx 1.12 reads IR <= 8; the ops used here all exist at opset 13..21.
    model.ir_version = 8
    default = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    assert len(default) == 1 and 13 <= default[0].version <= 21, model.opset_import
    others = [o.domain for o in model.opset_import if o.domain not in ("", "ai.onnx")]
    assert not others, f"non-default opset domains: {others}"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(QDQ_MODEL))
    return model


def initializer_value(model, name):
    for t in model.graph.initializer:
        if t.name == name:
            return onnx.numpy_helper.to_array(t)
    raise KeyError(name)


def logits_quant_step(model):
    """Scale of the quantized tensor nearest the logits: the logits' own QuantizeLinear if any,
    else the activation input of the Gemm that produces them."""
    producer = {o: n for n in model.graph.node for o in n.output}
    out = model.graph.output[0].name
    node = producer[out]
    if node.op_type == "DequantizeLinear":
        return float(initializer_value(model, node.input[1])), f"scale of the logits' DequantizeLinear ({node.name})"
    assert node.op_type == "Gemm", node.op_type
    dq = producer[node.input[0]]
    assert dq.op_type == "DequantizeLinear", dq.op_type
    return float(initializer_value(model, dq.input[1])), f"scale of the Gemm's input DequantizeLinear ({dq.name})"


def main():
    model = quantize()

    x_test = np.load(HERE / "test_input.npy")
    y_test = np.load(HERE / "test_labels.npy")
    assert x_test.shape == (360, 1, 8, 8) and x_test.dtype == np.float32

    s_off = session(QDQ_MODEL, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    s_def = session(QDQ_MODEL, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    s_fp32 = session(FP32_MODEL, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)

    x_ref = np.ascontiguousarray(x_test[:N_REF])
    ref_logits = run(s_off, x_ref).astype(np.float32)
    assert ref_logits.shape == (N_REF, 10)
    np.save(OUT_INPUT, x_ref)
    np.save(OUT_LOGITS, ref_logits)

    l_off = run(s_off, x_test)
    l_def = run(s_def, x_test)
    l_fp32 = run(s_fp32, x_test)

    def acc(logits):
        return round(100.0 * float(np.mean(np.argmax(logits, axis=1) == y_test)), 2)

    step, step_what = logits_quant_step(model)
    saturated = np.abs(l_fp32) > 127 * step
    result = {
        "ort_version": ort.__version__,
        "test_accuracy": acc(l_off),
        "fp32_test_accuracy": FP32_TEST_ACCURACY,
        "max_abs_logit_diff_vs_fp32_onnx": float(np.max(np.abs(l_off - l_fp32))),
        "largest_output_quant_step": step,
        "largest_output_quant_step_is": step_what,
        "test_accuracy_is": "ORT CPU, ORT_DISABLE_ALL (Q/DQ executed as written), all 360 test images",
        "test_accuracy_ort_default_optimizations": acc(l_def),
        "max_abs_logit_diff_ort_default_vs_disable_all": float(np.max(np.abs(l_def - l_off))),
        "max_abs_logit_diff_vs_fp32_onnx_is": "QDQ (ORT_DISABLE_ALL) vs digits_cnn.onnx (ORT), all 360 test images",
        "fp32_logits_beyond_127_steps": int(saturated.sum()),
        "max_abs_logit_diff_vs_fp32_onnx_unsaturated": float(np.max(np.abs(l_off - l_fp32)[~saturated])),
        "fp32_onnx_ort_test_accuracy": acc(l_fp32),
    }
    OUT_JSON.write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
