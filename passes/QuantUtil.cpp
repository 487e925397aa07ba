#include "passes/QuantUtil.h"

#include "ir/InfcAttrs.h"

#include "passes/Rewrite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace infc {

namespace {

/// The entry of `ranges` that holds `v`'s calibration: its own ONNX name (less the suffixes passes
/// add when they re-create a value in another layout or precision: "x.nhwc", "x.f16"), else that
/// of the value it is a relayout, precision cast or reshape of.
std::map<std::string, double>::const_iterator calibratedEntry(const std::map<std::string, double> &ranges, const Value *v) {
  for (int hops = 0; v && hops < 16; ++hops) {
    std::string name = v->name();
    for (;;) {
      if (auto it = ranges.find(name); it != ranges.end())
        return it;
      size_t dot = name.rfind('.');
      if (dot == std::string::npos || dot == 0)
        break;
      std::string suffix = name.substr(dot + 1);
      if (suffix != "nhwc" && suffix != "nchw" && suffix != "f16" && suffix != "f32" && suffix != "bf16")
        break;
      name.resize(dot);
    }
    const Operation *def = v->definingOp();
    if (!def)
      return ranges.end();
    bool sameRange = def->is(OpKind::InfcLayoutCast) || def->is(OpKind::OnnxReshape) || def->is(OpKind::OnnxTranspose) ||
                     def->is(OpKind::OnnxFlatten) || def->is(OpKind::OnnxSqueeze) || def->is(OpKind::OnnxUnsqueeze) ||
                     (def->is(OpKind::OnnxCast) && isFloat(def->operand(0)->type().elem()));
    if (!sameRange)
      return ranges.end();
    v = def->operand(0);
  }
  return ranges.end();
}

} // namespace

const double *calibratedRange(const std::map<std::string, double> &ranges, const Value *v) {
  auto it = calibratedEntry(ranges, v);
  return it == ranges.end() ? nullptr : &it->second;
}

TensorSpread calibratedSpread(const std::map<std::string, double> &ranges, const std::map<std::string, TensorSpread> &spread,
                              const Value *v) {
  auto it = calibratedEntry(ranges, v);
  if (it == ranges.end())
    return {};
  auto s = spread.find(it->first);
  return s == spread.end() ? TensorSpread{} : s->second;
}

Status requireCalibratedRanges(const PassContext &ctx, const std::string &pass, const std::string &flag) {
  if (!ctx.int8Ranges.empty())
    return Status::ok();
  return invalidArgument(pass + " needs calibrated ranges (infc build " + flag + " --calib DIR, or infc-opt --int8-ranges "
                         "NAME=AMAX,...)");
}

std::string askedPrecision(const Operation &op, const std::map<std::string, DType> &layerPrecision, std::string &node) {
  for (const NodeRef &n : op.loc().nodes())
    if (auto it = layerPrecision.find(n.name); it != layerPrecision.end()) {
      node = n.name;
      switch (it->second) {
      case DType::I8: return "int8";
      case DType::F8E4M3: return "fp8";
      case DType::F32: return "fp32";
      default: return "fp16";
      }
    }
  node.clear();
  return "";
}

Status strictPrecisionError(const std::vector<std::string> &failures, const std::string &noun, const std::string &from,
                            const std::string &to) {
  std::string list;
  for (size_t i = 0; i < failures.size() && i < 5; ++i)
    list += "\n  " + failures[i];
  return invalidArgument("--strict-precision: " + std::to_string(failures.size()) + " " + noun + (failures.size() > 1 ? "s" : "") +
                         " would stay in " + from + " instead of " + to +
                         " (name them with --layer-precision NAME:fp16 to allow it):" + list +
                         (failures.size() > 5 ? "\n  ..." : ""));
}

Value *createQuantize(Block &body, Value *x, float scale, DType to, const std::string &scaleSuffix,
                      const std::string &resultSuffix, Operation *before) {
  Value *s = createConstant(body, Tensor::scalarF32(scale), x->name() + "." + scaleSuffix, before);
  AttrMap attrs;
  attrs.set("output_dtype", static_cast<int64_t>(to));
  TensorType t = x->type();
  t.setElem(to);
  return body.create(OpKind::OnnxQuantizeLinear, {x, s}, {t}, attrs, before->loc(), before, {x->name() + "." + resultSuffix})
      ->result();
}

