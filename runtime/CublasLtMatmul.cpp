// Matrix multiplies through cuBLASLt. Tensors are row-major; cuBLASLt is column-major, so we
// compute D^T = op(B)^T-view x op(A)^T-view: a row-major [M,N] matrix is a column-major [N,M]
// matrix with the same bytes. Bias then runs along N, which is exactly Gemm's per-column bias.
#include "runtime/RuntimeImpl.h"

#include <cublasLt.h>

#include <cstring>

namespace infc::rt {

namespace {

std::string blasCheck(cublasStatus_t s, const std::string &what) {
  if (s == CUBLAS_STATUS_SUCCESS)
    return "";
  return what + ": " + cublasLtGetStatusName(s) + ": " + cublasLtGetStatusString(s);
}

bool cudaTypeOf(int32_t dtype, cudaDataType_t &out) {
  switch (dtype) {
  case 1: out = CUDA_R_32F; return true;
  case 10: out = CUDA_R_16F; return true;
  case 16: out = CUDA_R_16BF; return true;
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

class MatmulExec final : public LayerExec {
public:
  ~MatmulExec() override {
    for (cublasLtMatrixLayout_t l : {la_, lb_, lc_})
      if (l)
        cublasLtMatrixLayoutDestroy(l);
    if (desc_)
      cublasLtMatmulDescDestroy(desc_);
    if (handle_)
      cublasLtDestroy(handle_);
  }

  std::string prepare(const fb::CublasLtMatmul &p, uint64_t workspaceLimit) {
    a_ = p.a(); b_ = p.b(); c_ = p.c(); d_ = p.d(); bias_ = p.bias();
    alpha_ = p.alpha(); beta_ = p.beta();
    cudaDataType_t io;
    if (!cudaTypeOf(p.io_dtype(), io))
      return "cuBLASLt matmul: unsupported dtype " + std::to_string(p.io_dtype());
    cublasLtEpilogue_t epi;
    std::string epiName = p.epilogue() ? p.epilogue()->str() : "";
    if (!epilogueOf(epiName, epi))
      return "cuBLASLt matmul: unknown epilogue '" + epiName + "'";
    if (std::string e = blasCheck(cublasLtCreate(&handle_), "cublasLtCreate"); !e.empty())
      return e;
    if (std::string e = blasCheck(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
        !e.empty())
      return e;
    // Column-major view: first operand is B, second is A (see the file comment).
    cublasOperation_t opFirst = p.trans_b() ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opSecond = p.trans_a() ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &opFirst, sizeof opFirst);
    cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &opSecond, sizeof opSecond);
    cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (bias_ >= 0) {
      cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &io, sizeof io);
    }
    uint64_t M = static_cast<uint64_t>(p.m()), N = static_cast<uint64_t>(p.n()), K = static_cast<uint64_t>(p.k());
    uint64_t firstRows = p.trans_b() ? K : N, firstCols = p.trans_b() ? N : K;
    uint64_t secondRows = p.trans_a() ? M : K, secondCols = p.trans_a() ? K : M;
    if (std::string e = blasCheck(cublasLtMatrixLayoutCreate(&lb_, io, firstRows, firstCols, p.ldb()), "layout B"); !e.empty())
      return e;
    if (std::string e = blasCheck(cublasLtMatrixLayoutCreate(&la_, io, secondRows, secondCols, p.lda()), "layout A"); !e.empty())
      return e;
    if (std::string e = blasCheck(cublasLtMatrixLayoutCreate(&lc_, io, N, M, p.ldc()), "layout C/D"); !e.empty())
      return e;
    int32_t batch = static_cast<int32_t>(p.batch());
    if (batch > 1) {
      int64_t sa = p.stride_a(), sb = p.stride_b(), sc = p.stride_c();
      for (auto [layout, stride] : {std::pair{la_, sa}, std::pair{lb_, sb}, std::pair{lc_, sc}}) {
        cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch);
        cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride);
      }
    }
    workspace_ = std::min<uint64_t>(p.workspace_bytes(), workspaceLimit);
    if (p.algo() && p.algo()->size() == sizeof(cublasLtMatmulAlgo_t)) {
      std::memcpy(&algo_, p.algo()->data(), sizeof algo_);
      cublasLtMatmulHeuristicResult_t check;
      if (cublasLtMatmulAlgoCheck(handle_, desc_, lb_, la_, lc_, lc_, &algo_, &check) == CUBLAS_STATUS_SUCCESS &&
          check.workspaceSize <= workspace_) {
        workspace_ = check.workspaceSize;
        return "";
      }
      // The recorded tactic does not fit this cuBLASLt build: fall through to the heuristic.
    }
    cublasLtMatmulPreference_t pref;
    if (std::string e = blasCheck(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate"); !e.empty())
      return e;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_, sizeof workspace_);
    cublasLtMatmulHeuristicResult_t result;
    int found = 0;
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(handle_, desc_, lb_, la_, lc_, lc_, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (std::string e = blasCheck(s, "cublasLtMatmulAlgoGetHeuristic"); !e.empty())
      return e;
    if (found == 0)
      return "cuBLASLt has no algorithm for this matmul";
    algo_ = result.algo;
    workspace_ = result.workspaceSize;
    return "";
  }

  uint64_t workspaceBytes() const override { return workspace_; }

  std::string enqueue(const TensorAddresses &addr, CUstream stream, CUdeviceptr workspace) override {
    if (bias_ >= 0) {
      const void *bias = reinterpret_cast<const void *>(addr[static_cast<size_t>(bias_)]);
      cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
    }
    const void *A = reinterpret_cast<const void *>(addr[static_cast<size_t>(a_)]);
    const void *B = reinterpret_cast<const void *>(addr[static_cast<size_t>(b_)]);
    void *D = reinterpret_cast<void *>(addr[static_cast<size_t>(d_)]);
    const void *C = c_ >= 0 ? reinterpret_cast<const void *>(addr[static_cast<size_t>(c_)]) : D;
    float beta = c_ >= 0 ? beta_ : 0.0f;
    return blasCheck(cublasLtMatmul(handle_, desc_, &alpha_, B, lb_, A, la_, &beta, C, lc_, D, lc_, &algo_,
                                    reinterpret_cast<void *>(workspace), workspace_, reinterpret_cast<cudaStream_t>(stream)),
                     "cublasLtMatmul");
  }

private:
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t la_ = nullptr, lb_ = nullptr, lc_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  uint64_t workspace_ = 0;
  int a_ = -1, b_ = -1, c_ = -1, d_ = -1, bias_ = -1;
  float alpha_ = 1, beta_ = 0;
};

} // namespace

std::string prepareCublasLtMatmul(const DeviceEngine &engine, const fb::Layer &layer, std::unique_ptr<LayerExec> &out) {
  auto exec = std::make_unique<MatmulExec>();
  if (std::string e = exec->prepare(*layer.impl_as_CublasLtMatmul(), engine.engine().workspace_bytes()); !e.empty())
    return e;
  out = std::move(exec);
  return "";
}

} // namespace infc::rt
