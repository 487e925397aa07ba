// The host reference that candidate tactics are checked against before they may win a timing
// (codegen/TacticCheck.h): its convolutions (NCHW and channels-last, strided, padded, dilated,
// transposed, with epilogues) and matmuls (transposed, batched, alpha/beta, C, bias, relu) equal
// the reference interpreter's on the very values the autotuner puts in the GPU buffers; and a
// wrong sample is caught.
#include "codegen/TacticCheck.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

using namespace infc;
using namespace infc::codegen;

namespace {

std::string dims(const std::vector<int64_t> &d) {
  std::string s;
  for (int64_t v : d)
    s += std::to_string(v) + "x";
  return s + "f32";
}

/// The logical (row-major over `d`) index of `flat`, and its memory position in NCHW or
/// channels-last order.
uint64_t memoryOf(const std::vector<int64_t> &d, bool nhwc, uint64_t flat) {
  std::vector<int64_t> idx(d.size());
  for (size_t i = d.size(); i-- > 0;) {
    idx[i] = static_cast<int64_t>(flat % static_cast<uint64_t>(d[i]));
    flat /= static_cast<uint64_t>(d[i]);
  }
  std::vector<int64_t> order = idx, md = d;
  if (nhwc) {
    order = {idx[0]};
    md = {d[0]};
    for (size_t i = 2; i < d.size(); ++i) {
      order.push_back(idx[i]);
      md.push_back(d[i]);
    }
    order.push_back(idx[1]);
    md.push_back(d[1]);
  }
  uint64_t mem = 0;
  for (size_t i = 0; i < md.size(); ++i)
    mem = mem * static_cast<uint64_t>(md[i]) + static_cast<uint64_t>(order[i]);
  return mem;
}

/// A logical NCHW float32 tensor whose element at logical index i holds the value the autotuner's
/// buffer (filled by repeating randomBlock in memory order, NCHW or channels-last) has there.
Tensor logicalTensor(const std::vector<int64_t> &d, bool nhwc, uint32_t seed) {
  std::vector<uint8_t> block = randomBlock(elementCount(d), DType::F32, seed);
  std::vector<float> v(elementCount(d));
  for (uint64_t flat = 0; flat < v.size(); ++flat)
    v[flat] = static_cast<float>(repeatedElement(block, DType::F32, memoryOf(d, nhwc, flat)));
  return Tensor::fromF32(v, d);
}

/// Runs one op (IR text with %x, %w) on the interpreter.
Tensor interpretOne(const std::string &text, const std::vector<Tensor> &inputs) {
  Expected<std::unique_ptr<Module>> m = parseModule(text, "check.ir");
  REQUIRE(m.isOk());
  Expected<std::vector<Tensor>> out = interpret(*(*m)->mainGraph(), inputs);
  REQUIRE(out.isOk());
  return (*out)[0];
}

/// Every output of `spec` (f32, y in memory order) against `want` (logical NCHW), after `post`.
void expectConvMatches(const rt::ConvSpec &spec, const Tensor &want, const std::function<double(uint64_t, double)> &post) {
  ConvReference reference(spec, ConvCheckData{});
  REQUIRE(reference.unsupported().empty());
  uint64_t n = elementCount(spec.yDims);
  REQUIRE(static_cast<uint64_t>(want.numElements()) == n);
  for (uint64_t logical = 0; logical < n; ++logical) {
    uint64_t mem = memoryOf(spec.yDims, spec.nhwc, logical);
    double got = reference.at(mem);
    double expected = post(mem, want.getDouble(static_cast<int64_t>(logical)));
    REQUIRE(got == Approx(expected).margin(1e-4));
  }
}

rt::ConvSpec forwardSpec(bool nhwc) {
  rt::ConvSpec s;
  s.xDims = {2, 3, 7, 6};
  s.wDims = {4, 3, 3, 2};
  s.strides = {2, 1};
  s.dilations = {1, 2};
  s.padsBegin = {1, 0};
  s.padsEnd = {1, 1};
  s.yDims = {2, 4, 4, 5}; // (7 + 2 - 3) / 2 + 1 = 4; (6 + 1 - 3) / 1 + 1 = 5
  s.dtype = static_cast<int32_t>(DType::F32);
  s.nhwc = nhwc;
  return s;
}

Tensor forwardByInterpreter(const rt::ConvSpec &s) {
  std::string text = "graph @g(%x: tensor<" + dims(s.xDims) + ">, %w: tensor<" + dims(s.wDims) + ">) -> (\"y\": tensor<" +
                     dims(s.yDims) + ">) {\n  %y = onnx.Conv(%x, %w) {dilations = [1, 2], pads = [1, 0, 1, 1], strides = [2, 1]} : (tensor<" +
                     dims(s.xDims) + ">, tensor<" + dims(s.wDims) + ">) -> tensor<" + dims(s.yDims) + ">\n  return %y\n}\n";
  return interpretOne(text, {logicalTensor(s.xDims, s.nhwc, ConvCheckData::kSeedX),
                             logicalTensor(s.wDims, s.nhwc, ConvCheckData::kSeedW)});
}

} // namespace

