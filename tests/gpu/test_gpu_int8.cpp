// INT8 convolutions on the GPU (cuDNN, channels-last, and infc's own implicit-GEMM kernel)
// against the reference interpreter's integer semantics: the FP32 graph is calibrated on its own
// input (minmax), quantized by the INT8 pipeline, then run both ways. int8 results may differ by
// one step (the GPU's epilogue is float32, the reference's double), so outputs are compared to
// within two steps of the scale. The generated kernel's sources also compile without a GPU
// ([gpu-free]: NVRTC for sm_90).
#include "codegen/Autotuner.h"
#include "codegen/Lowering.h"
#include "codegen/Nvrtc.h"
#include "codegen/kernels/ConvInt8.h"
#include "codegen/kernels/ConvInt8Halo.h"
#include "compiler/Run.h"
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

/// x -> conv_a (3x3) + relu -> conv_b (rb x rb) + residual a + relu -> conv_c (1x1, stride 2) -> y:
/// conv_a writes int8 (its readers are INT8 convolutions, as input and as residual), conv_b too,
/// conv_c writes f16 (a graph output), so every INT8 form runs.
std::unique_ptr<Module> residualNet(int64_t n, int64_t c, int64_t hw, int64_t rb = 3) {
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {n, c, hw, hw}));
  Value *a = requireOp(g, OpKind::OnnxConv, {x, gputest::randomWeight(g, {c, c, 3, 3}, 1, "wa"), gputest::randomWeight(g, {c}, 2, "ba")},
                 convAttrs(3, 1), "conv_a");
  Value *ar = requireOp(g, OpKind::OnnxRelu, {a}, {}, "relu_a");
  Value *b = requireOp(g, OpKind::OnnxConv, {ar, gputest::randomWeight(g, {c, c, rb, rb}, 3, "wb"), gputest::randomWeight(g, {c}, 4, "bb")},
                 convAttrs(rb, 1), "conv_b");
  Value *s = requireOp(g, OpKind::OnnxAdd, {b, ar}, {}, "add_b");
  Value *br = requireOp(g, OpKind::OnnxRelu, {s}, {}, "relu_b");
  Value *y = requireOp(g, OpKind::OnnxConv, {br, gputest::randomWeight(g, {2 * c, c, 1, 1}, 5, "wc"), gputest::randomWeight(g, {2 * c}, 6, "bc")},
                 convAttrs(1, 2), "conv_c");
  g.addOutput("y", y);
  return m;
}

/// residualNet calibrated on `x` (minmax) and quantized: three INT8 convolutions, two of them
/// writing int8. Returns conv_c's calibrated range through `amaxC`.
std::unique_ptr<Module> quantizedResidualNet(int64_t n, int64_t c, int64_t hw, const Tensor &x, double &amaxC,
                                             int64_t rb = 3) {
  std::unique_ptr<Module> m = residualNet(n, c, hw, rb);
  REQUIRE(runPassPipeline(*m, "shape-infer").isOk());
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
  amaxC = table->tensors.at("conv_c").amax;
  return m;
}

/// Tactics that run every INT8 convolution the generated kernel takes with tile `tile`, and leave
/// the rest to cuDNN's heuristic (NotFound: untimed).
class ForcedTile final : public codegen::TacticSource {
public:
  explicit ForcedTile(size_t tile) : tile_(tile) {}
  Expected<codegen::ConvTactic> tuneConv(const rt::ConvSpec &spec) override {
    if (!spec.int8 || !codegen::int8ConvRefusal(spec).empty() || !codegen::int8ConvTileFits(spec, tile_))
      return notFound("not forced");
    ++forced;
    codegen::ConvTactic t;
    t.engineId = codegen::kGeneratedConvEngine;
    t.knobs = {static_cast<int64_t>(tile_)};
    t.description = "tile " + codegen::int8ConvTileName(tile_) + " (forced by the test)";
    return t;
  }
  Expected<codegen::MatmulTactic> tuneMatmul(const rt::CublasLtProblem &) override { return notFound("not forced"); }
  size_t forced = 0;

private:
  size_t tile_;
};

