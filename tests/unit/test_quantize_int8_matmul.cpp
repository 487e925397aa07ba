// quantize-int8-matmul with timing (PassContext::matmulTiming) and its accuracy rule: a matmul
// stays f16 where its INT8 form, with its quantize and dequantize traffic, is not faster, or where
// its input or result is heavy-tailed; --strict-precision and --layer-precision NAME:int8 keep
// INT8 whatever the timing. The timing is a fake with fixed answers (the GPU's comes from the
// autotuner or the timing cache).
#include "ir/Parser.h"
#include "passes/PassManager.h"

#include <catch2/catch.hpp>

#include <map>

using namespace infc;

namespace {

// x [2, 4, 16] read by h and b; h (GELU) read by c; b has a residual.
std::unique_ptr<Module> net() {
  std::string w;
  for (int i = 0; i < 256; ++i)
    w += (i ? ", " : "") + std::string(i % 3 == 0 ? "0.5" : i % 3 == 1 ? "-0.25" : "1.0");
  std::string text = R"(graph @net(%x: tensor<2x4x16xf16>, %r: tensor<2x4x16xf16>) -> ("b": tensor<2x4x16xf16>, "c": tensor<2x4x16xf16>) {
  %w = onnx.Constant() {value = dense<[)" + w + R"(]> : tensor<16x16xf16>} : () -> tensor<16x16xf16>
  %h = infc.matmul(%x, %w) {acc_amax = 3.0, act = "gelu"} : (tensor<2x4x16xf16>, tensor<16x16xf16>) -> tensor<2x4x16xf16>
  %b = infc.matmul(%x, %w, none, %r) {acc_amax = 3.0} : (tensor<2x4x16xf16>, tensor<16x16xf16>, none, tensor<2x4x16xf16>) -> tensor<2x4x16xf16> loc("mm_b":MatMul:1)
  %c = infc.matmul(%h, %w) : (tensor<2x4x16xf16>, tensor<16x16xf16>) -> tensor<2x4x16xf16>
  return %b, %c
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "net.ir");
  REQUIRE(m.isOk());
  return std::move(*m);
}

const Operation *definer(const Module &m, const std::string &name) {
  for (const auto &op : m.mainGraph()->body().ops())
    if (op->numResults() && op->result()->name() == name)
      return op.get();
  return nullptr;
}

bool isInt8(const Operation *op) { return op && op->is(OpKind::InfcMatmul) && op->operand(0)->type().elem() == DType::I8; }

std::string precisionOf(const Operation *op) {
  const Attribute *a = op ? op->attrs().find("precision") : nullptr;
  return a && std::holds_alternative<std::string>(*a) ? std::get<std::string>(*a) : "";
}

PassContext context() {
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"h", 2.0}, {"c", 4.0}};
  return ctx;
}

} // namespace

TEST_CASE("quantize-int8-matmul keeps f16 where INT8 is not faster, counting its quantize and dequantize traffic",
          "[passes][int8]") {
  std::unique_ptr<Module> m = net();
  PassContext ctx = context();
  std::map<std::string, double> bytes;
  ctx.matmulTiming = [&](const Operation &op, DType t, double extra) -> Expected<std::pair<double, double>> {
    CHECK(t == DType::I8);
    bytes[op.result()->name()] = extra;
    if (op.result()->name() == "b")
      return std::make_pair(1.0, 2.0); // INT8 twice as slow
    return std::make_pair(1.0, 0.5);
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());
  // x (128 elements: 2 bytes read, 1 written each) is quantized for two readers. h's GELU is a
  // kernel anyway (it reads int8 instead of f16); b's result is dequantized and added to r (1 + 2
  // bytes read, 2 written); c's result is dequantized (1 read, 2 written); c's input is h's GELU,
  // whose kernel (h being INT8) writes int8 for c instead of f16: no quantization of its own.
  CHECK(bytes.at("h") == 3.0 * 128 / 2);
  CHECK(bytes.at("b") == 3.0 * 128 / 2 + 5.0 * 128);
  CHECK(bytes.at("c") == 3.0 * 128);
  CHECK(isInt8(definer(*m, "h.i8")));
  CHECK(isInt8(definer(*m, "c.i8")));
  CHECK_FALSE(isInt8(definer(*m, "b")));
  CHECK(precisionOf(definer(*m, "b")) == "f16: faster than INT8 here (1.0000 ms against 2.0000 ms, timed)");
  CHECK(ctx.stats.counters().at("quantize-int8-matmul.matmuls-f16-faster") == 1);
  CHECK(ctx.stats.counters().at("quantize-int8-matmul.matmuls-int8") == 2);
}

