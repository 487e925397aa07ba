// The engine loader rejects every malformed engine with its own error, before any device call:
// truncation at every length, random bit flips and byte overwrites, wrong magic, unknown format
// version, checksum mismatches, FlatBuffers verification failures, out-of-range offsets and sizes,
// dangling references, and an engine built for another compute capability.
// All but the last case run without a GPU ([gpu-free]); the last also runs end to end on a GPU.
#include "gpu_test_util.h"
#include "ir/Parser.h"
#include "runtime/EngineReader.h"
#include "tests/engine_edit.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

using namespace infc;

namespace {

/// x[4x8] -> MatMul(W[8x4], stored as a weight) -> Relu -> y: a cuBLASLt layer, a generated
/// kernel, a weight blob and an arena tensor.
std::string smallEngine(int smMajor = 9, int smMinor = 0) {
  Module m;
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {4, 8}));
  std::vector<float> w(32);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
  AttrMap a;
  a.set("value", Tensor::fromF32(w, {8, 4}));
  TensorType t44 = TensorType::fromStatic(DType::F32, {4, 4});
  Value *wv = g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::F32, {8, 4})}, a, {}, nullptr, {"W"})->result();
  Value *mm = g.body().create(OpKind::OnnxMatMul, {x, wv}, {t44})->result();
  g.addOutput("y", g.body().create(OpKind::OnnxRelu, {mm}, {t44})->result());
  codegen::EngineBuildOptions opts;
  opts.lowering.smMajor = smMajor;
  opts.lowering.smMinor = smMinor;
  auto built = codegen::buildEngine(m, opts, "test");
  REQUIRE(built.isOk());
  return built->bytes;
}

/// A one-convolution engine (a cuDNN layer), built without a GPU.
std::string convEngine() {
  Module m;
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {1, 2, 6, 6}));
  AttrMap a;
  a.set("value", Tensor::fromF32(std::vector<float>(4 * 2 * 3 * 3, 0.5f), {4, 2, 3, 3}));
  Value *w = g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::F32, {4, 2, 3, 3})}, a, {}, nullptr, {"W"})->result();
  g.addOutput("y", g.body().create(OpKind::OnnxConv, {x, w}, {TensorType::fromStatic(DType::F32, {1, 4, 4, 4})})->result());
  auto built = codegen::buildEngine(m, codegen::EngineBuildOptions{}, "test");
  REQUIRE(built.isOk());
  return built->bytes;
}

/// The engine of the IR `text`, built without a GPU.
std::string engineFromIr(const std::string &text, const std::string &name) {
  Expected<std::unique_ptr<Module>> m = parseModule(text, name);
  REQUIRE(m.isOk());
  auto built = codegen::buildEngine(**m, codegen::EngineBuildOptions{}, "test");
  REQUIRE(built.isOk());
  return built->bytes;
}

/// A one-convolution INT8 engine (int8 in and out, an int8 residual, post_mult 0.5), built
/// without a GPU: its CudnnConv table stores `s` and `post_mult`.
std::string int8ConvEngine() {
  std::string w, sc;
  for (int i = 0; i < 64; ++i)
    w += (i ? ", " : "") + std::to_string(i % 5 - 2);
  for (int i = 0; i < 8; ++i)
    sc += (i ? ", " : "") + std::string("0.125");
  std::string text = R"(graph @q(%x: tensor<1x4x4x8xi8>, %z: tensor<1x4x4x8xi8>) -> ("y": tensor<1x4x4x8xi8>) {
  %w = onnx.Constant() {value = dense<[)" + w + R"(]> : tensor<8x1x1x8xi8>} : () -> tensor<8x1x1x8xi8>
  %s = onnx.Constant() {value = dense<[)" + sc + R"(]> : tensor<8xf32>} : () -> tensor<8xf32>
  %y = infc.conv(%x, %w, none, %z, %s) {act = "relu", layout = "nhwc", post_mult = 0.5} : (tensor<1x4x4x8xi8>, tensor<8x1x1x8xi8>, none, tensor<1x4x4x8xi8>, tensor<8xf32>) -> tensor<1x4x4x8xi8>
  return %y
})";
  return engineFromIr(text, "int8.ir");
}