rt::ConvSpec int8Spec(int64_t n, int64_t c, int64_t k, int64_t hw, int64_t r, int64_t stride, DType y, DType z,
                      const std::string &act) {
  rt::ConvSpec s;
  int64_t pad = r / 2, out = (hw + 2 * pad - r) / stride + 1;
  s.xDims = {n, c, hw, hw};
  s.wDims = {k, c, r, r};
  s.yDims = {n, k, out, out};
  s.padsBegin = s.padsEnd = {pad, pad};
  s.strides = {stride, stride};
  s.dilations = {1, 1};
  s.int8 = true;
  s.nhwc = true;
  s.hasBias = true;
  s.dtype = static_cast<int32_t>(y);
  s.hasResidual = z != DType::Undefined;
  s.zDtype = s.hasResidual && z != y ? static_cast<int32_t>(z) : 0;
  s.activation = act;
  return s;
}

} // namespace

TEST_CASE("the generated INT8 convolution compiles for every tile and epilogue, and refuses what it does not take",
          "[gpu-free]") {
  struct Case {
    rt::ConvSpec spec;
    const char *what;
  } cases[] = {
      {int8Spec(2, 64, 64, 9, 3, 1, DType::I8, DType::Undefined, "relu"), "3x3, int8 out, relu"},
      {int8Spec(2, 128, 256, 9, 1, 2, DType::F16, DType::I8, ""), "1x1 stride 2, f16 out, int8 residual"},
      {int8Spec(2, 128, 128, 7, 3, 1, DType::I8, DType::F16, "clip:0:6"), "3x3, int8 out, f16 residual, clip"},
      {int8Spec(2, 64, 128, 7, 1, 1, DType::F16, DType::F16, "leaky:0.1"), "1x1, f16 out and residual, leaky relu"},
  };
  for (const Case &c : cases) {
    INFO(c.what);
    REQUIRE(codegen::int8ConvRefusal(c.spec).empty());
    std::string source = codegen::kernelPrelude();
    size_t tiles = 0;
    for (size_t t = 0; t < codegen::int8ConvTiles().size(); ++t) {
      if (!codegen::int8ConvTileFits(c.spec, t))
        continue;
      Expected<codegen::Int8ConvKernel> k = codegen::int8ConvKernel(c.spec, t, "igemm_" + std::to_string(t));
      REQUIRE(k.isOk());
      CHECK(k->sharedBytes <= 227u * 1024u);
      source += "\n" + k->source;
      ++tiles;
    }
    CHECK(tiles >= 2);
    Expected<codegen::CubinResult> cubin = codegen::compileToCubin(source, "igemm.cu", 9, 0);
    INFO((cubin.isOk() ? std::string() : cubin.status().message()));
    CHECK(cubin.isOk());
  }
  // Refused, each with its reason.
  rt::ConvSpec narrow = int8Spec(2, 32, 64, 9, 3, 1, DType::I8, DType::Undefined, "relu");
  CHECK(codegen::int8ConvRefusal(narrow) == "channels not in multiples of 64");
  rt::ConvSpec sigmoid = int8Spec(2, 64, 64, 9, 3, 1, DType::I8, DType::Undefined, "sigmoid");
  CHECK(codegen::int8ConvRefusal(sigmoid) == "activation sigmoid not in the generated epilogue");
  rt::ConvSpec f32 = int8Spec(2, 64, 64, 9, 3, 1, DType::F32, DType::Undefined, "");
  CHECK(codegen::int8ConvRefusal(f32) == "result neither int8 nor f16");
  rt::ConvSpec nchw = int8Spec(2, 64, 64, 9, 3, 1, DType::I8, DType::Undefined, "");
  nchw.nhwc = false;
  CHECK(codegen::int8ConvRefusal(nchw) == "not an INT8 channels-last convolution");
  rt::ConvSpec grouped = int8Spec(2, 128, 128, 9, 3, 1, DType::I8, DType::Undefined, "");
  grouped.wDims[1] = 64;
  CHECK(codegen::int8ConvRefusal(grouped) == "grouped");
  CHECK_FALSE(codegen::int8ConvTileFits(int8Spec(2, 64, 64, 9, 3, 1, DType::I8, DType::Undefined, ""), 0)); // bn 128 > 64
  CHECK_FALSE(codegen::int8ConvKernel(narrow, 0, "k").isOk());
}

