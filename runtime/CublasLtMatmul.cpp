// Matrix multiplies through cuBLASLt. Tensors are row-major; cuBLASLt is column-major, so we
// compute D^T = op(B)^T-view x op(A)^T-view: a row-major [M,N] matrix is a column-major [N,M]
// matrix with the same bytes. Bias then runs along N, which is exactly Gemm's per-column bias.
#include "runtime/CublasLtMatmul.h"

#include "runtime/RuntimeImpl.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace infc::rt {

std::string cublasCheck(cublasStatus_t s, const std::string &what) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return "";
  return what + ": " + cublasLtGetStatusName(s) + ": " + cublasLtGetStatusString(s);
}

namespace {

bool cudaTypeOf(int32_t dtype, cudaDataType_t &out) {
  switch (dtype) {
  case 1: out = CUDA_R_32F; return true;
  case 3: out = CUDA_R_8I; return true;
  case 10: out = CUDA_R_16F; return true;
  case 16: out = CUDA_R_16BF; return true;
  case 17: out = CUDA_R_8F_E4M3; return true;
  default: return false;
  }
}

bool epilogueOf(const std::string &name, cublasLtEpilogue_t &out) {
  if (name.empty()) out = CUBLASLT_EPILOGUE_DEFAULT;
  else if (name == "bias") out = CUBLASLT_EPILOGUE_BIAS;
  else if (name == "relu") out = CUBLASLT_EPILOGUE_RELU;
  else if (name == "relu_bias") out = CUBLASLT_EPILOGUE_RELU_BIAS;
  else if (name == "gelu") out = CUBLASLT_EPILOGUE_GELU;
  else if (name == "gelu_bias") out = CUBLASLT_EPILOGUE_GELU_BIAS;
  else return false;
  return true;
}

uint64_t span(int64_t rows, int64_t ld, int64_t batch, int64_t stride) {
  uint64_t one = static_cast<uint64_t>(rows) * static_cast<uint64_t>(ld);
  return batch > 1 ? one + static_cast<uint64_t>(batch - 1) * static_cast<uint64_t>(stride) : one;
}

} // namespace

uint64_t CublasLtProblem::aElements() const { return span(transA ? k : m, lda, batch, strideA); }
uint64_t CublasLtProblem::bElements() const { return span(transB ? n : k, ldb, batch, strideB); }
uint64_t CublasLtProblem::cElements() const { return span(m, ldc, batch, strideC); }

std::string CublasLtProblem::key() const {
  std::ostringstream os;
  uint32_t alphaBits = 0, betaBits = 0;
  std::memcpy(&alphaBits, &alpha, sizeof alpha);
  std::memcpy(&betaBits, &beta, sizeof beta);
  os << dtype << "|" << m << "," << n << "," << k << "," << batch << "|" << lda << "," << ldb << "," << ldc << "|"
     << strideA << "," << strideB << "," << strideC << "|" << transA << transB << "|" << alphaBits << "," << betaBits
     << "|" << epilogue << "|" << hasBias << hasC;
  if (abDtype) // FP8 and INT8 (keys of other problems stay as timing caches recorded them)
    os << "|ab" << abDtype << (fastAccum ? "f" : "");
  return os.str();
}

CublasLtPlan::~CublasLtPlan() {
  for (cublasLtMatrixLayout_t l : {la_, lb_, lc_})
    if (l)
      cublasLtMatrixLayoutDestroy(l);
  if (desc_)
    cublasLtMatmulDescDestroy(desc_);
}

