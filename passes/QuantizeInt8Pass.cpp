// quantize-int8: the quantize stage of post-training INT8 (calibration, the observe stage, gave
// each ONNX tensor its range amax). Every channels-last f16 infc.conv whose input has a range
// becomes an INT8 convolution (ConvAttrs' INT8 form: int8 input and weights, a float32 scale per
// output channel, y = out(post_mult * act(acc * s + z + b))):
//  - activations: symmetric per-tensor scale amax / 127 (1/127 for an all-zero tensor); a float
//    input is quantized by one onnx.QuantizeLinear per value, shared by its readers;
//  - weights: symmetric per-output-channel scales max |w_k| / 127, rounded half to even;
//  - requantization in the epilogue: a convolution whose every reader is an INT8 convolution (as
//    input or residual), whose result has a range and whose activation commutes with a positive
//    factor (none, relu, clip, leaky relu) writes int8 itself. The epilogue runs in the units of
//    its residual (z's scale; 1 for a float z; y's scale without z): s = x_scale * w_scale / unit,
//    the bias and clip bounds over the unit, and post_mult = unit / y's scale (1 for f16 results),
//    so z is added as it is (cuDNN 9.19 runs no INT8 graph that scales z; docs/int8.md).
// Ops that stay in f16 say why in `precision` ("f16: grouped convolution has no INT8 kernel yet"),
// as assign-precision's f32 reasons do; `--layer-precision NAME:fp16|fp32` keeps a conv out of
// INT8, NAME:int8 makes a conv that cannot be quantized an error, and `--strict-precision` makes
// any convolution left in f16 one.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace infc {
namespace {


/// Activations that commute with multiplication by a positive scale: act(v) / s = act'(v / s).
bool positivelyHomogeneous(const Activation &a) {
  return a.kind == Act::None || a.kind == Act::Relu || a.kind == Act::Clip || a.kind == Act::LeakyRelu;
}

/// Activations cuDNN's INT8 epilogue runs.
bool int8Activation(const Activation &a) {
  switch (a.kind) {
  case Act::None: case Act::Relu: case Act::Clip: case Act::LeakyRelu: case Act::Sigmoid: case Act::Tanh:
  case Act::Silu: case Act::Gelu: case Act::GeluTanh:
    return true;
  default:
    return false;
  }
}

class QuantizeInt8Pass final : public Pass {
public:
  std::string_view name() const override { return "quantize-int8"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    INFC_RETURN_IF_ERROR(requireCalibratedRanges(ctx, "quantize-int8"));
    ranges_ = &ctx.int8Ranges;
    homogeneous_.clear();
    Block &body = graph.body();

    // 1. Which convolutions become INT8, and why the others do not.
    std::unordered_set<const Operation *> quant, forced; ///< forced: --layer-precision NAME:int8
    std::vector<std::string> strictFailures;
    for (Operation *op : body.opPointers()) {
      if (!op->is(OpKind::InfcConv))
        continue;
      if (int8StemCandidate(*op))
        continue; // quantize-int8-stem's, with its max pool (after fuse-pool-quant)
      std::string node;
      std::string asked = askedPrecision(*op, ctx.layerPrecision, node); // by ONNX node
      std::string why = asked.empty() || asked == "int8" ? ineligible(*op) : "--layer-precision " + node + ":" + asked;
      if (why.empty()) {
        quant.insert(op);
        if (asked == "int8")
          forced.insert(op);
        continue;
      }
      if (!op->attrs().has("precision"))
        op->attrs().set("precision", std::string(dtypeName(op->result()->type().elem())) + ": " + why);
      if (asked == "int8")
        return invalidArgument("--layer-precision " + node + ":int8: " + op->describe() + " cannot run in INT8: " + why);
      if (ctx.strictPrecision && asked.empty())
        strictFailures.push_back(op->describe() + ": " + why);
    }
    if (!strictFailures.empty())
      return strictPrecisionError(strictFailures, "convolution", "f16", "INT8");

    // 2. Which of them write int8 (requantize in their epilogue).
    std::unordered_set<const Operation *> int8Out;
    INFC_ASSIGN_OR_RETURN(int8Out, int8Outputs(quant));

    // 2b. With the target GPU here: which convolutions run INT8 is chosen for the whole network
    // (chooseByTiming). --strict-precision and NAME:int8 keep INT8 whatever the timing.
    if (ctx.int8Timing && !ctx.strictPrecision) {
      std::vector<const Operation *> order;
      for (const Operation *op : body.opPointers())
        if (quant.count(op))
          order.push_back(op);
      INFC_ASSIGN_OR_RETURN(std::unordered_set<const Operation *> chosen, chooseByTiming(order, forced, ctx));
      for (const Operation *op : order)
        if (!chosen.count(op))
          quant.erase(op);
      INFC_ASSIGN_OR_RETURN(int8Out, int8Outputs(quant));
    }

    // 3. Rewrite in program order: a producer is rewritten before its readers, which then see int8.
    bool changed = false;
    for (Operation *op : body.opPointers()) {
      if (!quant.count(op))
        continue;
      INFC_RETURN_IF_ERROR(rewrite(body, op, int8Out.count(op) != 0, ctx));
      changed = true;
    }
    return changed;
  }

private:
  /// The convolutions of `quant` that write int8 (requantize in their epilogue): every reader is
  /// an INT8 convolution of `quant` reading it as input or residual, not as weights or bias, the
  /// result has a range and is no graph output. A reader that takes it as its residual needs an
  /// activation that commutes with positive factors too (its epilogue then runs in the residual's
  /// units and rescales after the activation).
  Expected<std::unordered_set<const Operation *>> int8Outputs(const std::unordered_set<const Operation *> &quant) {
    std::unordered_set<const Operation *> out;
    for (const Operation *op : quant) {
      const Value *y = op->result();
      INFC_ASSIGN_OR_RETURN(bool homogeneous, positivelyHomogeneousAct(op));
      bool ok = !y->isGraphOutput() && !y->users().empty() && homogeneous && rangeOf(y);
      for (const Operation *u : y->users()) {
        ok = ok && quant.count(u) && u->operand(1) != y && (!u->hasOperand(2) || u->operand(2) != y);
        if (ok && u->hasOperand(3) && u->operand(3) == y) {
          INFC_ASSIGN_OR_RETURN(ok, positivelyHomogeneousAct(u));
        }
      }
      if (ok)
        out.insert(op);
    }
    return out;
  }

