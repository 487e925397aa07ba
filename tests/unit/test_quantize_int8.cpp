// quantize-int8 with timing (PassContext::int8Timing): a convolution stays f16 where its INT8
// form is not faster, its neighbours change form accordingly, and --strict-precision keeps INT8
// whatever the timing. The timing here is a fake with fixed answers (the GPU's is in the
// autotuner); the IR forms are checked in tests/lit/passes/quantize-int8.ir. Then explicit Q/DQ
// pairs becoming ranges (compiler/ExplicitQuant.h).
#include "compiler/ExplicitQuant.h"
#include "ir/InfcAttrs.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"

#include <catch2/catch.hpp>

#include <map>

using namespace infc;

namespace {

// x -> a (relu) -> b (+ residual a, relu) -> y: a's readers are b (as input and as residual).
std::unique_ptr<Module> net() {
  std::string text = R"(graph @net(%x: tensor<1x4x4x8xf16>) -> ("y": tensor<1x4x4x8xf16>) {
  %wa = onnx.Constant() {value = dense<[)";
  std::string w;
  for (int i = 0; i < 64; ++i)
    w += (i ? ", " : "") + std::string(i % 3 == 0 ? "0.5" : i % 3 == 1 ? "-0.25" : "1.0");
  text += w + R"(]> : tensor<8x1x1x8xf16>} : () -> tensor<8x1x1x8xf16>
  %a = infc.conv(%x, %wa) {act = "relu", layout = "nhwc"} : (tensor<1x4x4x8xf16>, tensor<8x1x1x8xf16>) -> tensor<1x4x4x8xf16>
  %b = infc.conv(%a, %wa, none, %a) {act = "relu", layout = "nhwc"} : (tensor<1x4x4x8xf16>, tensor<8x1x1x8xf16>, none, tensor<1x4x4x8xf16>) -> tensor<1x4x4x8xf16>
  %y = infc.conv(%b, %wa) {layout = "nhwc"} : (tensor<1x4x4x8xf16>, tensor<8x1x1x8xf16>) -> tensor<1x4x4x8xf16>
  return %y
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "net.ir");
  REQUIRE(m.isOk());
  return std::move(*m);
}

const Operation &opNamed(const Module &m, const std::string &name) {
  for (const auto &op : m.mainGraph()->body().ops())
    if (op->numResults() && op->result()->name() == name)
      return *op;
  FAIL("no op named " << name);
  return *m.mainGraph()->body().ops().front();
}

bool isInt8Conv(const Operation &op) { return op.operand(0)->type().elem() == DType::I8; }

std::string precisionOf(const Operation &op) {
  const Attribute *a = op.attrs().find("precision");
  return a && std::holds_alternative<std::string>(*a) ? std::get<std::string>(*a) : "";
}

} // namespace

TEST_CASE("quantize-int8 keeps f16 where INT8 is not faster, and re-decides the neighbours", "[passes][int8]") {
  std::unique_ptr<Module> m = net();
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"a", 2.0}, {"b", 3.0}, {"y", 4.0}};
  struct Call { bool int8Out, int8Residual; };
  std::map<std::string, std::vector<Call>> calls;
  ctx.int8Timing = [&](const Operation &op, const Int8ConvForm &form) -> Expected<Int8ConvTiming> {
    calls[op.result()->name()].push_back({form.int8Out, form.int8Residual});
    if (op.result()->name() == "b")
      return Int8ConvTiming{1.0, 2.0, 0.1}; // INT8 twice as slow
    return Int8ConvTiming{1.0, 0.5, 0.1};
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());

  // b stays f16, saying why; a and y run in INT8; a writes f16 now (its reader b is f16). The
  // network: all INT8 is a 0.5 + b 2.0 + y 0.5 + x's quantize 0.1 = 3.1 ms; b in f16 is 0.5 + 1.0
  // + 0.5 + the quantize kernels of x and of b's result 0.2 = 2.2 ms.
  const Operation &a = opNamed(*m, "a"), &b = opNamed(*m, "b"), &y = opNamed(*m, "y");
  CHECK_FALSE(isInt8Conv(b));
  CHECK(precisionOf(b) == "f16: the network is faster with it in FP16 (2.2000 ms against 3.1000 ms with it in INT8, timed)");
  CHECK(isInt8Conv(a));
  CHECK(a.result()->type().elem() == DType::F16);
  CHECK(isInt8Conv(y));
  CHECK(y.operand(0)->definingOp()->is(OpKind::OnnxQuantizeLinear));
  // a was first timed writing int8 (both its readers were INT8), then again writing f16.
  REQUIRE(calls["a"].size() >= 2);
  CHECK(calls["a"].front().int8Out);
  CHECK_FALSE(calls["a"].back().int8Out);
  // b was timed with its residual in int8 (a's result, when a still wrote int8).
  REQUIRE_FALSE(calls["b"].empty());
  CHECK(calls["b"].front().int8Residual);
  CHECK(ctx.stats.counters().at("quantize-int8.convs-f16-faster") == 1);
}

