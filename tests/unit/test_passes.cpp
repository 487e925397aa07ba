// Pass manager: pipeline parsing, fixpoint groups, registry.
#include "passes/PassManager.h"
#include "passes/Registry.h"

#include <catch2/catch.hpp>

using namespace infc;

TEST_CASE("pipelines parse, including fixpoint groups", "[passes]") {
  Expected<PassManager> pm = PassManager::parse(kDefaultOnnxPipeline);
  REQUIRE(pm.isOk());
  REQUIRE(pm->items().size() == 3);
  CHECK(pm->items()[1].fixpoint);
  CHECK(pm->items()[1].group.size() == 4);
  CHECK(PassManager::parse("").isOk());
}

TEST_CASE("bad pipelines are errors that name the problem", "[passes]") {
  Expected<PassManager> unknown = PassManager::parse("shape-infer,frobnicate");
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.status().message().find("unknown pass 'frobnicate'") != std::string::npos);
  CHECK(unknown.status().message().find("const-fold") != std::string::npos);
  CHECK_FALSE(PassManager::parse("fixpoint(dce").isOk());
  CHECK_FALSE(PassManager::parse("dce,,dce").isOk());
  CHECK_FALSE(PassManager::parse("dce dce").isOk());
}

TEST_CASE("every registered pass is constructible and named as registered", "[passes]") {
  REQUIRE(registeredPasses().size() >= 4);
  for (const PassInfo &p : registeredPasses())
    CHECK(p.create()->name() == p.name);
}

TEST_CASE("dce removes dead chains and keeps outputs", "[passes]") {
  Module m;
  Graph &g = m.addGraph("main");
  TensorType t = TensorType::fromStatic(DType::F32, {2});
  Value *x = g.body().addArgument("x", t);
  Operation *a = g.body().create(OpKind::OnnxNeg, {x}, {t});
  g.body().create(OpKind::OnnxExp, {a->result()}, {t});
  Operation *live = g.body().create(OpKind::OnnxRelu, {x}, {t});
  g.addOutput("y", live->result());
  Expected<PassManager> pm = PassManager::parse("dce");
  REQUIRE(pm.isOk());
  PassContext ctx;
  REQUIRE(pm->run(g, ctx).isOk());
  CHECK(g.numOps() == 1);
  CHECK(ctx.stats["dce.ops-removed"] == 2);
}
