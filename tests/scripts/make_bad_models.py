#!/usr/bin/env python3
"""Writes malformed and unsupported ONNX models for the importer's error tests.

    make_bad_models.py OUT_DIR

Every file is built with onnx.helper (no network). Checked-in binaries would hide what is wrong
with each model; this script says it in code.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=17, ir=8):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def save(out, name, m):
    with open(os.path.join(out, name), "wb") as f:
        f.write(m.SerializeToString() if hasattr(m, "SerializeToString") else m)


def relu_model(**kw):
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu1")], [vi("x", [2, 3])], [vi("y", [2, 3])], **kw)


def external_model(location, offset=0, length=None, dims=(4,)):
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", str(offset))] + ([("length", str(length))] if length is not None else []):
        e = t.external_data.add()
        e.key, e.value = k, v
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [vi("x", [4])], [vi("y", [4])], inits=[t])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    good = relu_model().SerializeToString()
    save(out, "empty.onnx", b"")
    save(out, "garbage.onnx", b"this is not a protobuf \xff\xfe\x00\x01 at all" * 3)
    save(out, "truncated.onnx", good[: len(good) // 2])
    save(out, "new_opset.onnx", relu_model(opset=99))
    save(out, "new_ir.onnx", relu_model(ir=99))
    save(out, "unsupported_op.onnx",
         model([helper.make_node("FooBar", ["x"], ["y"], name="foo1")], [vi("x", [2])], [vi("y", [2])]))
    custom = model([helper.make_node("Baz", ["x"], ["y"], name="baz1", domain="com.example")], [vi("x", [2])], [vi("y", [2])])
    custom.opset_import.append(helper.make_opsetid("com.example", 1))
    save(out, "custom_domain.onnx", custom)
    save(out, "missing_input.onnx",
         model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add1")], [vi("x", [2])], [vi("y", [2])]))
    save(out, "cycle.onnx",
         model([helper.make_node("Add", ["x", "b"], ["a"], name="n1"), helper.make_node("Relu", ["a"], ["b"], name="n2")],
               [vi("x", [2])], [vi("a", [2])]))
    save(out, "duplicate.onnx",
         model([helper.make_node("Relu", ["x"], ["y"], name="n1"), helper.make_node("Neg", ["x"], ["y"], name="n2")],
               [vi("x", [2])], [vi("y", [2])]))
    save(out, "negative_dim.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, -3])], [vi("y", [2])]))
    save(out, "absurd_dims.onnx",
         model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1 << 40, 1 << 40])], [vi("y", [2])]))
    huge = TensorProto()
    huge.name, huge.data_type = "w", TensorProto.FLOAT
    huge.dims.extend([1 << 40, 1 << 40])
    huge.raw_data = b"\0" * 16
    save(out, "absurd_initializer.onnx",
         model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [vi("x", [4])], [vi("y", [4])], inits=[huge]))
    short = numpy_helper.from_array(np.ones(4, np.float32), "w")
    short.raw_data = short.raw_data[:10]
    save(out, "raw_data_short.onnx",
         model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [vi("x", [4])], [vi("y", [4])], inits=[short]))
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(np.arange(4, dtype=np.float32).tobytes())
    os.makedirs(os.path.join(out, "sub"), exist_ok=True)
    save(out, "external_ok.onnx", external_model("weights.bin"))
    save(out, "external_dotdot.onnx", external_model("../weights.bin"))
    save(out, "external_absolute.onnx", external_model("/etc/passwd"))
    link = os.path.join(out, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("weights.bin", link)
    save(out, "external_symlink.onnx", external_model("link.bin"))
    save(out, "external_past_end.onnx", external_model("weights.bin", offset=8, length=16))
    save(out, "external_negative_length.onnx", external_model("weights.bin", length=-16))
    save(out, "external_huge_offset.onnx", external_model("weights.bin", offset="99999999999999999999"))
    save(out, "external_folder.onnx", external_model("sub/"))
    # A hard link inside the folder to a file elsewhere; a FIFO as external data.
    with open(os.path.join(out, "elsewhere.bin"), "wb") as f:
        f.write(np.arange(4, dtype=np.float32).tobytes())
    hard = os.path.join(out, "sub", "hard.bin")
    if os.path.lexists(hard):
        os.remove(hard)
    os.link(os.path.join(out, "elsewhere.bin"), hard)
    save(os.path.join(out, "sub"), "external_hardlink.onnx", external_model("hard.bin"))
    fifo = os.path.join(out, "data.fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    save(out, "external_fifo.onnx", external_model("data.fifo"))
    # Invalid models the spec rules out.
    save(out, "opset_zero.onnx", relu_model(opset=0))
    twice = relu_model()
    twice.opset_import.append(helper.make_opsetid("", 13))
    save(out, "opset_twice.onnx", twice)
    save(out, "no_outputs.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2])], []))
    save(out, "relu_bool.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2], TensorProto.BOOL)],
                                      [vi("y", [2], TensorProto.BOOL)]))
    save(out, "sqrt_int.onnx", model([helper.make_node("Sqrt", ["x"], ["y"], name="s")], [vi("x", [2], TensorProto.INT64)],
                                     [vi("y", [2], TensorProto.INT64)]))
    # Crashes found by hand: INT64_MIN / -1 in constant folding, ArgMax over an empty axis,
    # GatherND with rank-0 indices, ConvTranspose output_shape shorter than its spatial rank.
    imin = numpy_helper.from_array(np.array([np.iinfo(np.int64).min], np.int64), "a")
    minus1 = numpy_helper.from_array(np.array([-1], np.int64), "b")
    save(out, "intmin_div.onnx", model([helper.make_node("Div", ["a", "b"], ["y"], name="div1"),
                                        helper.make_node("Mod", ["a", "b"], ["z"], name="mod1")],
                                       [], [vi("y", [1], TensorProto.INT64), vi("z", [1], TensorProto.INT64)], inits=[imin, minus1]))
    save(out, "argmax_empty.onnx", model([helper.make_node("ArgMax", ["x"], ["y"], name="am", axis=1)], [vi("x", [2, 0])],
                                         [vi("y", None, TensorProto.INT64)]))
    save(out, "gathernd_rank0.onnx", model([helper.make_node("GatherND", ["x", "i"], ["y"], name="gnd")], [vi("x", [3, 4])],
                                           [vi("y", None)], inits=[numpy_helper.from_array(np.array(1, np.int64), "i")]))
    # Window attributes that would wrap int64 in the output-size arithmetic.
    save(out, "conv_huge_dilation.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", dilations=[1 << 62, 1])],
                                               [vi("x", [1, 3, 8, 8])], [vi("y", None)],
                                               inits=[numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")]))
    save(out, "pool_huge_pads.onnx", model([helper.make_node("MaxPool", ["x"], ["y"], name="pool1", kernel_shape=[2, 2],
                                                             pads=[(1 << 62), 0, (1 << 62), 0])],
                                           [vi("x", [1, 3, 8, 8])], [vi("y", None)]))
    # Range lengths that overflow int64 or come from non-finite bounds.
    rng = lambda name, dt, vals: model([helper.make_node("Range", ["s", "l", "d"], ["y"], name="range1")], [],
                                       [vi("y", None, dt)],
                                       inits=[numpy_helper.from_array(np.array(v, dtype=np.int64 if dt == TensorProto.INT64 else np.float32), n)
                                              for n, v in zip(["s", "l", "d"], vals)])
    save(out, "range_huge.onnx", rng("range_huge", TensorProto.INT64, [np.iinfo(np.int64).min, np.iinfo(np.int64).max, 1]))
    save(out, "range_nan.onnx", rng("range_nan", TensorProto.FLOAT, [0.0, np.nan, 1.0]))
    save(out, "convt_short.onnx", model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", output_shape=[5])],
                                        [vi("x", [1, 3, 4, 4])], [vi("y", None)],
                                        inits=[numpy_helper.from_array(np.ones((3, 2, 3, 3), np.float32), "w")]))
    huge_empty = TensorProto()
    huge_empty.name, huge_empty.data_type = "w", TensorProto.FLOAT
    huge_empty.dims.extend([1 << 31])
    huge_empty.raw_data = b""
    save(out, "huge_empty_raw.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [vi("x", [1])], [vi("y", None)],
                                           inits=[huge_empty]))
    huge_empty.ClearField("raw_data")
    save(out, "huge_no_values.onnx", model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [vi("x", [1])], [vi("y", None)],
                                           inits=[huge_empty]))
    # Three ops without a GPU kernel (and one with): `infc build` names all three, then counts.
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    save(out, "no_gpu_kernels.onnx",
         model([helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk1"),
                helper.make_node("Relu", ["v"], ["r"], name="relu1"),
                helper.make_node("TopK", ["r", "k"], ["v2", "i2"], name="topk2"),
                helper.make_node("Einsum", ["v2", "v2"], ["e"], name="einsum1", equation="ij,ij->i")],
               [vi("x", [3, 4])], [vi("e", [3]), vi("i", [3, 2], TensorProto.INT64), vi("i2", [3, 2], TensorProto.INT64)], inits=[k]))
    # A Sum of 600 operands: one kernel would need more parameters than CUDA allows.
    save(out, "sum600.onnx", model([helper.make_node("Sum", ["x"] * 600, ["y"], name="big_sum")], [vi("x", [2, 3])], [vi("y", [2, 3])]))
    # Resize by a scale of 0: an empty output (its kernel used to be invalid CUDA).
    save(out, "resize_zero.onnx",
         model([helper.make_node("Resize", ["x", "", "scales"], ["y"], name="zero_resize")], [vi("x", [1, 1, 4, 4])], [vi("y", None)],
               inits=[numpy_helper.from_array(np.array([1, 1, 0, 0], np.float32), "scales")]))
    # A QAT-style Q/DQ pair in front of a MatMul: its scale is x's INT8 scale; the MatMul stays
    # FP16 (no INT8 matmuls yet), which the build says. With a zero point of 3 (asymmetric): refused.
    qdq_inits = [numpy_helper.from_array(np.array(0.05, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "z"),
                 numpy_helper.from_array(np.ones((4, 2), np.float32), "w")]
    save(out, "qdq.onnx",
         model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q1"),
                helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"], name="dq1"),
                helper.make_node("MatMul", ["dq", "w"], ["y"], name="mm1")],
               [vi("x", [3, 4])], [vi("y", [3, 2])], inits=qdq_inits))
    save(out, "qdq_axis.onnx",
         model([helper.make_node("QuantizeLinear", ["x", "s4", "z4"], ["q"], name="q1", axis=1),
                helper.make_node("DequantizeLinear", ["q", "s4", "z4"], ["dq"], name="dq1", axis=1),
                helper.make_node("MatMul", ["dq", "w"], ["y"], name="mm1")],
               [vi("x", [3, 4])], [vi("y", [3, 2])],
               inits=qdq_inits + [numpy_helper.from_array(np.full(4, 0.05, np.float32), "s4"),
                                  numpy_helper.from_array(np.zeros(4, np.int8), "z4")]))
    save(out, "qdq_u8.onnx",
         model([helper.make_node("QuantizeLinear", ["x", "s", "zu"], ["q"], name="q1"),
                helper.make_node("DequantizeLinear", ["q", "s", "zu"], ["dq"], name="dq1"),
                helper.make_node("MatMul", ["dq", "w"], ["y"], name="mm1")],
               [vi("x", [3, 4])], [vi("y", [3, 2])], inits=qdq_inits + [numpy_helper.from_array(np.array(0, np.uint8), "zu")]))
    save(out, "qdq_asym.onnx",
         model([helper.make_node("QuantizeLinear", ["x", "s", "z3"], ["q"], name="q1"),
                helper.make_node("DequantizeLinear", ["q", "s", "z3"], ["dq"], name="dq1"),
                helper.make_node("MatMul", ["dq", "w"], ["y"], name="mm1")],
               [vi("x", [3, 4])], [vi("y", [3, 2])], inits=qdq_inits + [numpy_helper.from_array(np.array(3, np.int8), "z3")]))
    # Shape arithmetic that would wrap int64 (UB before checked arithmetic): errors naming the node.
    big = 2 ** 62
    save(out, "tile_overflow.onnx",
         model([helper.make_node("Tile", ["x", "r"], ["y"], name="tile1")], [vi("x", [4])], [vi("y", None)],
               inits=[numpy_helper.from_array(np.array([big], np.int64), "r")]))
    save(out, "pad_overflow.onnx",
         model([helper.make_node("Pad", ["x", "p"], ["y"], name="pad1")], [vi("x", [4])], [vi("y", None)],
               inits=[numpy_helper.from_array(np.array([2 ** 63 - 1, 5], np.int64), "p")]))
    save(out, "d2s_overflow.onnx",
         model([helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s1", blocksize=2 ** 32)], [vi("x", [1, 4, 2, 2])],
               [vi("y", None)]))
    # Slice steps of INT64_MIN / INT64_MAX are valid: one element each (x[4] and x[0]).
    i64 = lambda v: np.array(v, np.int64)
    save(out, "slice_extreme.onnx",
         model([helper.make_node("Slice", ["x", "s1", "e1", "a", "st1"], ["y1"], name="slice_min"),
                helper.make_node("Slice", ["x", "s2", "e2", "a", "st2"], ["y2"], name="slice_max"),
                helper.make_node("Concat", ["y1", "y2"], ["y"], name="cat", axis=0)],
               [vi("x", [5])], [vi("y", [2])],
               inits=[numpy_helper.from_array(i64([-1]), "s1"), numpy_helper.from_array(i64([-2 ** 63]), "e1"),
                      numpy_helper.from_array(i64([0]), "a"), numpy_helper.from_array(i64([-2 ** 63]), "st1"),
                      numpy_helper.from_array(i64([0]), "s2"), numpy_helper.from_array(i64([2 ** 63 - 1]), "e2"),
                      numpy_helper.from_array(i64([2 ** 63 - 1]), "st2")]))
    save(out, "conv_rank.onnx",
         model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")], [vi("x", [1, 3, 8, 8])], [vi("y", None)],
               inits=[numpy_helper.from_array(np.ones((4, 3, 3), np.float32), "w")]))


if __name__ == "__main__":
    main()