TEST_CASE("quantize-int8 chooses for the whole network: a slow INT8 layer does not push its neighbours out",
          "[passes][int8]") {
  // a is 10x slower in INT8 (ResNet-50's stem); b and y are faster in INT8 only when they need no
  // quantize kernel between them. Deciding one conv at a time from all-INT8 in program order, a
  // leaves first, then b meets an f16 input (0.6 + 0.5 quantize against 1.0) and leaves, then y
  // (0.6 + 0.5 against 1.0): all f16, 12 ms. Chosen for the network: a f16, b and y INT8 (b
  // writes int8 for y): 10 + 0.6 + 0.6 + 0.5 = 11.7 ms.
  std::unique_ptr<Module> m = net();
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"a", 2.0}, {"b", 3.0}, {"y", 4.0}};
  ctx.int8Timing = [&](const Operation &op, const Int8ConvForm &) -> Expected<Int8ConvTiming> {
    if (op.result()->name() == "a")
      return Int8ConvTiming{10.0, 100.0, 0.5};
    return Int8ConvTiming{1.0, 0.6, 0.5};
  };
  std::vector<std::string> remarks;
  ctx.remarks = [&](const std::string &line) { remarks.push_back(line); };
  Expected<PassManager> pm = PassManager::parse("quantize-int8,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());
  const Operation &a = opNamed(*m, "a"), &b = opNamed(*m, "b"), &y = opNamed(*m, "y");
  CHECK_FALSE(isInt8Conv(a));
  CHECK(isInt8Conv(b));
  CHECK(isInt8Conv(y));
  CHECK(b.result()->type().elem() == DType::I8);
  // One QuantizeLinear, of a's f16 result, read by b (y reads b's int8 result).
  CHECK(b.operand(0)->definingOp()->is(OpKind::OnnxQuantizeLinear));
  CHECK(y.operand(0) == b.result());
  CHECK(precisionOf(a) == "f16: the network is faster with it in FP16 (11.7000 ms against 101.7000 ms with it in INT8, timed)");
  bool said = false;
  for (const std::string &r : remarks)
    said = said || r.find("2 of 3 convolutions in INT8, modeled 11.7000 ms (all INT8 101.7000 ms, all FP16 12.0000 ms") !=
                       std::string::npos;
  CHECK(said);
}

TEST_CASE("quantize-int8 with --strict-precision keeps INT8 whatever the timing", "[passes][int8]") {
  std::unique_ptr<Module> m = net();
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"a", 2.0}, {"b", 3.0}, {"y", 4.0}};
  ctx.strictPrecision = true;
  bool asked = false;
  ctx.int8Timing = [&](const Operation &, const Int8ConvForm &) -> Expected<Int8ConvTiming> {
    asked = true;
    return Int8ConvTiming{1.0, 9.0, 0.1};
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());
  CHECK_FALSE(asked);
  for (const char *n : {"a", "b", "y"})
    CHECK(isInt8Conv(opNamed(*m, n)));
  // a's readers are INT8 (b, as input and residual): a writes int8, and b's epilogue runs in a's
  // units with the factor after the activation.
  CHECK(opNamed(*m, "a").result()->type().elem() == DType::I8);
  Expected<ConvAttrs> ba = ConvAttrs::read(opNamed(*m, "b"));
  REQUIRE(ba.isOk());
  CHECK(ba->postMult == Approx((2.0 / 127) / (3.0 / 127)).epsilon(1e-6));
}

TEST_CASE("quantize-int8 without an answer from the timing keeps INT8", "[passes][int8]") {
  std::unique_ptr<Module> m = net();
  PassContext ctx;
  ctx.int8Ranges = {{"x", 1.0}, {"a", 2.0}, {"b", 3.0}, {"y", 4.0}};
  ctx.int8Timing = [&](const Operation &, const Int8ConvForm &) -> Expected<Int8ConvTiming> {
    return notFound("not in the timing cache");
  };
  Expected<PassManager> pm = PassManager::parse("quantize-int8,dce");
  REQUIRE(pm.isOk());
  REQUIRE(pm->run(*m, ctx).isOk());
  for (const char *n : {"a", "b", "y"})
    CHECK(isInt8Conv(opNamed(*m, n)));
  // Any other failure of the timing is an error of the build.
  std::unique_ptr<Module> m2 = net();
  ctx.int8Timing = [&](const Operation &, const Int8ConvForm &) -> Expected<Int8ConvTiming> {
    return internalError("the GPU fell over");
  };
  CHECK_FALSE(pm->run(*m2, ctx).isOk());
}

