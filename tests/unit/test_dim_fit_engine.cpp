// Dim-fit engines built without a GPU (codegen/DimFit.h, buildDimFitEngine): a model lowered at
// seven probe shapes becomes one set of layers over the dims batch and seq, the engine verifier
// refuses dim-fit fields edited out of shape, and the builder refuses probes whose layers or
// weights differ in more than their dims.
#include "codegen/EngineBuilder.h"
#include "ir/Parser.h"
#include "runtime/EngineFormat.h"
#include "runtime/EngineReader.h"
#include "runtime/engine_generated.h"
#include "tests/engine_edit.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>

using namespace infc;
using namespace infc::codegen;

namespace {

/// (batch, seq) at each probe; probe 1 is the largest, probe 2 profile 0's opt.
const std::vector<std::vector<int64_t>> kProbes = {{2, 9}, {8, 64}, {4, 32}, {3, 17}, {5, 33}, {2, 40}, {7, 12}};
constexpr size_t kMaxProbe = 1, kOptProbe = 2;

/// `text` with "@B" and "@S" replaced by `b` and `s`, and "@C" by `c`.
std::string subst(std::string text, const std::string &b, const std::string &s, const std::string &c = "") {
  for (auto [key, value] : {std::pair<std::string, std::string>{"@B", b}, {"@S", s}, {"@C", c}})
    for (size_t k; (k = text.find(key)) != std::string::npos;)
      text.replace(k, key.size(), value);
  return text;
}

std::unique_ptr<Module> parsed(const std::string &text) {
  Expected<std::unique_ptr<Module>> m = parseModule(text, "dimfit.ir");
  INFO(text);
  REQUIRE(m.isOk());
  return std::move(*m);
}

/// A model at every probe shape: `text(p)` parsed, with its reference `symbolic` (dims named
/// batch and seq); the modules stay alive as long as this does.
struct Probes {
  std::vector<std::unique_ptr<Module>> keep;
  DimFitModules mods;
};

Probes probes(const std::function<std::string(size_t)> &text, const std::string &symbolic) {
  Probes r;
  for (size_t p = 0; p < kProbes.size(); ++p) {
    r.keep.push_back(parsed(text(p)));
    r.mods.probes.push_back(r.keep.back().get());
  }
  r.keep.push_back(parsed(symbolic));
  r.mods.reference = r.keep.back().get();
  r.mods.probeDims = kProbes;
  r.mods.dims = {DimAtom{0, 0, 0, 1, "batch"}, DimAtom{0, 1, 0, 1, "seq"}};
  r.mods.maxProbe = kMaxProbe;
  r.mods.optProbe = kOptProbe;
  return r;
}

Expected<EngineBuildResult> build(const Probes &p) {
  EngineBuildOptions o;
  o.referenceIr = "graph";
  std::vector<ProfileRanges> profiles{{{"x", {1, 1, 8}, {4, 32, 8}, {8, 64, 8}}}};
  return buildDimFitEngine(p.mods, profiles, o, "dimfit.ir");
}

/// An engine built from `p` and read back (the build and the reader's checks must pass).
struct Built {
  std::string bytes;
  std::unique_ptr<rt::EngineView> view;
};
Built buildAndRead(const Probes &p) {
  Expected<EngineBuildResult> built = build(p);
  INFO((built.isOk() ? "" : built.status().message()));
  REQUIRE(built.isOk());
  std::string err;
  Built b{built->bytes, rt::EngineView::fromBytes(built->bytes, err)};
  INFO(err);
  REQUIRE(b.view);
  return b;
}

const char *kGraph = R"(graph @g(%x: tensor<@Bx@Sx8xf32>) -> ("y": tensor<@Bx@Sx8xf32>) {
  %r = onnx.Relu(%x) : (tensor<@Bx@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  %s = onnx.Sigmoid(%r) : (tensor<@Bx@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  return %s
}
)";

std::string atProbe(const std::string &text, size_t p, const std::string &c = "") {
  return subst(text, std::to_string(kProbes[p][0]), std::to_string(kProbes[p][1]), c);
}

std::string symbolic(const std::string &text) { return subst(text, "\"batch\"", "\"seq\""); }

using testing::mutableEngine;
using testing::reseal;

/// The first kernel launch that sizes its grid from the dims.
fb::KernelLaunch *dimKernel(fb::Engine &e) {
  for (uint32_t l = 0; l < e.layers()->size(); ++l)
    if (fb::Layer *layer = e.mutable_layers()->GetMutableObject(l);
        layer->impl_type() == fb::LayerImpl::KernelLaunch && layer->impl_as_KernelLaunch()->grid_exprs())
      return static_cast<fb::KernelLaunch *>(layer->mutable_impl());
  return nullptr;
}

/// `text` with a constant of shape 1 x seq x 8 added to x, its value at probe p `value(p, i)`
/// for element i.
std::string withConstant(size_t p, const std::function<int64_t(size_t, int64_t)> &value) {
  const std::string text = R"(graph @g(%x: tensor<@Bx@Sx8xf32>) -> ("y": tensor<@Bx@Sx8xf32>) {
  %c = onnx.Constant() {value = dense<[@C]> : tensor<1x@Sx8xf32>} : () -> tensor<1x@Sx8xf32>
  %y = onnx.Add(%x, %c) : (tensor<@Bx@Sx8xf32>, tensor<1x@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  return %y
}
)";
  std::string c;
  for (int64_t i = 0; i < kProbes[p][1] * 8; ++i)
    c += (i ? ", " : "") + std::to_string(value(p, i)) + ".0";
  return atProbe(text, p, c);
}

} // namespace