  /// Whether conv `op`'s activation commutes with positive factors (read once per op: the
  /// network-wide choice asks many times).
  Expected<bool> positivelyHomogeneousAct(const Operation *op) {
    if (auto it = homogeneous_.find(op); it != homogeneous_.end())
      return it->second;
    INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(*op));
    return homogeneous_[op] = positivelyHomogeneous(a.act);
  }

  /// The set of `order`'s convolutions (program order) that run INT8, chosen for the whole
  /// network by timing: the modeled time of an assignment is the sum over the convolutions of
  /// their f16 time or their timed INT8 time in the form the assignment gives them (int8 or f16
  /// result, int8 or f16 residual), plus one QuantizeLinear kernel per tensor that an INT8
  /// convolution reads from a producer that does not write int8. A local search from all-INT8
  /// and from all-f16 moves one convolution or a run of up to 12 consecutive ones to either
  /// precision while that lowers the total; the lower of the two ends wins. Deciding one
  /// convolution at a time instead lets one slow INT8 layer (ResNet-50's 3-channel stem) push
  /// every following layer out of INT8 in turn, each meeting an f16 input. `forced` and
  /// convolutions the timing has no answer for (NotFound, Unsupported) stay INT8.
  Expected<std::unordered_set<const Operation *>> chooseByTiming(const std::vector<const Operation *> &order,
                                                                  const std::unordered_set<const Operation *> &forced,
                                                                  PassContext &ctx) {
    std::map<std::tuple<const Operation *, bool, bool>, Int8ConvTiming> timed;
    std::unordered_set<const Operation *> pinned(forced.begin(), forced.end());
    // The timing of `op` in `form`; nullopt: no answer (op pinned to INT8).
    auto timing = [&](const Operation *op, bool out, bool residual) -> Expected<std::optional<Int8ConvTiming>> {
      auto key = std::make_tuple(op, out, residual);
      if (auto it = timed.find(key); it != timed.end())
        return std::optional<Int8ConvTiming>(it->second);
      Expected<Int8ConvTiming> t = ctx.int8Timing(*op, Int8ConvForm{out, residual});
      if (!t.isOk()) {
        if (t.status().code() != StatusCode::NotFound && t.status().code() != StatusCode::Unsupported)
          return t.status();
        pinned.insert(op);
        return std::optional<Int8ConvTiming>();
      }
      return std::optional<Int8ConvTiming>(timed[key] = *t);
    };
    using Set = std::unordered_set<const Operation *>;
    auto cost = [&](const Set &s) -> Expected<double> {
      INFC_ASSIGN_OR_RETURN(Set out, int8Outputs(s));
      std::unordered_set<const Value *> quantized;
      double total = 0;
      for (const Operation *op : order) {
        const Value *z = op->hasOperand(3) ? op->operand(3) : nullptr;
        bool zInt8 = z && z->definingOp() && out.count(z->definingOp());
        bool in = s.count(op) != 0;
        if (!in) {
          // Every answer carries the f16 time: any form timed already serves.
          if (auto it = timed.lower_bound(std::make_tuple(op, false, false)); it != timed.end() && std::get<0>(it->first) == op) {
            total += it->second.f16Ms;
            continue;
          }
        }
        INFC_ASSIGN_OR_RETURN(std::optional<Int8ConvTiming> t, timing(op, in && out.count(op), in && zInt8));
        if (!t)
          continue; // no answer: INT8, uncounted
        if (!in) {
          total += t->f16Ms;
          continue;
        }
        total += t->int8Ms;
        const Value *x = op->operand(0);
        if (!(x->definingOp() && out.count(x->definingOp())) && quantized.insert(x).second)
          total += t->quantizeMs;
      }
      return total;
    };
    constexpr size_t kMaxRun = 12;
    constexpr double kGain = 1e-4; // ms: below it, no move
    auto search = [&](Set s) -> Expected<std::pair<Set, double>> {
      INFC_ASSIGN_OR_RETURN(double best, cost(s));
      for (;;) {
        Set bestSet;
        double bestCost = best;
        bool moved = false;
        for (size_t i = 0; i < order.size(); ++i)
          for (size_t len = 1; len <= kMaxRun && i + len <= order.size(); ++len)
            for (bool toInt8 : {false, true}) {
              Set t = s;
              for (size_t j = i; j < i + len; ++j)
                if (toInt8 || pinned.count(order[j]))
                  t.insert(order[j]);
                else
                  t.erase(order[j]);
              if (t == s)
                continue;
              INFC_ASSIGN_OR_RETURN(double c, cost(t));
              if (c < bestCost - kGain) {
                bestCost = c;
                bestSet = std::move(t);
                moved = true;
              }
            }
        if (!moved)
          return std::make_pair(std::move(s), best);
        s = std::move(bestSet);
        best = bestCost;
      }
    };
    Set all(order.begin(), order.end());
    INFC_ASSIGN_OR_RETURN(double allInt8, cost(all));
    INFC_ASSIGN_OR_RETURN(auto fromInt8, search(all));
    INFC_ASSIGN_OR_RETURN(auto fromF16, search(pinned));
    INFC_ASSIGN_OR_RETURN(double allF16, cost(pinned));
    auto &winner = fromF16.second < fromInt8.second - kGain ? fromF16 : fromInt8;
    Set &chosen = winner.first; // not a structured binding: lambdas below capture it
    double &ms = winner.second;
    for (const Operation *op : pinned)
      chosen.insert(op); // pinned after the search started (no answer)
    INFC_ASSIGN_OR_RETURN(ms, cost(chosen));
    // Each convolution left in f16 says what INT8 would have cost the network.
    for (const Operation *op : order) {
      if (chosen.count(op))
        continue;
      Set with = chosen;
      with.insert(op);
      INFC_ASSIGN_OR_RETURN(double c, cost(with));
      char buf[200];
      std::snprintf(buf, sizeof buf, "f16: the network is faster with it in FP16 (%.4f ms against %.4f ms with it in INT8, timed)",
                    ms, c);
      const_cast<Operation *>(op)->attrs().set("precision", std::string(buf));
      ++ctx.stat(name(), "convs-f16-faster");
    }
    ctx.remark(name(), [&] {
      char buf[240];
      std::snprintf(buf, sizeof buf,
                    "%zu of %zu convolutions in INT8, modeled %.4f ms (all INT8 %.4f ms, all FP16 %.4f ms, %zu forms timed)",
                    chosen.size(), order.size(), ms, allInt8, allF16, timed.size());
      return std::string(buf);
    });
    return chosen;
  }

