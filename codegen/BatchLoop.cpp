// Batch-loop engines: which tensors grow with the batch, whether every op keeps batch items
// apart, and generated kernels that loop over the batch with grid.z (codegen/BatchLoop.h).
#include "codegen/BatchLoop.h"

#include "ir/InfcAttrs.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace infc::codegen {

uint64_t BatchClasses::itemBytes(const Value *v) const {
  const TensorType &t = v->type();
  uint64_t n = static_cast<uint64_t>(*t.numElements());
  if (auto it = itemDim0.find(v); it != itemDim0.end() && t.rank() > 0 && t.dim(0).value > 0)
    n = n / static_cast<uint64_t>(t.dim(0).value) * static_cast<uint64_t>(it->second);
  return n * dtypeSize(t.elem());
}

namespace {

/// `axis` of an op over operand `rank`, made non-negative.
int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// Whether `op` computes item i of its (scaled) results from item i of its scaled operands and
/// from its batch-free operands only. "" when it does, else why not.
std::string itemwiseProblem(const Operation &op, const BatchClasses &c) {
  const int64_t rank = op.numResults() ? op.result(0)->type().rank() : 0;
  auto scaled = [&](size_t i) { return op.hasOperand(i) && c.scaled(op.operand(i)); };
  auto operandRank = [&](size_t i) { return op.operand(i)->type().rank(); };
  // Every scaled operand lines its dim 0 (the batch) up with the result's.
  auto aligned = [&]() -> std::string {
    for (size_t i = 0; i < op.numOperands(); ++i)
      if (scaled(i) && operandRank(i) != rank)
        return "operand " + std::to_string(i) + " grows with the batch and broadcasts against the result";
    return "";
  };
  auto axisNotBatch = [&](const char *attr, int64_t dflt) -> std::string {
    Expected<int64_t> a = op.attrs().getInt(attr, dflt);
    if (!a.isOk())
      return a.status().message();
    if (normAxis(*a, operandRank(0)) == 0)
      return std::string("it works along dim 0, the batch ('") + attr + "')";
    return "";
  };
  auto axesNotBatch = [&](const std::vector<int64_t> &axes) -> std::string {
    for (int64_t a : axes)
      if (normAxis(a, operandRank(0)) == 0)
        return "it works along dim 0, the batch";
    return "";
  };
  OpKind k = op.kind();
  if (hasTrait(k, kElementwise) || k == OpKind::InfcFused || k == OpKind::OnnxCast || k == OpKind::OnnxWhere ||
      k == OpKind::OnnxClip || k == OpKind::OnnxExpand)
    return aligned();
  switch (k) {
  case OpKind::InfcAttention:
    // q, k, v (or the packed qkv) and y have the batch at dim 0 in every layout; the additive
    // mask broadcasts to [B, H, Sq, Sk] from the right.
    if (scaled(3) && operandRank(3) != 4)
      return "its mask grows with the batch and broadcasts against [B, H, Sq, Sk] from a lower rank";
    return "";
  case OpKind::InfcConv:
  case OpKind::InfcPool:
  case OpKind::OnnxConv:
  case OpKind::OnnxConvTranspose:
  case OpKind::OnnxMaxPool:
  case OpKind::OnnxAveragePool:
  case OpKind::OnnxGlobalAveragePool:
  case OpKind::OnnxGlobalMaxPool:
  case OpKind::OnnxBatchNormalization:
  case OpKind::OnnxInstanceNormalization:
  case OpKind::OnnxLRN:
    return aligned();
  case OpKind::InfcNorm: {
    Expected<NormAttrs> a = NormAttrs::read(op);
    if (!a.isOk())
      return a.status().message();
    if ((a->kind == NormAttrs::Kind::Layer || a->kind == NormAttrs::Kind::Rms) && normAxis(a->axis, rank) == 0)
      return "it normalizes over dim 0, the batch";
    return aligned();
  }
  case OpKind::InfcLayoutCast: {
    Expected<std::vector<int64_t>> perm = op.attrs().getInts("perm", std::vector<int64_t>{});
    if (perm.isOk() && !perm->empty() && (*perm)[0] != 0)
      return "it moves dim 0, the batch";
    return aligned();
  }
  case OpKind::InfcMatmul:
  case OpKind::OnnxMatMul:
    for (size_t i = 0; i < op.numOperands(); ++i) {
      if (!scaled(i))
        continue;
      bool rowsOfA = i == 0 && operandRank(i) == 2 && rank == 2; // [B*M, K] x [K, N]: rows are items
      if (i == 2 && k == OpKind::InfcMatmul)
        return "its bias grows with the batch";
      if (!rowsOfA && !(operandRank(i) == rank && rank >= 3))
        return "operand " + std::to_string(i) + " grows with the batch along a matrix dim";
    }
    return "";
  case OpKind::OnnxGemm: {
    Expected<int64_t> transA = op.attrs().getInt("transA", 0);
    if (scaled(1) || (scaled(0) && (!transA.isOk() || *transA != 0)))
      return "the batch runs along a reduced matrix dim";
    return aligned();
  }
  case OpKind::OnnxReshape:
  case OpKind::OnnxFlatten:
  case OpKind::OnnxSqueeze:
  case OpKind::OnnxUnsqueeze:
  case OpKind::OnnxIdentity:
    // Same bytes, read as another shape: items stay contiguous blocks of equal size.
    if (c.itemBytes(op.operand(0)) != c.itemBytes(op.result(0)))
      return "an item's size changes";
    return "";
  case OpKind::OnnxTranspose: {
    Expected<std::vector<int64_t>> perm = op.attrs().getInts("perm", std::vector<int64_t>{});
    if (!perm.isOk() || perm->empty() || (*perm)[0] != 0)
      return "it moves dim 0, the batch";
    return "";
  }
  case OpKind::OnnxSoftmax:
  case OpKind::OnnxLogSoftmax:
  case OpKind::OnnxHardmax:
    return axisNotBatch("axis", -1);
  case OpKind::OnnxConcat:
  case OpKind::OnnxSplit:
    return axisNotBatch("axis", 0);
  case OpKind::OnnxGather:
    if (scaled(0))
      return axisNotBatch("axis", 0);
    return "";
  case OpKind::OnnxReduceMean:
  case OpKind::OnnxReduceMax:
  case OpKind::OnnxReduceMin:
  case OpKind::OnnxReduceSum:
  case OpKind::OnnxReduceProd:
  case OpKind::OnnxReduceL1:
  case OpKind::OnnxReduceL2:
  case OpKind::OnnxReduceLogSum:
  case OpKind::OnnxReduceLogSumExp:
  case OpKind::OnnxReduceSumSquare: {
    std::vector<int64_t> axes;
    if (op.hasOperand(1)) {
      const Tensor *t = getConstantValue(op.operand(1));
      if (!t)
        return "its axes are computed at run time";
      for (int64_t i = 0; i < t->numElements(); ++i)
        axes.push_back(t->getInt(i));
    } else if (Expected<std::vector<int64_t>> a = op.attrs().getInts("axes", std::vector<int64_t>{}); a.isOk()) {
      axes = *a;
    }
    if (axes.empty())
      return "it reduces over every dim, the batch included";
    return axesNotBatch(axes);
  }
  case OpKind::OnnxSlice: {
    const Tensor *t = op.hasOperand(3) ? getConstantValue(op.operand(3)) : nullptr;
    if (!t)
      return "it may slice dim 0, the batch";
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < t->numElements(); ++i)
      axes.push_back(t->getInt(i));
    return axesNotBatch(axes);
  }
  default:
    return "batch-loop engines do not take " + std::string(op.name()) + " on a tensor that grows with the batch yet";
  }
}

} // namespace

