// MatMul and Gemm through cuBLASLt (one strided-batched call; bias, and MatMul+Add(+Relu), through the epilogue).
#include "codegen/kernels/Families.h"

#include "ir/ops/ShapeUtil.h"

namespace infc::codegen {

namespace {

bool gpuFloat(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

int64_t product(const std::vector<int64_t> &v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= v[i];
  return p;
}

/// The cuBLASLt call of a MatMul (numpy semantics; one strided-batched GEMM).
Expected<MatmulLayer> matmulLayer(const Operation &op) {
  const Value *a = op.operand(0), *b = op.operand(1), *d = op.result();
  DType t = d->type().elem();
  if (!gpuFloat(t))
    return unsupported(op.describe() + ": MatMul on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  std::vector<int64_t> sa = a->type().staticShape(), sb = b->type().staticShape(), sd = d->type().staticShape();
  MatmulLayer m;
  m.a = a;
  m.b = b;
  m.d = d;
  int64_t M = sa.size() == 1 ? 1 : sa[sa.size() - 2];
  int64_t K = sa.back();
  int64_t N = sb.size() == 1 ? 1 : sb.back();
  size_t batchRankA = sa.size() > 2 ? sa.size() - 2 : 0, batchRankB = sb.size() > 2 ? sb.size() - 2 : 0;
  int64_t batchA = product(sa, 0, batchRankA), batchB = product(sb, 0, batchRankB);
  int64_t batch = std::max(batchA, batchB);
  if (batchB == 1) {
    // [..., M, K] x [K, N]: fold the batch into M, one plain GEMM.
    m.m = M * batchA;
    m.batch = 1;
  } else {
    if (batchA != 1 && batchA != batchB)
      return unsupported(op.describe() + ": MatMul with partially broadcast batch dims has no GPU kernel yet");
    std::vector<int64_t> ba(sa.begin(), sa.begin() + static_cast<long>(batchRankA)),
        bb(sb.begin(), sb.begin() + static_cast<long>(batchRankB));
    if (batchA != 1 && ba != std::vector<int64_t>(bb.end() - static_cast<long>(ba.size()), bb.end()))
      return unsupported(op.describe() + ": MatMul with mismatched batch dims has no GPU kernel yet");
    m.m = M;
    m.batch = batch;
    m.strideA = batchA == 1 ? 0 : M * K;
    m.strideB = K * N;
    m.strideC = M * N;
  }
  m.n = N;
  m.k = K;
  m.lda = K;
  m.ldb = N;
  m.ldc = N;
  return m;
}

void addMatmulLayer(const Operation &op, LoweringContext &ctx, const MatmulLayer &m) {
  Layer l;
  l.loc = op.loc();
  l.inputs = {m.a, m.b};
  if (m.bias)
    l.inputs.push_back(m.bias);
  if (m.c)
    l.inputs.push_back(m.c);
  l.name = ctx.kernelName(op, "cublaslt");
  l.impl = m;
  l.outputs = {m.d};
  l.tactic = "cuBLASLt heuristic";
  std::string out(dtypeName(m.d->type().elem()));
  l.precision = m.abType == DType::F8E4M3 ? "fp8 e4m3 -> " + out : m.abType == DType::I8 ? "int8 -> " + out : out;
  ctx.addLayer(std::move(l));
}

Status lowerMatMul(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(MatmulLayer m, matmulLayer(op));
  addMatmulLayer(op, ctx, m);
  return Status::ok();
}

/// infc.matmul: the bias (and a ReLU after it) in cuBLASLt's epilogue; any other activation as a
/// generated epilogue kernel after the call.
/// The quantized forms (MatmulAttrs): row-major a [M, K] times b [N, K] transposed, which is
/// cuBLASLt's "TN" GEMM in its column-major view, the layout its FP8 and IMMA kernels take. FP8
/// accumulates fast (docs/int8.md, FP8); INT8 accumulates in int32 and writes int8 through a
/// float32 alpha and bias.
MatmulLayer quantMatmulLayer(const Operation &op, const MatmulAttrs &a) {
  const Value *x = op.operand(0), *w = op.operand(1), *d = op.result();
  std::vector<int64_t> sx = x->type().staticShape(), sw = w->type().staticShape();
  MatmulLayer m;
  m.a = x;
  m.b = w;
  m.d = d;
  m.k = sx.back();
  m.m = product(sx, 0, sx.size() - 1);
  m.n = sw[0];
  m.transB = true;
  m.lda = m.k;
  m.ldb = m.k;
  m.ldc = m.n;
  m.alpha = a.alpha;
  m.abType = a.inType;
  m.fastAccum = a.fp8();
  return m;
}

/// infc.matmul's layer: the bias (and a ReLU after it) and the residual in cuBLASLt's epilogue.
/// Sets `reluInEpilogue` when the activation needs no kernel of its own.
Expected<MatmulLayer> infcMatmulLayer(const Operation &op, const MatmulAttrs &a, bool &reluInEpilogue) {
  MatmulLayer m;
  if (a.quantized()) {
    m = quantMatmulLayer(op, a);
  } else {
    INFC_ASSIGN_OR_RETURN(m, matmulLayer(op));
  }
  reluInEpilogue = false;
  if (op.hasOperand(2)) {
    if (m.batch != 1)
      return unsupported(op.describe() + ": a batched infc.matmul with a bias has no GPU kernel yet");
    m.bias = op.operand(2);
    reluInEpilogue = a.act.kind == Act::Relu && !op.hasOperand(3);
    m.epilogue = reluInEpilogue ? "relu_bias" : "bias";
  } else if (a.int8() && a.act.kind == Act::Relu) {
    // INT8 results are rounded after the ReLU: it runs in the epilogue, never on the int8 result.
    reluInEpilogue = true;
    m.epilogue = "relu";
  }
  if (op.hasOperand(3)) {
    // The residual is cuBLASLt's C: D = A B + 1 * C (+ bias), same layout as D.
    m.c = op.operand(3);
    m.beta = 1.0f;
  }
  return m;
}

Status lowerInfcMatmul(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(op));
  if (a.fp8() && !ctx.options().hasE4m3())
    return unsupported(op.describe() + ": FP8 matmuls need sm_89 or later, the target is sm_" +
                       std::to_string(ctx.options().smMajor) + std::to_string(ctx.options().smMinor));
  if (a.int8() && ctx.options().smMajor * 10 + ctx.options().smMinor < 75)
    return unsupported(op.describe() + ": INT8 matmuls need sm_75 or later (IMMA tensor cores), the target is sm_" +
                       std::to_string(ctx.options().smMajor) + std::to_string(ctx.options().smMinor));
  bool reluInEpilogue = false;
  INFC_ASSIGN_OR_RETURN(MatmulLayer m, infcMatmulLayer(op, a, reluInEpilogue));
  addMatmulLayer(op, ctx, m);
  if (!a.act.none() && !reluInEpilogue)
    addEpilogueKernel(op, ctx, m.d, nullptr, a.act);
  return Status::ok();
}

Status lowerGemm(const Operation &op, LoweringContext &ctx) {
  const Value *a = op.operand(0), *b = op.operand(1), *c = op.hasOperand(2) ? op.operand(2) : nullptr, *d = op.result();
  DType t = d->type().elem();
  if (!gpuFloat(t))
    return unsupported(op.describe() + ": Gemm on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  INFC_ASSIGN_OR_RETURN(int64_t transA, op.attrs().getInt("transA", 0));
  INFC_ASSIGN_OR_RETURN(int64_t transB, op.attrs().getInt("transB", 0));
  INFC_ASSIGN_OR_RETURN(float alpha, op.attrs().getFloat("alpha", 1.0f));
  INFC_ASSIGN_OR_RETURN(float beta, op.attrs().getFloat("beta", 1.0f));
  std::vector<int64_t> sa = a->type().staticShape(), sd = d->type().staticShape();
  MatmulLayer m;
  m.a = a;
  m.b = b;
  m.d = d;
  m.m = sd[0];
  m.n = sd[1];
  m.k = transA ? sa[0] : sa[1];
  m.transA = transA != 0;
  m.transB = transB != 0;
  m.lda = transA ? m.m : m.k;
  m.ldb = transB ? m.k : m.n;
  m.ldc = m.n;
  m.alpha = alpha;
  std::vector<const Value *> inputs = {a, b};
  if (c && beta != 0.0f) {
    std::vector<int64_t> sc = c->type().staticShape();
    int64_t numel = *c->type().numElements();
    if (sc == sd) {
      m.c = c;
      m.beta = beta;
    } else if (numel == m.n && (sc.size() == 1 || (sc.size() == 2 && sc[0] == 1)) && beta == 1.0f) {
      m.bias = c;
      m.epilogue = "bias";
    } else {
      return unsupported(op.describe() + ": Gemm with C of shape broadcast other than [N] has no GPU kernel yet");
    }
    inputs.push_back(c);
  }
  Layer l;
  l.name = ctx.kernelName(op, "cublaslt");
  l.impl = m;
  l.inputs = inputs;
  l.outputs = {d};
  l.loc = op.loc();
  l.tactic = "cuBLASLt heuristic";
  l.precision = std::string(dtypeName(t));
  ctx.addLayer(std::move(l));
  return Status::ok();
}

} // namespace

Expected<MatmulLayer> f16MatmulLayer(const Operation &op) {
  if (op.is(OpKind::OnnxMatMul))
    return matmulLayer(op);
  if (!op.is(OpKind::InfcMatmul))
    return invalidArgument(op.describe() + " is no matmul");
  INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(op));
  if (a.quantized())
    return invalidArgument(op.describe() + " is a quantized matmul already");
  bool relu = false;
  return infcMatmulLayer(op, a, relu);
}

void registerMatmulLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxMatMul)] = &lowerMatMul;
  t[static_cast<size_t>(OpKind::OnnxGemm)] = &lowerGemm;
  t[static_cast<size_t>(OpKind::InfcMatmul)] = &lowerInfcMatmul;
}

} // namespace infc::codegen
