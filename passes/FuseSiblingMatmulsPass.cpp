// fuse-sibling-matmuls (horizontal fusion): infc.matmul ops that read the same input with
// constant 2-D weights become one matmul over the concatenated weights, split afterwards:
//   infc.matmul(x, W1, b1), infc.matmul(x, W2, b2), ...
//       -> split(infc.matmul(x, [W1 W2 ...], [b1 b2 ...]), [N1, N2, ...], axis -1)
// With calibrated ranges (INT8 builds) the fused matmul's `acc_amax` is the widest of its members'.
// Siblings must agree in dtype, activation and in having a bias, and carry no residual; one wide
// GEMM fills the GPU better than several narrow ones (the Q/K/V projections of attention). The
// Split is a copy unless a consumer absorbs it (fuse-attention reads packed QKV directly).
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

#include <cmath>
#include <cstring>
#include <map>

namespace infc {
namespace {

/// One member of a sibling group (same input, dtype, K, activation and bias presence), with its
/// constant weight and bias.
struct Sibling {
  Operation *op;
  const Tensor *w;
  const Tensor *b;
};

bool candidate(const Operation *op) {
  if (!op->is(OpKind::InfcMatmul) || op->hasOperand(3))
    return false;
  const Tensor *w = getConstantValue(op->operand(1));
  const TensorType &y = op->result()->type();
  return w && w->rank() == 2 && y.isStatic() && y.rank() >= 2 && (!op->hasOperand(2) || getConstantValue(op->operand(2)));
}

/// Columns of row-major 2-D tensors side by side (all [K, Ni] of one dtype), or 1-D ones end to end.
Tensor concatColumns(const std::vector<const Tensor *> &parts) {
  int64_t rows = parts[0]->rank() == 2 ? parts[0]->dim(0) : 1, cols = 0;
  for (const Tensor *t : parts)
    cols += t->shape().back();
  size_t es = dtypeSize(parts[0]->dtype());
  Tensor out(parts[0]->dtype(), parts[0]->rank() == 2 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{cols});
  std::byte *dst = out.mutableBytes();
  for (int64_t r = 0; r < rows; ++r)
    for (const Tensor *t : parts) {
      size_t n = static_cast<size_t>(t->shape().back()) * es;
      std::memcpy(dst, t->bytes() + static_cast<size_t>(r) * n, n);
      dst += n;
    }
  return out;
}

class FuseSiblingMatmulsPass final : public Pass {
public:
  std::string_view name() const override { return "fuse-sibling-matmuls"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      // Anchored at the first sibling in program order: every other reader of its input.
      if (!candidate(op))
        return false;
      INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(*op));
      std::vector<Sibling> group = {{op, getConstantValue(op->operand(1)), op->hasOperand(2) ? getConstantValue(op->operand(2)) : nullptr}};
      for (Operation *u : op->operand(0)->users()) {
        if (u == op || !candidate(u) || u->operand(0) != op->operand(0) || u->hasOperand(2) != op->hasOperand(2) ||
            u->result()->type().elem() != op->result()->type().elem())
          continue;
        INFC_ASSIGN_OR_RETURN(MatmulAttrs ua, MatmulAttrs::read(*u));
        const Tensor *w = getConstantValue(u->operand(1));
        if (ua.act.kind != a.act.kind || ua.act.params != a.act.params || w->dim(0) != group[0].w->dim(0) ||
            w->dtype() != group[0].w->dtype() || std::find_if(group.begin(), group.end(), [&](const Sibling &s) { return s.op == u; }) != group.end())
          continue;
        group.push_back({u, w, u->hasOperand(2) ? getConstantValue(u->operand(2)) : nullptr});
      }
      if (group.size() < 2 || !isFirst(op, group))
        return false;
      ctx.remark(name(), [&] {
        return "fused " + std::to_string(group.size()) + " matmuls that read " + op->operand(0)->name() + " into one";
      });
      fuseGroup(group, ctx);
      ctx.stat(name(), "matmuls-fused") += static_cast<int64_t>(group.size());
      return true;
    });
  }