TEST_CASE("quantize-int8-matmul with --strict-precision or NAME:int8 keeps INT8 whatever the timing", "[passes][int8]") {
  for (bool strict : {true, false}) {
    INFO("strict " << strict);
    std::unique_ptr<Module> m = net();
    PassContext ctx = context();
    ctx.strictPrecision = strict;
    if (!strict)
      ctx.layerPrecision["mm_b"] = DType::I8; // --layer-precision mm_b:int8
    size_t asked = 0;
    ctx.matmulTiming = [&](const Operation &, DType, double) -> Expected<std::pair<double, double>> {
      ++asked;
      return std::make_pair(1.0, 9.0);
    };
    Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,dce");
    REQUIRE(pm.isOk());
    REQUIRE(pm->run(*m, ctx).isOk());
    CHECK(asked == (strict ? 0u : 2u));
    CHECK(isInt8(definer(*m, "b.i8")));
    CHECK(isInt8(definer(*m, "c.i8")) == strict);
  }
}

TEST_CASE("quantize-int8-matmul's accuracy rule: heavy-tailed inputs and results stay 16-bit", "[passes][int8]") {
  std::unique_ptr<Module> m = net();
  PassContext ctx = context();
  ctx.int8Spread["x"] = TensorSpread{1.0, 0.02};  // 50 times its rms: h and b stay f16
  ctx.int8Spread["h"] = TensorSpread{2.0, 0.5};   // 4 times
  ctx.int8Spread["c"] = TensorSpread{4.0, 0.125}; // exactly 32 times: the bound holds
  Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());
  CHECK_FALSE(isInt8(definer(*m, "b")));
  CHECK(precisionOf(definer(*m, "b")) ==
        "f16: its input %x is heavy-tailed for INT8 (largest |x| 1 is 50 times its rms 0.02; the bound is 32)");
  CHECK(isInt8(definer(*m, "c.i8")));
  // A heavy-tailed result (what the int8 result would hold) keeps c out too.
  m = net();
  ctx = context();
  ctx.int8Spread["c"] = TensorSpread{4.0, 0.1};
  REQUIRE(pm->run(*m, ctx).isOk());
  CHECK(precisionOf(definer(*m, "c")) ==
        "f16: its result is heavy-tailed for INT8 (largest |x| 4 is 40 times its rms 0.1; the bound is 32)");
  CHECK(isInt8(definer(*m, "b.i8")));
}

TEST_CASE("quantize-int8-matmul's clipping rule: with --calib-method, an input the threshold cuts off more than rounding loses stays 16-bit",
          "[passes][int8]") {
  // x's threshold is 1 (context()); rounding at that threshold has rms 1 / 127 / sqrt(12) = 0.00227.
  for (bool atMax : {false, true}) {
    std::unique_ptr<Module> m = net();
    PassContext ctx = context();
    ctx.int8MatmulInputsAtMax = atMax;
    ctx.int8Spread["x"] = TensorSpread{2.0, 0.5, 0.01}; // clipped rms 0.01: h and b stay f16
    ctx.int8Spread["h"] = TensorSpread{2.0, 0.5, 0.001}; // 0.001: below rounding, c stays INT8
    Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,dce");
    REQUIRE(pm.isOk());
    REQUIRE(pm->run(*m, ctx).isOk());
    INFO("inputs at max |x|: " << atMax);
    CHECK(isInt8(definer(*m, "c.i8")));
    // Without --calib-method the inputs are quantized over their largest |x|: nothing is cut off.
    CHECK(isInt8(definer(*m, "b.i8")) == atMax);
    if (!atMax)
      CHECK(precisionOf(definer(*m, "b")) ==
            "f16: its calibrated range cuts off more of its input %x than rounding loses (clipped rms 0.01 against rounding "
            "rms 0.00227 at amax 1 of its largest |x| 2)");
  }
}

TEST_CASE("quantize-int8-matmul counts what fuse-norm-quant saves: a LayerNorm writes the int8 input and reads the int8 result",
          "[passes][int8]") {
  std::string w, g;
  for (int i = 0; i < 256; ++i)
    w += (i ? ", " : "") + std::string(i % 3 == 0 ? "0.5" : i % 3 == 1 ? "-0.25" : "1.0");
  for (int i = 0; i < 16; ++i)
    g += (i ? ", " : "") + std::string("1.0");
  std::string text = R"(graph @net(%x: tensor<2x4x16xf16>) -> ("y": tensor<2x4x16xf16>) {
  %w = onnx.Constant() {value = dense<[)" + w + R"(]> : tensor<16x16xf16>} : () -> tensor<16x16xf16>
  %g = onnx.Constant() {value = dense<[)" + g + R"(]> : tensor<16xf16>} : () -> tensor<16xf16>
  %n = infc.norm(%x, %g) {axis = -1, kind = "layer"} : (tensor<2x4x16xf16>, tensor<16xf16>) -> tensor<2x4x16xf16>
  %b = infc.matmul(%n, %w, none, %x) {acc_amax = 3.0} : (tensor<2x4x16xf16>, tensor<16x16xf16>, none, tensor<2x4x16xf16>) -> tensor<2x4x16xf16>
  %y = infc.norm(%b, %g) {axis = -1, kind = "layer"} : (tensor<2x4x16xf16>, tensor<16xf16>) -> tensor<2x4x16xf16>
  return %y
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "norm.ir");
  REQUIRE(m.isOk());
  PassContext ctx;
  ctx.int8Ranges = {{"n", 1.0}};
  double extra = -1;
  ctx.matmulTiming = [&](const Operation &, DType, double e) -> Expected<std::pair<double, double>> {
    extra = e;
    return std::make_pair(1.0, 0.5);
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,fuse-norm-quant,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(**m, ctx).isOk());
  // The input: 1 byte written per element by the first norm; the result: the second norm reads
  // int8 (1 byte) and the residual (2) where the FP16 GEMM read its C (2): 1 byte more.
  CHECK(extra == 1.0 * 128 + 1.0 * 128);
  size_t fusedIn = 0, fusedOut = 0;
  for (const auto &op : (*m)->mainGraph()->body().ops()) {
    fusedIn += op->is(OpKind::InfcNorm) && op->operand(0)->type().elem() == DType::I8 && op->hasOperand(3);
    fusedOut += op->is(OpKind::InfcNorm) && op->numResults() == 2;
    CHECK_FALSE(op->is(OpKind::OnnxQuantizeLinear));
    CHECK_FALSE(op->is(OpKind::OnnxDequantizeLinear));
  }
  CHECK(fusedIn == 1);
  CHECK(fusedOut == 1);
}