TEST_CASE("a dim-fit engine is built at seven probe shapes and verified without a GPU", "[dimfit-engine]") {
  Probes p = probes([](size_t i) { return atProbe(kGraph, i); }, symbolic(kGraph));
  Built built = buildAndRead(p);
  const fb::Engine &e = built.view->engine();
  CHECK(e.batch_max() == 0);
  REQUIRE(e.dim_atoms());
  REQUIRE(e.dim_atoms()->size() == 2);
  CHECK(e.dim_atoms()->Get(0)->name()->str() == "batch");
  CHECK(e.dim_atoms()->Get(1)->name()->str() == "seq");
  REQUIRE(e.profiles());
  CHECK(e.profiles()->size() == 1);

  const fb::Tensor *x = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(0)));
  REQUIRE(x->shape()->size() == 3);
  CHECK(std::vector<int64_t>(x->shape()->begin(), x->shape()->end()) == std::vector<int64_t>{-1, -1, 8});
  REQUIRE(x->dims());
  REQUIRE(x->dims()->size() == 3);
  const fb::DimExpr *s = x->dims()->Get(1); // 1 * seq
  REQUIRE(s->terms());
  REQUIRE(s->terms()->size() == 1);
  CHECK(s->terms()->Get(0)->coef() == 1);
  CHECK(std::vector<uint8_t>(s->terms()->Get(0)->atoms()->begin(), s->terms()->Get(0)->atoms()->end()) == std::vector<uint8_t>{1});
  CHECK(x->bytes() >= 8 * 64 * 8 * 4); // planned at the largest shape
  const fb::Tensor *y = e.tensors()->Get(static_cast<uint32_t>(e.outputs()->Get(0)));
  REQUIRE(y->dims());
  CHECK(y->dims()->size() == 3);
  CHECK(y->shape()->Get(1) == -1);
  CHECK(e.arena_bytes() >= 2 * 8 * 64 * 8 * 4); // the input and the output, both at the largest shape

  size_t fitted = 0;
  for (const fb::Layer *l : *e.layers())
    if (const fb::KernelLaunch *k = l->impl_as_KernelLaunch(); k && k->grid_exprs())
      fitted += k->grid_exprs()->size() == 3 && k->dims_param();
  CHECK(fitted >= 1); // a kernel launched over the dims, taking them as its last parameter

  // Each edit on a fresh copy; `edit` says whether the field was in the buffer to be edited.
  auto refusedEdit = [&](const std::function<bool(fb::Engine &)> &edit, const std::string &why) {
    std::string bytes = built.bytes;
    REQUIRE(edit(*mutableEngine(bytes)));
    reseal(bytes);
    std::string e2 = rt::EngineView::verify(bytes);
    INFO(e2);
    CHECK(e2.find(why) != std::string::npos);
  };
  auto seq = [](fb::Engine &m) { return m.mutable_dim_atoms()->GetMutableObject(1); };
  // Atom 1 (input 0, axis 1) stores its axis; its input 0, offset 0 and divisor 1 are defaults,
  // which FlatBuffers leaves out of the buffer, so an edit of those cannot be made in place.
  refusedEdit([&](fb::Engine &m) { return seq(m)->mutate_axis(2); }, "refers to no dynamic dim of input 'x'");
  std::string copy = built.bytes;
  CHECK_FALSE(seq(*mutableEngine(copy))->mutate_divisor(0)); // not in the buffer
  refusedEdit(
      [](fb::Engine &m) {
        auto *dims = m.mutable_tensors()->GetMutableObject(static_cast<uint32_t>(m.inputs()->Get(0)))->mutable_dims();
        fb::DimTerm *term = dims->GetMutableObject(1)->mutable_terms()->GetMutableObject(0);
        return term->atoms() && term->atoms()->size() == 1 && term->mutate_coef(-1);
      },
      "has a bad dim expression for dim 1");
  refusedEdit(
      [](fb::Engine &m) {
        return m.mutable_tensors()->GetMutableObject(static_cast<uint32_t>(m.inputs()->Get(0)))->mutate_bytes(8 * 64 * 8 * 4 - 4);
      },
      "bytes at the largest shape");
  refusedEdit(
      [](fb::Engine &m) {
        fb::KernelLaunch *k = dimKernel(m);
        return k && k->mutable_grid_exprs()->GetMutableObject(0)->mutate_per(0);
      },
      "has a bad launch size expression");
  // batch_max 0 is a default and not in the buffer either: the same check is hit by emptying the
  // profiles (the vector's length, in place).
  CHECK_FALSE(mutableEngine(copy)->mutate_batch_max(4));
  refusedEdit(
      [](fb::Engine &m) {
        uint32_t zero = 0;
        std::memcpy(static_cast<void *>(m.mutable_profiles()), &zero, sizeof zero);
        return m.profiles()->size() == 0;
      },
      "a dim-fit engine without profiles, with a batch loop or with more than 16 dims");
}