namespace {
bool fusableNorm(const Operation *op) {
  if (!op || !op->is(OpKind::InfcNorm) || op->numResults() != 1 || !op->result()->type().isStatic())
    return false;
  Expected<NormAttrs> a = NormAttrs::read(*op);
  return a.isOk() && (a->kind == NormAttrs::Kind::Layer || a->kind == NormAttrs::Kind::Rms) && !a->xScale;
}
} // namespace

bool normWritesQuantized(const Value *x) { return fusableNorm(x->definingOp()); }

bool normReadsDequantized(const Value *v) {
  const Operation *u = soleUser(v);
  return fusableNorm(u) && u->operand(0) == v && !u->hasOperand(3);
}

namespace {
bool fusableAttention(const Operation *op) {
  if (!op || !op->is(OpKind::InfcAttention) || !op->result()->type().isStatic())
    return false;
  Expected<AttentionAttrs> a = AttentionAttrs::read(*op);
  DType t = op->result()->type().elem();
  return a.isOk() && !a->xScale && !a->qScale && (t == DType::F16 || t == DType::BF16 || t == DType::F32);
}
} // namespace

bool scalarQuantization(const Operation &q) {
  if (!q.is(OpKind::OnnxQuantizeLinear) || q.hasOperand(2) || q.operand(1)->type().elem() != DType::F32 ||
      !scalarValue(q.operand(1)))
    return false;
  DType t = q.result()->type().elem();
  return t == DType::I8 || t == DType::F8E4M3;
}

bool scalarDequantization(const Operation &d, bool e4m3) {
  if (!d.is(OpKind::OnnxDequantizeLinear) || d.hasOperand(2) || d.operand(1)->type().elem() != d.result()->type().elem() ||
      !scalarValue(d.operand(1)))
    return false;
  DType t = d.operand(0)->type().elem();
  return t == DType::I8 || (e4m3 && t == DType::F8E4M3);
}

Operation *soleDequantize(Value *v, DType ft, bool e4m3) {
  Operation *d = v->definingOp();
  return d && scalarDequantization(*d, e4m3) && d->operand(1)->type().elem() == ft && soleUser(v) ? d : nullptr;
}

Operation *attentionWriting(const Value *x) {
  Operation *d = x->definingOp();
  if (d && d->is(OpKind::OnnxReshape) && soleUser(d->operand(0)) == d)
    d = d->operand(0)->definingOp();
  return fusableAttention(d) ? d : nullptr;
}

Operation *attentionReading(const Value *v) {
  Operation *u = soleUser(v);
  if (u && u->is(OpKind::OnnxReshape) && u->operand(0) == v)
    u = soleUser(u->result());
  if (!fusableAttention(u))
    return nullptr;
  // Packed q, k, v only: unpacked ones fuse when all three are dequantized by one scale, which
  // one matmul's choice cannot know.
  bool packed = !u->hasOperand(1) && !u->hasOperand(2);
  return packed && (u->operand(0) == v || u->operand(0)->definingOp() == v->users()[0]) ? u : nullptr;
}

bool quantMatmulCandidate(const Operation &op) {
  return op.is(OpKind::InfcMatmul) ||
         ((op.is(OpKind::OnnxMatMul) || op.is(OpKind::OnnxGemm)) && getConstantValue(op.operand(1)));
}

std::optional<AccCalibration> accCalibration(const PassContext &ctx, const Operation &mm) {
  auto number = [&](const char *name) -> std::optional<double> {
    const Attribute *a = mm.attrs().find(name);
    if (a && std::holds_alternative<float>(*a))
      return static_cast<double>(std::get<float>(*a));
    return std::nullopt;
  };
  if (std::optional<double> amax = number("acc_amax")) {
    AccCalibration c{*amax, {}};
    if (std::optional<double> mx = number("acc_max"), rms = number("acc_rms"); mx && rms)
      c.spread = TensorSpread{*mx, *rms};
    return c;
  }
  // A residual or an activation after the bias: the result is no longer the accumulator.
  Expected<Activation> act = Activation::read(mm.attrs());
  if (mm.hasOperand(3) || !act.isOk() || !act->none())
    return std::nullopt;
  if (const double *r = calibratedRange(ctx.int8Ranges, mm.result()))
    return AccCalibration{*r, calibratedSpread(ctx.int8Ranges, ctx.int8Spread, mm.result())};
  return std::nullopt;
}

