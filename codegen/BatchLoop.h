// Batch-loop engines: GPU layers for optimization profiles whose only dynamic dim is a batch
// shared by every input at dim 0 (docs/dynamic-shapes.md). The model is optimized and lowered at
// batch 1 and batch 2; comparing the two says which tensors grow with the batch (their dim 0 is a
// multiple of it) and proves that every op computes each batch item from that item alone. The
// engine then keeps the batch-1 kernels, each launched with grid.z = the batch (one item per z
// index, its pointers offset by an item's bytes), and cuDNN/cuBLASLt layers whose batch (or
// rows) the runtime sets when the shapes are.
#pragma once

#include "codegen/Lowering.h"

#include <unordered_map>

namespace infc::codegen {

/// Which values of a graph optimized at batch 1 grow with the batch.
struct BatchClasses {
  /// dim 0 at batch 1 of every value whose dim 0 is that times the batch (absent: the value is
  /// the same at every batch).
  std::unordered_map<const Value *, int64_t> itemDim0;
  bool scaled(const Value *v) const { return itemDim0.count(v) != 0; }
  /// Bytes of one batch item of a scaled value (of all of it otherwise).
  uint64_t itemBytes(const Value *v) const;
};

/// Matches `one` (the model optimized at batch 1) with `two` (at batch 2) op by op, classifies
/// every value, and checks that every op touching a scaled value computes item i of its results
/// from item i of its scaled operands (and batch-free ones) only. Errors name the op.
Expected<BatchClasses> classifyBatch(const Graph &one, const Graph &two, const std::string &modelPath);

/// Rewrites generated kernel `k` (written for one batch item, grid.z 1) so that grid.z indexes
/// batch items: its pointer parameter i moves by blockIdx.z * itemBytes[i] bytes (0: the same
/// tensor for every item) and its own uses of blockIdx.z/gridDim.z become 0/1.
Status makeBatchLoopKernel(KernelLayer &k, const std::vector<uint64_t> &itemBytes);

} // namespace infc::codegen
