// End-to-end GPU smoke tests: graph -> engine -> runtime, checked against hand-written CPU math.
// (The per-kernel case tables against the reference interpreter live in test_gpu_kernels.cpp.)
#include "gpu_test_util.h"

#include "runtime/RuntimeImpl.h"

#include <catch2/catch.hpp>

#include <random>

using namespace infc;
using namespace infc::gputest;

static Value *constant(Graph &g, const Tensor &t, const std::string &name) {
  AttrMap a;
  a.set("value", t);
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t.dtype(), t.shape())}, a, {}, nullptr, {name})->result();
}

TEST_CASE("elementwise chain with broadcast runs on the GPU", "[gpu]") {
  REQUIRE_GPU();
  Module m;
  Graph &g = m.addGraph("main");
  TensorType t23 = TensorType::fromStatic(DType::F32, {2, 3});
  Value *x = g.body().addArgument("x", t23);
  Value *b = constant(g, Tensor::fromF32({1, 2, 3}, {3}), "b");
  Operation *relu = g.body().create(OpKind::OnnxRelu, {x}, {t23});
  Operation *add = g.body().create(OpKind::OnnxAdd, {relu->result(), b}, {t23});
  g.addOutput("y", add->result());
  Tensor in = Tensor::fromF32({-1, 0.5f, 2, 3, -4, 5}, {2, 3});
  auto out = buildAndRun(m, {in});
  REQUIRE(out.isOk());
  std::vector<float> want = {1, 2.5f, 5, 4, 2, 8};
  for (int i = 0; i < 6; ++i)
    CHECK((*out)[0].data<float>()[i] == want[static_cast<size_t>(i)]);
}

TEST_CASE("MatMul and Gemm run through cuBLASLt", "[gpu]") {
  REQUIRE_GPU();
  for (bool transB : {false, true}) {
    Module m;
    Graph &g = m.addGraph("main");
    const int64_t M = 7, K = 9, N = 5;
    Value *a = g.body().addArgument("a", TensorType::fromStatic(DType::F32, {M, K}));
    Tensor wt = randomF32(transB ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, 3);
    Tensor bt = randomF32({N}, 4);
    AttrMap attrs;
    attrs.set("transB", int64_t(transB));
    Operation *gemm = g.body().create(OpKind::OnnxGemm, {a, constant(g, wt, "w"), constant(g, bt, "bias")},
                                      {TensorType::fromStatic(DType::F32, {M, N})}, attrs);
    g.addOutput("y", gemm->result());
    Tensor in = randomF32({M, K}, 5);
    auto out = buildAndRun(m, {in});
    REQUIRE(out.isOk());
    Tensor want(DType::F32, {M, N});
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = bt.data<float>()[j];
        for (int64_t k = 0; k < K; ++k)
          s += double(in.data<float>()[i * K + k]) * wt.data<float>()[transB ? j * K + k : k * N + j];
        want.mutableData<float>()[i * N + j] = static_cast<float>(s);
      }
    CHECK(toleranceRatio((*out)[0], want, 1e-4, 1e-5) <= 1.0);
  }
}

TEST_CASE("batched MatMul runs as one strided cuBLASLt call", "[gpu]") {
  REQUIRE_GPU();
  Module m;
  Graph &g = m.addGraph("main");
  Value *a = g.body().addArgument("a", TensorType::fromStatic(DType::F32, {2, 3, 4, 5}));
  Value *b = g.body().addArgument("b", TensorType::fromStatic(DType::F32, {2, 3, 5, 6}));
  Operation *mm = g.body().create(OpKind::OnnxMatMul, {a, b}, {TensorType::fromStatic(DType::F32, {2, 3, 4, 6})});
  g.addOutput("y", mm->result());
  Tensor ta = randomF32({2, 3, 4, 5}, 1), tb = randomF32({2, 3, 5, 6}, 2);
  auto out = buildAndRun(m, {ta, tb});
  REQUIRE(out.isOk());
  Tensor want(DType::F32, {2, 3, 4, 6});
  for (int64_t bt = 0; bt < 6; ++bt)
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        double s = 0;
        for (int64_t k = 0; k < 5; ++k)
          s += double(ta.data<float>()[bt * 20 + i * 5 + k]) * tb.data<float>()[bt * 30 + k * 6 + j];
        want.mutableData<float>()[bt * 24 + i * 6 + j] = static_cast<float>(s);
      }
  CHECK(toleranceRatio((*out)[0], want, 1e-4, 1e-5) <= 1.0);
}