void setAccCalibration(AttrMap &attrs, const AccCalibration &c) {
  attrs.set("acc_amax", static_cast<float>(c.amax));
  if (c.spread.known()) {
    attrs.set("acc_max", static_cast<float>(c.spread.max));
    attrs.set("acc_rms", static_cast<float>(c.spread.rms));
  }
}

void recordAccCalibration(const PassContext &ctx, Operation &mm) {
  if (ctx.int8Ranges.empty() || mm.attrs().has("acc_amax"))
    return;
  if (std::optional<AccCalibration> c = accCalibration(ctx, mm))
    setAccCalibration(mm.attrs(), *c);
}

Expected<QuantGemmForm> quantGemmForm(const Operation &op, const std::string &what) {
  QuantGemmForm g;
  if (!op.is(OpKind::OnnxGemm))
    return g;
  INFC_ASSIGN_OR_RETURN(int64_t transA, op.attrs().getInt("transA", 0));
  INFC_ASSIGN_OR_RETURN(int64_t transB, op.attrs().getInt("transB", 0));
  INFC_ASSIGN_OR_RETURN(g.alpha, op.attrs().getFloat("alpha", 1.0f));
  INFC_ASSIGN_OR_RETURN(float beta, op.attrs().getFloat("beta", 1.0f));
  g.transB = transB != 0;
  if (transA)
    return unsupported(what + " takes Gemm's A untransposed");
  if (op.hasOperand(2)) {
    g.bias = getConstantValue(op.operand(2));
    int64_t n = op.result()->type().dim(1).value;
    if (!g.bias || beta != 1.0f || g.bias->numElements() != n || op.operand(2)->type().dim(op.operand(2)->type().rank() - 1) != n)
      return unsupported(what + " takes Gemm's C as a constant bias of N values (beta 1)");
  }
  if (!(g.alpha > 0.0f))
    return unsupported(what + " takes Gemm's alpha positive");
  return g;
}

std::string quantMatmulIneligible(const Operation &op, const std::string &what) {
  if (op.is(OpKind::InfcMatmul)) {
    Expected<MatmulAttrs> a = MatmulAttrs::read(op);
    if (!a.isOk())
      return a.status().message();
    if (a->quantized())
      return a->fp8() ? "already FP8" : "already INT8";
  }
  const Value *x = op.operand(0), *w = op.operand(1), *y = op.result();
  DType t = y->type().elem();
  if (t != DType::F16 && t != DType::BF16)
    return what + " replaces f16 or bf16 matmuls, and this one computes in " + std::string(dtypeName(t));
  if (x->type().elem() != t)
    return what + " needs a 16-bit float input";
  if (!getConstantValue(w) || w->type().rank() != 2)
    return what + " needs constant 2-D weights";
  if (!x->type().isStatic() || x->type().rank() < 2 || !y->type().isStatic())
    return what + " needs static shapes";
  Expected<QuantGemmForm> g = quantGemmForm(op, what);
  if (!g.isOk())
    return g.status().message();
  int64_t k = w->type().dim(g->transB ? 1 : 0).value, n = w->type().dim(g->transB ? 0 : 1).value;
  if (k % 16 != 0 || n % 16 != 0)
    return what + " matmuls need K and N divisible by 16 (" + std::to_string(k) + " and " + std::to_string(n) + ")";
  return "";
}