Expected<BatchClasses> classifyBatch(const Graph &one, const Graph &two, const std::string &modelPath) {
  BatchClasses c;
  auto differs = [&](const std::string &what) {
    return unsupported(modelPath + ": " + what + " differs between the model optimized at batch 1 and at batch 2");
  };
  auto classify = [&](const Value *a, const Value *b) -> Status {
    const TensorType &ta = a->type(), &tb = b->type();
    if (!ta.isStatic() || !tb.isStatic() || ta.elem() != tb.elem() || ta.rank() != tb.rank())
      return differs("tensor '" + a->name() + "' (" + ta.str() + " against " + tb.str() + ")");
    std::vector<int64_t> sa = ta.staticShape(), sb = tb.staticShape();
    if (sa == sb)
      return Status::ok();
    if (!sa.empty() && sa[0] > 0 && sb[0] == 2 * sa[0] && std::equal(sa.begin() + 1, sa.end(), sb.begin() + 1)) {
      c.itemDim0[a] = sa[0];
      return Status::ok();
    }
    return unsupported(modelPath + ": tensor '" + a->name() + "' is " + ta.str() + " at batch 1 and " + tb.str() +
                       " at batch 2: only dim 0 may grow with the batch in an engine whose layers loop over it");
  };
  const Block &b1 = one.body(), &b2 = two.body();
  if (b1.numArguments() != b2.numArguments() || one.outputs().size() != two.outputs().size())
    return differs("the graph's inputs or outputs");
  for (size_t i = 0; i < b1.numArguments(); ++i)
    INFC_RETURN_IF_ERROR(classify(b1.argument(i), b2.argument(i)));
  if (b1.ops().size() != b2.ops().size())
    return differs("the number of ops (" + std::to_string(b1.ops().size()) + " against " + std::to_string(b2.ops().size()) + ")");
  auto it2 = b2.ops().begin();
  size_t i = 0;
  for (auto it1 = b1.ops().begin(); it1 != b1.ops().end(); ++it1, ++it2, ++i) {
    const Operation &o1 = **it1, &o2 = **it2;
    if (o1.kind() != o2.kind() || o1.numResults() != o2.numResults() || o1.numOperands() != o2.numOperands())
      return differs("op " + std::to_string(i) + " (" + o1.describe() + " against " + o2.describe() + ")");
    for (size_t r = 0; r < o1.numResults(); ++r)
      INFC_RETURN_IF_ERROR(classify(o1.result(r), o2.result(r)));
    if (o1.is(OpKind::OnnxConstant) && c.scaled(o1.result())) {
      // A constant the size of the batch (a folded ConstantOfShape or Expand): every item must be
      // the batch-1 constant; it is then read as that one item by every item.
      const Tensor *t1 = getConstantValue(o1.result()), *t2 = getConstantValue(o2.result());
      if (!t1 || !t2 || t2->byteSize() != 2 * t1->byteSize() ||
          std::memcmp(t2->bytes(), t1->bytes(), t1->byteSize()) != 0 ||
          std::memcmp(t2->bytes() + t1->byteSize(), t1->bytes(), t1->byteSize()) != 0)
        return unsupported(modelPath + ": constant '" + o1.result()->name() +
                           "' grows with the batch and differs from one batch item to the next");
      c.itemDim0.erase(o1.result());
      continue;
    }
    bool touches = false;
    for (const Value *v : o1.operands())
      touches |= v && c.scaled(v);
    for (const Value *v : o1.results())
      touches |= c.scaled(v);
    if (!touches)
      continue;
    std::string why;
    if (o1.numRegions() && !o1.is(OpKind::InfcFused)) // a fused chain's region is elementwise ops
      why = "ops with subgraphs are not taken in batch-loop engines yet";
    for (const Value *v : o1.results())
      if (why.empty() && !c.scaled(v))
        why = "its result '" + v->name() + "' does not grow with the batch though an operand does (it mixes batch items)";
    if (why.empty())
      why = itemwiseProblem(o1, c);
    if (!why.empty())
      return unsupported(modelPath + ": " + o1.describe() + ": " + why);
  }
  for (size_t i = 0; i < one.outputs().size(); ++i)
    if (c.scaled(one.outputs()[i].value) != (one.outputs()[i].value->type() != two.outputs()[i].value->type()))
      return differs("output '" + one.outputs()[i].name + "'");
  return c;
}