/// A one-matmul FP8 engine (e4m3 [4, 32] x e4m3 [16, 32] -> f16 [4, 16]), built without a GPU: its
/// CublasLtMatmul table stores ab_dtype 17 and fast_accum.
std::string fp8MatmulEngine() {
  std::string w;
  for (int i = 0; i < 16 * 32; ++i)
    w += (i ? ", " : "") + std::to_string((i % 7 - 3) * 0.5);
  std::string text = R"(graph @f(%x: tensor<4x32xf8e4m3>) -> ("y": tensor<4x16xf16>) {
  %w = onnx.Constant() {value = dense<[)" + w + R"(]> : tensor<16x32xf8e4m3>} : () -> tensor<16x32xf8e4m3>
  %y = infc.matmul(%x, %w) {alpha = 0.25, dtype = "f16"} : (tensor<4x32xf8e4m3>, tensor<16x32xf8e4m3>) -> tensor<4x16xf16>
  return %y
})";
  return engineFromIr(text, "fp8.ir");
}

/// A one-matmul INT8 engine (int8 [4, 32] x int8 [16, 32] + float32 bias -> int8 [4, 16]): its
/// CublasLtMatmul table stores ab_dtype 3 and io_dtype 3.
std::string int8MatmulEngine() {
  std::string w, b;
  for (int i = 0; i < 16 * 32; ++i)
    w += (i ? ", " : "") + std::to_string(i % 7 - 3);
  for (int i = 0; i < 16; ++i)
    b += (i ? ", " : "") + std::to_string(i * 0.5);
  std::string text = R"(graph @f(%x: tensor<4x32xi8>) -> ("y": tensor<4x16xi8>) {
  %w = onnx.Constant() {value = dense<[)" + w + R"(]> : tensor<16x32xi8>} : () -> tensor<16x32xi8>
  %b = onnx.Constant() {value = dense<[)" + b + R"(]> : tensor<16xf32>} : () -> tensor<16xf32>
  %y = infc.matmul(%x, %w, %b) {act = "relu", alpha = 0.25, dtype = "i8"} : (tensor<4x32xi8>, tensor<16x32xi8>, tensor<16xf32>) -> tensor<4x16xi8>
  return %y
})";
  return engineFromIr(text, "int8mm.ir");
}

/// The loader's error for `bytes` ("" when it accepts them).
std::string loadError(const std::string &bytes) {
  std::string error;
  auto view = rt::EngineView::fromBytes(bytes, error);
  if (view)
    REQUIRE(error.empty());
  else
    REQUIRE(!error.empty());
  return error;
}

rt::EngineHeader header(const std::string &bytes) { return testing::engineHeader(bytes); }
using testing::reseal;

/// Applies `edit` to the (mutable) FlatBuffer of a copy of `bytes`, reseals, returns the copy.
template <typename F> std::string editEngine(const std::string &bytes, F edit) {
  std::string copy = bytes;
  rt::EngineHeader h = header(copy);
  edit(*fb::GetMutableEngine(copy.data() + h.fbOffset));
  reseal(copy);
  return copy;
}

/// `bytes` with `edit` applied to each of its cuDNN convolution layers, resealed.
template <typename F> std::string editConvLayers(const std::string &bytes, F edit) {
  return editEngine(bytes, [&](fb::Engine &e) {
    for (uint32_t i = 0; i < e.layers()->size(); ++i)
      if (auto *l = e.mutable_layers()->GetMutableObject(i); l->impl_type() == fb::LayerImpl::CudnnConv)
        edit(*const_cast<fb::CudnnConv *>(l->impl_as_CudnnConv()));
  });
}

/// `bytes` with `edit(engine, matmul)` applied to every cuBLASLt matmul layer.
template <typename F> std::string editMatmulLayers(const std::string &bytes, F edit) {
  return editEngine(bytes, [&](fb::Engine &e) {
    for (uint32_t i = 0; i < e.layers()->size(); ++i)
      if (auto *l = e.mutable_layers()->GetMutableObject(i); l->impl_type() == fb::LayerImpl::CublasLtMatmul)
        edit(e, *const_cast<fb::CublasLtMatmul *>(l->impl_as_CublasLtMatmul()));
  });
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

} // namespace

TEST_CASE("a well-formed engine verifies", "[gpu-free]") {
  std::string bytes = smallEngine();
  CHECK(loadError(bytes).empty());
  rt::EngineHeader h = header(bytes);
  CHECK(h.weightsSize > 0);
  CHECK(h.fbSize > 0);
}

TEST_CASE("an engine truncated at every length is rejected as truncated", "[gpu-free]") {
  std::string bytes = smallEngine();
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::string err = loadError(bytes.substr(0, len));
    if (!contains(err, "truncated"))
      FAIL("length " << len << " of " << bytes.size() << ": " << err);
  }
}