  const std::map<std::string, double> *ranges_ = nullptr;
  std::unordered_map<const Operation *, bool> homogeneous_;
  std::unordered_map<const Value *, Value *> quantized_; ///< float value -> its int8 QuantizeLinear
  std::unordered_map<const Value *, float> int8Scale_;   ///< int8 value -> its scale

  const double *rangeOf(const Value *v) const { return calibratedRange(*ranges_, v); }

  /// Why `op` stays in float, or "" when it can be an INT8 convolution.
  std::string ineligible(const Operation &op) const {
    Expected<ConvAttrs> a = ConvAttrs::read(op);
    if (!a.isOk())
      return a.status().message();
    const Value *x = op.operand(0), *w = op.operand(1);
    if (a->layout != Layout::NHWC)
      return "INT8 convolutions run channels-last, this one is nchw";
    if (a->group != 1)
      return "grouped convolution has no INT8 kernel yet";
    if (!isFloat(x->type().elem()) || !getConstantValue(w) || (op.hasOperand(2) && !getConstantValue(op.operand(2))))
      return "INT8 needs constant weights and bias";
    if (!x->type().isStatic() || !op.result()->type().isStatic())
      return "INT8 needs static shapes";
    // cuDNN 9.19 finalizes INT8 graphs that write int8 or f16, not f32 (docs/int8.md).
    if (op.result()->type().elem() != DType::F16)
      return "INT8 convolutions write int8 or f16, and this one computes in " +
             std::string(dtypeName(op.result()->type().elem()));
    int64_t c = x->type().dim(x->type().rank() - 1).value, k = w->type().dim(0).value;
    if (c % 4 != 0 || k % 4 != 0)
      return "INT8 convolutions need channel counts divisible by 4 (" + std::to_string(c) + " in, " + std::to_string(k) +
             " out)";
    if (!int8Activation(a->act))
      return "activation " + std::string(a->act.name()) + " has no INT8 epilogue";
    if (!rangeOf(x))
      return "no calibrated range for its input %" + x->name();
    return "";
  }