std::string CublasLtPlan::init(const CublasLtProblem &p) {
  problem_ = p;
  cudaDataType_t io, ab;
  bool int8 = p.abDtype == 3;
  if (!cudaTypeOf(p.dtype, io) || p.dtype == 17 || (p.dtype == 3) != int8)
    return "cuBLASLt matmul: unsupported dtype " + std::to_string(p.dtype);
  if (!cudaTypeOf(p.inputDtype(), ab) || (p.abDtype && p.abDtype != 17 && p.abDtype != 3) || (int8 && p.hasC))
    return "cuBLASLt matmul: unsupported input dtype " + std::to_string(p.abDtype);
  cudaDataType_t biasType = int8 ? CUDA_R_32F : io;
  cublasLtEpilogue_t epi;
  if (!epilogueOf(p.epilogue, epi))
    return "cuBLASLt matmul: unknown epilogue '" + p.epilogue + "'";
  if (std::string e = cublasCheck(cublasLtMatmulDescCreate(&desc_, int8 ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
      !e.empty())
    return e;
  auto setDesc = [&](cublasLtMatmulDescAttributes_t attr, const void *value, size_t bytes, const char *what) {
    return cublasCheck(cublasLtMatmulDescSetAttribute(desc_, attr, value, bytes), what);
  };
  // Column-major view: first operand is B, second is A (see the file comment).
  cublasOperation_t opFirst = p.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opSecond = p.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_TRANSA, &opFirst, sizeof opFirst, "matmul transA"); !e.empty())
    return e;
  if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_TRANSB, &opSecond, sizeof opSecond, "matmul transB"); !e.empty())
    return e;
  if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi, "matmul epilogue"); !e.empty())
    return e;
  if (p.smCountTarget > 0)
    if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET, &p.smCountTarget, sizeof p.smCountTarget,
                                "matmul SM count target");
        !e.empty())
      return e;
  if (p.fastAccum) {
    int8_t fast = 1;
    if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof fast, "matmul fast accumulation"); !e.empty())
      return e;
  }
  if (p.hasBias)
    if (std::string e = setDesc(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType, sizeof biasType, "matmul bias type"); !e.empty())
      return e;
  uint64_t M = static_cast<uint64_t>(p.m), N = static_cast<uint64_t>(p.n), K = static_cast<uint64_t>(p.k);
  uint64_t firstRows = p.transB ? K : N, firstCols = p.transB ? N : K;
  uint64_t secondRows = p.transA ? M : K, secondCols = p.transA ? K : M;
  if (std::string e = cublasCheck(cublasLtMatrixLayoutCreate(&lb_, ab, firstRows, firstCols, p.ldb), "layout B"); !e.empty())
    return e;
  if (std::string e = cublasCheck(cublasLtMatrixLayoutCreate(&la_, ab, secondRows, secondCols, p.lda), "layout A"); !e.empty())
    return e;
  if (std::string e = cublasCheck(cublasLtMatrixLayoutCreate(&lc_, io, N, M, p.ldc), "layout C/D"); !e.empty())
    return e;
  int32_t batch = static_cast<int32_t>(p.batch);
  if (batch > 1) {
    for (auto [layout, stride] : {std::pair{la_, p.strideA}, std::pair{lb_, p.strideB}, std::pair{lc_, p.strideC}}) {
      if (std::string e = cublasCheck(
              cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch), "batch count");
          !e.empty())
        return e;
      if (std::string e = cublasCheck(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                                       &stride, sizeof stride),
                                      "batch stride");
          !e.empty())
        return e;
    }
  }
  return "";
}

std::string CublasLtPlan::heuristics(cublasLtHandle_t handle, int count, uint64_t maxWorkspace,
                                     std::vector<cublasLtMatmulHeuristicResult_t> &out) const {
  out.clear();
  cublasLtMatmulPreference_t pref;
  if (std::string e = cublasCheck(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate"); !e.empty())
    return e;
  std::string err = cublasCheck(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &maxWorkspace, sizeof maxWorkspace),
      "matmul preference workspace");
  std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(std::max(count, 1)));
  int found = 0;
  if (err.empty())
    err = cublasCheck(cublasLtMatmulAlgoGetHeuristic(handle, desc_, lb_, la_, lc_, lc_, pref, static_cast<int>(results.size()),
                                                     results.data(), &found),
                      "cublasLtMatmulAlgoGetHeuristic");
  cublasLtMatmulPreferenceDestroy(pref);
  if (!err.empty())
    return err;
  for (int i = 0; i < found && i < static_cast<int>(results.size()); ++i)
    if (results[static_cast<size_t>(i)].state == CUBLAS_STATUS_SUCCESS)
      out.push_back(results[static_cast<size_t>(i)]);
  if (out.empty())
    return "cuBLASLt has no algorithm for this matmul";
  return "";
}