TEST_CASE("probes whose layers differ are refused", "[dimfit-engine]") {
  const std::string extra = R"(graph @g(%x: tensor<@Bx@Sx8xf32>) -> ("y": tensor<@Bx@Sx8xf32>) {
  %r = onnx.Relu(%x) : (tensor<@Bx@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  %s = onnx.Sigmoid(%r) : (tensor<@Bx@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  %t = onnx.Softmax(%s) {axis = -1} : (tensor<@Bx@Sx8xf32>) -> tensor<@Bx@Sx8xf32>
  return %t
}
)";
  Probes p = probes([&](size_t i) { return atProbe(i == 4 ? extra : kGraph, i); }, symbolic(kGraph));
  Expected<EngineBuildResult> built = build(p);
  REQUIRE_FALSE(built.isOk());
  INFO(built.status().message());
  CHECK(built.status().code() == StatusCode::Unsupported);
  CHECK(built.status().message().find("so one set of GPU layers cannot serve every shape of the profiles") != std::string::npos);
  CHECK(built.status().message().find("layers at one shape") != std::string::npos);
}

TEST_CASE("a weight that follows seq must be cut short from the largest one", "[dimfit-engine]") {
  const std::string reference = symbolic(kGraph);
  // Element i of the constant at seq S: S * 8 - i, which no smaller S shares with the largest.
  Probes shifted = probes([](size_t i) { return withConstant(i, [](size_t p, int64_t k) { return kProbes[p][1] * 8 - k; }); },
                          reference);
  Expected<EngineBuildResult> refused = build(shifted);
  REQUIRE_FALSE(refused.isOk());
  INFO(refused.status().message());
  CHECK(refused.status().code() == StatusCode::Unsupported);
  CHECK(refused.status().message().find("constant 'c' changes with the shape in another way than being cut short") !=
        std::string::npos);

  // Element i: i, so every probe's constant is the first seq x 8 elements of the largest.
  Probes cut = probes([](size_t i) { return withConstant(i, [](size_t, int64_t k) { return k; }); }, reference);
  Built built = buildAndRead(cut);
  const fb::Engine &e = built.view->engine();
  size_t weights = 0;
  for (const fb::Tensor *t : *e.tensors())
    if (t->kind() == fb::TensorKind::Weight && t->dims()) {
      ++weights;
      CHECK(t->bytes() == 64 * 8 * 4); // stored at the largest seq
      CHECK(t->shape()->Get(1) == -1);
    }
  CHECK(weights == 1);
}