private:
  /// Whether `op` comes before every other member (the fused op goes there).
  static bool isFirst(const Operation *op, const std::vector<Sibling> &group) {
    for (const auto &o : op->parentBlock()->ops()) {
      for (const Sibling &s : group)
        if (s.op == o.get())
          return o.get() == op;
    }
    return false;
  }

  static void fuseGroup(const std::vector<Sibling> &group, const PassContext &ctx) {
    Operation *first = group[0].op;
    Block &block = *first->parentBlock();
    std::vector<const Tensor *> ws, bs;
    std::vector<int64_t> sizes;
    Location loc;
    for (const Sibling &s : group) {
      ws.push_back(s.w);
      if (s.b)
        bs.push_back(s.b); // a bias is 1-D (the verifier's rule)
      sizes.push_back(s.w->dim(1));
      loc.append(s.op->loc());
    }
    std::string base = first->result()->name();
    Value *w = createConstant(block, concatColumns(ws), base + ".siblings_w", first);
    std::vector<Value *> operands = {first->operand(0), w};
    if (!bs.empty())
      operands.push_back(createConstant(block, concatColumns(bs), base + ".siblings_b", first));
    std::vector<Dim> shape = first->result()->type().shape();
    int64_t total = 0;
    for (int64_t n : sizes)
      total += n;
    shape.back() = Dim(total);
    DType dt = first->result()->type().elem();
    AttrMap attrs = first->attrs();
    // INT8 builds: the fused accumulator's range is the widest of the members' (none if one is
    // unknown), its largest |x| the largest, its mean square the members' weighted by their widths.
    for (const char *a : {"acc_amax", "acc_max", "acc_rms"})
      attrs.erase(a);
    std::optional<AccCalibration> acc = AccCalibration{0.0, TensorSpread{0.0, 0.0}};
    double squares = 0, width = 0;
    for (const Sibling &s : group) {
      std::optional<AccCalibration> r = accCalibration(ctx, *s.op);
      if (!r || !acc) {
        acc.reset();
        continue;
      }
      acc->amax = std::max(acc->amax, r->amax);
      if (r->spread.known() && acc->spread.known()) {
        acc->spread.max = std::max(acc->spread.max, r->spread.max);
        squares += r->spread.rms * r->spread.rms * static_cast<double>(s.w->dim(1));
        width += static_cast<double>(s.w->dim(1));
      } else {
        acc->spread = TensorSpread{};
      }
    }
    if (acc && acc->spread.known())
      acc->spread.rms = width > 0 ? std::sqrt(squares / width) : 0.0;
    if (!ctx.int8Ranges.empty() && acc)
      setAccCalibration(attrs, *acc);
    Operation *mm = block.create(OpKind::InfcMatmul, operands, {TensorType(dt, shape)}, attrs, loc, first,
                                 {base + ".siblings"});
    Value *splitSizes = createConstant(block, Tensor::fromI64(sizes), base + ".siblings_split", first);
    std::vector<TensorType> types;
    std::vector<std::string> names;
    for (const Sibling &s : group) {
      types.push_back(s.op->result()->type());
      names.push_back(s.op->result()->name() + ".part");
    }
    AttrMap axis;
    axis.set("axis", int64_t(-1));
    Operation *split = block.create(OpKind::OnnxSplit, {mm->result(), splitSizes}, types, axis, loc, first, names);
    for (size_t i = 0; i < group.size(); ++i) {
      Value *old = group[i].op->result();
      std::string name = old->name();
      old->replaceAllUsesWith(split->result(i));
      group[i].op->erase();
      block.graph()->renameValue(split->result(i), name);
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFuseSiblingMatmulsPass() { return std::make_unique<FuseSiblingMatmulsPass>(); }

} // namespace infc
