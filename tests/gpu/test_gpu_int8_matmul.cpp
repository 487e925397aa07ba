// INT8 matmuls on the GPU against the reference interpreter: quantize-int8-matmul's form (cuBLASLt
// IMMA, int32 accumulation, int8 results through a float32 alpha and bias), the dequantization
// fused with the residual, the activation and the next quantization, to within one int8 step of
// each result.
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace infc;
using gputest::requireOp;

TEST_CASE("INT8 matmuls (bias, gelu and the next quantization fused after them, residual, relu) match the reference",
          "[gpu][int8]") {
  // x [2, 37, 64] -> gelu(x w1 + b1) [.., 128] -> (.. w2 + b2) + x [.., 64] -> relu(.. w3 + b3) [.., 64].
  std::unique_ptr<Module> m = gputest::quantMatmulNet();
  Tensor in = gputest::randomF32({2, 37, 64}, 7);
  Expected<std::vector<Tensor>> f32 = interpret(*m->mainGraph(), {in});
  REQUIRE(f32.isOk());
  // Ranges as a minmax calibration on this input gives them: each input and each matmul plus bias.
  OptimizeOptions oo;
  oo.int8 = true;
  {
    InterpreterOptions io;
    io.observer = [&](const Operation &op, const std::vector<Tensor> &results) {
      for (const char *name : {"gelu1", "res", "add1", "add2", "add3"})
        if (op.result()->name() == name)
          oo.int8Ranges[name] = gputest::maxAbs(results[0]);
    };
    REQUIRE(interpret(*m->mainGraph(), {in}, io).isOk());
  }
  oo.int8Ranges["x"] = gputest::maxAbs(in);
  REQUIRE(oo.int8Ranges.size() == 6);
  REQUIRE(optimizeModule(*m, oo).isOk());
  size_t int8 = 0, int8Chain = 0;
  for (const auto &op : m->mainGraph()->body().ops()) {
    int8 += op->is(OpKind::InfcMatmul) && op->operand(0)->type().elem() == DType::I8;
    int8Chain += op->is(OpKind::InfcFused) && op->operand(0)->type().elem() == DType::I8 &&
                 op->result()->type().elem() == DType::I8;
  }
  CHECK(int8 == 3);
  // int8 in, int8 out: mm1's dequantization, GELU and mm2's quantization; mm2's dequantization,
  // the residual add and mm3's quantization.
  CHECK(int8Chain == 2);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {in});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {in}, true);
  REQUIRE(got.isOk());
  // Same int8 operands both ways and exact int32 sums; alpha * acc + bias in float32 on the GPU
  // against double in the reference can round an int8 result one step apart, which later layers
  // carry on (a step of y is max |add3| / 127).
  double ymax = gputest::maxAbs((*want)[0]);
  INFO("largest |y| " << ymax << ", largest |y| of the FP32 graph " << gputest::maxAbs((*f32)[0]));
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.03 * ymax) <= 1.0);
  // And the INT8 result is a fair approximation of the FP32 graph (a control against a degenerate test).
  CHECK(gputest::toleranceRatio((*got)[0], (*f32)[0], 0.0, 0.15 * ymax) <= 1.0);
}

TEST_CASE("Vectorized quantize, dequantize and fused int8 chains match the reference bit for bit", "[gpu][int8]") {
  // 8 elements per thread (emitVector8): QuantizeLinear to int8 and to e4m3 by a scalar scale,
  // DequantizeLinear of int8, and a fused chain int8 -> dequantize, add, GELU, quantize -> int8.
  // Values cover rounding ties (x.5 steps), saturation and both signs; 4096 elements (a multiple of 8).
  const int64_t n = 4096;
  Tensor x(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i)
    x.mutableData<float>()[i] = static_cast<float>((i % 601) - 300) * 0.25f + (i % 3 == 0 ? 0.125f : 0.0f);
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *in = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {n}));
  auto scalar = [&](float v, DType t, const std::string &name) {
    AttrMap a;
    Tensor s(t, {});
    s.setDouble(0, v);
    a.set("value", s);
    return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t, {})}, a, {}, nullptr, {name})->result();
  };
  Value *half = requireOp(g, OpKind::OnnxCast, {in}, [] { AttrMap a; a.set("to", int64_t(10)); return a; }(), "h");
  AttrMap toI8, toF8;
  toI8.set("output_dtype", static_cast<int64_t>(DType::I8));
  toF8.set("output_dtype", static_cast<int64_t>(DType::F8E4M3));
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {half, scalar(0.5f, DType::F32, "s")}, toI8, "q");
  Value *q8 = requireOp(g, OpKind::OnnxQuantizeLinear, {half, scalar(0.25f, DType::F32, "s8")}, toF8, "q8");
  Value *d = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(0.5f, DType::F16, "sh")}, {}, "d");
  Value *r = requireOp(g, OpKind::OnnxAdd, {d, half}, {}, "r");
  Value *ge = requireOp(g, OpKind::OnnxGelu, {r}, {}, "ge");
  Value *q2 = requireOp(g, OpKind::OnnxQuantizeLinear, {ge, scalar(1.0f, DType::F32, "s2")}, toI8, "q2");
  g.addOutput("q", q);
  g.addOutput("q8", q8);
  g.addOutput("q2", q2);
  REQUIRE(runPassPipeline(*m, "shape-infer,fuse-elementwise,dce").isOk());
  size_t fused = 0;
  for (const auto &op : m->mainGraph()->body().ops())
    fused += op->is(OpKind::InfcFused) && op->operand(0)->type().elem() == DType::I8;
  CHECK(fused == 1);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x});
  REQUIRE(got.isOk());
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 1e-30) == 0.0);
  CHECK(gputest::toleranceRatio((*got)[1], (*want)[1], 0.0, 1e-30) == 0.0);
  // The fused chain computes in float registers where the reference rounds each member to f16:
  // one int8 step apart at most, where a value sits near a rounding boundary.
  CHECK(gputest::toleranceRatio((*got)[2], (*want)[2], 0.0, 1.0) <= 1.0);
}

