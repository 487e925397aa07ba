#!/usr/bin/env python3
"""Generate the small example models in examples/ (deterministic, no network, no torch).

    python3 examples/make_models.py            # writes examples/*.onnx
    python3 examples/make_models.py --data     # also writes examples/data/<model>/ with an
                                               # input and its expected output (onnx.reference)

Weights come from a seeded numpy Generator, so re-running produces byte-identical files.
Models use opset 17 and IR version 8 so that libonnx 1.12 (Debian 12) accepts them.
"""
import argparse
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
HERE = pathlib.Path(__file__).resolve().parent


def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def finish(graph, doc):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="infc-examples",
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def image_classifier(nodes, name, batch, inits, doc):
    """The model of `nodes`: input `input` f32 batch x 3 x 32 x 32, output `output` batch x 10."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 10])],
        initializer=inits,
    )
    return finish(graph, doc)


def he(rng, shape, fan_in):
    """He-initialized float32 weights of `shape` from `rng`."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def tiny_cnn(batch):
    """Conv-BN-Relu-MaxPool-Conv-Relu-GAP-Flatten-Gemm-Softmax; input Nx3x32x32 -> Nx10."""
    rng = np.random.default_rng(17)
    f32 = np.float32

    inits = [
        init("conv1.weight", he(rng, (16, 3, 3, 3), 3 * 9)),
        init("conv1.bias", (rng.standard_normal(16) * 0.1).astype(f32)),
        init("bn1.scale", (1.0 + 0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn1.bias", (0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn1.mean", (0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn1.var", rng.uniform(0.5, 1.5, 16).astype(f32)),
        init("conv2.weight", he(rng, (32, 16, 3, 3), 16 * 9)),
        init("conv2.bias", (rng.standard_normal(32) * 0.1).astype(f32)),
        init("fc.weight", he(rng, (10, 32), 32)),
        init("fc.bias", (rng.standard_normal(10) * 0.1).astype(f32)),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="conv2",
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], name="softmax", axis=-1),
    ]
    return image_classifier(nodes, "tiny_cnn", batch, inits,
                            "Tiny CNN classifier (random weights), input NCHW 3x32x32, 10 classes.")


def tiny_stem(batch):
    """An image network's stem as ResNet's: Conv 7x7 stride 2 (3 -> 32) + Relu + MaxPool 3x3
    stride 2, then Conv 3x3 (32 -> 32) + Relu, GAP, Gemm; input Nx3x32x32 -> Nx10. With --int8
    the first three run as one INT8 kernel (quantize-int8-stem)."""
    rng = np.random.default_rng(23)
    f32 = np.float32
    inits = [
        init("stem.weight", he(rng, (32, 3, 7, 7), 3 * 49)),
        init("stem.bias", (rng.standard_normal(32) * 0.1).astype(f32)),
        init("conv2.weight", he(rng, (32, 32, 3, 3), 32 * 9)),
        init("conv2.bias", (rng.standard_normal(32) * 0.1).astype(f32)),
        init("fc.weight", he(rng, (10, 32), 32)),
        init("fc.bias", (rng.standard_normal(10) * 0.1).astype(f32)),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "stem.weight", "stem.bias"], ["stem"], name="stem",
                         kernel_shape=[7, 7], pads=[3, 3, 3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["stem"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="fc", transB=1),
    ]
    return image_classifier(nodes, "tiny_stem", batch, inits,
                            "Tiny stem: 7x7/2 conv, relu, 3x3/2 max pool, conv, GAP, FC (random weights), input NCHW 3x32x32.")


def tiny_mobile(batch):
    """A MobileNetV2-style block: Conv(s2)-BN-ReLU6, expand 1x1-ReLU6, depthwise 3x3-ReLU6,
    project 1x1, residual Add, MaxPool, GAP, Gemm; input Nx3x32x32 -> Nx10."""
    rng = np.random.default_rng(23)
    f32 = np.float32

    inits = [
        init("stem.weight", he(rng, (16, 3, 3, 3), 27)),
        init("bn.scale", (1.0 + 0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn.bias", (0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn.mean", (0.1 * rng.standard_normal(16)).astype(f32)),
        init("bn.var", rng.uniform(0.5, 1.5, 16).astype(f32)),
        init("expand.weight", he(rng, (48, 16, 1, 1), 16)),
        init("expand.bias", (0.1 * rng.standard_normal(48)).astype(f32)),
        init("dw.weight", he(rng, (48, 1, 3, 3), 9)),
        init("dw.bias", (0.1 * rng.standard_normal(48)).astype(f32)),
        init("project.weight", he(rng, (16, 48, 1, 1), 48)),
        init("project.bias", (0.1 * rng.standard_normal(16)).astype(f32)),
        init("fc.weight", he(rng, (10, 16), 16)),
        init("fc.bias", (0.1 * rng.standard_normal(10)).astype(f32)),
        init("zero", np.array(0.0, dtype=f32)),
        init("six", np.array(6.0, dtype=f32)),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "stem.weight"], ["stem"], name="stem",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["stem", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
                         ["bn"], name="bn", epsilon=1e-5),
        helper.make_node("Clip", ["bn", "zero", "six"], ["act0"], name="relu6.0"),
        helper.make_node("Conv", ["act0", "expand.weight", "expand.bias"], ["expand"], name="expand",
                         kernel_shape=[1, 1]),
        helper.make_node("Clip", ["expand", "zero", "six"], ["act1"], name="relu6.1"),
        helper.make_node("Conv", ["act1", "dw.weight", "dw.bias"], ["dw"], name="depthwise",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=48),
        helper.make_node("Clip", ["dw", "zero", "six"], ["act2"], name="relu6.2"),
        helper.make_node("Conv", ["act2", "project.weight", "project.bias"], ["project"], name="project",
                         kernel_shape=[1, 1]),
        helper.make_node("Add", ["project", "act0"], ["residual"], name="residual"),
        helper.make_node("MaxPool", ["residual"], ["pool"], name="pool",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["pool"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="fc", transB=1),
    ]
    return image_classifier(nodes, "tiny_mobile", batch, inits,
                            "Tiny MobileNetV2-style block (random weights): depthwise conv, ReLU6, residual; 3x32x32 -> 10.")


def tiny_mlp():
    """MatMul-Add-GELU(erf) -> MatMul-Add -> LayerNormalization; input 1x64 -> 1x64."""
    rng = np.random.default_rng(64)
    f32 = np.float32
    inits = [
        init("fc1.weight", (rng.standard_normal((64, 128)) / 8.0).astype(f32)),
        init("fc1.bias", (0.1 * rng.standard_normal(128)).astype(f32)),
        init("fc2.weight", (rng.standard_normal((128, 64)) / np.sqrt(128)).astype(f32)),
        init("fc2.bias", (0.1 * rng.standard_normal(64)).astype(f32)),
        init("ln.scale", (1.0 + 0.1 * rng.standard_normal(64)).astype(f32)),
        init("ln.bias", (0.1 * rng.standard_normal(64)).astype(f32)),
        init("gelu.inv_sqrt2", np.array(1.0 / np.sqrt(2.0), dtype=f32)),
        init("gelu.one", np.array(1.0, dtype=f32)),
        init("gelu.half", np.array(0.5, dtype=f32)),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "fc1.weight"], ["fc1.mm"], name="fc1.matmul"),
        helper.make_node("Add", ["fc1.mm", "fc1.bias"], ["fc1"], name="fc1.add"),
        # GELU(x) = 0.5 * x * (1 + erf(x / sqrt(2)))  -- the pattern exporters emit before opset 20
        helper.make_node("Mul", ["fc1", "gelu.inv_sqrt2"], ["gelu.scaled"], name="gelu.mul0"),
        helper.make_node("Erf", ["gelu.scaled"], ["gelu.erf"], name="gelu.erf"),
        helper.make_node("Add", ["gelu.erf", "gelu.one"], ["gelu.erf1"], name="gelu.add"),
        helper.make_node("Mul", ["fc1", "gelu.erf1"], ["gelu.prod"], name="gelu.mul1"),
        helper.make_node("Mul", ["gelu.prod", "gelu.half"], ["gelu"], name="gelu.mul2"),
        helper.make_node("MatMul", ["gelu", "fc2.weight"], ["fc2.mm"], name="fc2.matmul"),
        helper.make_node("Add", ["fc2.mm", "fc2.bias"], ["fc2"], name="fc2.add"),
        helper.make_node("LayerNormalization", ["fc2", "ln.scale", "ln.bias"], ["output"],
                         name="ln", axis=-1, epsilon=1e-5),
    ]
    graph = helper.make_graph(
        nodes, "tiny_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 64])],
        initializer=inits,
    )
    return finish(graph, "Tiny MLP block (random weights): Linear-GELU(erf)-Linear-LayerNorm, 1x64.")


