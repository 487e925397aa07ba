// Timing caches without a GPU: the file format, merging, SKU matching, and a build whose
// tactics come from a cache (the cross-build path of `infc build --target h200 --timing-cache`).
#include "codegen/EngineBuilder.h"
#include "codegen/TimingCache.h"
#include "ir/IR.h"
#include "ir/OpHooks.h"
#include "runtime/EngineReader.h"
#include "runtime/engine_generated.h"

#include <catch2/catch.hpp>

using namespace infc;
using namespace infc::codegen;

namespace {

/// Records the convolutions and matmuls the builder asks about, and answers NotFound.
class Recorder final : public TacticSource {
public:
  std::vector<std::string> keys;
  Expected<ConvTactic> tuneConv(const rt::ConvSpec &spec) override {
    keys.push_back(convCacheKey(spec));
    return Status(StatusCode::NotFound, "recording");
  }
  Expected<MatmulTactic> tuneMatmul(const rt::CublasLtProblem &problem) override {
    keys.push_back(matmulCacheKey(problem));
    return Status(StatusCode::NotFound, "recording");
  }
};

Value *constant(Graph &g, const Tensor &t, const std::string &name) {
  AttrMap a;
  a.set("value", t);
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t.dtype(), t.shape())}, a, {}, nullptr, {name})->result();
}

/// conv(x) -> flatten -> matmul: one cuDNN and one cuBLASLt layer.
std::unique_ptr<Module> convMatmulModule() {
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {1, 4, 6, 6}));
  Tensor w(DType::F32, {8, 4, 3, 3}), fc(DType::F32, {288, 5});
  Operation *conv = g.body().create(OpKind::OnnxConv, {x, constant(g, w, "w")}, {TensorType::fromStatic(DType::F32, {1, 8, 6, 6})},
                                    [] {
                                      AttrMap a;
                                      a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
                                      return a;
                                    }(),
                                    Location(NodeRef{"conv1", "Conv", 0}), nullptr, {"c"});
  Operation *flat = g.body().create(OpKind::OnnxFlatten, {conv->result()}, {TensorType::fromStatic(DType::F32, {1, 288})},
                                    {}, {}, nullptr, {"f"});
  Operation *mm = g.body().create(OpKind::OnnxMatMul, {flat->result(), constant(g, fc, "fc")},
                                  {TensorType::fromStatic(DType::F32, {1, 5})}, {}, Location(NodeRef{"fc1", "MatMul", 2}),
                                  nullptr, {"y"});
  g.addOutput("y", mm->result());
  return m;
}

EngineBuildOptions options() {
  EngineBuildOptions o;
  o.lowering.smMajor = 9;
  o.lowering.smMinor = 0;
  return o;
}

} // namespace

TEST_CASE("timing cache round-trips, merges and refuses foreign files", "[timing-cache]") {
  GpuSku h200{"NVIDIA H200", 9, 0, 132}, h100{"NVIDIA H100 80GB HBM3", 9, 0, 132};
  TimingCache a;
  a.put(skuKey(h200), h200, "conv:sig", convEntry(ConvTactic{7, {1, 2}, 256, 0.5, "cuDNN engine 7"}));
  TimingCache b;
  b.put(skuKey(h200), h200, "conv:sig", convEntry(ConvTactic{9, {}, 0, 0.25, "cuDNN engine 9"}));
  b.put(skuKey(h100), h100, "conv:sig", convEntry(ConvTactic{3, {}, 0, 0.75, "cuDNN engine 3"}));
  a.merge(b);
  // The faster of two timings of one layer on one GPU stays; other GPUs stay apart.
  REQUIRE(a.find(skuKey(h200), "conv:sig"));
  CHECK((*a.find(skuKey(h200), "conv:sig"))["engine"] == 9);
  CHECK((*a.find(skuKey(h100), "conv:sig"))["engine"] == 3);
  Expected<TimingCache> back = TimingCache::parse(a.text(), "a.json");
  REQUIRE(back.isOk());
  CHECK(back->text() == a.text());
  CHECK(a.skusFor("h200", 9, 0) == std::vector<std::string>{skuKey(h200)});
  CHECK(a.skusFor("h100", 9, 0) == std::vector<std::string>{skuKey(h100)});
  CHECK(a.skusFor("sm_90", 9, 0).size() == 2);
  CHECK(a.skusFor("a100", 8, 0).empty());
  CHECK(gpuMatchesSku("NVIDIA A100-SXM4-80GB", "a100"));
  CHECK(!gpuMatchesSku("NVIDIA L40S", "l4"));
  CHECK(skuComputeCapability("l4") == std::make_pair(8, 9));

  CHECK(!TimingCache::parse("{", "x.json").isOk());
  // Version 1 (SKU keys without the device memory) is refused, naming the version this reads.
  Expected<TimingCache> v1 = TimingCache::parse(R"({"format": "infc-timing-cache", "version": 1, "gpus": {}})", "x.json");
  REQUIRE(!v1.isOk());
  CHECK(v1.status().message().find("timing cache version 1, this infc reads version 2") != std::string::npos);
  CHECK(!TimingCache::parse(R"({"format": "infc-timing-cache", "version": 3, "gpus": {}})", "x.json").isOk());
  CHECK(!TimingCache::parse(R"({"format": "other", "version": 1, "gpus": {}})", "x.json").isOk());
  Expected<TimingCache> badEntry = TimingCache::parse(
      R"({"format": "infc-timing-cache", "version": 2, "gpus": {"k": {"gpu": "g", "sm": "sm_90", "entries": {"conv:s": {"engine": "x"}}}}})",
      "x.json");
  REQUIRE(!badEntry.isOk());
  CHECK(badEntry.status().message() == "x.json: not an infc timing cache (entry 'conv:s' of GPU 'k' is malformed)");
}