std::string CublasLtPlan::check(cublasLtHandle_t handle, const cublasLtMatmulAlgo_t &algo, uint64_t &workspaceBytes) const {
  cublasLtMatmulHeuristicResult_t result{};
  if (std::string e = cublasCheck(cublasLtMatmulAlgoCheck(handle, desc_, lb_, la_, lc_, lc_, &algo, &result),
                                  "cublasLtMatmulAlgoCheck");
      !e.empty())
    return e;
  workspaceBytes = result.workspaceSize;
  return "";
}

std::string CublasLtPlan::run(cublasLtHandle_t handle, const cublasLtMatmulAlgo_t &algo, const void *a, const void *b,
                              const void *c, void *d, const void *bias, void *workspace, uint64_t workspaceBytes,
                              CUstream stream) {
  if (problem_.hasBias)
    if (std::string e = cublasCheck(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
                                    "matmul bias pointer");
        !e.empty())
      return e;
  const void *C = problem_.hasC ? c : d;
  float beta = problem_.hasC ? problem_.beta : 0.0f;
  return cublasCheck(cublasLtMatmul(handle, desc_, &problem_.alpha, b, lb_, a, la_, &beta, C, lc_, d, lc_, &algo, workspace,
                                    workspaceBytes, reinterpret_cast<cudaStream_t>(stream)),
                     "cublasLtMatmul");
}

// ---------------------------------------------------------------- runtime layer

namespace {

CublasLtProblem problemOf(const fb::CublasLtMatmul &p) {
  CublasLtProblem q;
  q.dtype = p.io_dtype();
  q.m = p.m(); q.n = p.n(); q.k = p.k(); q.batch = p.batch();
  q.lda = p.lda(); q.ldb = p.ldb(); q.ldc = p.ldc();
  q.strideA = p.stride_a(); q.strideB = p.stride_b(); q.strideC = p.stride_c();
  q.transA = p.trans_a(); q.transB = p.trans_b();
  q.alpha = p.alpha(); q.beta = p.beta();
  q.epilogue = p.epilogue() ? p.epilogue()->str() : "";
  q.hasBias = p.bias() >= 0;
  q.hasC = p.c() >= 0;
  q.abDtype = p.ab_dtype();
  q.fastAccum = p.fast_accum();
  return q;
}

/// One matmul layer of a context. In a batch-loop engine its rows (or batch) follow the
/// context's batch: a plan and algorithm per batch, made on first use and kept (up to
/// kMaxShapePlans, oldest dropped first).
class MatmulExec final : public LayerExec {
public:
  std::string prepare(const fb::CublasLtMatmul &p, uint64_t workspaceLimit, ContextHandles &handles) {
    a_ = p.a(); b_ = p.b(); c_ = p.c(); d_ = p.d(); bias_ = p.bias();
    if (std::string e = handles.cublasLt(handle_); !e.empty())
      return e;
    base_ = problemOf(p);
    scaleM_ = p.scale_m();
    scaleBatch_ = p.scale_batch();
    if (p.dims() && p.dims()->size() == 10)
      dims_ = p.dims();
    limit_ = workspaceLimit;
    recorded_.push_back({p.algo() ? std::vector<uint8_t>(p.algo()->begin(), p.algo()->end()) : std::vector<uint8_t>{},
                         p.workspace_bytes()});
    if (p.profile_tactics())
      for (const fb::ProfileTactic *t : *p.profile_tactics())
        recorded_.push_back({t->algo() ? std::vector<uint8_t>(t->algo()->begin(), t->algo()->end()) : std::vector<uint8_t>{},
                             t->workspace_bytes()});
    return follows() ? "" : select(base_, 0, current_);
  }

  std::string setSmCount(int32_t sms) override {
    base_.smCountTarget = sms;
    byShape_.clear();
    current_ = Entry{};
    return follows() ? "" : select(base_, 0, current_);
  }