namespace {

/// The parameter names of `function`'s signature in `src` and the offset just past the `{` that
/// opens its body.
Status parseSignature(const std::string &src, const std::string &function, std::vector<std::string> &names,
                      size_t &bodyStart, size_t &bodyEnd) {
  size_t at = std::string::npos;
  for (size_t pos = src.find(function); pos != std::string::npos; pos = src.find(function, pos + 1)) {
    bool startOk = pos == 0 || !(std::isalnum(static_cast<unsigned char>(src[pos - 1])) || src[pos - 1] == '_');
    size_t after = pos + function.size();
    if (startOk && after < src.size() && src[after] == '(' && src.rfind("__global__", pos) != std::string::npos) {
      at = after;
      break;
    }
  }
  if (at == std::string::npos)
    return internalError("kernel " + function + ": no definition in its source");
  int depth = 0;
  size_t close = at;
  for (; close < src.size(); ++close) {
    depth += src[close] == '(';
    depth -= src[close] == ')';
    if (depth == 0)
      break;
  }
  std::string params = src.substr(at + 1, close - at - 1);
  size_t start = 0;
  depth = 0;
  for (size_t i = 0; i <= params.size(); ++i) {
    if (i < params.size() && (params[i] == '(' || params[i] == '<'))
      ++depth;
    if (i < params.size() && (params[i] == ')' || params[i] == '>'))
      --depth;
    if (i == params.size() || (params[i] == ',' && depth == 0)) {
      std::string p = params.substr(start, i - start);
      size_t e = p.find_last_not_of(" \t\n");
      size_t b = e;
      while (b != std::string::npos && b > 0 && (std::isalnum(static_cast<unsigned char>(p[b - 1])) || p[b - 1] == '_'))
        --b;
      if (e == std::string::npos)
        return internalError("kernel " + function + ": an empty parameter");
      names.push_back(p.substr(b, e - b + 1));
      start = i + 1;
    }
  }
  bodyStart = src.find('{', close);
  if (bodyStart == std::string::npos)
    return internalError("kernel " + function + ": no body");
  depth = 0;
  for (bodyEnd = bodyStart; bodyEnd < src.size(); ++bodyEnd) {
    depth += src[bodyEnd] == '{';
    depth -= src[bodyEnd] == '}';
    if (depth == 0)
      break;
  }
  ++bodyStart;
  return Status::ok();
}

void replaceAll(std::string &s, const std::string &from, const std::string &to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

} // namespace

Status makeBatchLoopKernel(KernelLayer &k, const std::vector<uint64_t> &itemBytes) {
  if (k.grid[2] != 1)
    return internalError("kernel " + k.function + " uses grid.z at batch 1");
  std::vector<std::string> names;
  size_t bodyStart = 0, bodyEnd = 0;
  INFC_RETURN_IF_ERROR(parseSignature(k.source, k.function, names, bodyStart, bodyEnd));
  if (names.size() != k.args.size() || itemBytes.size() != k.args.size())
    return internalError("kernel " + k.function + ": " + std::to_string(names.size()) + " parameters for " +
                         std::to_string(k.args.size()) + " arguments");
  std::string before = k.source.substr(0, bodyStart), body = k.source.substr(bodyStart, bodyEnd - bodyStart),
              after = k.source.substr(bodyEnd);
  for (const std::string *part : {&before, &after})
    if (part->find("blockIdx.z") != std::string::npos || part->find("gridDim.z") != std::string::npos)
      return internalError("kernel " + k.function + ": a helper uses grid.z");
  // At batch 1 grid.z is 1: the kernel's own z index is always 0.
  replaceAll(body, "blockIdx.z", "0");
  replaceAll(body, "gridDim.z", "1");
  std::string shift;
  for (size_t i = 0; i < names.size(); ++i)
    if (itemBytes[i]) {
      if (k.args[i].kind != KernelArg::Kind::Tensor)
        return internalError("kernel " + k.function + ": parameter " + names[i] + " is no tensor");
      shift += "\n  " + names[i] + " = (decltype(" + names[i] + "))((const char *)" + names[i] + " + (long long)blockIdx.z * " +
               std::to_string(itemBytes[i]) + "LL);";
    }
  k.source = before + shift + body + after;
  return Status::ok();
}

} // namespace infc::codegen