  /// `x` as int8 with scale `scale`: one QuantizeLinear per value, placed before its first
  /// INT8 reader `before` (the others come later in program order).
  Value *quantize(Block &body, Value *x, float scale, Operation *before) {
    Value *&q = quantized_[x];
    if (q)
      return q;
    q = createQuantize(body, x, scale, DType::I8, "scale", "i8", before);
    int8Scale_[q] = scale;
    return q;
  }

  Status rewrite(Block &body, Operation *op, bool writesInt8, PassContext &ctx) {
    INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(*op));
    Value *x = op->operand(0), *y = op->result();
    DType floatType = y->type().elem();
    float xs = int8ScaleOf(*rangeOf(x));
    Value *xq = x->type().elem() == DType::I8 ? x : quantize(body, x, xs, op);
    if (x->type().elem() == DType::I8)
      xs = int8Scale_.at(x);
    float ys = writesInt8 ? int8ScaleOf(*rangeOf(y)) : 1.0f;
    // The units the epilogue runs in: the residual's (added as it is), else the result's.
    Value *z = op->hasOperand(3) ? op->operand(3) : nullptr;
    double unit = z ? (z->type().elem() == DType::I8 ? static_cast<double>(int8Scale_.at(z)) : 1.0) : ys;

    // Weights: per output channel, symmetric.
    Int8ConvConstants cst = int8ConvConstants(body, op, xs, unit);
    std::vector<Value *> operands(5, nullptr);
    operands[0] = xq;
    operands[1] = cst.w;
    operands[2] = cst.bias;
    std::string zText;
    operands[3] = z;
    if (z && z->type().elem() == DType::I8)
      zText = ", residual scale " + formatScale(unit);
    operands[4] = cst.scale;
    a.postMult = static_cast<float>(unit / ys);
    if (a.postMult != 1.0f && !positivelyHomogeneous(a.act))
      return internalError(op->describe() + ": quantize-int8 chose an int8 residual or result for an activation that "
                           "does not commute with positive factors");
    if (a.act.kind == Act::Clip)
      for (float &p : a.act.params)
        p = static_cast<float>(p / unit);
    a.outType = writesInt8 ? DType::I8 : floatType;
    AttrMap attrs = op->attrs();
    a.write(attrs);
    attrs.set("precision", "int8: input scale " + formatScale(xs) + ", weight scales " + formatScale(cst.wMin) + ".." +
                               formatScale(cst.wMax) + " per channel" + zText + ", " +
                               (writesInt8 ? "output int8 scale " + formatScale(ys) : "output " + std::string(dtypeName(floatType))));
    TensorType t = y->type();
    t.setElem(a.outType);
    Operation *q = replaceWithOp(op, OpKind::InfcConv, operands, std::move(attrs), t, op->loc());
    if (writesInt8)
      int8Scale_[q->result()] = ys;
    ++ctx.stat(name(), writesInt8 ? "convs-int8-out" : "convs-float-out");
    return Status::ok();
  }
};

} // namespace

std::unique_ptr<Pass> createQuantizeInt8Pass() { return std::make_unique<QuantizeInt8Pass>(); }

} // namespace infc
