// Core IR data structures: dtypes, tensors, types, use lists, names.
#include "ir/IR.h"
#include "ir/Interpreter.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace infc;

TEST_CASE("half and bfloat16 conversions round to nearest even", "[core]") {
  CHECK(halfToFloat(floatToHalf(1.0f)) == 1.0f);
  CHECK(halfToFloat(floatToHalf(65504.0f)) == 65504.0f);
  CHECK(std::isinf(halfToFloat(floatToHalf(65520.0f))));
  CHECK(halfToFloat(floatToHalf(5.960464477539063e-08f)) == 5.960464477539063e-08f); // smallest subnormal
  CHECK(halfToFloat(floatToHalf(1.0f + 1.0f / 2048)) == 1.0f);                      // tie -> even
  CHECK(halfToFloat(floatToHalf(1.0f + 3.0f / 2048)) == 1.0f + 2.0f / 1024);        // tie -> even (up)
  CHECK(std::isnan(halfToFloat(floatToHalf(NAN))));
  CHECK(bf16ToFloat(floatToBf16(1.0f)) == 1.0f);
  CHECK(bf16ToFloat(floatToBf16(3.0f)) == 3.0f);
  CHECK(f8e4m3ToFloat(floatToF8e4m3(448.0f)) == 448.0f);
  CHECK(f8e4m3ToFloat(floatToF8e4m3(1000.0f)) == 448.0f); // saturates
  CHECK(f8e4m3ToFloat(floatToF8e4m3(-0.5f)) == -0.5f);
  CHECK(f8e5m2ToFloat(floatToF8e5m2(57344.0f)) == 57344.0f);
}

TEST_CASE("float8 encoding is the nearest code, ties to even, saturating", "[core]") {
  // Against a scan of every code (what the encoder's binary search must agree with).
  auto scan = [](float f, float (*decode)(uint8_t), unsigned maxCode) {
    float a = std::fabs(f), bestErr = INFINITY;
    unsigned best = maxCode; // beyond the largest finite value: saturate
    for (unsigned c = 0; c <= maxCode; ++c) {
      float err = std::fabs(decode(static_cast<uint8_t>(c)) - a);
      if (err < bestErr || (err == bestErr && (c & 1u) == 0 && (best & 1u) != 0)) {
        bestErr = err;
        best = c;
      }
    }
    return static_cast<uint8_t>((std::signbit(f) ? 0x80 : 0) | best);
  };
  std::vector<float> values = {0.0f, -0.0f, 1e-9f, 0.0009765625f, 0.001953125f, 0.0029296875f, 448.0f, 464.0f, 480.0f,
                               1e6f, -1e6f, 57344.0f, 61440.0f, INFINITY};
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    float m = 1.0f + static_cast<float>(state >> 8) / 16777216.0f;
    values.push_back((state & 1u ? -1.0f : 1.0f) * std::ldexp(m, static_cast<int>(state >> 27) - 18));
  }
  size_t mismatches = 0;
  float first = 0;
  for (float v : values) {
    bool ok = floatToF8e4m3(v) == scan(v, f8e4m3ToFloat, 0x7e) && (std::isinf(v) || floatToF8e5m2(v) == scan(v, f8e5m2ToFloat, 0x7b));
    if (!ok && mismatches++ == 0)
      first = v;
  }
  INFO("first mismatch at " << first);
  CHECK(mismatches == 0);
}

TEST_CASE("checked element counts reject negative and overflowing shapes", "[core]") {
  std::vector<int64_t> ok{2, 3, 4};
  CHECK(*checkedNumElements(ok, "t") == 24);
  std::vector<int64_t> neg{2, -1};
  CHECK_FALSE(checkedNumElements(neg, "t").isOk());
  std::vector<int64_t> huge{int64_t(1) << 40, int64_t(1) << 40};
  Expected<int64_t> r = checkedNumElements(huge, "weight 'w'");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().find("weight 'w'") != std::string::npos);
  CHECK_FALSE(Tensor::create(DType::F32, {int64_t(1) << 62}, "t").isOk());
}