TEST_CASE("a build from a timing cache records its tactics and names the layers it lacks", "[timing-cache]") {
  std::unique_ptr<Module> m = convMatmulModule();
  // Which layers the builder asks about (their cache keys).
  Recorder recorder;
  EngineBuildOptions o = options();
  useAutotuner(o, &recorder);
  Expected<EngineBuildResult> probe = buildEngine(*m, o, "m.onnx");
  REQUIRE(probe.isOk());
  REQUIRE(probe->untuned.size() == 2);
  CHECK(probe->untuned[0] == "layer k0_Conv_cudnn (node 'conv1' (Conv))");
  std::string convKey, matmulKey;
  for (const std::string &k : recorder.keys)
    (k.rfind("conv:", 0) == 0 ? convKey : matmulKey) = k;
  REQUIRE(!convKey.empty());
  REQUIRE(!matmulKey.empty());

  GpuSku h200{"NVIDIA H200", 9, 0, 132};
  TimingCache cache;
  cache.put(skuKey(h200), h200, convKey, convEntry(ConvTactic{7, {3, 1}, 512, 0.125, "cuDNN engine 7: 0.1250 ms"}));
  MatmulTactic mt;
  mt.algo.assign(64, 0x5a);
  mt.workspaceBytes = 1024;
  mt.ms = 0.01;
  mt.description = "cuBLASLt algo 2 of 8 timed";
  cache.put(skuKey(h200), h200, matmulKey, matmulEntry(mt));

  CachedTactics fromCache(cache, skuKey(h200));
  EngineBuildOptions c = options();
  useAutotuner(c, &fromCache);
  Expected<EngineBuildResult> built = buildEngine(*m, c, "m.onnx");
  REQUIRE(built.isOk());
  CHECK(built->untuned.empty());
  std::string error;
  std::unique_ptr<rt::EngineView> view = rt::EngineView::fromBytes(built->bytes, error);
  REQUIRE(view);
  bool sawConv = false, sawMatmul = false;
  for (const fb::Layer *l : *view->engine().layers()) {
    if (const fb::CudnnConv *conv = l->impl_as_CudnnConv()) {
      sawConv = true;
      CHECK(conv->engine_id() == 7);
      CHECK(std::vector<int64_t>(conv->knobs()->begin(), conv->knobs()->end()) == std::vector<int64_t>{3, 1});
      CHECK(conv->workspace_bytes() == 512);
      CHECK(l->tactic()->str() == "cuDNN engine 7: 0.1250 ms");
    }
    if (const fb::CublasLtMatmul *mm = l->impl_as_CublasLtMatmul()) {
      sawMatmul = true;
      CHECK(mm->algo()->size() == 64);
      CHECK(mm->workspace_bytes() == 1024);
    }
  }
  CHECK(sawConv);
  CHECK(sawMatmul);
  // The same cache gives the same bytes.
  Expected<EngineBuildResult> again = buildEngine(*m, c, "m.onnx");
  REQUIRE(again.isOk());
  CHECK(again->bytes == built->bytes);
  // Another GPU's entries do not serve this one.
  CachedTactics other(cache, skuKey(GpuSku{"NVIDIA H100 80GB HBM3", 9, 0, 132, 80}));
  EngineBuildOptions d = options();
  useAutotuner(d, &other);
  Expected<EngineBuildResult> missing = buildEngine(*m, d, "m.onnx");
  REQUIRE(missing.isOk());
  CHECK(missing->untuned.size() == 2);
}
