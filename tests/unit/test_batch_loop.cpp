// Batch-loop engines without a GPU (codegen/BatchLoop.h): which values grow with the batch, which
// ops keep batch items apart (and the ones refused, naming the op), generated kernels rewritten to
// take one item per grid.z index, and the engine verifier on batch-loop fields.
#include "codegen/BatchLoop.h"
#include "codegen/EngineBuilder.h"
#include "ir/Parser.h"
#include "runtime/EngineFormat.h"
#include "runtime/EngineReader.h"
#include "runtime/engine_generated.h"
#include "tests/engine_edit.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <tuple>

using namespace infc;
using namespace infc::codegen;

namespace {

/// `text` (with B for the batch, 2B for twice it) at batch 1 and batch 2, parsed.
std::pair<std::unique_ptr<Module>, std::unique_ptr<Module>> atBatches(const std::string &text) {
  std::unique_ptr<Module> out[2];
  for (int b = 1; b <= 2; ++b) {
    std::string t;
    for (size_t p = 0; p < text.size(); ++p) {
      if (text.compare(p, 2, "2B") == 0) {
        t.append(std::to_string(2 * b));
        ++p;
      } else if (text[p] == 'B') {
        t.append(std::to_string(b));
      } else {
        t.push_back(text[p]);
      }
    }
    Expected<std::unique_ptr<Module>> m = parseModule(t, "batch.ir");
    INFO(t);
    REQUIRE(m.isOk());
    out[b - 1] = std::move(*m);
  }
  return {std::move(out[0]), std::move(out[1])};
}

Expected<BatchClasses> classify(const std::string &text, std::pair<std::unique_ptr<Module>, std::unique_ptr<Module>> &keep) {
  keep = atBatches(text);
  return classifyBatch(*keep.first->mainGraph(), *keep.second->mainGraph(), "batch.ir");
}

void refused(const std::string &text, const std::string &why) {
  std::pair<std::unique_ptr<Module>, std::unique_ptr<Module>> keep;
  Expected<BatchClasses> c = classify(text, keep);
  REQUIRE_FALSE(c.isOk());
  INFO(c.status().message());
  CHECK(c.status().code() == StatusCode::Unsupported);
  CHECK(c.status().message().find(why) != std::string::npos);
}

} // namespace

TEST_CASE("values that grow with the batch, and ops that keep items apart", "[batchloop]") {
  std::pair<std::unique_ptr<Module>, std::unique_ptr<Module>> keep;
  Expected<BatchClasses> c = classify(R"(graph @g(%x: tensor<Bx4x6xf32>, %ids: tensor<Bx3xi64>) -> ("y": tensor<Bx6x4xf32>, "e": tensor<Bx3x2xf32>) {
  %w = onnx.Constant() {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]> : tensor<5x2xf32>} : () -> tensor<5x2xf32>
  %t = onnx.Transpose(%x) {perm = [0, 2, 1]} : (tensor<Bx4x6xf32>) -> tensor<Bx6x4xf32>
  %s = onnx.Softmax(%t) {axis = -1} : (tensor<Bx6x4xf32>) -> tensor<Bx6x4xf32>
  %e = onnx.Gather(%w, %ids) {axis = 0} : (tensor<5x2xf32>, tensor<Bx3xi64>) -> tensor<Bx3x2xf32>
  return %s, %e
}
)",
                                      keep);
  REQUIRE(c.isOk());
  const Graph &g = *keep.first->mainGraph();
  CHECK(c->scaled(g.body().argument(0)));
  CHECK(c->itemDim0.at(g.body().argument(0)) == 1);
  CHECK(c->itemBytes(g.body().argument(0)) == 4 * 6 * 4);
  CHECK(c->scaled(g.outputs()[1].value));
  size_t weights = 0;
  for (const auto &op : g.body().ops())
    weights += op->is(OpKind::OnnxConstant) && !c->scaled(op->result());
  CHECK(weights == 1);
}

