// Results written over an input (LoweringOptions::inPlace), without a GPU: a convolution's fused
// residual over the residual when it is its last reader, elementwise kernels over an input of
// their shape, and the cases where that must not happen.
#include "codegen/EngineBuilder.h"
#include "codegen/TimingCache.h"
#include "ir/IR.h"
#include "ir/Parser.h"
#include "runtime/EngineReader.h"
#include "runtime/engine_generated.h"

#include <catch2/catch.hpp>

#include <map>

using namespace infc;
using namespace infc::codegen;

namespace {

/// Answers every convolution with a tactic (fused and in-place variants alike, so the builder
/// takes the fused, in-place form), except the signatures listed in `refuse`.
class AnyTactic final : public TacticSource {
public:
  std::vector<std::string> asked, refuse;
  Expected<ConvTactic> tuneConv(const rt::ConvSpec &spec) override {
    std::string key = convCacheKey(spec);
    asked.push_back(key);
    for (const std::string &r : refuse)
      if (key.find(r) != std::string::npos)
        return unsupported("no tactic runs this way");
    return ConvTactic{1, {}, 0, 0.1, "test tactic"};
  }
  Expected<MatmulTactic> tuneMatmul(const rt::CublasLtProblem &) override {
    return Status(StatusCode::NotFound, "no matmuls here");
  }
};

std::string weights(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i)
    s += (i ? ", " : "") + std::to_string(static_cast<double>(static_cast<int>(i * 7 % 11) - 5) / 10);
  return s + "]";
}

/// s = sigmoid(x); a = relu(conv1x1(s)); b = relu(conv3x3(a) + s) [s's last reader]; then
/// `tail` (which may read s again, or b).
std::string block(const std::string &tail, const std::string &out) {
  return "graph @block(%x: tensor<1x8x6x6xf32>) -> (\"y\": tensor<1x8x6x6xf32>) {\n"
         "  %w1 = onnx.Constant() {value = dense<" + weights(64) + "> : tensor<8x8x1x1xf32>} : () -> tensor<8x8x1x1xf32>\n"
         "  %w2 = onnx.Constant() {value = dense<" + weights(576) + "> : tensor<8x8x3x3xf32>} : () -> tensor<8x8x3x3xf32>\n"
         "  %s = onnx.Sigmoid(%x) : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n"
         "  %a = infc.conv(%s, %w1) {act = \"relu\", dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : "
         "(tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32>\n"
         "  %b = infc.conv(%a, %w2, none, %s) {act = \"relu\", dilations = [1, 1], pads = [1, 1, 1, 1], strides = [1, 1]} : "
         "(tensor<1x8x6x6xf32>, tensor<8x8x3x3xf32>, none, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n" +
         tail + "  return " + out + "\n}\n";
}

struct Built {
  std::map<std::string, uint64_t> offset; ///< arena tensors by name
  uint64_t arenaBytes = 0;
  bool residualConvInPlace = false; ///< the conv with a residual has y at z's offset
};

Built build(const std::string &text, AnyTactic &tactics, bool inPlace = true) {
  Expected<std::unique_ptr<Module>> m = parseModule(text, "block.ir");
  REQUIRE(m.isOk());
  EngineBuildOptions o;
  o.lowering.smMajor = 9;
  o.lowering.smMinor = 0;
  o.lowering.inPlace = inPlace;
  useAutotuner(o, &tactics);
  Expected<EngineBuildResult> r = buildEngine(**m, o, "block.ir");
  REQUIRE(r.isOk());
  std::string error;
  std::unique_ptr<rt::EngineView> view = rt::EngineView::fromBytes(r->bytes, error);
  REQUIRE(view);
  Built b;
  b.arenaBytes = view->engine().arena_bytes();
  const auto *tensors = view->engine().tensors();
  for (const fb::Tensor *t : *tensors)
    if (t->kind() == fb::TensorKind::Activation)
      b.offset[t->name()->str()] = t->offset();
  for (const fb::Layer *l : *view->engine().layers())
    if (const fb::CudnnConv *c = l->impl_as_CudnnConv(); c && c->z() >= 0)
      b.residualConvInPlace = tensors->Get(static_cast<unsigned>(c->y()))->offset() ==
                              tensors->Get(static_cast<unsigned>(c->z()))->offset();
  return b;
}

bool askedInPlace(const AnyTactic &t) {
  for (const std::string &k : t.asked)
    if (k.find("|inplace") != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("a residual convolution writes its output over the residual it reads last", "[in-place]") {
  AnyTactic t;
  Built b = build(block("  %y = infc.conv(%b, %w1) {dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : "
                        "(tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32>\n",
                        "%y"),
                  t);
  CHECK(askedInPlace(t));
  CHECK(b.residualConvInPlace);
  // s, a and b (1152 bytes each, 1280 aligned): s and b share bytes, a is live beside them.
  CHECK(b.arenaBytes == 2 * 1280);

  AnyTactic t0;
  Built off = build(block("  %y = infc.conv(%b, %w1) {dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : "
                          "(tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32>\n",
                          "%y"),
                    t0, /*inPlace=*/false);
  CHECK(!askedInPlace(t0));
  CHECK(!off.residualConvInPlace);
  CHECK(off.arenaBytes == 3 * 1280);
}

TEST_CASE("no output over a residual that is read later, or when no tactic runs that way", "[in-place]") {
  // s is read again after the residual convolution.
  AnyTactic later;
  Built b = build(block("  %y = onnx.Add(%b, %s) : (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n", "%y"),
                  later);
  CHECK(!askedInPlace(later));
  CHECK(!b.residualConvInPlace);

  // Every tactic refuses y over z: the fused convolution with separate buffers.
  AnyTactic refusing;
  refusing.refuse = {"|inplace"};
  Built r = build(block("  %y = infc.conv(%b, %w1) {dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : "
                        "(tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x6x6xf32>\n",
                        "%y"),
                  refusing);
  CHECK(askedInPlace(refusing));
  CHECK(!r.residualConvInPlace);
  CHECK(r.arenaBytes == 3 * 1280);
}

TEST_CASE("elementwise kernels write over an input of their shape that nothing reads later", "[in-place]") {
  // t = tanh(b) goes over b (itself over s); n = -t not over t, which the Mul reads again;
  // y = n * t is a graph output (the user's buffer): not in place.
  AnyTactic t;
  Built b = build(block("  %t = onnx.Tanh(%b) : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n"
                        "  %n = onnx.Neg(%t) : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n"
                        "  %y = onnx.Mul(%n, %t) : (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>\n",
                        "%y"),
                  t);
  REQUIRE(b.offset.count("t"));
  CHECK(b.offset["t"] == b.offset["b"]); // b's last reader
  CHECK(b.offset["n"] != b.offset["t"]); // t is read again by the Mul
}