TEST_CASE("random bit flips and byte overwrites are rejected", "[gpu-free]") {
  std::string bytes = smallEngine();
  std::mt19937_64 rng(12345);
  // Every bit of the header, then random bits anywhere (sections and padding).
  std::vector<size_t> bits;
  for (size_t b = 0; b < 64 * 8; ++b)
    bits.push_back(b);
  std::uniform_int_distribution<size_t> anyBit(0, bytes.size() * 8 - 1);
  for (int i = 0; i < 4000; ++i)
    bits.push_back(anyBit(rng));
  for (size_t bit : bits) {
    std::string bad = bytes;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    if (loadError(bad).empty())
      FAIL("flipping bit " << bit << " went undetected");
  }
  std::uniform_int_distribution<size_t> anyByte(0, bytes.size() - 1);
  for (int i = 0; i < 1000; ++i) {
    std::string bad = bytes;
    size_t at = anyByte(rng), n = 1 + rng() % 16;
    for (size_t k = at; k < std::min(bytes.size(), at + n); ++k)
      bad[k] = static_cast<char>(rng());
    if (bad != bytes && loadError(bad).empty())
      FAIL("overwriting " << n << " bytes at " << at << " went undetected");
  }
}

TEST_CASE("each header problem has its own error", "[gpu-free]") {
  std::string bytes = smallEngine();
  SECTION("foreign files") {
    CHECK(contains(loadError("ir_version: 8\nproducer_name: \"pytorch\""), "not an infc engine (bad magic)"));
    std::string bad = bytes;
    bad[0] = 'X';
    CHECK(contains(loadError(bad), "not an infc engine (bad magic)"));
  }
  SECTION("unknown format version") {
    std::string bad = bytes;
    rt::EngineHeader h = header(bad);
    h.formatVersion = 2;
    std::memcpy(bad.data(), &h, sizeof h);
    reseal(bad);
    CHECK(loadError(bad) == "engine format version 2, this runtime reads version 1: rebuild the engine");
  }
  SECTION("header checksum") {
    std::string bad = bytes;
    bad[offsetof(rt::EngineHeader, weightsSize)] ^= 0x01;
    CHECK(loadError(bad) == "header checksum mismatch (corrupted file)");
  }
  SECTION("section checksums") {
    rt::EngineHeader h = header(bytes);
    std::string bad = bytes;
    bad[h.fbOffset + h.fbSize / 2] ^= 0x10;
    CHECK(loadError(bad) == "checksum mismatch in the engine description (corrupted file)");
    bad = bytes;
    bad[h.weightsOffset + 4] ^= 0x10;
    CHECK(loadError(bad) == "checksum mismatch in the weight blob (corrupted file)");
  }
  SECTION("sections out of range, overlapping or misaligned") {
    std::string bad = bytes;
    rt::EngineHeader h = header(bad);
    h.weightsSize += 256;
    std::memcpy(bad.data(), &h, sizeof h);
    reseal(bad);
    CHECK(contains(loadError(bad), "truncated: sections end past the"));
    bad = bytes;
    h = header(bad);
    h.weightsOffset = h.fbOffset & ~uint64_t(255);
    std::memcpy(bad.data(), &h, sizeof h);
    reseal(bad);
    CHECK(contains(loadError(bad), "overlap"));
    bad = bytes;
    h = header(bad);
    h.fbOffset += 4;
    std::memcpy(bad.data(), &h, sizeof h);
    reseal(bad);
    CHECK(loadError(bad) == "section offsets are misaligned or overlap the header");
  }
  SECTION("non-zero padding") {
    std::string bad = bytes;
    rt::EngineHeader h = header(bad);
    REQUIRE(h.weightsOffset > h.fbOffset + h.fbSize);
    bad[h.fbOffset + h.fbSize] = 1;
    CHECK(contains(loadError(bad), "outside the engine's sections"));
  }
}