TEST_CASE("ops that mix batch items are refused, naming the op", "[batchloop]") {
  refused(R"(graph @g(%x: tensor<Bx4xf32>) -> ("y": tensor<4xBxf32>) {
  %t = onnx.Transpose(%x) {perm = [1, 0]} : (tensor<Bx4xf32>) -> tensor<4xBxf32>
  return %t
}
)",
          "only dim 0 may grow with the batch");
  refused(R"(graph @g(%x: tensor<Bx4xf32>) -> ("y": tensor<Bx4xf32>) {
  %s = onnx.Softmax(%x) {axis = 0} : (tensor<Bx4xf32>) -> tensor<Bx4xf32>
  return %s
}
)",
          "it works along dim 0, the batch ('axis')");
  refused(R"(graph @g(%x: tensor<Bx4xf32>) -> ("y": tensor<Bx4xf32>) {
  %a = onnx.Constant() {value = dense<[0]> : tensor<1xi64>} : () -> tensor<1xi64>
  %m = onnx.ReduceMean(%x, %a) {keepdims = 1} : (tensor<Bx4xf32>, tensor<1xi64>) -> tensor<1x4xf32>
  %y = onnx.Sub(%x, %m) : (tensor<Bx4xf32>, tensor<1x4xf32>) -> tensor<Bx4xf32>
  return %y
}
)",
          "its result 'm' does not grow with the batch though an operand does");
  // Concat along the batch doubles dim 0 like a batch would, and still mixes items.
  refused(R"(graph @g(%x: tensor<Bx4xf32>) -> ("y": tensor<2Bx4xf32>) {
  %c = onnx.Concat(%x, %x) {axis = 0} : (tensor<Bx4xf32>, tensor<Bx4xf32>) -> tensor<2Bx4xf32>
  return %c
}
)",
          "it works along dim 0, the batch ('axis')");
  // A row vector broadcast against a batch-major operand of higher rank: the batch would line
  // up with another dim.
  refused(R"(graph @g(%x: tensor<Bx4xf32>, %z: tensor<3xBx4xf32>) -> ("y": tensor<3xBx4xf32>) {
  %y = onnx.Add(%x, %z) : (tensor<Bx4xf32>, tensor<3xBx4xf32>) -> tensor<3xBx4xf32>
  return %y
}
)",
          "only dim 0 may grow with the batch");
}

TEST_CASE("a constant the size of the batch is shared when its items are all alike", "[batchloop]") {
  auto pair = [](const char *second) {
    std::string one = R"(graph @g(%x: tensor<1x2xf32>) -> ("y": tensor<1x2xf32>) {
  %c = onnx.Constant() {value = dense<[1.0, 2.0]> : tensor<1x2xf32>} : () -> tensor<1x2xf32>
  %y = onnx.Add(%x, %c) : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y
}
)";
    std::string two = std::string(R"(graph @g(%x: tensor<2x2xf32>) -> ("y": tensor<2x2xf32>) {
  %c = onnx.Constant() {value = dense<)") + second + R"(> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %y = onnx.Add(%x, %c) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y
}
)";
    auto m1 = parseModule(one, "one.ir"), m2 = parseModule(two, "two.ir");
    REQUIRE(m1.isOk());
    REQUIRE(m2.isOk());
    Expected<BatchClasses> c = classifyBatch(*(*m1)->mainGraph(), *(*m2)->mainGraph(), "b.ir");
    return std::make_tuple(c.isOk(), c.isOk() ? c->itemDim0.size() : 0, c.isOk() ? "" : c.status().message());
  };
  auto [sameOk, scaled, sameMsg] = pair("[1.0, 2.0, 1.0, 2.0]");
  CHECK(sameOk);
  CHECK(scaled == 2); // x and y; the constant is one item read by every item
  auto [diffOk, unused, diffMsg] = pair("[1.0, 2.0, 3.0, 4.0]");
  CHECK_FALSE(diffOk);
  CHECK(diffMsg.find("constant 'c' grows with the batch and differs from one batch item to the next") != std::string::npos);
}