TEST_CASE("tactic check: convolution reference equals the interpreter", "[tactic-check]") {
  for (bool nhwc : {false, true}) {
    rt::ConvSpec s = forwardSpec(nhwc);
    Tensor want = forwardByInterpreter(s);
    expectConvMatches(s, want, [](uint64_t, double v) { return v; });
    // The epilogue: + z (same memory order as y) + bias, then relu.
    s.hasResidual = true;
    s.hasBias = true;
    s.activation = "relu";
    std::vector<uint8_t> z = randomBlock(elementCount(s.yDims), DType::F32, ConvCheckData::kSeedZ);
    std::vector<uint8_t> b = randomBlock(4, DType::F32, ConvCheckData::kSeedB);
    std::vector<int64_t> yd = s.yDims;
    expectConvMatches(s, want, [&](uint64_t mem, double v) {
      // The channel of memory position `mem`.
      uint64_t c = nhwc ? mem % 4 : mem / static_cast<uint64_t>(yd[2] * yd[3]) % 4;
      return std::max(0.0, v + repeatedElement(z, DType::F32, mem) + repeatedElement(b, DType::F32, c));
    });
  }
}

TEST_CASE("tactic check: grouped and depthwise convolutions equal the interpreter", "[tactic-check]") {
  for (int64_t group : {2, 4}) {
    rt::ConvSpec s;
    s.xDims = {1, 4, 5, 5};
    s.wDims = {8, 4 / group, 3, 3};
    s.strides = {1, 1};
    s.dilations = {1, 1};
    s.padsBegin = {1, 1};
    s.padsEnd = {1, 1};
    s.yDims = {1, 8, 5, 5};
    s.dtype = static_cast<int32_t>(DType::F32);
    s.nhwc = group == 4;
    std::string w = "tensor<" + dims(s.wDims) + ">";
    std::string text = "graph @g(%x: tensor<1x4x5x5xf32>, %w: " + w + ") -> (\"y\": tensor<1x8x5x5xf32>) {\n  %y = onnx.Conv(%x, %w) {group = " +
                       std::to_string(group) + ", pads = [1, 1, 1, 1]} : (tensor<1x4x5x5xf32>, " + w +
                       ") -> tensor<1x8x5x5xf32>\n  return %y\n}\n";
    Tensor want = interpretOne(text, {logicalTensor(s.xDims, s.nhwc, ConvCheckData::kSeedX),
                                      logicalTensor(s.wDims, s.nhwc, ConvCheckData::kSeedW)});
    expectConvMatches(s, want, [](uint64_t, double v) { return v; });
  }
  // A grouped transposed convolution: w (x's 4 channels, 3 of y's 6 per group, 2, 2).
  rt::ConvSpec t;
  t.transpose = true;
  t.xDims = {1, 4, 3, 3};
  t.wDims = {4, 3, 2, 2};
  t.strides = {2, 2};
  t.dilations = {1, 1};
  t.padsBegin = {0, 0};
  t.padsEnd = {0, 0};
  t.yDims = {1, 6, 6, 6};
  t.dtype = static_cast<int32_t>(DType::F32);
  std::string text = "graph @g(%x: tensor<1x4x3x3xf32>, %w: tensor<4x3x2x2xf32>) -> (\"y\": tensor<1x6x6x6xf32>) {\n"
                     "  %y = onnx.ConvTranspose(%x, %w) {group = 2, strides = [2, 2]} : (tensor<1x4x3x3xf32>, "
                     "tensor<4x3x2x2xf32>) -> tensor<1x6x6x6xf32>\n  return %y\n}\n";
  Tensor want = interpretOne(text, {logicalTensor(t.xDims, false, ConvCheckData::kSeedX),
                                    logicalTensor(t.wDims, false, ConvCheckData::kSeedW)});
  expectConvMatches(t, want, [](uint64_t, double v) { return v; });
}

TEST_CASE("tactic check: transposed convolution reference equals the interpreter", "[tactic-check]") {
  rt::ConvSpec s;
  s.transpose = true;
  s.xDims = {1, 3, 4, 3};  // dy: 3 channels
  s.wDims = {3, 2, 3, 3};  // (K = x's channels, C = y's channels, kH, kW)
  s.strides = {2, 2};
  s.dilations = {1, 1};
  s.padsBegin = {1, 0};
  s.padsEnd = {0, 1};
  s.yDims = {1, 2, 8, 6}; // 2 * 3 + 3 - 1 = 8; 2 * 2 + 3 - 1 = 6
  s.dtype = static_cast<int32_t>(DType::F32);
  std::string text = "graph @g(%x: tensor<1x3x4x3xf32>, %w: tensor<3x2x3x3xf32>) -> (\"y\": tensor<1x2x8x6xf32>) {\n"
                     "  %y = onnx.ConvTranspose(%x, %w) {pads = [1, 0, 0, 1], strides = [2, 2]} : (tensor<1x3x4x3xf32>, "
                     "tensor<3x2x3x3xf32>) -> tensor<1x2x8x6xf32>\n  return %y\n}\n";
  Tensor want = interpretOne(text, {logicalTensor(s.xDims, false, ConvCheckData::kSeedX),
                                    logicalTensor(s.wDims, false, ConvCheckData::kSeedW)});
  expectConvMatches(s, want, [](uint64_t, double v) { return v; });
}