TEST_CASE("Conv with bias runs through the cuDNN graph API", "[gpu]") {
  REQUIRE_GPU();
  Module m;
  Graph &g = m.addGraph("main");
  const int64_t N = 2, C = 3, H = 8, W = 8, K = 4;
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {N, C, H, W}));
  Tensor wt = randomF32({K, C, 3, 3}, 7), bt = randomF32({K}, 8);
  AttrMap attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Operation *conv = g.body().create(OpKind::OnnxConv, {x, constant(g, wt, "w"), constant(g, bt, "b")},
                                    {TensorType::fromStatic(DType::F32, {N, K, H, W})}, attrs);
  g.addOutput("y", conv->result());
  Tensor in = randomF32({N, C, H, W}, 9);
  auto out = buildAndRun(m, {in});
  REQUIRE(out.isOk());
  Tensor want(DType::F32, {N, K, H, W});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          double s = bt.data<float>()[k];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t q = 0; q < 3; ++q) {
                int64_t ih = h + r - 1, iw = w + q - 1;
                if (ih < 0 || iw < 0 || ih >= H || iw >= W)
                  continue;
                s += double(in.data<float>()[((n * C + c) * H + ih) * W + iw]) * wt.data<float>()[((k * C + c) * 3 + r) * 3 + q];
              }
          want.mutableData<float>()[((n * K + k) * H + h) * W + w] = static_cast<float>(s);
        }
  // cuDNN may use TF32-free FP32 algorithms or Winograd: allow 1e-4 relative.
  CHECK(toleranceRatio((*out)[0], want, 1e-4, 1e-4) <= 1.0);
}

TEST_CASE("binding a device address that is not 16-byte aligned is refused", "[gpu]") {
  REQUIRE_GPU();
  Module m;
  Graph &g = m.addGraph("main");
  TensorType t8 = TensorType::fromStatic(DType::F32, {8});
  Value *x = g.body().addArgument("x", t8);
  g.addOutput("y", g.body().create(OpKind::OnnxRelu, {x}, {t8})->result());
  rt::DeviceInfo dev;
  REQUIRE(rt::queryDevice(dev).empty());
  codegen::EngineBuildOptions opts;
  opts.lowering.smMajor = dev.smMajor;
  opts.lowering.smMinor = dev.smMinor;
  Expected<codegen::EngineBuildResult> built = codegen::buildEngine(m, opts, "engine");
  REQUIRE(built.isOk());
  infc_engine *e = nullptr;
  REQUIRE(infc_engine_load_bytes(built->bytes.data(), built->bytes.size(), &e) == INFC_OK);
  infc_context *c = nullptr;
  REQUIRE(infc_context_create(e, &c) == INFC_OK);
  void *p = nullptr;
  REQUIRE(infc_context_tensor_address(c, "x", &p) == INFC_OK);
  CHECK(infc_context_set_input(c, "x", static_cast<char *>(p) + 4) == INFC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(infc_last_error()).find("input 'x': device address is not 16-byte aligned") != std::string::npos);
  CHECK(infc_context_set_output(c, "y", static_cast<char *>(p) + 8) == INFC_ERROR_INVALID_ARGUMENT);
  CHECK(infc_context_set_input(c, "x", static_cast<char *>(p) + 16) == INFC_OK);
  infc_context_free(c);
  infc_engine_free(e);
}
