// The arena planner on small traces: no two live buffers overlap, reuse happens when it can.
#include "passes/MemoryPlanner.h"

#include <catch2/catch.hpp>

#include <random>

using namespace infc;

static void requireNoOverlap(const std::vector<BufferRequest> &reqs, const MemoryPlan &plan, uint64_t align) {
  for (size_t a = 0; a < reqs.size(); ++a) {
    REQUIRE(plan.offsets[a] % align == 0);
    REQUIRE(plan.offsets[a] + reqs[a].bytes <= plan.totalBytes);
    for (size_t b = a + 1; b < reqs.size(); ++b) {
      bool timeOverlap = reqs[a].first <= reqs[b].last && reqs[b].first <= reqs[a].last;
      bool spaceOverlap = plan.offsets[a] < plan.offsets[b] + reqs[b].bytes && plan.offsets[b] < plan.offsets[a] + reqs[a].bytes;
      REQUIRE_FALSE((timeOverlap && spaceOverlap && reqs[a].bytes && reqs[b].bytes));
    }
  }
}

TEST_CASE("a chain reuses memory: peak is two buffers", "[memory]") {
  // a -> b -> c -> d, each 1 KiB, each read only by the next step.
  std::vector<BufferRequest> reqs = {{1024, 0, 1}, {1024, 1, 2}, {1024, 2, 3}, {1024, 3, 4}};
  MemoryPlan plan = planMemory(reqs, 256);
  requireNoOverlap(reqs, plan, 256);
  CHECK(plan.totalBytes == 2048);
  CHECK(unsharedBytes(reqs, 256) == 4096);
}

TEST_CASE("a residual connection keeps its buffer alive", "[memory]") {
  // x (0..3) is added back at step 3; y, z in between.
  std::vector<BufferRequest> reqs = {{4096, 0, 3}, {4096, 1, 2}, {4096, 2, 3}, {4096, 3, 4}};
  MemoryPlan plan = planMemory(reqs, 256);
  requireNoOverlap(reqs, plan, 256);
  CHECK(plan.totalBytes == 3 * 4096);
}

TEST_CASE("random traces never overlap and are deterministic", "[memory]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> reqs;
    int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      int64_t first = rng() % 30;
      reqs.push_back({static_cast<uint64_t>(rng() % 5000), first, first + static_cast<int64_t>(rng() % 10)});
    }
    MemoryPlan a = planMemory(reqs, 64), b = planMemory(reqs, 64);
    requireNoOverlap(reqs, a, 64);
    REQUIRE(a.offsets == b.offsets);
    REQUIRE(a.totalBytes <= unsharedBytes(reqs, 64));
  }
}