def write_data(model, path, batch):
    """Writes <out>/data/<model>/ in the ONNX backend-test layout (model.onnx plus
    test_data_set_0/input_0.pb and output_0.pb, expected output from onnx.reference), so that
    `infc-conformance examples/data` runs the examples on the reference interpreter."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(1234)
    inp = model.graph.input[0]
    shape = [d.dim_value if d.HasField("dim_value") else batch for d in inp.type.tensor_type.shape.dim]
    x = rng.standard_normal(shape).astype(np.float32)
    (y,) = ReferenceEvaluator(model).run(None, {inp.name: x})
    folder = path.parent / "data" / path.stem
    (folder / "test_data_set_0").mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(model.SerializeToString(deterministic=True))
    x_pb = numpy_helper.from_array(x, inp.name)
    y_pb = numpy_helper.from_array(np.asarray(y), model.graph.output[0].name)
    (folder / "test_data_set_0" / "input_0.pb").write_bytes(x_pb.SerializeToString())
    (folder / "test_data_set_0" / "output_0.pb").write_bytes(y_pb.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=HERE, help="output folder (default: examples/)")
    ap.add_argument("--data", action="store_true", help="also write examples/data/<model>/ (backend-test layout with expected outputs)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    models = {
        "tiny_cnn.onnx": (tiny_cnn("batch"), 2),
        "tiny_cnn_static.onnx": (tiny_cnn(1), 1),
        "tiny_mlp.onnx": (tiny_mlp(), 1),
        "tiny_mobile.onnx": (tiny_mobile("batch"), 2),
        "tiny_stem.onnx": (tiny_stem("batch"), 2),
    }
    for name, (model, batch) in models.items():
        path = args.out / name
        data = model.SerializeToString(deterministic=True)
        assert len(data) < 1 << 20, f"{name} is {len(data)} bytes (limit 1 MiB)"
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes)")
        if args.data:
            write_data(model, path, batch)


if __name__ == "__main__":
    main()