TEST_CASE("tactic check: matmul reference equals the interpreter", "[tactic-check]") {
  // D[m][n] = 0.5 * A^T B^T + 2 C, relu; A stored [k][m], B stored [n][k] (row-major).
  rt::CublasLtProblem p;
  p.dtype = static_cast<int32_t>(DType::F32);
  p.m = 5;
  p.n = 7;
  p.k = 9;
  p.transA = p.transB = true;
  p.lda = 5;
  p.ldb = 9;
  p.ldc = 7;
  p.alpha = 0.5f;
  p.beta = 2.0f;
  p.hasC = true;
  p.epilogue = "relu";
  std::string text = "graph @g(%a: tensor<9x5xf32>, %b: tensor<7x9xf32>, %c: tensor<5x7xf32>) -> (\"y\": tensor<5x7xf32>) {\n"
                     "  %g = onnx.Gemm(%a, %b, %c) {alpha = 0.5, beta = 2.0, transA = 1, transB = 1} : (tensor<9x5xf32>, "
                     "tensor<7x9xf32>, tensor<5x7xf32>) -> tensor<5x7xf32>\n"
                     "  %y = onnx.Relu(%g) : (tensor<5x7xf32>) -> tensor<5x7xf32>\n  return %y\n}\n";
  Tensor want = interpretOne(text, {logicalTensor({9, 5}, false, MatmulCheckData::kSeedA),
                                    logicalTensor({7, 9}, false, MatmulCheckData::kSeedB),
                                    logicalTensor({5, 7}, false, MatmulCheckData::kSeedC)});
  MatmulReference reference(p);
  REQUIRE(reference.unsupported().empty());
  for (uint64_t l = 0; l < 35; ++l) {
    uint64_t pos = 0;
    double got = reference.at(l, pos);
    CHECK(pos == l);
    REQUIRE(got == Approx(want.getDouble(static_cast<int64_t>(l))).margin(1e-5));
  }
  // Batched, B broadcast over the batch (stride 0), padded rows (ldc > n), with a bias.
  p = rt::CublasLtProblem{};
  p.dtype = static_cast<int32_t>(DType::F32);
  p.m = 3;
  p.n = 4;
  p.k = 2;
  p.batch = 2;
  p.lda = 2;
  p.ldb = 4;
  p.ldc = 6;
  p.strideA = 6;
  p.strideB = 0;
  p.strideC = 18;
  p.hasBias = true;
  p.epilogue = "bias";
  std::vector<uint8_t> a = randomBlock(p.aElements(), DType::F32, MatmulCheckData::kSeedA),
                       b = randomBlock(p.bElements(), DType::F32, MatmulCheckData::kSeedB),
                       bias = randomBlock(4, DType::F32, MatmulCheckData::kSeedBias);
  MatmulReference batched(p);
  for (uint64_t l = 0; l < 24; ++l) {
    uint64_t bi = l / 12, m = l / 4 % 3, n = l % 4;
    double want = repeatedElement(bias, DType::F32, n);
    for (uint64_t k = 0; k < 2; ++k)
      want += repeatedElement(a, DType::F32, bi * 6 + m * 2 + k) * repeatedElement(b, DType::F32, k * 4 + n);
    uint64_t pos = 0;
    REQUIRE(batched.at(l, pos) == Approx(want).margin(1e-6));
    CHECK(pos == bi * 18 + m * 6 + n);
  }
}

TEST_CASE("tactic check: samples, tolerances and unknown epilogues", "[tactic-check]") {
  std::vector<uint64_t> s = samplePositions(100000, 256);
  REQUIRE(s.size() == 256);
  CHECK(s[0] == 0);
  CHECK(s[1] == 99999);
  CHECK(samplePositions(10, 256).size() == 10);
  std::string why;
  CHECK(samplesMatch({10.0, -4.0, 0.5}, {10.1, -4.0, 0.5}, DType::F16, why));
  CHECK_FALSE(samplesMatch({10.0, -4.0, 0.5}, {10.0, -3.0, 0.5}, DType::F16, why));
  CHECK(why.find("sample 2 of 3: -3 where the reference gives -4") != std::string::npos);
  CHECK_FALSE(samplesMatch({1.0}, {std::nan("")}, DType::F32, why));
  CHECK(samplesMatch({126.6, 300.0}, {127.0, 127.0}, DType::I8, why)); // saturation
  CHECK_FALSE(samplesMatch({12.0}, {15.0}, DType::I8, why));
  rt::ConvSpec c = forwardSpec(false);
  c.activation = "mystery";
  CHECK(ConvReference(c, ConvCheckData{}).unsupported().find("mystery") != std::string::npos);
  rt::CublasLtProblem m;
  m.m = m.n = m.k = 1;
  m.lda = m.ldb = m.ldc = 1;
  m.epilogue = "dgelu";
  CHECK(MatmulReference(m).unsupported().find("dgelu") != std::string::npos);
}