Expected<std::vector<Operation *>> chooseQuantMatmuls(Block &body, PassContext &ctx, const QuantMatmulPolicy &p) {
  std::vector<Operation *> quant;
  std::vector<std::string> strictFailures;
  for (Operation *op : body.opPointers()) {
    std::string node;
    std::string asked = askedPrecision(*op, ctx.layerPrecision, node);
    // onnx.MatMul of two activations (attention's) is no candidate, and no --strict-precision failure.
    if (!quantMatmulCandidate(*op)) {
      bool leftToOthers = false;
      for (const NodeRef &n : op->loc().nodes())
        leftToOthers = leftToOthers || (n.name == node && !p.leaveTo.empty() && n.opType == p.leaveTo);
      if (asked == p.asked && !leftToOthers)
        return invalidArgument("--layer-precision " + node + ":" + p.asked + ": " + op->describe() + " cannot run in " +
                               p.name + ": " + p.applies);
      continue;
    }
    std::string why = asked.empty() || asked == p.asked ? p.ineligible(*op) : "--layer-precision " + node + ":" + asked;
    // --layer-precision NAME:<asked> overrides the accuracy rule and the timing.
    if (why.empty() && asked != p.asked && p.accuracy)
      why = p.accuracy(*op);
    // With the target GPU here (or its timing cache): quantized only where it is faster, its
    // quantize and dequantize traffic included, as TensorRT's builder keeps the faster of the
    // precisions it allows. --strict-precision keeps the quantized form whatever the timing.
    if (why.empty() && ctx.matmulTiming && !ctx.strictPrecision && asked != p.asked) {
      Expected<std::pair<double, double>> ms = ctx.matmulTiming(*op, p.abType, p.extraBytes(*op, quant));
      if (!ms.isOk() && ms.status().code() != StatusCode::NotFound && ms.status().code() != StatusCode::Unsupported)
        return ms.status();
      if (ms.isOk() && ms->second >= ms->first) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "faster than %s here (%.4f ms against %.4f ms, timed)", p.name.c_str(), ms->first,
                      ms->second);
        why = buf;
        ++ctx.stat(p.pass, "matmuls-f16-faster");
      }
    }
    if (why.empty()) {
      quant.push_back(op);
      continue;
    }
    if (asked == p.asked)
      return invalidArgument("--layer-precision " + node + ":" + p.asked + ": " + op->describe() + " cannot run in " + p.name +
                             ": " + why);
    if (!op->attrs().has("precision") && isFloat(op->result()->type().elem()))
      op->attrs().set("precision", std::string(dtypeName(op->result()->type().elem())) + ": " + why);
    if (ctx.strictPrecision && asked.empty())
      strictFailures.push_back(op->describe() + ": " + why);
  }
  if (!strictFailures.empty())
    return strictPrecisionError(strictFailures, "matmul", "16-bit", p.name);
  return quant;
}

std::pair<Tensor, float> quantizedWeightsNK(const Operation &op, bool transB, DType to, double levels,
                                            const std::function<double(double)> &encode) {
  Tensor w = getConstantValue(op.operand(1))->castTo(DType::F64);
  int64_t k = w.shape()[transB ? 1 : 0], n = w.shape()[transB ? 0 : 1];
  double m = 0;
  for (int64_t i = 0; i < w.numElements(); ++i)
    m = std::max(m, std::fabs(w.getDouble(i)));
  float scale = static_cast<float>(m > 0 ? m / levels : 1.0 / levels);
  Tensor t(to, {n, k});
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      t.setDouble(c * k + r, encode(w.getDouble(transB ? c * k + r : r * n + c) / static_cast<double>(scale)));
  return {std::move(t), scale};
}

std::optional<std::pair<OpKind, AttrMap>> onnxActivation(const Activation &a) {
  AttrMap attrs;
  switch (a.kind) {
  case Act::Relu: return std::make_pair(OpKind::OnnxRelu, attrs);
  case Act::Sigmoid: return std::make_pair(OpKind::OnnxSigmoid, attrs);
  case Act::Tanh: return std::make_pair(OpKind::OnnxTanh, attrs);
  case Act::Gelu: return std::make_pair(OpKind::OnnxGelu, attrs);
  case Act::GeluTanh: attrs.set("approximate", std::string("tanh")); return std::make_pair(OpKind::OnnxGelu, attrs);
  case Act::HardSwish: return std::make_pair(OpKind::OnnxHardSwish, attrs);
  case Act::LeakyRelu: attrs.set("alpha", a.params.at(0)); return std::make_pair(OpKind::OnnxLeakyRelu, attrs);
  case Act::HardSigmoid:
    attrs.set("alpha", a.params.at(0));
    attrs.set("beta", a.params.at(1));
    return std::make_pair(OpKind::OnnxHardSigmoid, attrs);
  default: return std::nullopt;
  }
}