TEST_CASE("a damaged engine description fails FlatBuffers verification or the semantic checks", "[gpu-free]") {
  std::string bytes = smallEngine();
  rt::EngineHeader h = header(bytes);
  SECTION("root offset past the buffer") {
    std::string bad = bytes;
    uint32_t root = 0x7ffffff0u;
    std::memcpy(bad.data() + h.fbOffset, &root, sizeof root);
    reseal(bad);
    CHECK(loadError(bad) == "the engine description fails FlatBuffers verification (corrupted or foreign file)");
  }
  SECTION("wrong file identifier") {
    std::string bad = bytes;
    std::memcpy(bad.data() + h.fbOffset + 4, "ONNX", 4);
    reseal(bad);
    CHECK(loadError(bad) == "the engine description fails FlatBuffers verification (corrupted or foreign file)");
  }
  SECTION("a weight that lies outside the weight blob") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      for (uint32_t i = 0; i < e.tensors()->size(); ++i)
        if (auto *t = e.mutable_tensors()->GetMutableObject(i); t->kind() == fb::TensorKind::Weight) {
          t->mutable_shape()->Mutate(0, 1 << 20);
          REQUIRE(t->mutate_bytes(uint64_t(1 << 20) * 4 * 4));
        }
    });
    CHECK(contains(loadError(bad), "' lies outside the weight blob"));
  }
  SECTION("a tensor that lies outside the arena") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      auto *t = e.mutable_tensors()->GetMutableObject(e.outputs()->Get(0));
      t->mutable_shape()->Mutate(0, int64_t(1) << 30);
      REQUIRE(t->mutate_bytes((uint64_t(1) << 30) * 4 * 4));
    });
    CHECK(contains(loadError(bad), "lies outside the arena"));
  }
  SECTION("a size that disagrees with the shape") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      REQUIRE(e.mutable_tensors()->GetMutableObject(0)->mutate_bytes(3));
    });
    CHECK(contains(loadError(bad), "says 3 bytes, its shape needs"));
  }
  SECTION("a layer that refers to a missing tensor") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      e.mutable_layers()->GetMutableObject(0)->mutable_inputs()->Mutate(0, 999);
    });
    CHECK(contains(loadError(bad), "refers to tensor 999, but the engine has"));
  }
  SECTION("an engine output that refers to a missing tensor") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) { e.mutable_outputs()->Mutate(0, -5); });
    CHECK(loadError(bad) == "an engine output refers to tensor -5, but the engine has " +
                                std::to_string(fb::GetEngine(bytes.data() + h.fbOffset)->tensors()->size()));
  }
  SECTION("a kernel launch with an impossible block") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      for (uint32_t i = 0; i < e.layers()->size(); ++i)
        if (auto *l = e.mutable_layers()->GetMutableObject(i); l->impl_type() == fb::LayerImpl::KernelLaunch)
          const_cast<fb::KernelLaunch *>(l->impl_as_KernelLaunch())->mutable_block()->Mutate(0, 4096);
    });
    CHECK(contains(loadError(bad), "has an invalid block size"));
  }
  SECTION("an arena or workspace of 2^63 bytes") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) { REQUIRE(e.mutate_arena_bytes(uint64_t(1) << 63)); });
    CHECK(contains(loadError(bad), "is more than any GPU holds"));
    bad = editEngine(bytes, [&](fb::Engine &e) { REQUIRE(e.mutate_workspace_bytes(uint64_t(1) << 63)); });
    CHECK(contains(loadError(bad), "is more than any GPU holds"));
  }
  SECTION("a matmul whose sizes exceed its tensors (m = n = k = 2^62)") {
    std::string bad = editMatmulLayers(bytes, [&](fb::Engine &, fb::CublasLtMatmul &m) {
      REQUIRE((m.mutate_m(int64_t(1) << 62) && m.mutate_n(int64_t(1) << 62) && m.mutate_k(int64_t(1) << 62)));
    });
    CHECK(contains(loadError(bad), "computes more elements than its output tensor holds"));
    bad = editMatmulLayers(bytes, [&](fb::Engine &, fb::CublasLtMatmul &m) { REQUIRE(m.mutate_k(int64_t(1) << 40)); });
    CHECK(contains(loadError(bad), "reads more elements than its operands hold"));
  }
  SECTION("an FP8 matmul whose types do not match") {
    std::string fp8 = fp8MatmulEngine();
    CHECK(loadError(fp8).empty());
    auto editMatmul = [&](auto edit) { return editMatmulLayers(fp8, edit); };
    const char *why = "is an FP8 matmul whose operand or result types do not match";
    // A/B dtype other than e4m3 (19: e5m2), a weight that is not e4m3, D in float32.
    CHECK(contains(loadError(editMatmul([](fb::Engine &, fb::CublasLtMatmul &m) { REQUIRE(m.mutate_ab_dtype(19)); })), why));
    CHECK(contains(loadError(editMatmul([](fb::Engine &e, fb::CublasLtMatmul &m) {
                     REQUIRE(e.mutable_tensors()->GetMutableObject(static_cast<uint32_t>(m.b()))->mutate_dtype(3));
                   })),
                   why));
    CHECK(contains(loadError(editMatmul([](fb::Engine &, fb::CublasLtMatmul &m) { REQUIRE(m.mutate_io_dtype(1)); })), why));
  }
  SECTION("an INT8 matmul whose types do not match") {
    std::string i8 = int8MatmulEngine();
    CHECK(loadError(i8).empty());
    auto editMatmul = [&](auto edit) { return editMatmulLayers(i8, edit); };
    const char *why = "is an INT8 matmul whose operand or result types do not match";
    // D in f16, an int32 bias, int8 D with e4m3 operands.
    CHECK(contains(loadError(editMatmul([](fb::Engine &, fb::CublasLtMatmul &m) { REQUIRE(m.mutate_io_dtype(10)); })), why));
    CHECK(contains(loadError(editMatmul([](fb::Engine &e, fb::CublasLtMatmul &m) { // int32: the same bytes
                     REQUIRE(e.mutable_tensors()->GetMutableObject(static_cast<uint32_t>(m.bias()))->mutate_dtype(6));
                   })),
                   why));
    CHECK(contains(loadError(editMatmul([](fb::Engine &, fb::CublasLtMatmul &m) { REQUIRE(m.mutate_ab_dtype(17)); })), why));
  }
  SECTION("a convolution with 0 groups or a 0 stride") {
    std::string conv = convEngine();
    CHECK(loadError(conv).empty());
    auto editConv = [&](auto edit) { return editConvLayers(conv, edit); };
    CHECK(contains(loadError(editConv([](fb::CudnnConv &c) { REQUIRE(c.mutate_groups(0)); })), "has 0 groups"));
    CHECK(contains(loadError(editConv([](fb::CudnnConv &c) { c.mutable_strides()->Mutate(0, 0); })),
                   "has a non-positive stride or dilation"));
  }
  SECTION("an INT8 convolution with a missing scale tensor or a post multiplier that is not positive") {
    std::string conv = int8ConvEngine();
    CHECK(loadError(conv).empty());
    auto editConv = [&](auto edit) { return editConvLayers(conv, edit); };
    CHECK(contains(loadError(editConv([](fb::CudnnConv &c) { REQUIRE(c.mutate_s(999)); })), "refers to tensor 999"));
    CHECK(contains(loadError(editConv([](fb::CudnnConv &c) { REQUIRE(c.mutate_post_mult(-1.0f)); })),
                   "post multiplier that is not positive and finite"));
    CHECK(contains(loadError(editConv([](fb::CudnnConv &c) { REQUIRE(c.mutate_post_mult(std::nanf(""))); })),
                   "post multiplier that is not positive and finite"));
  }
  SECTION("a kernel launch with an empty grid") {
    std::string bad = editEngine(bytes, [&](fb::Engine &e) {
      for (uint32_t i = 0; i < e.layers()->size(); ++i)
        if (auto *l = e.mutable_layers()->GetMutableObject(i); l->impl_type() == fb::LayerImpl::KernelLaunch)
          const_cast<fb::KernelLaunch *>(l->impl_as_KernelLaunch())->mutable_grid()->Mutate(0, 0);
    });
    CHECK(contains(loadError(bad), "has an empty grid"));
  }
}