TEST_CASE("the generated INT8 convolution's grid and shared memory follow its tiles per block", "[gpu-free]") {
  // ResNet-50's layer1 1x1 64->256 with an int8 residual at batch 256: 802,816 pixels.
  rt::ConvSpec s = int8Spec(256, 64, 256, 56, 1, 1, DType::I8, DType::I8, "relu");
  const size_t oneTile = 1, walking = 5; // 64x128x64: 4 stages one tile per block; 2 stages, 8 per block
  REQUIRE(codegen::int8ConvTiles()[oneTile].tilesPerBlock == 1);
  REQUIRE(codegen::int8ConvTiles()[walking].tilesPerBlock == 8);
  Expected<codegen::Int8ConvKernel> a = codegen::int8ConvKernel(s, oneTile, "a");
  Expected<codegen::Int8ConvKernel> b = codegen::int8ConvKernel(s, walking, "b");
  REQUIRE(a.isOk());
  REQUIRE(b.isOk());
  // 12,544 pixel tiles x 2 channel tiles; 8 per block: 3,136 blocks.
  CHECK(a->blocks == 25088u);
  CHECK(b->blocks == 3136u);
  // Stages of (64 + 128) x 64 bytes, residual slots of 64 rows x (128 + 16) bytes, the result
  // over its residual (both int8): one slot with one tile per block; with one reduction step per
  // tile and 2 stages, the next tile's residual arrives during this one's epilogue: 2 slots.
  CHECK(a->sharedBytes == 4u * 12288u + 1u * 9216u);
  CHECK(b->sharedBytes == 2u * 12288u + 2u * 9216u);
  // An f16 result over an int8 residual gets its own tile (64 rows x (256 + 16) bytes).
  rt::ConvSpec f16Out = int8Spec(256, 64, 256, 56, 1, 1, DType::F16, DType::I8, "relu");
  Expected<codegen::Int8ConvKernel> c = codegen::int8ConvKernel(f16Out, walking, "c");
  REQUIRE(c.isOk());
  CHECK(c->sharedBytes == 2u * 12288u + 2u * 9216u + 64u * 272u);
  // 3x3 with 64 channels: 9 reduction steps per tile, so the loads never reach past the next
  // tile: 2 slots at most even with more stages.
  rt::ConvSpec k3 = int8Spec(256, 64, 128, 28, 3, 1, DType::I8, DType::I8, "relu");
  Expected<codegen::Int8ConvKernel> d = codegen::int8ConvKernel(k3, 6, "d"); // 128x128x64, 3 stages, 4 per block
  REQUIRE(d.isOk());
  CHECK(d->sharedBytes == 3u * 16384u + 2u * 128u * 144u);
  // Resident weights (64x128x64, 3 stages, 8 per block): the stages carry input rows only, the
  // block's 64 x 128 weight bytes sit beside them, and the grid is a whole number of blocks per
  // channel tile (1,568 per each of the 2).
  const size_t resident = 8;
  REQUIRE(codegen::int8ConvTiles()[resident].residentWeights);
  REQUIRE(codegen::int8ConvTiles()[resident].bn == 128);
  Expected<codegen::Int8ConvKernel> e = codegen::int8ConvKernel(s, resident, "e");
  REQUIRE(e.isOk());
  CHECK(e->blocks == 2u * 1568u);
  // ... and the epilogue's constants of its 128 channels (a float4 per pair).
  CHECK(e->sharedBytes == 3u * 4096u + 64u * 128u + 3u * 9216u + 128u * 8u);
  // 23 pixel tiles with 8 per block: 3 blocks per channel tile, the last walking 7.
  rt::ConvSpec small = int8Spec(1, 64, 256, 38, 1, 1, DType::I8, DType::I8, "relu"); // 1,444 pixels
  Expected<codegen::Int8ConvKernel> f = codegen::int8ConvKernel(small, resident, "f");
  REQUIRE(f.isOk());
  CHECK(f->blocks == 2u * 3u);
  // Weights over kInt8ResidentWeightBytes do not fit: a 3x3 with 128 channels is 1,152 x 128 bytes.
  CHECK(codegen::int8ConvTileFits(k3, resident)); // 576 x 128
  CHECK_FALSE(codegen::int8ConvTileFits(int8Spec(256, 128, 128, 28, 3, 1, DType::I8, DType::I8, "relu"), resident));
  CHECK(codegen::int8ConvTileFits(int8Spec(256, 128, 128, 28, 3, 1, DType::I8, DType::I8, "relu"), 6));
  CHECK_FALSE(codegen::int8ConvKernel(int8Spec(256, 128, 128, 28, 3, 1, DType::I8, DType::I8, "relu"), resident, "g").isOk());
}

