#include "passes/MemoryPlanner.h"

#include <algorithm>
#include <numeric>

namespace infc {

static uint64_t alignTo(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

MemoryPlan planMemory(const std::vector<BufferRequest> &requests, uint64_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by earlier start, then index, for determinism.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes)
      return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });
  struct Placed {
    uint64_t offset, end;
    int64_t first, last;
  };
  std::vector<Placed> placed;
  for (size_t idx : order) {
    const BufferRequest &r = requests[idx];
    uint64_t size = alignTo(std::max<uint64_t>(r.bytes, 1), alignment);
    // Intervals of the arena busy during r's lifetime, sorted by offset.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (const Placed &p : placed)
      if (p.first <= r.last && r.first <= p.last)
        busy.push_back({p.offset, p.end});
    std::sort(busy.begin(), busy.end());
    // Best fit: the smallest gap that holds `size`; else the end of the busy intervals.
    uint64_t best = UINT64_MAX, bestGap = UINT64_MAX, cursor = 0;
    for (const auto &[off, end] : busy) {
      if (off > cursor && off - cursor >= size && off - cursor < bestGap) {
        best = cursor;
        bestGap = off - cursor;
      }
      cursor = std::max(cursor, end);
    }
    if (best == UINT64_MAX)
      best = cursor;
    plan.offsets[idx] = best;
    placed.push_back({best, best + size, r.first, r.last});
    plan.totalBytes = std::max(plan.totalBytes, best + size);
  }
  return plan;
}

uint64_t unsharedBytes(const std::vector<BufferRequest> &requests, uint64_t alignment) {
  uint64_t total = 0;
  for (const BufferRequest &r : requests)
    total += alignTo(std::max<uint64_t>(r.bytes, 1), alignment);
  return total;
}

} // namespace infc
