// assign-precision: FP16 (or, with --bf16, BF16) storage and math for float32 tensors, op by op,
// with a policy that keeps float32 where FP16 would overflow, and says why. Replaces the
// whole-graph dtype swap. BF16 has float32's exponent range: nothing is kept for range there
// (only --layer-precision NAME:fp32 keeps an op in f32).
//
// Policy (each kept op gets `precision = "f32: <reason>"`, printed in the IR and in inspect):
//  - range-expanding ops keep f32: Exp and Softplus (exp overflows f16 above 11.09), Pow (|x|^p
//    leaves the f16 range fast: 256^2 > 65504), ReduceSum / ReduceSumSquare / ReduceL2 /
//    ReduceProd / ReduceLogSumExp / CumSum (a sum of n values can exceed the f16 range);
//    their results are "wide";
//  - an op reading a wide value keeps f32 too ("reads %v, which may exceed the f16 range"); its
//    result stays wide unless the op brings the range back (Sqrt, Log, Reciprocal, Sigmoid, Tanh,
//    Softmax, LogSoftmax, Erf, comparisons, and Div whose numerator is not wide);
//  - everything else computes on f16 storage (kernels still accumulate reductions, softmax sums,
//    normalization statistics and GEMMs in f32);
//  - `--layer-precision NAME:fp32|fp16` overrides the policy for the ops carrying ONNX node NAME,
//    and `--strict-precision` makes every other op the policy keeps in f32 an error.
// Graph inputs and outputs keep float32 (Casts at the boundary); casts are inserted wherever an
// f16 value meets an f32 op and back.
#include "ir/OpHooks.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace infc {
namespace {

/// Operands that must stay float32 whatever the graph computes in (they are parameters, not data).
bool keepsFloat32(const Operation &user, size_t operand) {
  return user.is(OpKind::OnnxResize) && (operand == 1 || operand == 2);
}

/// Why `op` widens the range of its float result beyond what f16 holds, or nullptr.
const char *expandsRange(const Operation &op) {
  switch (op.kind()) {
  case OpKind::OnnxExp: case OpKind::OnnxSoftplus: return "exp overflows f16 for inputs above 11.09";
  case OpKind::OnnxPow: return "pow leaves the f16 range quickly (256^2 > 65504)";
  case OpKind::OnnxReduceSum: case OpKind::OnnxReduceSumSquare: case OpKind::OnnxReduceL2:
  case OpKind::OnnxReduceProd: case OpKind::OnnxReduceLogSumExp: case OpKind::OnnxCumSum:
    return "a sum or product over many elements can exceed the f16 range";
  default: return nullptr;
  }
}

/// Ops whose result is back in an ordinary range even when their input is wide.
bool narrowsRange(const Operation &op, const std::unordered_set<const Value *> &wide) {
  switch (op.kind()) {
  case OpKind::OnnxSqrt: case OpKind::OnnxLog: case OpKind::OnnxReciprocal: case OpKind::OnnxSigmoid:
  case OpKind::OnnxTanh: case OpKind::OnnxSoftmax: case OpKind::OnnxLogSoftmax: case OpKind::OnnxErf:
    return true;
  case OpKind::OnnxDiv: return !wide.count(op.operand(0));
  default: return op.numResults() > 0 && !isFloat(op.result()->type().elem());
  }
}

bool hasFloatData(const Operation &op) {
  for (Value *r : op.results())
    if (r->type().elem() == DType::F32)
      return true;
  for (Value *v : op.operands())
    if (v && v->type().elem() == DType::F32)
      return true;
  return false;
}

class AssignPrecisionPass final : public Pass {
public:
  std::string_view name() const override { return "assign-precision"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    Block &body = graph.body();
    low_ = ctx.lowPrecision;
    if (low_ != DType::F16 && low_ != DType::BF16)
      return invalidArgument("assign-precision: the 16-bit type must be f16 or bf16");
    const std::string lowName(dtypeName(low_));
    bool rangePolicy = low_ == DType::F16; // bf16 holds float32's range
    Operation *first = body.ops().empty() ? nullptr : body.ops().front().get();
    bool changed = false;

    // 1. Decide, on the float32 graph, which ops keep f32 and why.
    std::unordered_map<const Operation *, std::string> keep;
    std::unordered_set<const Value *> wide;
    std::unordered_set<const Operation *> userChoice; ///< precision set by --layer-precision
    for (const auto &opPtr : body.ops()) {
      const Operation &op = *opPtr;
      if (op.is(OpKind::OnnxConstant) || !hasFloatData(op))
        continue;
      const Value *wideIn = nullptr;
      for (Value *v : op.operands())
        if (v && wide.count(v))
          wideIn = v;
      if (const char *why = rangePolicy ? expandsRange(op) : nullptr) {
        keep[&op] = std::string("f32: ") + why;
        for (Value *r : op.results())
          wide.insert(r);
      } else if (wideIn) {
        keep[&op] = "f32: reads %" + wideIn->name() + ", which may exceed the f16 range";
        if (!narrowsRange(op, wide))
          for (Value *r : op.results())
            wide.insert(r);
      }
      // --layer-precision overrides the policy for the ops carrying that node (its range
      // analysis still marks what they produce).
      for (const NodeRef &n : op.loc().nodes()) {
        auto asked = ctx.layerPrecision.find(n.name);
        if (asked == ctx.layerPrecision.end())
          continue;
        if (asked->second == DType::F32)
          keep[&op] = "f32: --layer-precision " + n.name + ":fp32";
        else
          keep.erase(&op);
        userChoice.insert(&op);
        break;
      }
    }
    // --strict-precision: the policy may not keep an op in f32 that the user did not ask for.
    if (ctx.strictPrecision) {
      std::string kept;
      size_t count = 0;
      for (const auto &opPtr : body.ops()) {
        auto it = keep.find(opPtr.get());
        if (it == keep.end() || userChoice.count(opPtr.get()))
          continue;
        if (++count <= 5)
          kept += "\n  " + opPtr->describe() + ": " + it->second;
      }
      if (count)
        return invalidArgument("--strict-precision: " + std::to_string(count) + " op" + (count > 1 ? "s" : "") +
                               " would stay in f32 instead of " + lowName + " (name them with --layer-precision NAME:fp32 "
                               "to allow it, or NAME:fp16 to force f16):" + kept + (count > 5 ? "\n  ..." : ""));
    }

    // 2. Inputs: cast to f16 right away.
    for (const auto &arg : body.arguments()) {
      if (arg->type().elem() != DType::F32 || !arg->hasUses())
        continue;
      Value *h = castTo(body, arg.get(), low_, first, arg->name() + "." + lowName);
      std::vector<Operation *> users = arg->users();
      for (Operation *u : users)
        if (u != h->definingOp())
          for (size_t i = 0; i < u->numOperands(); ++i)
            if (u->operand(i) == arg.get() && !keepsFloat32(*u, i))
              u->setOperand(i, h);
      changed = true;
      ++ctx.stat(name(), "inputs-cast");
    }
    std::vector<bool> wasF32;
    for (const GraphOutput &o : graph.outputs())
      wasF32.push_back(o.value->type().elem() == DType::F32);

    // 3. Convert op by op: constants and casts to f16 unless every reader keeps f32; each op's
    // float operands cast to the precision it computes in; types re-inferred.
    for (Operation *op : body.opPointers()) {
      auto it = keep.find(op);
      bool f32 = it != keep.end();
      if (op->is(OpKind::OnnxConstant)) {
        const Tensor *t = getConstantValue(op->result());
        bool anyF16Reader = false;
        for (Operation *u : op->result()->users())
          for (size_t i = 0; i < u->numOperands(); ++i)
            anyF16Reader = anyF16Reader || (u->operand(i) == op->result() && !keepsFloat32(*u, i) && !keep.count(u));
        if (t && t->dtype() == DType::F32 && anyF16Reader) {
          originals_[op->result()] = *t;
          op->attrs().set("value", t->castTo(low_));
          ++ctx.stat(name(), "constants-converted");
          changed = true;
        }
      } else if (f32) {
        op->attrs().set("precision", it->second);
        ++ctx.stat(name(), "ops-kept-f32");
        changed = true;
      } else if (op->is(OpKind::OnnxCast) && *op->attrs().getInt("to", 0) == static_cast<int64_t>(DType::F32)) {
        op->attrs().set("to", static_cast<int64_t>(low_));
        changed = true;
      } else if (op->is(OpKind::OnnxConstantOfShape) && op->attrs().has("value")) {
        Tensor v = *op->attrs().getTensor("value");
        if (v.dtype() == DType::F32) {
          op->attrs().set("value", v.castTo(low_));
          changed = true;
        }
      }
      if (!op->is(OpKind::OnnxConstant)) {
        DType want = f32 ? DType::F32 : low_;
        DType other = f32 ? low_ : DType::F32;
        for (size_t i = 0; i < op->numOperands(); ++i) {
          Value *v = op->operand(i);
          if (v && keepsFloat32(*op, i)) {
            // A parameter (Resize scales): float32 whatever the op computes in.
            if (auto orig = originals_.find(v); orig != originals_.end())
              op->setOperand(i, createConstant(body, orig->second, v->name() + ".f32", op));
            continue;
          }
          if (!v || v->type().elem() != other)
            continue;
          if (op->is(OpKind::OnnxCast) || op->is(OpKind::OnnxShape) || op->is(OpKind::OnnxSize))
            continue; // reads any dtype
          if (auto orig = originals_.find(v); orig != originals_.end() && want == DType::F32) {
            // A constant converted for its f16 readers: the f32 reader gets the original values.
            op->setOperand(i, createConstant(body, orig->second, v->name() + ".f32", op));
            continue;
          }
          op->setOperand(i, convert(body, v, want, op));
        }
      }
      INFC_RETURN_IF_ERROR(inferShapes(*op));
    }
    // 4. Outputs back to float32.
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      Value *v = graph.outputs()[i].value;
      if (!wasF32[i] || v->type().elem() != low_)
        continue;
      graph.setOutputValue(i, castTo(body, v, DType::F32, nullptr, graph.outputs()[i].name + ".f32"));
      changed = true;
    }
    return changed;
  }

private:
  DType low_ = DType::F16;
  /// Float32 values of the constants converted to f16, for readers that keep f32.
  std::unordered_map<const Value *, Tensor> originals_;
  /// One cast per value and dtype.
  std::map<std::pair<Value *, DType>, Value *> casts_;

  /// `v` in dtype `to`: the value a Cast made `v` from when it already has that dtype (an f32
  /// input read back in f32 needs no round trip through f16), else one shared Cast.
  Value *convert(Block &body, Value *v, DType to, Operation *before) {
    if (Operation *def = v->definingOp(); def && def->is(OpKind::OnnxCast) && def->operand(0)->type().elem() == to)
      return def->operand(0);
    Value *&c = casts_[{v, to}];
    if (!c)
      c = castTo(body, v, to, before, v->name() + "." + std::string(dtypeName(to)));
    return c;
  }

  static Value *castTo(Block &body, Value *v, DType to, Operation *before, const std::string &nameHint) {
    AttrMap a;
    a.set("to", static_cast<int64_t>(to));
    TensorType t = v->type();
    t.setElem(to);
    return body.create(OpKind::OnnxCast, {v}, {t}, a, {}, before, {nameHint})->result();
  }
};

} // namespace

std::unique_ptr<Pass> createAssignPrecisionPass() { return std::make_unique<AssignPrecisionPass>(); }

} // namespace infc