TEST_CASE("explicit Q/DQ pairs become ranges; readers and graph outputs read the float tensor", "[passes][int8]") {
  // x -> Q -> DQ (two of them, scales 0.5 and 0.25) -> a Relu each; one DQ is also a graph output.
  // A DequantizeLinear of a constant (int8 weights) stays for const-fold.
  const char *text = R"(graph @g(%x: tensor<4xf32>) -> ("r1": tensor<4xf32>, "r2": tensor<4xf32>, "d2": tensor<4xf32>, "wf": tensor<2xf32>) {
  %s1 = onnx.Constant() {value = dense<[0.5]> : tensor<f32>} : () -> tensor<f32>
  %s2 = onnx.Constant() {value = dense<[0.25]> : tensor<f32>} : () -> tensor<f32>
  %z = onnx.Constant() {value = dense<[0]> : tensor<i8>} : () -> tensor<i8>
  %q1 = onnx.QuantizeLinear(%x, %s1, %z) : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  %d1 = onnx.DequantizeLinear(%q1, %s1, %z) : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  %q2 = onnx.QuantizeLinear(%x, %s2, %z) : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  %d2 = onnx.DequantizeLinear(%q2, %s2, %z) : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  %r1 = onnx.Relu(%d1) : (tensor<4xf32>) -> tensor<4xf32>
  %r2 = onnx.Relu(%d2) : (tensor<4xf32>) -> tensor<4xf32>
  %w = onnx.Constant() {value = dense<[2, -3]> : tensor<2xi8>} : () -> tensor<2xi8>
  %wf = onnx.DequantizeLinear(%w, %s1, %z) : (tensor<2xi8>, tensor<f32>, tensor<i8>) -> tensor<2xf32>
  return %r1, %r2, %d2, %wf
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "g.ir");
  REQUIRE(m.isOk());
  Graph &g = *(*m)->mainGraph();
  REQUIRE(hasActivationQdq(g));
  Expected<std::map<std::string, double>> ranges = takeActivationQdq(g, "g.onnx");
  REQUIRE(ranges.isOk());
  // Two pairs on x: the larger range (127 * 0.5) keeps every value representable.
  REQUIRE(ranges->size() == 1);
  CHECK(ranges->at("x") == Approx(63.5));
  CHECK_FALSE(hasActivationQdq(g));
  Value *x = g.body().arguments()[0].get();
  CHECK(g.outputs()[2].value == x);
  CHECK(g.outputs()[0].value->definingOp()->operand(0) == x);
  size_t quantOps = 0, dequantOps = 0;
  for (const auto &op : g.body().ops()) {
    quantOps += op->is(OpKind::OnnxQuantizeLinear);
    dequantOps += op->is(OpKind::OnnxDequantizeLinear);
  }
  CHECK(quantOps == 0);
  CHECK(dequantOps == 1); // the weights' DequantizeLinear, for const-fold
}

TEST_CASE("explicit Q/DQ pairs with two different scales are refused, naming the node", "[passes][int8]") {
  const char *text = R"(graph @g(%x: tensor<4xf32>) -> ("y": tensor<4xf32>) {
  %s1 = onnx.Constant() {value = dense<[0.5]> : tensor<f32>} : () -> tensor<f32>
  %s2 = onnx.Constant() {value = dense<[0.25]> : tensor<f32>} : () -> tensor<f32>
  %z = onnx.Constant() {value = dense<[0]> : tensor<i8>} : () -> tensor<i8>
  %q = onnx.QuantizeLinear(%x, %s1, %z) : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  %y = onnx.DequantizeLinear(%q, %s2, %z) : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32> loc("dq1":DequantizeLinear:4)
  return %y
})";
  Expected<std::unique_ptr<Module>> m = parseModule(text, "g.ir");
  REQUIRE(m.isOk());
  Expected<std::map<std::string, double>> ranges = takeActivationQdq(*(*m)->mainGraph(), "g.onnx");
  REQUIRE_FALSE(ranges.isOk());
  CHECK(ranges.status().message().find("g.onnx: node 'dq1' (DequantizeLinear): a QuantizeLinear/DequantizeLinear pair with scales") !=
        std::string::npos);
}