namespace {
struct PerChannelWeights {
  Tensor q;                  ///< int8, w's shape
  std::vector<float> scales; ///< one per output channel
};
PerChannelWeights quantizePerChannel(const Tensor &w) {
  Tensor wd = w.castTo(DType::F64);
  int64_t k = wd.shape()[0], per = wd.numElements() / std::max<int64_t>(k, 1);
  PerChannelWeights r{Tensor(DType::I8, wd.shape()), std::vector<float>(static_cast<size_t>(k))};
  for (int64_t o = 0; o < k; ++o) {
    double m = 0;
    for (int64_t i = 0; i < per; ++i)
      m = std::max(m, std::fabs(wd.getDouble(o * per + i)));
    float ws = m > 0 ? static_cast<float>(m / 127.0) : 1.0f;
    for (int64_t i = 0; i < per; ++i)
      r.q.setDouble(o * per + i, std::clamp(std::nearbyint(wd.getDouble(o * per + i) / ws), -127.0, 127.0));
    r.scales[static_cast<size_t>(o)] = ws;
  }
  return r;
}
} // namespace

Int8ConvConstants int8ConvConstants(Block &body, Operation *op, float xScale, double unit) {
  PerChannelWeights w = quantizePerChannel(*getConstantValue(op->operand(1)));
  std::vector<float> s(w.scales.size());
  for (size_t o = 0; o < s.size(); ++o)
    s[o] = static_cast<float>(static_cast<double>(xScale) * w.scales[o] / unit);
  Int8ConvConstants c;
  if (!w.scales.empty()) {
    c.wMin = *std::min_element(w.scales.begin(), w.scales.end());
    c.wMax = *std::max_element(w.scales.begin(), w.scales.end());
  }
  c.w = createConstant(body, w.q, op->operand(1)->name() + ".i8", op);
  if (op->hasOperand(2)) {
    Tensor b = getConstantValue(op->operand(2))->castTo(DType::F64);
    std::vector<float> bf(static_cast<size_t>(b.numElements()));
    for (size_t i = 0; i < bf.size(); ++i)
      bf[i] = static_cast<float>(b.getDouble(static_cast<int64_t>(i)) / unit);
    c.bias = createConstant(body, Tensor::fromF32(bf, {b.numElements()}), op->operand(2)->name() + ".f32", op);
  }
  c.scale = createConstant(body, Tensor::fromF32(s, {static_cast<int64_t>(s.size())}), op->result()->name() + ".scale", op);
  return c;
}

bool int8StemCandidate(const Operation &op) {
  if (!op.is(OpKind::InfcConv) || op.hasOperand(3) || !isFloat(op.operand(0)->type().elem()) ||
      !op.operand(0)->type().isStatic() || !op.result()->type().isStatic() || !getConstantValue(op.operand(1)) ||
      (op.hasOperand(2) && !getConstantValue(op.operand(2))))
    return false;
  Expected<ConvAttrs> a = ConvAttrs::read(op);
  if (!a.isOk() || a->layout != Layout::NHWC || a->strides.size() != 2 || a->group != 1 || a->dilations != std::vector<int64_t>{1, 1} ||
      (a->act.kind != Act::None && a->act.kind != Act::Relu))
    return false;
  std::vector<int64_t> ws = op.operand(1)->type().staticShape(); // [K, KH, KW, C] (NHWC)
  std::vector<int64_t> xs = op.operand(0)->type().staticShape(), ys = op.result()->type().staticShape();
  int64_t c = xs[3], k = ys[3];
  if (c > 4 || !(k == 32 || k == 64 || k == 128 || k == 256) || ws[1] > 8 || ws[2] > 8)
    return false;
  Operation *pool = soleUser(op.result());
  if (!pool || !pool->is(OpKind::InfcPool) || !pool->result()->type().isStatic())
    return false;
  Expected<PoolAttrs> p = PoolAttrs::read(*pool);
  return p.isOk() && p->isMax && p->layout == Layout::NHWC && p->kernel.size() == 2 && !p->ceilMode &&
         p->dilations == std::vector<int64_t>{1, 1};
}

std::string formatScale(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

} // namespace infc
