// INT8 convolutions on the GPU (cuDNN, channels-last) against the reference interpreter's integer
// semantics: the FP32 graph is calibrated on its own input (minmax), quantized by the INT8
// pipeline, then run both ways. int8 results may differ by one step (the GPU's epilogue is
// float32, the reference's double), so outputs are compared to within two steps of the scale.
#include "codegen/Autotuner.h"
#include "compiler/Calibrator.h"
#include "compiler/Npy.h"
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"
#include "runtime/EngineReader.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace infc;
using gputest::requireOp;

namespace {

AttrMap convAttrs(int64_t k, int64_t stride) {
  AttrMap a;
  int64_t p = k / 2;
  a.set("pads", std::vector<int64_t>{p, p, p, p});
  a.set("strides", std::vector<int64_t>{stride, stride});
  return a;
}

/// x -> conv_a (3x3) + relu -> conv_b (3x3) + residual a + relu -> conv_c (1x1, stride 2) -> y:
/// conv_a writes int8 (its readers are INT8 convolutions, as input and as residual), conv_b too,
/// conv_c writes f16 (a graph output), so every INT8 form runs.
std::unique_ptr<Module> residualNet(int64_t n, int64_t c, int64_t hw) {
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {n, c, hw, hw}));
  Value *a = requireOp(g, OpKind::OnnxConv, {x, gputest::randomWeight(g, {c, c, 3, 3}, 1, "wa"), gputest::randomWeight(g, {c}, 2, "ba")},
                 convAttrs(3, 1), "conv_a");
  Value *ar = requireOp(g, OpKind::OnnxRelu, {a}, {}, "relu_a");
  Value *b = requireOp(g, OpKind::OnnxConv, {ar, gputest::randomWeight(g, {c, c, 3, 3}, 3, "wb"), gputest::randomWeight(g, {c}, 4, "bb")},
                 convAttrs(3, 1), "conv_b");
  Value *s = requireOp(g, OpKind::OnnxAdd, {b, ar}, {}, "add_b");
  Value *br = requireOp(g, OpKind::OnnxRelu, {s}, {}, "relu_b");
  Value *y = requireOp(g, OpKind::OnnxConv, {br, gputest::randomWeight(g, {2 * c, c, 1, 1}, 5, "wc"), gputest::randomWeight(g, {2 * c}, 6, "bc")},
                 convAttrs(1, 2), "conv_c");
  g.addOutput("y", y);
  return m;
}

} // namespace

TEST_CASE("INT8 convolutions (int8 and f16 results, int8 residual) match the reference's integer semantics", "[gpu]") {
  REQUIRE_GPU();
  for (auto [n, c, hw] : {std::tuple<int64_t, int64_t, int64_t>{2, 16, 12}, {4, 64, 28}}) {
    INFO("n " << n << " c " << c << " hw " << hw);
    std::unique_ptr<Module> m = residualNet(n, c, hw);
    REQUIRE(runPassPipeline(*m, "shape-infer").isOk());
    Tensor x = gputest::randomF32({n, c, hw, hw}, 7);
    // Calibrate on the input itself (one .npy batch), the way `infc build --int8 --calib` does.
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("infc-int8-test-" + std::to_string(c));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "b0.npy", std::ios::binary) << npyBytes(x);
    CalibrationOptions co;
    co.dir = dir.string();
    co.method = CalibMethod::MinMax;
    Expected<CalibrationTable> table = calibrate(*m->mainGraph(), co);
    std::filesystem::remove_all(dir);
    REQUIRE(table.isOk());
    OptimizeOptions oo;
    for (const auto &[name, r] : table->tensors)
      oo.int8Ranges[name] = r.amax;
    REQUIRE(optimizeModule(*m, oo).isOk());
    size_t int8Convs = 0, int8Results = 0;
    for (const auto &op : m->mainGraph()->body().ops())
      if (op->is(OpKind::InfcConv) && op->operand(0)->type().elem() == DType::I8) {
        ++int8Convs;
        int8Results += op->result()->type().elem() == DType::I8;
      }
    CHECK(int8Convs == 3);
    CHECK(int8Results == 2);
    Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
    REQUIRE(want.isOk());
    Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x}, true);
    REQUIRE(got.isOk());
    // conv_c's result is f16 from int8 inputs: an int8 step of conv_b's result moves it by about
    // |w| * scale; allow that much over the largest value.
    double amax = table->tensors.at("conv_c").amax;
    CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.02 * amax) <= 1.0);
  }
}

