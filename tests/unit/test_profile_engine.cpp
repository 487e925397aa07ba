// Engines with optimization profiles (codegen::buildProfileEngine) and what the engine verifier
// accepts of them, without a GPU: dynamic dims as -1 with no size, one range per input of its
// rank, static dims fixed in every profile, 1 <= min <= opt <= max.
#include "codegen/EngineBuilder.h"
#include "compiler/EngineReference.h"
#include "compiler/ProfileSelect.h"
#include "ir/Parser.h"
#include "runtime/EngineReader.h"
#include "runtime/engine_generated.h"

#include <catch2/catch.hpp>

using namespace infc;

namespace {

const char *kModel = R"(graph @dyn(%x: tensor<"n"x4xf32>) -> ("y": tensor<"n"x4xf32>) {
  %r = onnx.Relu(%x) : (tensor<"n"x4xf32>) -> tensor<"n"x4xf32>
  return %r
}
)";

Expected<codegen::EngineBuildResult> build(std::vector<codegen::ProfileRanges> profiles) {
  Expected<std::unique_ptr<Module>> m = parseModule(kModel, "dyn.ir");
  REQUIRE(m.isOk());
  codegen::EngineBuildOptions o;
  o.referenceIr = kModel;
  return codegen::buildProfileEngine(**m, profiles, o, "dyn.ir");
}

} // namespace

TEST_CASE("an engine with two profiles is written and read back", "[profiles]") {
  auto built = build({{{"x", {1, 4}, {8, 4}, {16, 4}}}, {{"x", {17, 4}, {32, 4}, {64, 4}}}});
  REQUIRE(built.isOk());
  std::string err;
  auto view = rt::EngineView::fromBytes(built->bytes, err);
  REQUIRE(view);
  const fb::Engine &e = view->engine();
  REQUIRE(e.profiles()->size() == 2);
  CHECK(e.layers()->size() == 0);
  const fb::Tensor *x = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(0)));
  CHECK(x->shape()->Get(0) == -1);
  CHECK(x->shape()->Get(1) == 4);
  CHECK(x->bytes() == 0);
  CHECK(e.profiles()->Get(1)->inputs()->Get(0)->opt()->Get(0) == 32);
}

TEST_CASE("the verifier refuses bad profiles", "[profiles]") {
  auto refused = [](std::vector<codegen::ProfileRanges> p, const std::string &why) {
    auto built = build(std::move(p));
    REQUIRE_FALSE(built.isOk());
    INFO(built.status().message());
    CHECK(built.status().message().find(why) != std::string::npos);
  };
  refused({{{"x", {8, 4}, {4, 4}, {16, 4}}}}, "input 'x' dim 0 has a bad range");   // min > opt
  refused({{{"x", {0, 4}, {4, 4}, {16, 4}}}}, "input 'x' dim 0 has a bad range");   // min 0
  refused({{{"x", {1, 4}, {4, 5}, {16, 4}}}}, "input 'x' dim 1 has a bad range");   // a fixed dim varies
  refused({{{"x", {1}, {4}, {16}}}}, "the range of input 'x' is not of its rank");
  refused({{{"y", {1, 4}, {4, 4}, {16, 4}}}}, "range 0 is not for input 0");
}

TEST_CASE("run shapes: the first profile that holds them, errors naming input, dim and range", "[profiles]") {
  std::vector<DeclaredInput> inputs = {{"x", {-1, 4}}};
  std::vector<codegen::ProfileRanges> profiles = {{{"x", {1, 4}, {8, 4}, {16, 4}}}, {{"x", {17, 4}, {32, 4}, {64, 4}}}};
  std::vector<std::string> notes;
  auto pick = [&](std::vector<int64_t> dims, int index) {
    std::map<std::string, std::vector<int64_t>> given;
    if (!dims.empty())
      given["x"] = dims;
    return selectRunShapes(inputs, profiles, given, index, "e.plan", notes);
  };
  CHECK(pick({3, 4}, -1)->profile == 0);
  CHECK(pick({16, 4}, -1)->profile == 0);
  CHECK(pick({17, 4}, -1)->profile == 1);
  CHECK(pick({64, 4}, 1)->dims[0] == std::vector<int64_t>{64, 4});
  auto opt = pick({}, 1);
  REQUIRE(opt.isOk());
  CHECK(opt->dims[0] == std::vector<int64_t>{32, 4});
  CHECK(notes.back().find("using profile 1's opt shape 32x4") != std::string::npos);
  auto out = pick({65, 4}, -1);
  REQUIRE_FALSE(out.isOk());
  CHECK(out.status().message().find("profile 1: input 'x' dim 0 is 65, outside the range 17..64") != std::string::npos);
  auto wrongProfile = pick({3, 4}, 1);
  REQUIRE_FALSE(wrongProfile.isOk());
  CHECK(wrongProfile.status().message().find("profile 1: input 'x' dim 0 is 3") != std::string::npos);
  CHECK_FALSE(pick({3, 4}, 2).isOk());
  // A static engine: its one shape, and no profile index.
  std::vector<DeclaredInput> fixed = {{"x", {2, 4}}};
  std::map<std::string, std::vector<int64_t>> other = {{"x", {3, 4}}};
  CHECK_FALSE(selectRunShapes(fixed, {}, other, -1, "s.plan", notes).isOk());
  CHECK_FALSE(selectRunShapes(fixed, {}, {}, 0, "s.plan", notes).isOk());
  CHECK(selectRunShapes(fixed, {}, {}, -1, "s.plan", notes)->profile == -1);
}
