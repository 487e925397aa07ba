// Quantized neighbours fused into generated kernels, on the GPU against the reference interpreter:
// an attention reading int8 or e4m3 q, k, v and writing int8 or e4m3 (fuse-attention-quant), and
// fused chains of one 8-bit input and scalars, which run as a 256-entry table (the quantized GELU
// between BERT's INT8 FFN matmuls).
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/InfcAttrs.h"
#include "ir/Interpreter.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <span>

using namespace infc;
using gputest::requireOp;

namespace {

/// A scalar or small constant in `g`.
Value *constant(Graph &g, Tensor t, const std::string &name) {
  AttrMap a;
  TensorType type = TensorType::fromStatic(t.dtype(), t.shape());
  a.set("value", std::move(t));
  return g.body().create(OpKind::OnnxConstant, {}, {type}, a, {}, nullptr, {name})->result();
}

Value *scalar(Graph &g, float v, DType t, const std::string &name) {
  Tensor s(t, {});
  s.setDouble(0, v);
  return constant(g, std::move(s), name);
}

AttrMap quantTo(DType t) {
  AttrMap a;
  a.set("output_dtype", static_cast<int64_t>(t));
  return a;
}

/// attention(reshape(dq(quantize(x)))) -> reshape -> quantize: what the INT8 and FP8 builds make
/// of BERT's self-attention, before fuse-attention-quant. x is [B, S, 3 * H * D] f16.
Value *quantizedAttention(Graph &g, Value *x, Value *mask, int64_t B, int64_t S, int64_t H, int64_t D, DType qt,
                          float xs, float ys, const std::string &name) {
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {x, scalar(g, xs, DType::F32, name + ".xs")}, quantTo(qt), name + ".q");
  Value *d = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(g, xs, DType::F16, name + ".xsh")}, {}, name + ".d");
  Tensor packed(DType::I64, {5});
  for (int64_t i = 0; i < 5; ++i)
    packed.setInt(i, std::vector<int64_t>{B, S, 3, H, D}[static_cast<size_t>(i)]);
  Value *qkv = requireOp(g, OpKind::OnnxReshape, {d, constant(g, packed, name + ".shape5")}, {}, name + ".qkv");
  AttentionAttrs aa;
  aa.layout = AttentionAttrs::QkvLayout::BS3HD;
  aa.scale = 1.0f / std::sqrt(static_cast<float>(D));
  aa.nanToZero = true;
  AttrMap attrs;
  aa.write(attrs);
  std::vector<Value *> ops = {qkv, nullptr, nullptr, mask};
  Value *y = requireOp(g, OpKind::InfcAttention, ops, attrs, name + ".y");
  Tensor flat(DType::I64, {3});
  flat.setInt(0, B), flat.setInt(1, S), flat.setInt(2, H * D);
  Value *yf = requireOp(g, OpKind::OnnxReshape, {y, constant(g, flat, name + ".shape3")}, {}, name + ".yf");
  return requireOp(g, OpKind::OnnxQuantizeLinear, {yf, scalar(g, ys, DType::F32, name + ".ys")}, quantTo(qt), name + ".yq");
}

} // namespace

