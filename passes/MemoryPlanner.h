// Offsets for buffers with known lifetimes in one arena (Glow-style standalone allocator).
// A buffer lives over [first, last] (inclusive step numbers); two buffers may share bytes only
// if their lifetimes do not overlap. Greedy best-fit by decreasing size: simple, deterministic,
// and within a few percent of optimal on CNN/transformer traces.
#pragma once

#include <cstdint>
#include <vector>

namespace infc {

struct BufferRequest {
  uint64_t bytes = 0;
  int64_t first = 0; ///< step that writes it first
  int64_t last = 0;  ///< step that reads it last
};

struct MemoryPlan {
  std::vector<uint64_t> offsets; ///< one per request, aligned
  uint64_t totalBytes = 0;
};

/// Plans offsets; `alignment` must be a power of two.
MemoryPlan planMemory(const std::vector<BufferRequest> &requests, uint64_t alignment = 256);

/// Sum of all request sizes (aligned): the arena size without reuse, for reporting.
uint64_t unsharedBytes(const std::vector<BufferRequest> &requests, uint64_t alignment = 256);

} // namespace infc