TEST_CASE("a kernel written for one item takes one item per grid.z index", "[batchloop]") {
  KernelLayer k;
  k.function = "k3_Add";
  k.source = "__device__ float helper(float v) { return v; }\n"
             "extern \"C\" __global__ void k3_Add(const float* __restrict__ in0, const float* __restrict__ in1, "
             "float* __restrict__ out0, long long n) {\n"
             "  long long i = (long long)blockIdx.z * n + blockIdx.x * blockDim.x + threadIdx.x;\n"
             "  if (gridDim.z > 1 || i >= n) return;\n"
             "  out0[i] = helper(in0[i] + in1[i]);\n}\n";
  k.grid = {4, 1, 1};
  Value *none = nullptr;
  k.args = {KernelArg::tensor(none), KernelArg::tensor(none), KernelArg::tensor(none), KernelArg::i64(256)};
  KernelLayer bad = k;
  REQUIRE(makeBatchLoopKernel(k, {1024, 0, 1024, 0}).isOk());
  CHECK(k.source.find("in0 = (decltype(in0))((const char *)in0 + (long long)blockIdx.z * 1024LL);") != std::string::npos);
  CHECK(k.source.find("out0 = (decltype(out0))((const char *)out0 + (long long)blockIdx.z * 1024LL);") != std::string::npos);
  CHECK(k.source.find("in1 = ") == std::string::npos); // the same tensor for every item
  // The kernel's own z index was 0 at batch 1, and stays so.
  CHECK(k.source.find("long long i = (long long)0 * n") != std::string::npos);
  CHECK(k.source.find("if (1 > 1 || i >= n)") != std::string::npos);
  CHECK(k.source.find("__device__ float helper(float v) { return v; }") == 0);
  // A scalar cannot move with the batch, a kernel must take grid.z 1 at batch 1, and its
  // parameters must be its arguments.
  KernelLayer scalar = bad;
  CHECK_FALSE(makeBatchLoopKernel(scalar, {0, 0, 0, 8}).isOk());
  KernelLayer z = bad;
  z.grid[2] = 2;
  CHECK_FALSE(makeBatchLoopKernel(z, {4, 0, 4, 0}).isOk());
  KernelLayer fewer = bad;
  fewer.args.pop_back();
  CHECK_FALSE(makeBatchLoopKernel(fewer, {4, 0, 4}).isOk());
}

namespace {

using testing::mutableEngine;
using testing::reseal;

} // namespace