TEST_CASE("An attention reading and writing int8 or e4m3 matches the reference", "[gpu][int8]") {
  // Head size 64 (the tensor-core kernel) with an additive mask and 80 queries (a partial tile),
  // int8; head size 24 (the warp kernel), e4m3.
  const int64_t B = 2, S = 80, H = 3;
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  AttrMap toF16;
  toF16.set("to", int64_t(10));
  Value *x1 = g.body().addArgument("x1", TensorType::fromStatic(DType::F32, {B, S, 3 * H * 64}));
  Value *x2 = g.body().addArgument("x2", TensorType::fromStatic(DType::F32, {B, S, 3 * H * 24}));
  Value *mk = g.body().addArgument("mask", TensorType::fromStatic(DType::F32, {B, 1, 1, S}));
  Value *h1 = requireOp(g, OpKind::OnnxCast, {x1}, toF16, "h1"), *h2 = requireOp(g, OpKind::OnnxCast, {x2}, toF16, "h2");
  Value *mh = requireOp(g, OpKind::OnnxCast, {mk}, toF16, "mh");
  g.addOutput("y1", quantizedAttention(g, h1, mh, B, S, H, 64, DType::I8, 0.02f, 0.01f, "a1"));
  g.addOutput("y2", quantizedAttention(g, h2, nullptr, B, S, H, 24, DType::F8E4M3, 0.01f, 0.005f, "a2"));
  REQUIRE(runPassPipeline(*m, "shape-infer,fuse-attention-quant,dce").isOk());
  size_t fused = 0, dq = 0;
  for (const auto &op : m->mainGraph()->body().ops()) {
    fused += op->is(OpKind::InfcAttention) && dtypeSize(op->operand(0)->type().elem()) == 1 &&
             dtypeSize(op->result()->type().elem()) == 1;
    dq += op->is(OpKind::OnnxDequantizeLinear);
  }
  CHECK(fused == 2);
  CHECK(dq == 0);
  Tensor mask(DType::F32, {B, 1, 1, S});
  for (int64_t i = 0; i < B * S; ++i)
    mask.mutableData<float>()[i] = (i % S) >= S - 7 * (i / S + 1) ? -10000.0f : 0.0f;
  std::vector<Tensor> in = {gputest::randomF32({B, S, 3 * H * 64}, 31), gputest::randomF32({B, S, 3 * H * 24}, 32), mask};
  for (float &v : std::span<float>(in[0].mutableData<float>(), static_cast<size_t>(in[0].numElements())))
    v *= 2.5f;
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), in);
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, in);
  REQUIRE(got.isOk());
  // Float accumulation and f16 probabilities against double: one step of the output's
  // quantization apart at most (e4m3: one step of its 3-bit mantissa). A control: the outputs
  // use a fair part of their range (not all zero).
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 1.0) <= 1.0);
  CHECK(gputest::toleranceRatio((*got)[1], (*want)[1], 0.125, 0.005) <= 1.0);
  CHECK(gputest::maxAbs((*want)[0]) >= 20.0);
  CHECK(gputest::maxAbs((*want)[1]) >= 20.0);
}

TEST_CASE("Fused chains of one 8-bit input and scalars (a 256-entry table) match the reference bit for bit",
          "[gpu][int8]") {
  // int8 -> dequantize, GELU, quantize -> int8 (BERT's FFN between INT8 matmuls), and e4m3 ->
  // dequantize, sigmoid -> f16; 4099 elements (a tail after the 16-byte steps), every byte value.
  const int64_t n = 4099;
  Tensor x(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i)
    x.mutableData<float>()[i] = static_cast<float>((i * 7) % 263 - 131) * 0.05f;
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *in = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {n}));
  AttrMap toF16;
  toF16.set("to", int64_t(10));
  Value *h = requireOp(g, OpKind::OnnxCast, {in}, toF16, "h");
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {h, scalar(g, 0.05f, DType::F32, "s")}, quantTo(DType::I8), "q");
  Value *d = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(g, 0.05f, DType::F16, "sh")}, {}, "d");
  Value *ge = requireOp(g, OpKind::OnnxGelu, {d}, {}, "ge");
  Value *q2 = requireOp(g, OpKind::OnnxQuantizeLinear, {ge, scalar(g, 0.03f, DType::F32, "s2")}, quantTo(DType::I8), "q2");
  Value *f8 = requireOp(g, OpKind::OnnxQuantizeLinear, {h, scalar(g, 0.02f, DType::F32, "s8")}, quantTo(DType::F8E4M3), "f8");
  Value *d8 = requireOp(g, OpKind::OnnxDequantizeLinear, {f8, scalar(g, 0.02f, DType::F16, "s8h")}, {}, "d8");
  Value *sg = requireOp(g, OpKind::OnnxSigmoid, {d8}, {}, "sg");
  g.addOutput("q2", q2);
  g.addOutput("sg", sg);
  g.addOutput("q", q); // read twice: the chains start at the 8-bit values
  g.addOutput("f8", f8);
  REQUIRE(runPassPipeline(*m, "shape-infer,fuse-elementwise,dce").isOk());
  size_t tables = 0;
  for (const auto &op : m->mainGraph()->body().ops())
    tables += op->is(OpKind::InfcFused) && dtypeSize(op->operand(0)->type().elem()) == 1;
  CHECK(tables == 2);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x});
  REQUIRE(got.isOk());
  // The chain computes in float registers where the reference rounds each member to f16: one
  // int8 step (or one f16 step) apart at most, where a value sits near a rounding boundary.
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 1.0) <= 1.0);
  CHECK(gputest::toleranceRatio((*got)[1], (*want)[1], 1e-3, 1e-3) <= 1.0);
  CHECK(gputest::maxAbs((*want)[0]) >= 100.0);
}
