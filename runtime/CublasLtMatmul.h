// Matrix multiplies through cuBLASLt. Shared by the runtime (which runs the algorithm recorded in
// the engine, or cuBLASLt's heuristic pick) and the compiler's autotuner (which times the
// heuristic's top candidates on the GPU present and records the fastest), so both build exactly
// the same descriptors for a layer.
#pragma once

#include <cublasLt.h>
#include <cuda.h>

#include <cstdint>
#include <string>
#include <vector>

namespace infc::rt {

/// One matmul as the engine records it (the fields of fb::CublasLtMatmul, tensors aside):
/// row-major D[batch][m][n] = alpha * op(A)[m][k] op(B)[k][n] + beta * C, then the epilogue
/// (bias over n, activation).
struct CublasLtProblem {
  int32_t dtype = 1; ///< infc dtype of A, B, C, D and the bias (1 = f32, 10 = f16, 16 = bf16, 3 = int8)
  /// Quantized matmuls: the dtype of A and B; 0: `dtype`. 17 = e4m3 (C, D and the bias stay in
  /// `dtype`, f16 or bf16); 3 = int8 (int32 accumulation, D int8, a float32 alpha and bias).
  int32_t abDtype = 0;
  bool fastAccum = false; ///< FP8: CUBLASLT_MATMUL_DESC_FAST_ACCUM
  int64_t m = 0, n = 0, k = 0, batch = 1;
  int64_t lda = 0, ldb = 0, ldc = 0;             ///< row-major leading dimensions
  int64_t strideA = 0, strideB = 0, strideC = 0; ///< elements between batches (0: broadcast)
  bool transA = false, transB = false;
  float alpha = 1, beta = 0;
  std::string epilogue; ///< "", "bias", "relu", "relu_bias", "gelu", "gelu_bias"
  bool hasBias = false;
  bool hasC = false; ///< C is a tensor of its own; without it beta is 0 and C is D
  /// > 0: the kernels run on that many SMs (CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET), leaving the
  /// others to contexts on other streams. Set by the runtime only (not part of key()).
  int32_t smCountTarget = 0;

  /// Elements each operand spans in memory over all batches (for scratch buffers).
  uint64_t aElements() const;
  uint64_t bElements() const;
  uint64_t cElements() const; ///< C and D
  /// Identifies the problem: equal keys, equal descriptors (the autotuner's cache key).
  std::string key() const;
  /// The dtype of A and B.
  int32_t inputDtype() const { return abDtype ? abDtype : dtype; }
  /// The dtype of the bias: float32 for INT8 matmuls, else `dtype`.
  int32_t biasDtype() const { return abDtype == 3 ? 1 : dtype; }
};

/// The cuBLASLt descriptors of one problem. They belong to no handle: heuristics, checks and runs
/// take the handle of the caller (one per execution context or autotuner).
class CublasLtPlan {
public:
  CublasLtPlan() = default;
  CublasLtPlan(const CublasLtPlan &) = delete;
  CublasLtPlan &operator=(const CublasLtPlan &) = delete;
  ~CublasLtPlan();

  /// Creates the matmul descriptor and the matrix layouts. Returns "" or one sentence.
  std::string init(const CublasLtProblem &problem);
  const CublasLtProblem &problem() const { return problem_; }

  /// Up to `count` algorithms in cuBLASLt's heuristic order (best estimate first) that need at
  /// most `maxWorkspace` bytes; results whose state is not success are left out. An error when
  /// cuBLASLt has none.
  std::string heuristics(cublasLtHandle_t handle, int count, uint64_t maxWorkspace,
                         std::vector<cublasLtMatmulHeuristicResult_t> &out) const;
  /// Whether `algo` (a recorded tactic) runs this problem on the current GPU with this cuBLASLt,
  /// and the workspace it needs. Returns "" or why not.
  std::string check(cublasLtHandle_t handle, const cublasLtMatmulAlgo_t &algo, uint64_t &workspaceBytes) const;
  /// Enqueues the matmul with `algo` on `stream`. `c` is ignored without a C tensor (D is read
  /// then, with beta 0); `bias` is ignored without a bias. Not thread-safe: it sets the bias
  /// pointer on the shared descriptor.
  std::string run(cublasLtHandle_t handle, const cublasLtMatmulAlgo_t &algo, const void *a, const void *b, const void *c,
                  void *d, const void *bias, void *workspace, uint64_t workspaceBytes, CUstream stream);

private:
  CublasLtProblem problem_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t la_ = nullptr, lb_ = nullptr, lc_ = nullptr;
};

/// "" or "<what>: <status name>: <description>".
std::string cublasCheck(cublasStatus_t s, const std::string &what);

} // namespace infc::rt