TEST_CASE("an engine built for another compute capability names both GPUs", "[gpu-free]") {
  std::string bytes = smallEngine(8, 0);
  std::string error;
  auto view = rt::EngineView::fromBytes(bytes, error);
  REQUIRE(view);
  CHECK(rt::checkDeviceMatch(*view->engine().info(), 8, 0, "NVIDIA A100").empty());
  CHECK(rt::checkDeviceMatch(*view->engine().info(), 9, 0, "NVIDIA H100 80GB HBM3") ==
        "engine built for sm_80 (sm_80 target (no GPU at build time)), this GPU is sm_90 (NVIDIA H100 80GB HBM3): rebuild it");
}

TEST_CASE("loading an engine for another compute capability fails on this GPU", "[gpu]") {
  REQUIRE_GPU();
  // Build for a compute capability this GPU does not have (sm_80, or sm_90 on an sm_80 GPU).
  infc_engine *probe = nullptr;
  std::string native = smallEngine(8, 0);
  bool gpuIsSm80 = infc_engine_load_bytes(native.data(), native.size(), &probe) == INFC_OK;
  infc_engine_free(probe);
  std::string foreign = gpuIsSm80 ? smallEngine(9, 0) : native;
  infc_engine *e = nullptr;
  CHECK(infc_engine_load_bytes(foreign.data(), foreign.size(), &e) == INFC_ERROR_WRONG_DEVICE);
  CHECK(e == nullptr);
  std::string msg = infc_last_error();
  INFO(msg);
  CHECK(contains(msg, gpuIsSm80 ? "engine built for sm_90 (" : "engine built for sm_80 ("));
  CHECK(contains(msg, "), this GPU is sm_"));
  CHECK(contains(msg, "): rebuild it"));
}