TEST_CASE("quantize-int8-matmul counts what fuse-attention-quant saves: the attention reads the QKV result and writes the "
          "output projection's input in int8",
          "[passes][int8]") {
  // x [2, 4, 32] -> QKV projection [.., 96] -> packed [2, 4, 3, 2, 16] -> attention -> [2, 4, 32]
  // -> output projection. Both matmuls INT8, the attention quantized on both sides.
  auto dense = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += (i ? ", " : "") + std::string(i % 3 == 0 ? "0.5" : i % 3 == 1 ? "-0.25" : "0.125");
    return s;
  };
  std::string text = R"(graph @net(%x: tensor<2x4x32xf16>) -> ("y": tensor<2x4x32xf16>) {
  %wqkv = onnx.Constant() {value = dense<[)" + dense(32 * 96) + R"(]> : tensor<32x96xf16>} : () -> tensor<32x96xf16>
  %wo = onnx.Constant() {value = dense<[)" + dense(32 * 32) + R"(]> : tensor<32x32xf16>} : () -> tensor<32x32xf16>
  %s5 = onnx.Constant() {value = dense<[2, 4, 3, 2, 16]> : tensor<5xi64>} : () -> tensor<5xi64>
  %s3 = onnx.Constant() {value = dense<[2, 4, 32]> : tensor<3xi64>} : () -> tensor<3xi64>
  %qkv = infc.matmul(%x, %wqkv) {acc_amax = 4.0} : (tensor<2x4x32xf16>, tensor<32x96xf16>) -> tensor<2x4x96xf16>
  %p = onnx.Reshape(%qkv, %s5) : (tensor<2x4x96xf16>, tensor<5xi64>) -> tensor<2x4x3x2x16xf16>
  %a = infc.attention(%p, none, none, none) {layout = "bs3hd", scale = 0.25} : (tensor<2x4x3x2x16xf16>, none, none, none) -> tensor<2x4x2x16xf16>
  %af = onnx.Reshape(%a, %s3) : (tensor<2x4x2x16xf16>, tensor<3xi64>) -> tensor<2x4x32xf16>
  %y = infc.matmul(%af, %wo) {acc_amax = 2.0} : (tensor<2x4x32xf16>, tensor<32x32xf16>) -> tensor<2x4x32xf16>
  return %y
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "attention.ir");
  REQUIRE(m.isOk());
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"af", 1.0}};
  std::map<std::string, double> extra;
  ctx.matmulTiming = [&](const Operation &op, DType, double e) -> Expected<std::pair<double, double>> {
    extra[op.result()->name()] = e;
    return std::make_pair(1.0, 0.5);
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8-matmul,fuse-attention-quant,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(**m, ctx).isOk());
  // QKV: its graph-input input quantized (f16 read, int8 written: 3 bytes per element), its result
  // read by the attention as it is (nothing); the output projection: its input written by the
  // attention (nothing), its result dequantized (int8 read, f16 written: 3 bytes).
  CHECK(extra.at("qkv") == 3.0 * 256);
  CHECK(extra.at("y") == 3.0 * 256);
  size_t quantizedAttention = 0, quantizeOps = 0, dequantizeOps = 0;
  for (const auto &op : (*m)->mainGraph()->body().ops()) {
    quantizedAttention += op->is(OpKind::InfcAttention) && op->operand(0)->type().elem() == DType::I8 &&
                          op->result()->type().elem() == DType::I8;
    quantizeOps += op->is(OpKind::OnnxQuantizeLinear);
    dequantizeOps += op->is(OpKind::OnnxDequantizeLinear);
  }
  CHECK(quantizedAttention == 1);
  CHECK(quantizeOps == 1);   // x's, for the QKV projection
  CHECK(dequantizeOps == 1); // the output projection's result
}