TEST_CASE("tensor storage is shared and copied on write", "[core]") {
  Tensor a = Tensor::fromF32({1, 2, 3}, {3});
  Tensor b = a;
  b.setDouble(0, 9);
  CHECK(a.getDouble(0) == 1);
  CHECK(b.getDouble(0) == 9);
  Tensor c = a.castTo(DType::I32);
  CHECK(c.dtype() == DType::I32);
  CHECK(c.getInt(2) == 3);
  CHECK(Tensor::fromF32({-1.7f}, {1}).castTo(DType::I64).getInt(0) == -1); // truncation
}

TEST_CASE("tensor types print with static, unknown and symbolic dims", "[core]") {
  TensorType t(DType::F32, {Dim::named("batch"), Dim(3), Dim::unknown()});
  CHECK(t.str() == "tensor<\"batch\"x3x?xf32>");
  CHECK(TensorType(DType::I64, {}).str() == "tensor<i64>");
  CHECK(TensorType::unranked(DType::F16).str() == "tensor<*xf16>");
  CHECK_FALSE(t.isStatic());
  CHECK(TensorType::fromStatic(DType::F32, {2, 3}).numElements() == 6);
}

TEST_CASE("use lists follow operands, RAUW and erase", "[core]") {
  Module m;
  Graph &g = m.addGraph("main");
  TensorType t = TensorType::fromStatic(DType::F32, {2});
  Value *x = g.body().addArgument("x", t);
  Operation *neg = g.body().create(OpKind::OnnxNeg, {x}, {t}, {}, {}, nullptr, {"n"});
  Operation *add = g.body().create(OpKind::OnnxAdd, {neg->result(), neg->result()}, {t}, {}, {}, nullptr, {"a"});
  g.addOutput("y", add->result());
  CHECK(neg->result()->users().size() == 2);
  CHECK(add->result()->isGraphOutput());

  neg->result()->replaceAllUsesWith(x);
  CHECK(neg->result()->users().empty());
  CHECK(x->users().size() == 3);
  neg->erase();
  CHECK(g.numOps() == 1);
  // The erased value's name is free again.
  CHECK(g.uniqueName("n") == "n");
  CHECK(g.uniqueName("a") != "a");

  Operation *relu = g.body().create(OpKind::OnnxRelu, {add->result()}, {t});
  add->result()->replaceAllUsesWith(relu->result());
  CHECK(g.outputs()[0].value == relu->result());
  CHECK(g.outputs()[0].name == "y");
}

TEST_CASE("op table facts come from ops.def", "[core]") {
  CHECK(opInfo(OpKind::OnnxConv).fullName == "onnx.Conv");
  CHECK(opInfo(OpKind::OnnxConv).minOperands == 2);
  CHECK(opInfo(OpKind::OnnxConcat).maxOperands == -1);
  CHECK(hasTrait(OpKind::OnnxAdd, kCommutative));
  CHECK_FALSE(hasTrait(OpKind::OnnxSub, kCommutative));
  CHECK(onnxOpKind("Relu") == OpKind::OnnxRelu);
  CHECK_FALSE(onnxOpKind("Loop").has_value());
}

TEST_CASE("interpreter checks inputs and results against types", "[core]") {
  Module m;
  Graph &g = m.addGraph("main");
  TensorType t = TensorType::fromStatic(DType::F32, {3});
  Value *x = g.body().addArgument("x", t);
  Operation *relu = g.body().create(OpKind::OnnxRelu, {x}, {t});
  g.addOutput("y", relu->result());
  Expected<std::vector<Tensor>> bad = interpret(g, {Tensor::fromF32({1, 2}, {2})});
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message().find("input 'x'") != std::string::npos);
  Expected<std::vector<Tensor>> good = interpret(g, {Tensor::fromF32({-1, 0, 2}, {3})});
  REQUIRE(good.isOk());
  CHECK((*good)[0].getDouble(0) == 0.0);
  CHECK((*good)[0].getDouble(2) == 2.0);
}