TEST_CASE("a batch-loop engine is built and verified without a GPU", "[batchloop]") {
  const std::string text = R"(graph @g(%x: tensor<Bx64xf32>) -> ("y": tensor<Bx64xf32>) {
  %r = onnx.Relu(%x) : (tensor<Bx64xf32>) -> tensor<Bx64xf32>
  %s = onnx.Sigmoid(%r) : (tensor<Bx64xf32>) -> tensor<Bx64xf32>
  return %s
}
)";
  auto [one, two] = atBatches(text);
  Expected<std::unique_ptr<Module>> reference = parseModule(R"(graph @g(%x: tensor<"n"x64xf32>) -> ("y": tensor<"n"x64xf32>) {
  %r = onnx.Relu(%x) : (tensor<"n"x64xf32>) -> tensor<"n"x64xf32>
  return %r
}
)",
                                                            "batch.ir");
  REQUIRE(reference.isOk());
  EngineBuildOptions o;
  o.referenceIr = "graph";
  std::vector<ProfileRanges> profiles{{{"x", {1, 64}, {2, 64}, {16, 64}}}};
  BatchLoopModules mods{one.get(), two.get(), two.get(), reference->get(), 2, 16, {}, {}};
  Expected<EngineBuildResult> built = buildBatchLoopEngine(mods, profiles, o, "batch.ir");
  REQUIRE(built.isOk());
  std::string err;
  auto view = rt::EngineView::fromBytes(built->bytes, err);
  REQUIRE(view);
  const fb::Engine &e = view->engine();
  CHECK(e.batch_max() == 16);
  const fb::Tensor *x = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(0)));
  CHECK(x->batch_dim0() == 1);
  CHECK(x->shape()->Get(0) == -1);
  CHECK(x->bytes() == 64 * 4);                 // one item's
  CHECK(e.arena_bytes() >= 2 * 16 * 64 * 4);   // planned at the largest batch
  REQUIRE(e.layers()->size() >= 1);
  CHECK(e.layers()->Get(0)->impl_as_KernelLaunch()->batch_grid_z());

  auto refusedEdit = [&](const std::function<void(fb::Engine &)> &edit, const std::string &why) {
    std::string bytes = built->bytes;
    edit(*mutableEngine(bytes));
    reseal(bytes);
    std::string e2 = rt::EngineView::verify(bytes);
    INFO(e2);
    CHECK(e2.find(why) != std::string::npos);
  };
  refusedEdit([](fb::Engine &m) { m.mutate_batch_max(0); }, "neither a batch-loop nor a dim-fit engine");
  refusedEdit([](fb::Engine &m) { m.mutate_batch_max(70000); }, "largest batch of 70000");
  refusedEdit([](fb::Engine &m) { m.mutate_batch_max(8); }, "passes the engine's largest batch");
  refusedEdit([](fb::Engine &m) { m.mutable_tensors()->GetMutableObject(0)->mutate_batch_dim0(-1); }, "grows with the batch, and cannot");
  refusedEdit([](fb::Engine &m) { m.mutable_tensors()->GetMutableObject(0)->mutate_bytes(64 * 4 * 16); }, "its shape needs");
}

TEST_CASE("further profiles whose opt batch was already lowered reuse that lowering", "[batchloop]") {
  auto [one, two] = atBatches(R"(graph @g(%x: tensor<Bx8xf32>) -> ("y": tensor<Bx8xf32>) {
  %w = onnx.Constant() {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
  %m = onnx.MatMul(%x, %w) : (tensor<Bx8xf32>, tensor<8x8xf32>) -> tensor<Bx8xf32>
  %r = onnx.Relu(%m) : (tensor<Bx8xf32>) -> tensor<Bx8xf32>
  return %r
}
)");
  Expected<std::unique_ptr<Module>> reference = parseModule(R"(graph @g(%x: tensor<"n"x8xf32>) -> ("y": tensor<"n"x8xf32>) {
  %r = onnx.Relu(%x) : (tensor<"n"x8xf32>) -> tensor<"n"x8xf32>
  return %r
}
)",
                                                            "batch.ir");
  REQUIRE(reference.isOk());
  EngineBuildOptions o;
  o.referenceIr = "graph";
  // Profile 0 opt 2 (the batch-2 graph), profile 1 opt 1 and profile 2 opt 2: every lowering reused.
  std::vector<ProfileRanges> profiles{{{"x", {1, 8}, {2, 8}, {4, 8}}}, {{"x", {1, 8}, {1, 8}, {1, 8}}},
                                      {{"x", {2, 8}, {2, 8}, {16, 8}}}};
  BatchLoopModules mods{one.get(), two.get(), two.get(), reference->get(), 2, 16, {one.get(), two.get()}, {1, 2}};
  Expected<EngineBuildResult> built = buildBatchLoopEngine(mods, profiles, o, "batch.ir");
  REQUIRE(built.isOk());
  std::string err;
  auto view = rt::EngineView::fromBytes(built->bytes, err);
  REQUIRE(view);
  size_t matmuls = 0;
  for (const fb::Layer *l : *view->engine().layers())
    if (const fb::CublasLtMatmul *mm = l->impl_as_CublasLtMatmul()) {
      ++matmuls;
      CHECK(mm->scale_m());
      REQUIRE(mm->profile_tactics());
      CHECK(mm->profile_tactics()->size() == 2); // one per further profile (untimed here)
    }
  CHECK(matmuls == 1);
}
