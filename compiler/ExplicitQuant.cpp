#include "compiler/ExplicitQuant.h"

#include <algorithm>
#include <cstdio>

namespace infc {

namespace {

bool isPair(const Operation &dq) {
  if (!dq.is(OpKind::OnnxDequantizeLinear))
    return false;
  const Operation *q = dq.operand(0)->definingOp();
  return q && q->is(OpKind::OnnxQuantizeLinear) && !getConstantValue(q->operand(0));
}

/// The single value of a scale or zero point, or an error naming `op` and what is wrong.
Expected<double> scalarOf(const Operation &op, size_t operand, const char *what, const std::string &modelPath) {
  const Tensor *t = op.hasOperand(operand) ? getConstantValue(op.operand(operand)) : nullptr;
  if (!t)
    return unsupported(modelPath + ": " + op.describe() + ": its " + what + " is not a constant");
  if (t->numElements() != 1)
    return unsupported(modelPath + ": " + op.describe() + ": per-axis or blocked activation " + what + "s (" +
                       std::to_string(t->numElements()) + " values) are not supported; an activation takes one " + what);
  return t->getDouble(0);
}

} // namespace

bool hasActivationQdq(const Graph &graph) {
  for (const auto &op : graph.body().ops())
    if (isPair(*op))
      return true;
  return false;
}

Expected<DType> activationQdqType(const Graph &graph, const std::string &modelPath) {
  DType found = DType::Undefined;
  const Operation *first = nullptr;
  for (const auto &dq : graph.body().ops()) {
    if (!isPair(*dq))
      continue;
    const Operation *q = dq->operand(0)->definingOp();
    DType t = q->result()->type().elem();
    if (t != DType::I8 && t != DType::F8E4M3)
      return unsupported(modelPath + ": " + q->describe() + ": quantizes to " + std::string(dtypeName(t)) +
                         "; explicitly quantized engines take symmetric int8 activations (ONNX Runtime: "
                         "activation_type=QInt8, ActivationSymmetric=True) or float8e4m3fn ones");
    if (first && t != found)
      return unsupported(modelPath + ": " + q->describe() + " quantizes to " + std::string(dtypeName(t)) + " and " +
                         first->describe() + " to " + std::string(dtypeName(found)) +
                         ": a model with both int8 and float8 activation pairs is not supported");
    found = t;
    first = q;
  }
  return found;
}

Expected<std::map<std::string, double>> takeActivationQdq(Graph &graph, const std::string &modelPath) {
  INFC_ASSIGN_OR_RETURN(DType type, activationQdqType(graph, modelPath));
  // The largest magnitude of the quantized type: amax = that times the scale.
  double levels = type == DType::F8E4M3 ? 448.0 : 127.0;
  std::map<std::string, double> ranges;
  for (Operation *dq : graph.body().opPointers()) {
    if (!isPair(*dq))
      continue;
    Operation *q = dq->operand(0)->definingOp();
    Value *x = q->operand(0);
    INFC_ASSIGN_OR_RETURN(double qs, scalarOf(*q, 1, "scale", modelPath));
    INFC_ASSIGN_OR_RETURN(double ds, scalarOf(*dq, 1, "scale", modelPath));
    for (Operation *op : {q, dq}) {
      if (!op->hasOperand(2))
        continue;
      INFC_ASSIGN_OR_RETURN(double zp, scalarOf(*op, 2, "zero point", modelPath));
      if (zp != 0)
        return unsupported(modelPath + ": " + op->describe() + ": zero point " + std::to_string(static_cast<long long>(zp)) +
                           ": asymmetric activation quantization is not supported (ONNX Runtime: ActivationSymmetric=True)");
    }
    if (qs != ds || !(qs > 0))
      return unsupported(modelPath + ": " + dq->describe() + ": a QuantizeLinear/DequantizeLinear pair with scales " +
                         std::to_string(qs) + " and " + std::to_string(ds) + " (they must be one positive scale)");
    // Two pairs on one tensor (one per reader) with different scales: the larger range keeps
    // every value representable.
    double &amax = ranges[x->name()];
    amax = std::max(amax, levels * qs);
    Value *y = dq->result();
    for (size_t i = 0; i < graph.outputs().size(); ++i)
      if (graph.outputs()[i].value == y)
        graph.setOutputValue(i, x);
    y->replaceAllUsesWith(x);
    dq->erase();
    if (!q->result()->hasUses())
      q->erase();
  }
  return ranges;
}

} // namespace infc
