#!/usr/bin/env python3
"""Writes the models the dynamic-shape tests build with optimization profiles (weights from a
fixed seed, nothing downloaded):

  dyn_ocr.onnx   text-recognition style: image [batch, 1, 32, width] -> two conv/ReLU/max-pool
                 stages -> mean over the height -> [batch, width/4, 16] -> a per-column classifier
                 through Shape/Gather/Concat/Reshape (a shape subgraph on the dynamic dims, as
                 exporters write it) -> softmax: logits [batch, width/4, 12].

  batch_mix.onnx x [batch, 4] -> x - mean over the batch (ReduceMean over axis 0): an op that mixes
                 batch items, which a batch-loop engine refuses (a dim-fit engine takes it).

  dyn_cnn.onnx   image [batch, 3, height, width] -> a stride-2 convolution (pads 1), ReLU, a 3x3
                 convolution, a residual add, ReLU, global average pool, a linear classifier:
                 logits [batch, 10]; every spatial size follows height and width (a CNN with a
                 dynamic batch and image size).

  dyn_strided.onnx image [batch, 3, size, size] -> ResNet-50's five stride-2 stages in miniature
                 (7x7 convolution pads 3, 3x3 max pool pads 1, three 3x3 convolutions pads 1, each
                 stride 2, ReLUs), global average pool, a linear classifier: logits [batch, 10].
                 The last stage's size is floor((size + 31) / 32), which probes whose size % 32
                 is not 1..5 cannot tell from floor((size + 26) / 32).

  dyn_tri.onnx   x [batch, seq] -> x @ tril(ones(seq, seq)) (running sums), the triangle built from
                 the shape (ConstantOfShape, Trilu): at a fixed shape it folds into a constant that
                 is not the cut-short constant of a longer sequence, so no dim-fit engine takes it
                 (it stays on the reference executor).

    python3 tests/scripts/make_dynamic_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(graph, path, opset):
    """The model of `graph` at `opset`, checked, written to `path`."""
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="infc-tests", ir_version=8)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def pooled_classifier(x):
    """Global average pool of `x`, flattened, then the linear classifier fc_w, fc_b -> logits."""
    return [helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
            helper.make_node("Reshape", ["gap", "flat_shape"], ["flat"], name="flatten"),
            helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="classifier")]


def image_graph(nodes, name, image_dims, inits):
    """A graph from float `image` (dims `image_dims`) to logits [batch, 10]."""
    return helper.make_graph(nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, image_dims)],
                             [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], inits)


def convs_and_classifier(seed, c_in, c1, c2, classes):
    """He-initialized weights (fixed seed) of two 3x3 convolutions c_in -> c1 -> c2 and a linear
    classifier c2 -> classes: c1_w, c1_b, c2_w, c2_b, fc_w, fc_b."""
    r = np.random.default_rng(seed)
    w = lambda *s: (r.standard_normal(s) * (2.0 / np.prod(s[1:])) ** 0.5).astype(np.float32)
    return [numpy_helper.from_array(w(c1, c_in, 3, 3), "c1_w"), numpy_helper.from_array(w(c1) * 0.1, "c1_b"),
            numpy_helper.from_array(w(c2, c1, 3, 3), "c2_w"), numpy_helper.from_array(w(c2) * 0.1, "c2_b"),
            numpy_helper.from_array(w(c2, classes), "fc_w"), numpy_helper.from_array(w(classes) * 0.1, "fc_b")]


def ocr(path):
    inits = convs_and_classifier(7, 1, 8, 16, 12) + [
        numpy_helper.from_array(np.array([-1, 16], np.int64), "flat_shape"),
        numpy_helper.from_array(np.array([0], np.int64), "i0"),
        numpy_helper.from_array(np.array([1], np.int64), "i1"),
        numpy_helper.from_array(np.array([12], np.int64), "classes")]
    nodes = [
        helper.make_node("Conv", ["image", "c1_w", "c1_b"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", "c2_w", "c2_b"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="pool2"),
        helper.make_node("ReduceMean", ["p2"], ["m"], axes=[2], keepdims=0, name="mean_h"),
        helper.make_node("Transpose", ["m"], ["cols"], perm=[0, 2, 1], name="to_columns"),
        # The exporter's shape subgraph: [batch, columns] of the columns, kept for the final reshape.
        helper.make_node("Shape", ["cols"], ["cols_shape"], name="shape"),
        helper.make_node("Gather", ["cols_shape", "i0"], ["n"], axis=0, name="gather_batch"),
        helper.make_node("Gather", ["cols_shape", "i1"], ["t"], axis=0, name="gather_columns"),
        helper.make_node("Reshape", ["cols", "flat_shape"], ["flat"], name="flatten_columns"),
        helper.make_node("MatMul", ["flat", "fc_w"], ["mm"], name="classifier"),
        helper.make_node("Add", ["mm", "fc_b"], ["logits_flat"], name="bias"),
        helper.make_node("Concat", ["n", "t", "classes"], ["out_shape"], axis=0, name="out_shape"),
        helper.make_node("Reshape", ["logits_flat", "out_shape"], ["logits_raw"], name="unflatten"),
        helper.make_node("Softmax", ["logits_raw"], ["logits"], axis=-1, name="softmax"),
    ]
    g = helper.make_graph(nodes, "dyn_ocr",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 32, "width"])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "columns", 12])], inits)
    save(g, path, 13)


def batch_mix(path):
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=1, name="batch_mean"),
             helper.make_node("Sub", ["x", "m"], ["y"], name="centre")]
    g = helper.make_graph(nodes, "batch_mix", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
                          [numpy_helper.from_array(np.array([0], np.int64), "axes")])
    save(g, path, 18)


def cnn(path):
    inits = convs_and_classifier(11, 3, 16, 16, 10) + [numpy_helper.from_array(np.array([0, -1], np.int64), "flat_shape")]
    nodes = [
        helper.make_node("Conv", ["image", "c1_w", "c1_b"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "c2_w", "c2_b"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Add", ["c2", "r1"], ["res"], name="residual"),
        helper.make_node("Relu", ["res"], ["r2"], name="relu2")] + pooled_classifier("r2")
    save(image_graph(nodes, "dyn_cnn", ["batch", 3, "height", "width"], inits), path, 13)


def strided(path):
    r = np.random.default_rng(13)
    w = lambda *s: (r.standard_normal(s) * (2.0 / np.prod(s[1:])) ** 0.5).astype(np.float32)
    inits = [numpy_helper.from_array(w(8, 3, 7, 7), "stem_w"), numpy_helper.from_array(w(8) * 0.1, "stem_b"),
             numpy_helper.from_array(np.array([0, -1], np.int64), "flat_shape"),
             numpy_helper.from_array(w(8, 10), "fc_w"), numpy_helper.from_array(w(10) * 0.1, "fc_b")]
    nodes = [helper.make_node("Conv", ["image", "stem_w", "stem_b"], ["s"], pads=[3, 3, 3, 3], strides=[2, 2], name="stem"),
             helper.make_node("Relu", ["s"], ["s_r"], name="stem_relu"),
             helper.make_node("MaxPool", ["s_r"], ["p"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], name="pool")]
    x = "p"
    for i in range(3):
        inits += [numpy_helper.from_array(w(8, 8, 3, 3), f"c{i}_w"), numpy_helper.from_array(w(8) * 0.1, f"c{i}_b")]
        nodes += [helper.make_node("Conv", [x, f"c{i}_w", f"c{i}_b"], [f"c{i}"], pads=[1, 1, 1, 1], strides=[2, 2], name=f"stage{i}"),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}")]
        x = f"r{i}"
    nodes += pooled_classifier(x)
    save(image_graph(nodes, "dyn_strided", ["batch", 3, "size", "size"], inits), path, 13)


def tri(path):
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "one"], ["seq"], axis=0),
             helper.make_node("Concat", ["seq", "seq"], ["square"], axis=0),
             helper.make_node("ConstantOfShape", ["square"], ["ones"],
                              value=numpy_helper.from_array(np.array([1.0], np.float32))),
             helper.make_node("Trilu", ["ones"], ["lower"], upper=0, name="triangle"),
             helper.make_node("MatMul", ["x", "lower"], ["y"], name="running_sum")]
    g = helper.make_graph(nodes, "dyn_tri", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq"])],
                          [numpy_helper.from_array(np.array([1], np.int64), "one")])
    save(g, path, 18)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ocr(os.path.join(out, "dyn_ocr.onnx"))
    batch_mix(os.path.join(out, "batch_mix.onnx"))
    tri(os.path.join(out, "dyn_tri.onnx"))
    cnn(os.path.join(out, "dyn_cnn.onnx"))
    strided(os.path.join(out, "dyn_strided.onnx"))