  std::string setShape(const ShapeKey &shape, int profile) override {
    if (!follows())
      return "";
    return byShape_.get(profile, shape, dims_ != nullptr, current_, [&](Entry &e) {
      CublasLtProblem q = base_;
      if (dims_) {
        int64_t *fields[] = {&q.m, &q.n, &q.k, &q.batch, &q.lda, &q.ldb, &q.ldc, &q.strideA, &q.strideB, &q.strideC};
        for (uint32_t i = 0; i < 10; ++i)
          *fields[i] = evalDim(dims_->Get(i), shape);
      } else {
        (scaleM_ ? q.m : q.batch) *= shape[0];
      }
      return select(q, profile, e);
    });
  }

  uint64_t workspaceBytes() const override { return current_.workspace; }

  std::string enqueue(const TensorAddresses &addr, CUstream stream, CUdeviceptr workspace) override {
    if (!current_.plan)
      return "no batch set";
    auto ptr = [&](int idx) { return idx < 0 ? nullptr : reinterpret_cast<void *>(addr[static_cast<size_t>(idx)]); };
    return current_.plan->run(handle_, current_.algo, ptr(a_), ptr(b_), ptr(c_), ptr(d_), ptr(bias_),
                              reinterpret_cast<void *>(workspace), current_.workspace, stream);
  }

private:
  struct Entry {
    std::shared_ptr<CublasLtPlan> plan;
    cublasLtMatmulAlgo_t algo{};
    uint64_t workspace = 0;
  };

  /// The plan of problem `q` with profile `profile`'s recorded tactic when it runs `q` here, else
  /// the heuristic's.
  std::string select(const CublasLtProblem &q, int profile, Entry &e) const {
    const auto &[recorded, recordedWorkspace] =
        recorded_[static_cast<size_t>(profile) < recorded_.size() ? static_cast<size_t>(profile) : 0];
    e.plan = std::make_shared<CublasLtPlan>();
    if (std::string err = e.plan->init(q); !err.empty())
      return err;
    e.workspace = std::min<uint64_t>(recordedWorkspace, limit_);
    if (!recorded.empty()) {
      // A tactic timed at build time with exactly workspace_bytes of workspace (what the
      // algorithm needs): run it the same way.
      uint64_t need = 0;
      if (recorded.size() == sizeof(cublasLtMatmulAlgo_t)) {
        std::memcpy(&e.algo, recorded.data(), sizeof e.algo);
        if (e.plan->check(handle_, e.algo, need).empty() && need <= e.workspace)
          return "";
      }
      // The recorded tactic does not fit this cuBLASLt build, GPU or shape: fall back to the
      // heuristic, with the engine's limit (the recorded need says nothing about its pick).
      e.workspace = limit_;
    }
    std::vector<cublasLtMatmulHeuristicResult_t> results;
    if (std::string err = e.plan->heuristics(handle_, 1, e.workspace, results); !err.empty())
      return err;
    e.algo = results[0].algo;
    e.workspace = results[0].workspaceSize;
    return "";
  }

  cublasLtHandle_t handle_ = nullptr; ///< the context's (ContextHandles)
  CublasLtProblem base_;
  bool scaleM_ = false, scaleBatch_ = false;
  /// Dim-fit engines: m, n, k, batch, lda, ldb, ldc and the strides from the dims.
  const flatbuffers::Vector<flatbuffers::Offset<fb::DimExpr>> *dims_ = nullptr;
  /// Whether the problem follows the context's shape (a plan per shape).
  bool follows() const { return scaleM_ || scaleBatch_ || dims_; }
  uint64_t limit_ = 0;
  /// The recorded algorithm and its workspace per profile (one entry unless the engine records several).
  std::vector<std::pair<std::vector<uint8_t>, uint64_t>> recorded_;
  Entry current_;
  ShapeCache<Entry> byShape_;
  int a_ = -1, b_ = -1, c_ = -1, d_ = -1, bias_ = -1;
};

} // namespace

std::string prepareCublasLtMatmul(const DeviceEngine &engine, const fb::Layer &layer, ContextHandles &handles,
                                  std::unique_ptr<LayerExec> &out) {
  auto exec = std::make_unique<MatmulExec>();
  if (std::string e = exec->prepare(*layer.impl_as_CublasLtMatmul(), engine.engine().workspace_bytes(), handles); !e.empty())
    return e;
  out = std::move(exec);
  return "";
}

} // namespace infc::rt