TEST_CASE("the halo kernel takes 3x3 64 -> 64 convolutions only, in tiles of 224 pixels", "[gpu-free]") {
  const rt::ConvSpec layer1 = int8Spec(256, 64, 64, 56, 3, 1, DType::I8, DType::Undefined, "relu");
  CHECK(codegen::int8HaloRefusal(layer1).empty());
  std::vector<size_t> halo;
  for (size_t t = 0; t < codegen::int8ConvTiles().size(); ++t)
    if (codegen::int8ConvTiles()[t].halo) {
      halo.push_back(t);
      CHECK(codegen::int8ConvTileFits(layer1, t));
    }
  REQUIRE(halo.size() == 3);
  // Each refusal with its reason, and the tiles do not fit those convolutions.
  struct Refused {
    rt::ConvSpec spec;
    const char *why;
  } refused[] = {
      {int8Spec(2, 64, 64, 9, 1, 1, DType::I8, DType::Undefined, ""), "not 3x3"},
      {int8Spec(2, 64, 64, 9, 3, 2, DType::I8, DType::Undefined, ""), "not stride 1 with padding 1"},
      {int8Spec(2, 128, 128, 9, 3, 1, DType::I8, DType::Undefined, ""), "not 64 -> 64 channels"},
      {int8Spec(2, 64, 128, 9, 3, 1, DType::I8, DType::Undefined, ""), "not 64 -> 64 channels"},
      {int8Spec(2, 64, 64, 9, 3, 1, DType::I8, DType::I8, ""), "has a residual"},
      {int8Spec(2, 64, 64, 9, 3, 1, DType::F16, DType::Undefined, ""), "result not int8"},
  };
  for (const Refused &r : refused) {
    INFO(r.why);
    CHECK(codegen::int8HaloRefusal(r.spec) == r.why);
    CHECK_FALSE(codegen::int8ConvTileFits(r.spec, halo[0]));
    CHECK_FALSE(codegen::int8ConvKernel(r.spec, halo[0], "k").isOk());
  }
  // The output tile pads the output least, then reads the smallest halo, then is the wider.
  auto tile = [](int64_t h, int64_t w) {
    codegen::HaloTile t = codegen::int8HaloTile(h, w);
    return std::pair<int, int>{t.rows, t.cols};
  };
  CHECK(tile(56, 56) == std::pair<int, int>{8, 28}); // 2 x 7 tiles, none padded; 10 x 30 halo
  CHECK(tile(28, 28) == std::pair<int, int>{14, 16}); // 4 columns padded; 16 x 18 halo, not 10 x 30
  CHECK(tile(14, 14) == std::pair<int, int>{14, 16}); // as 16 x 14, but wider
  CHECK(tile(13, 13) == std::pair<int, int>{14, 16});
  CHECK(tile(1, 300) == std::pair<int, int>{1, 224});
  // ResNet-50's layer1 at batch 256: 256 x 7 x 2 tiles; weights, output tile, halo and the
  // epilogue's constants.
  for (auto [t, blocks] : {std::pair<size_t, uint32_t>{halo[0], 896u}, {halo[1], 448u}, {halo[2], 256u}}) {
    Expected<codegen::Int8ConvKernel> k = codegen::int8ConvKernel(layer1, t, "k");
    REQUIRE(k.isOk());
    CHECK(k->blocks == blocks);
    CHECK(k->threads == 224u);
    CHECK(k->sharedBytes == 9u * 64u * 64u + 224u * 80u + 10u * 30u * 64u + 64u * 8u);
  }
}