TEST_CASE("A LayerNorm reading an int8 result and the residual, writing int8 and e4m3, matches the reference",
          "[gpu][int8]") {
  // fuse-norm-quant's infc.norm: x = dq(q) + r rounded as the unfused ops store them, statistics
  // over rows of 768, y in f16 and y quantized to int8 (one norm) or e4m3 (the other).
  // x in steps of 1/64 quantized by 0.25: the same int8 values both ways (the quantize kernel
  // divides in float, the reference in double, which can round a tie apart).
  const int64_t rows = 96, len = 768;
  Tensor x(DType::F32, {rows, len}), res = gputest::randomF32({rows, len}, 12);
  for (int64_t i = 0; i < rows * len; ++i)
    x.mutableData<float>()[i] = static_cast<float>((i * 37) % 509 - 254) / 64.0f;
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *in = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {rows, len}));
  Value *rin = g.body().addArgument("r", TensorType::fromStatic(DType::F32, {rows, len}));
  auto constant = [&](Tensor t, const std::string &name) {
    AttrMap a;
    TensorType type = TensorType::fromStatic(t.dtype(), t.shape());
    a.set("value", std::move(t));
    return g.body().create(OpKind::OnnxConstant, {}, {type}, a, {}, nullptr, {name})->result();
  };
  auto scalar = [&](float v, DType t, const std::string &name) {
    Tensor s(t, {});
    s.setDouble(0, v);
    return constant(std::move(s), name);
  };
  Tensor gamma(DType::F16, {len}), beta(DType::F16, {len});
  for (int64_t j = 0; j < len; ++j) {
    gamma.setDouble(j, 0.5 + static_cast<double>(j % 7) * 0.2);
    beta.setDouble(j, static_cast<double>(j % 5) * 0.1 - 0.2);
  }
  Value *gv = constant(gamma, "gamma"), *bv = constant(beta, "beta");
  AttrMap toF16, toI8, toF8, layer;
  toF16.set("to", int64_t(10));
  toI8.set("output_dtype", static_cast<int64_t>(DType::I8));
  toF8.set("output_dtype", static_cast<int64_t>(DType::F8E4M3));
  layer.set("kind", std::string("layer"));
  layer.set("axis", int64_t(-1));
  layer.set("epsilon", 1e-5f);
  Value *h = requireOp(g, OpKind::OnnxCast, {in}, toF16, "h"), *rh = requireOp(g, OpKind::OnnxCast, {rin}, toF16, "rh");
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {h, scalar(0.25f, DType::F32, "s")}, toI8, "q");
  Value *d = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(0.25f, DType::F16, "sh")}, {}, "d");
  Value *sum = requireOp(g, OpKind::OnnxAdd, {d, rh}, {}, "sum");
  Value *y = requireOp(g, OpKind::InfcNorm, {sum, gv, bv}, layer, "y");
  Value *yq = requireOp(g, OpKind::OnnxQuantizeLinear, {y, scalar(0.04f, DType::F32, "ys")}, toI8, "yq");
  Value *d2 = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(0.25f, DType::F16, "sh2")}, {}, "d2");
  Value *y2 = requireOp(g, OpKind::InfcNorm, {d2, gv, bv}, layer, "y2");
  Value *y2q = requireOp(g, OpKind::OnnxQuantizeLinear, {y2, scalar(0.01f, DType::F32, "ys2")}, toF8, "y2q");
  g.addOutput("y", y);
  g.addOutput("yq", yq);
  g.addOutput("y2q", y2q);
  REQUIRE(runPassPipeline(*m, "shape-infer,fuse-norm-quant,dce").isOk());
  size_t fusedNorms = 0;
  for (const auto &op : m->mainGraph()->body().ops())
    fusedNorms += op->is(OpKind::InfcNorm) && op->operand(0)->type().elem() == DType::I8 && op->numResults() == 2;
  CHECK(fusedNorms == 2);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x, res});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x, res});
  REQUIRE(got.isOk());
  // Float statistics against double: y within a few f16 steps of its size; the quantized outputs
  // one step apart at most where y sits near a rounding boundary (e4m3: one step of its 3-bit mantissa).
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 2e-3, 2e-3) <= 1.0);
  CHECK(gputest::toleranceRatio((*got)[1], (*want)[1], 0.0, 1.0) <= 1.0);
  CHECK(gputest::toleranceRatio((*got)[2], (*want)[2], 0.125, 1e-3) <= 1.0);
}