TEST_CASE("the generated INT8 convolution matches the reference's integer semantics with every tile", "[gpu]") {
  REQUIRE_GPU();
  // 3x3 int8 out; 3x3 (or 1x1) with an int8 residual in place, int8 out; 1x1 stride 2, f16 out.
  // 3 x 13 x 13 and 3 x 7 x 7 pixels: partial pixel tiles everywhere, and the tiles that walk
  // several output tiles per block get several (up to 8 in one block). With 64 channels and
  // conv_b 1x1, every reduction is one step of 64 bytes but conv_a's: the residual ring at its
  // deepest. 128 channels with conv_b 1x1: the resident-weight tiles take the residual conv.
  const int64_t n = 3, hw = 13;
  for (auto [c, rb] : {std::pair<int64_t, int64_t>{128, 3}, {64, 1}, {128, 1}}) {
    Tensor x = gputest::randomF32({n, c, hw, hw}, 7);
    double amaxC = 0;
    std::unique_ptr<Module> m = quantizedResidualNet(n, c, hw, x, amaxC, rb);
    Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
    REQUIRE(want.isOk());
    for (size_t tile = 0; tile < codegen::int8ConvTiles().size(); ++tile) {
      const codegen::Int8ConvTile &t = codegen::int8ConvTiles()[tile];
      if (t.bk > c)
        continue; // a reduction step wider than every convolution's channels: takes none here
      // The convolutions the tile takes: conv_a (c -> c, 3x3), conv_b (c -> c, rb x rb, with the
      // residual), conv_c (c -> 2c, 1x1): those whose outputs its bn divides and, with resident
      // weights, whose c x r x s x bn weight bytes fit.
      auto takes = [&t, ch = c](int64_t out, int64_t r) {
        return out % t.bn == 0 && (!t.residentWeights || ch * r * r * t.bn <= codegen::kInt8ResidentWeightBytes);
      };
      // A halo tile takes conv_a alone (3x3, 64 -> 64, no residual), in partial tiles both ways.
      const size_t expected = t.halo ? size_t{c == 64}
                                     : size_t{takes(c, 3)} + size_t{takes(c, rb)} + size_t{takes(2 * c, 1)};
      if (expected == 0)
        continue; // (bn 256 with 64 channels)
      INFO("channels " << c << ", conv_b " << rb << "x" << rb << ", tile " << codegen::int8ConvTileName(tile));
      ForcedTile tactics(tile);
      Expected<std::vector<Tensor>> got = runModuleOnGpu(*m, {x}, true, false, &tactics);
      REQUIRE(got.isOk());
      CHECK(tactics.forced >= expected);
      CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.02 * amaxC) <= 1.0);
    }
  }
}

TEST_CASE("INT8 convolutions (int8 and f16 results, int8 residual) match the reference's integer semantics", "[gpu]") {
  REQUIRE_GPU();
  for (auto [n, c, hw] : {std::tuple<int64_t, int64_t, int64_t>{2, 16, 12}, {4, 64, 28}}) {
    INFO("n " << n << " c " << c << " hw " << hw);
    Tensor x = gputest::randomF32({n, c, hw, hw}, 7);
    double amaxC = 0;
    std::unique_ptr<Module> m = quantizedResidualNet(n, c, hw, x, amaxC);
    Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
    REQUIRE(want.isOk());
    Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x}, true);
    REQUIRE(got.isOk());
    // conv_c's result is f16 from int8 inputs: an int8 step of conv_b's result moves it by about
    // |w| * scale; allow that much over the largest value.
    CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.02 * amaxC) <= 1.0);
  }
}

