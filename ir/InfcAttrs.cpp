#include "ir/InfcAttrs.h"

#include <cmath>

namespace infc {

std::string_view layoutName(Layout l) { return l == Layout::NHWC ? "nhwc" : "nchw"; }

Expected<Layout> parseLayout(const std::string &s) {
  if (s == "nchw")
    return Layout::NCHW;
  if (s == "nhwc")
    return Layout::NHWC;
  return invalidArgument("layout '" + s + "' is not nchw or nhwc");
}

std::vector<int64_t> layoutPerm(Layout to, int64_t rank) {
  std::vector<int64_t> p;
  if (to == Layout::NCHW || rank < 3) {
    for (int64_t i = 0; i < rank; ++i)
      p.push_back(i);
    return p;
  }
  p.push_back(0);
  for (int64_t i = 2; i < rank; ++i)
    p.push_back(i);
  p.push_back(1);
  return p;
}

std::vector<int64_t> layoutInversePerm(Layout from, int64_t rank) {
  std::vector<int64_t> p = layoutPerm(from, rank), inv(p.size());
  for (size_t i = 0; i < p.size(); ++i)
    inv[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
  return inv;
}

std::vector<int64_t> permuted(const std::vector<int64_t> &in, const std::vector<int64_t> &perm) {
  std::vector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(in[static_cast<size_t>(p)]);
  return out;
}

namespace {
struct ActSpelling {
  Act kind;
  const char *name;
  size_t numParams;
};
constexpr ActSpelling kActs[] = {
    {Act::None, "", 0},         {Act::Relu, "relu", 0},           {Act::Sigmoid, "sigmoid", 0},
    {Act::Tanh, "tanh", 0},     {Act::Clip, "clip", 2},           {Act::LeakyRelu, "leaky_relu", 1},
    {Act::Silu, "silu", 0},     {Act::HardSwish, "hardswish", 0}, {Act::HardSigmoid, "hardsigmoid", 2},
    {Act::Gelu, "gelu", 0},     {Act::GeluTanh, "gelu_tanh", 0},
};
} // namespace

std::string_view Activation::name() const {
  for (const ActSpelling &a : kActs)
    if (a.kind == kind)
      return a.name;
  return "";
}

double Activation::apply(double x) const {
  auto clamp01 = [](double v) { return v < 0 ? 0.0 : (v > 1 ? 1.0 : v); };
  switch (kind) {
  case Act::None: return x;
  case Act::Relu: return x < 0 ? 0.0 : x;
  case Act::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
  case Act::Tanh: return std::tanh(x);
  case Act::Clip: return x < params[0] ? params[0] : (x > params[1] ? params[1] : x);
  case Act::LeakyRelu: return x < 0 ? params[0] * x : x;
  case Act::Silu: return x / (1.0 + std::exp(-x));
  case Act::HardSwish: return x * clamp01(x / 6.0 + 0.5);
  case Act::HardSigmoid: return clamp01(params[0] * x + params[1]);
  case Act::Gelu: return 0.5 * x * (1.0 + std::erf(x * 0.7071067811865476));
  case Act::GeluTanh: return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  }
  return x;
}

Expected<Activation> Activation::read(const AttrMap &attrs) {
  INFC_ASSIGN_OR_RETURN(std::string name, attrs.getString("act", ""));
  INFC_ASSIGN_OR_RETURN(std::vector<float> params, attrs.getFloats("act_params", std::vector<float>{}));
  for (const ActSpelling &a : kActs)
    if (name == a.name) {
      if (params.size() != a.numParams)
        return invalidArgument("activation '" + name + "' takes " + std::to_string(a.numParams) + " act_params, not " +
                               std::to_string(params.size()));
      if (a.kind == Act::Clip && !(params[0] <= params[1]))
        return invalidArgument("activation 'clip' needs act_params lo <= hi");
      return Activation{a.kind, params};
    }
  return invalidArgument("unknown activation '" + name + "'");
}

void Activation::write(AttrMap &attrs) const {
  attrs.erase("act");
  attrs.erase("act_params");
  if (kind == Act::None)
    return;
  attrs.set("act", std::string(name()));
  if (!params.empty())
    attrs.set("act_params", params);
}

namespace {
Expected<Layout> readLayout(const AttrMap &attrs, const char *key = "layout") {
  INFC_ASSIGN_OR_RETURN(std::string s, attrs.getString(key, "nchw"));
  return parseLayout(s);
}
void writeLayout(AttrMap &attrs, Layout l, const char *key = "layout") {
  if (l == Layout::NCHW && std::string(key) == "layout")
    attrs.erase(key);
  else
    attrs.set(key, std::string(layoutName(l)));
}
} // namespace

Expected<ConvAttrs> ConvAttrs::read(const Operation &op) {
  ConvAttrs a;
  const AttrMap &m = op.attrs();
  const Value *w = op.operand(1);
  int64_t sd = w ? w->type().rank() - 2 : 2;
  if (sd < 1)
    return op.error("weight rank " + std::to_string(sd + 2) + ", expected at least 3");
  INFC_ASSIGN_OR_RETURN(a.strides, m.getInts("strides", std::vector<int64_t>(static_cast<size_t>(sd), 1)));
  INFC_ASSIGN_OR_RETURN(a.dilations, m.getInts("dilations", std::vector<int64_t>(static_cast<size_t>(sd), 1)));
  INFC_ASSIGN_OR_RETURN(a.pads, m.getInts("pads", std::vector<int64_t>(static_cast<size_t>(2 * sd), 0)));
  INFC_ASSIGN_OR_RETURN(a.group, m.getInt("group", 1));
  if (static_cast<int64_t>(a.strides.size()) != sd || static_cast<int64_t>(a.dilations.size()) != sd ||
      static_cast<int64_t>(a.pads.size()) != 2 * sd)
    return op.error("strides, dilations and pads must have " + std::to_string(sd) + ", " + std::to_string(sd) + " and " +
                    std::to_string(2 * sd) + " entries");
  for (size_t i = 0; i < a.strides.size(); ++i)
    if (a.strides[i] < 1 || a.dilations[i] < 1)
      return op.error("strides and dilations must be positive");
  for (int64_t p : a.pads)
    if (p < 0)
      return op.error("pads must not be negative");
  if (a.group < 1)
    return op.error("group must be positive");
  Expected<Layout> l = readLayout(m);
  if (!l.isOk())
    return op.error(l.status().message());
  a.layout = *l;
  Expected<Activation> act = Activation::read(m);
  if (!act.isOk())
    return op.error(act.status().message());
  a.act = *act;
  INFC_ASSIGN_OR_RETURN(a.postMult, m.getFloat("post_mult", 1.0f));
  if (!(a.postMult > 0.0f) || !std::isfinite(a.postMult))
    return op.error("post_mult must be positive and finite");
  if (a.postMult != 1.0f && a.act.kind != Act::None && a.act.kind != Act::Relu && a.act.kind != Act::Clip &&
      a.act.kind != Act::LeakyRelu)
    return op.error("post_mult needs an activation that commutes with positive factors (none, relu, clip, leaky_relu)");
  if (m.has("dtype")) {
    INFC_ASSIGN_OR_RETURN(std::string name, m.getString("dtype"));
    std::optional<DType> t = parseDType(name);
    if (!t || (*t != DType::F16 && *t != DType::F32 && *t != DType::BF16))
      return op.error("conv dtype '" + name + "': expected f16, bf16 or f32 (int8 results need no dtype)");
    a.outType = *t;
  }
  if (m.has("x_scale")) {
    INFC_ASSIGN_OR_RETURN(float xs, m.getFloat("x_scale"));
    if (!std::isfinite(xs) || xs <= 0)
      return op.error("conv x_scale must be a positive finite number");
    a.xScale = xs;
  }
  if (m.has("x_layout")) {
    Expected<Layout> xl = readLayout(m, "x_layout");
    if (!xl.isOk() || *xl != Layout::NCHW || a.layout != Layout::NHWC || !a.xScale)
      return op.error("conv x_layout: only \"nchw\", for an nhwc convolution with x_scale (its input read as a layout_cast would)");
    a.xNchw = true;
  }
  if (m.has("x_dtype")) {
    INFC_ASSIGN_OR_RETURN(std::string name, m.getString("x_dtype"));
    std::optional<DType> t = parseDType(name);
    if (!t || (*t != DType::F16 && *t != DType::BF16) || !a.xScale)
      return op.error("conv x_dtype '" + name + "': f16 or bf16, with x_scale (the input rounded to it before quantization)");
    a.xRound = *t;
  }
  if (m.has("pool_kernel") || m.has("pool_strides") || m.has("pool_pads")) {
    INFC_ASSIGN_OR_RETURN(a.poolKernel, m.getInts("pool_kernel"));
    INFC_ASSIGN_OR_RETURN(a.poolStrides, m.getInts("pool_strides", std::vector<int64_t>(a.poolKernel.size(), 1)));
    INFC_ASSIGN_OR_RETURN(a.poolPads, m.getInts("pool_pads", std::vector<int64_t>(2 * a.poolKernel.size(), 0)));
    if (a.poolKernel.size() != 2 || a.poolStrides.size() != 2 || a.poolPads.size() != 4)
      return op.error("conv pool_kernel, pool_strides and pool_pads must have 2, 2 and 4 entries (2-D max pooling)");
    for (size_t i = 0; i < 2; ++i)
      if (a.poolKernel[i] < 1 || a.poolStrides[i] < 1 || a.poolPads[i] < 0 || a.poolPads[i + 2] < 0 ||
          a.poolPads[i] >= a.poolKernel[i] || a.poolPads[i + 2] >= a.poolKernel[i])
        return op.error("conv pool: kernel and strides must be positive and pads smaller than the kernel");
    if (a.outType != DType::I8 || a.layout != Layout::NHWC || sd != 2)
      return op.error("conv pool_* (a fused max pool) needs an int8 result of a 2-D nhwc convolution");
  }
  return a;
}

AttrMap ConvAttrs::poolOnnxAttrs() const {
  AttrMap m;
  m.set("kernel_shape", poolKernel);
  m.set("strides", poolStrides);
  m.set("pads", poolPads);
  return m;
}

void ConvAttrs::write(AttrMap &m) const {
  m.set("strides", strides);
  m.set("dilations", dilations);
  m.set("pads", pads);
  if (group != 1)
    m.set("group", group);
  else
    m.erase("group");
  writeLayout(m, layout);
  act.write(m);
  if (postMult != 1.0f)
    m.set("post_mult", postMult);
  else
    m.erase("post_mult");
  if (outType != DType::I8)
    m.set("dtype", std::string(dtypeName(outType)));
  else
    m.erase("dtype");
  if (xScale)
    m.set("x_scale", *xScale);
  else
    m.erase("x_scale");
  if (xNchw)
    m.set("x_layout", std::string("nchw"));
  else
    m.erase("x_layout");
  if (xRound != DType::Undefined)
    m.set("x_dtype", std::string(dtypeName(xRound)));
  else
    m.erase("x_dtype");
  for (const char *k : {"pool_kernel", "pool_strides", "pool_pads"})
    m.erase(k);
  if (pooled()) {
    m.set("pool_kernel", poolKernel);
    m.set("pool_strides", poolStrides);
    m.set("pool_pads", poolPads);
  }
}

AttrMap ConvAttrs::onnxAttrs() const {
  AttrMap m;
  m.set("strides", strides);
  m.set("dilations", dilations);
  m.set("pads", pads);
  m.set("group", group);
  return m;
}

Expected<MatmulAttrs> MatmulAttrs::read(const Operation &op) {
  Expected<Activation> act = Activation::read(op.attrs());
  if (!act.isOk())
    return op.error(act.status().message());
  MatmulAttrs a;
  a.act = *act;
  const AttrMap &m = op.attrs();
  DType in = op.hasOperand(0) ? op.operand(0)->type().elem() : DType::Undefined;
  bool quantized = in == DType::F8E4M3 || in == DType::I8;
  if (m.has("dtype") != quantized || m.has("alpha") != quantized)
    return op.error(quantized ? "a quantized (FP8 or INT8) matmul needs `alpha` and `dtype`"
                              : "`alpha` and `dtype` belong to quantized matmuls (an f8e4m3 or int8 input)");
  if (!quantized)
    return a;
  a.inType = in;
  INFC_ASSIGN_OR_RETURN(a.alpha, m.getFloat("alpha"));
  if (!(a.alpha > 0.0f) || !std::isfinite(a.alpha))
    return op.error("alpha must be positive and finite");
  INFC_ASSIGN_OR_RETURN(std::string name, m.getString("dtype"));
  std::optional<DType> t = parseDType(name);
  if (a.fp8() && (!t || (*t != DType::F16 && *t != DType::BF16)))
    return op.error("FP8 matmul dtype '" + name + "': expected f16 or bf16");
  if (a.int8() && (!t || *t != DType::I8))
    return op.error("INT8 matmul dtype '" + name + "': expected i8");
  if (a.int8() && a.act.kind != Act::None && a.act.kind != Act::Relu)
    return op.error("INT8 matmul activation '" + std::string(a.act.name()) + "': its epilogue runs none or relu");
  a.outType = *t;
  return a;
}

void MatmulAttrs::write(AttrMap &m) const {
  act.write(m);
  if (quantized()) {
    m.set("alpha", alpha);
    m.set("dtype", std::string(dtypeName(outType)));
  } else {
    m.erase("alpha");
    m.erase("dtype");
  }
}

Expected<PoolAttrs> PoolAttrs::read(const Operation &op) {
  PoolAttrs a;
  const AttrMap &m = op.attrs();
  INFC_ASSIGN_OR_RETURN(std::string kind, m.getString("kind"));
  if (kind != "max" && kind != "avg")
    return op.error("pool kind '" + kind + "' is not max or avg");
  a.isMax = kind == "max";
  INFC_ASSIGN_OR_RETURN(a.kernel, m.getInts("kernel_shape"));
  size_t sd = a.kernel.size();
  INFC_ASSIGN_OR_RETURN(a.strides, m.getInts("strides", std::vector<int64_t>(sd, 1)));
  INFC_ASSIGN_OR_RETURN(a.dilations, m.getInts("dilations", std::vector<int64_t>(sd, 1)));
  INFC_ASSIGN_OR_RETURN(a.pads, m.getInts("pads", std::vector<int64_t>(2 * sd, 0)));
  INFC_ASSIGN_OR_RETURN(int64_t ceil, m.getInt("ceil_mode", 0));
  INFC_ASSIGN_OR_RETURN(int64_t cip, m.getInt("count_include_pad", 0));
  a.ceilMode = ceil != 0;
  a.countIncludePad = cip != 0;
  if (a.strides.size() != sd || a.dilations.size() != sd || a.pads.size() != 2 * sd || sd == 0)
    return op.error("kernel_shape, strides, dilations and pads do not agree in length");
  Expected<Layout> l = readLayout(m);
  if (!l.isOk())
    return op.error(l.status().message());
  a.layout = *l;
  if (m.has("q_scale")) {
    INFC_ASSIGN_OR_RETURN(float q, m.getFloat("q_scale"));
    if (!std::isfinite(q) || q <= 0)
      return op.error("pool q_scale must be a positive finite number");
    if (!a.isMax)
      return op.error("pool q_scale belongs to a max pool (an average is quantized by its own QuantizeLinear)");
    a.qScale = q;
  }
  return a;
}

void PoolAttrs::write(AttrMap &m) const {
  m.set("kind", std::string(isMax ? "max" : "avg"));
  m.set("kernel_shape", kernel);
  m.set("strides", strides);
  m.set("dilations", dilations);
  m.set("pads", pads);
  if (ceilMode)
    m.set("ceil_mode", int64_t(1));
  if (countIncludePad)
    m.set("count_include_pad", int64_t(1));
  writeLayout(m, layout);
  if (qScale)
    m.set("q_scale", *qScale);
}

AttrMap PoolAttrs::onnxAttrs() const {
  AttrMap m;
  m.set("kernel_shape", kernel);
  m.set("strides", strides);
  m.set("dilations", dilations);
  m.set("pads", pads);
  m.set("ceil_mode", int64_t(ceilMode));
  if (!isMax)
    m.set("count_include_pad", int64_t(countIncludePad));
  return m;
}

Expected<LayoutCastAttrs> LayoutCastAttrs::read(const Operation &op) {
  LayoutCastAttrs a;
  Expected<Layout> from = readLayout(op.attrs(), "from"), to = readLayout(op.attrs(), "to");
  if (!from.isOk() || !to.isOk())
    return op.error(from.isOk() ? to.status().message() : from.status().message());
  if (!op.attrs().has("from") || !op.attrs().has("to"))
    return op.error("layout_cast needs 'from' and 'to'");
  a.from = *from;
  a.to = *to;
  if (a.from == a.to)
    return op.error("layout_cast from and to the same layout");
  if (op.attrs().has("dtype")) {
    INFC_ASSIGN_OR_RETURN(std::string name, op.attrs().getString("dtype"));
    std::optional<DType> t = parseDType(name);
    if (!t || !isFloat(*t))
      return op.error("layout_cast dtype '" + name + "' is not a float type");
    a.dtype = *t;
  }
  INFC_ASSIGN_OR_RETURN(a.padChannels, op.attrs().getInt("pad_channels", 0));
  if (a.padChannels < 0 || a.padChannels > 64 || (a.padChannels > 0 && (a.from != Layout::NCHW || a.to != Layout::NHWC)))
    return op.error("layout_cast pad_channels must be 0..64, and only from nchw to nhwc");
  return a;
}

void LayoutCastAttrs::write(AttrMap &m) const {
  m.set("from", std::string(layoutName(from)));
  m.set("to", std::string(layoutName(to)));
  if (dtype != DType::Undefined)
    m.set("dtype", std::string(dtypeName(dtype)));
  if (padChannels)
    m.set("pad_channels", padChannels);
}

std::string_view AttentionAttrs::layoutName(QkvLayout l) {
  switch (l) {
  case QkvLayout::BHSD: return "bhsd";
  case QkvLayout::BSHD: return "bshd";
  case QkvLayout::BS3HD: return "bs3hd";
  }
  return "";
}

namespace {
/// The optional `x_scale` and `q_scale` of a fused norm or attention (fuse-norm-quant,
/// fuse-attention-quant): positive finite floats when present.
Status readQuantScales(const Operation &op, const char *what, std::optional<float> &xScale, std::optional<float> &qScale) {
  const AttrMap &m = op.attrs();
  for (auto [name, field] : {std::pair<const char *, std::optional<float> *>{"x_scale", &xScale}, {"q_scale", &qScale}}) {
    if (!m.has(name))
      continue;
    INFC_ASSIGN_OR_RETURN(float s, m.getFloat(name));
    if (!std::isfinite(s) || s <= 0)
      return op.error(std::string(what) + " " + name + " must be a positive finite number");
    *field = s;
  }
  return Status::ok();
}
} // namespace

Expected<AttentionAttrs> AttentionAttrs::read(const Operation &op) {
  AttentionAttrs a;
  const AttrMap &m = op.attrs();
  INFC_ASSIGN_OR_RETURN(std::string layout, m.getString("layout", std::string("bhsd")));
  bool known = false;
  for (QkvLayout l : {QkvLayout::BHSD, QkvLayout::BSHD, QkvLayout::BS3HD})
    if (layout == layoutName(l)) {
      a.layout = l;
      known = true;
    }
  if (!known)
    return op.error("attention layout '" + layout + "' is not bhsd, bshd or bs3hd");
  INFC_ASSIGN_OR_RETURN(a.scale, m.getFloat("scale", 1.0f));
  if (!std::isfinite(a.scale))
    return op.error("attention scale is not finite");
  INFC_ASSIGN_OR_RETURN(int64_t causal, m.getInt("causal", 0));
  INFC_ASSIGN_OR_RETURN(int64_t nanToZero, m.getInt("nan_to_zero", 0));
  a.causal = causal != 0;
  a.nanToZero = nanToZero != 0;
  INFC_RETURN_IF_ERROR(readQuantScales(op, "attention", a.xScale, a.qScale));
  if (m.has("dtype") != (a.xScale || a.qScale))
    return op.error(m.has("dtype") ? "attention dtype belongs to a quantized attention (x_scale or q_scale)"
                                   : "a quantized attention (x_scale or q_scale) needs dtype, the float type it computes in");
  if (m.has("dtype")) {
    INFC_ASSIGN_OR_RETURN(std::string name, m.getString("dtype"));
    std::optional<DType> t = parseDType(name);
    if (!t || !(*t == DType::F32 || *t == DType::F16 || *t == DType::BF16))
      return op.error("attention dtype '" + name + "': expected f32, f16 or bf16");
    a.floatType = *t;
  } else if (op.hasOperand(0)) {
    a.floatType = op.operand(0)->type().elem();
  }
  return a;
}

void AttentionAttrs::write(AttrMap &m) const {
  m.set("layout", std::string(layoutName(layout)));
  m.set("scale", scale);
  if (causal)
    m.set("causal", int64_t(1));
  if (nanToZero)
    m.set("nan_to_zero", int64_t(1));
  for (auto [name, field] : {std::pair<const char *, const std::optional<float> *>{"x_scale", &xScale}, {"q_scale", &qScale}}) {
    if (*field)
      m.set(name, **field);
    else
      m.erase(name);
  }
  if (xScale || qScale)
    m.set("dtype", std::string(dtypeName(floatType)));
  else
    m.erase("dtype");
}

std::string_view NormAttrs::kindName() const {
  switch (kind) {
  case Kind::Layer: return "layer";
  case Kind::Rms: return "rms";
  case Kind::Instance: return "instance";
  case Kind::Group: return "group";
  }
  return "?";
}

Expected<NormAttrs> NormAttrs::read(const Operation &op) {
  NormAttrs a;
  const AttrMap &m = op.attrs();
  INFC_ASSIGN_OR_RETURN(std::string kind, m.getString("kind"));
  bool known = false;
  for (Kind k : {Kind::Layer, Kind::Rms, Kind::Instance, Kind::Group}) {
    a.kind = k;
    if (a.kindName() == kind) {
      known = true;
      break;
    }
  }
  if (!known)
    return op.error("norm kind '" + kind + "' is not layer, rms, instance or group");
  INFC_ASSIGN_OR_RETURN(a.epsilon, m.getFloat("epsilon", 1e-5f));
  if (!std::isfinite(a.epsilon) || a.epsilon < 0)
    return op.error("norm epsilon is negative or not finite");
  if (a.kind == Kind::Layer || a.kind == Kind::Rms) {
    INFC_ASSIGN_OR_RETURN(a.axis, m.getInt("axis", -1));
  }
  if (a.kind == Kind::Group) {
    INFC_ASSIGN_OR_RETURN(a.numGroups, m.getInt("num_groups"));
    if (a.numGroups <= 0)
      return op.error("norm num_groups must be positive");
  }
  INFC_RETURN_IF_ERROR(readQuantScales(op, "norm", a.xScale, a.qScale));
  if (a.kind != Kind::Layer && a.kind != Kind::Rms)
    for (const char *name : {"x_scale", "q_scale"})
      if (m.has(name))
        return op.error(std::string("norm ") + name + " applies to the layer and rms kinds");
  return a;
}

Expected<NormAttrs> NormAttrs::fromOnnx(const Operation &op) {
  NormAttrs a;
  INFC_ASSIGN_OR_RETURN(a.epsilon, op.attrs().getFloat("epsilon", 1e-5f));
  if (op.is(OpKind::OnnxLayerNormalization)) {
    a.kind = Kind::Layer;
    INFC_ASSIGN_OR_RETURN(a.axis, op.attrs().getInt("axis", -1));
  } else if (op.is(OpKind::OnnxInstanceNormalization)) {
    a.kind = Kind::Instance;
  } else if (op.is(OpKind::OnnxGroupNormalization)) {
    a.kind = Kind::Group;
    INFC_ASSIGN_OR_RETURN(a.numGroups, op.attrs().getInt("num_groups"));
  } else {
    return op.error("is not a normalization");
  }
  return a;
}

void NormAttrs::write(AttrMap &m) const {
  m.set("kind", std::string(kindName()));
  m.set("epsilon", epsilon);
  if (kind == Kind::Layer || kind == Kind::Rms)
    m.set("axis", axis);
  if (kind == Kind::Group)
    m.set("num_groups", numGroups);
  if (xScale)
    m.set("x_scale", *xScale);
  if (qScale)
    m.set("q_scale", *qScale);
}

Expected<NormGeometry> normGeometry(const NormAttrs &a, const std::vector<int64_t> &shape) {
  NormGeometry g;
  int64_t rank = static_cast<int64_t>(shape.size());
  if (a.kind == NormAttrs::Kind::Layer || a.kind == NormAttrs::Kind::Rms) {
    int64_t axis = a.axis < 0 ? a.axis + rank : a.axis;
    if (axis < 0 || axis >= rank)
      return invalidArgument("axis " + std::to_string(a.axis) + " is out of range for rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? g.rows : g.length) *= shape[static_cast<size_t>(d)];
    g.params = g.length;
    return g;
  }
  if (rank < 3)
    return invalidArgument(std::string(a.kindName()) + " norm needs (N, C, spatial...) of rank 3 or more");
  int64_t C = shape[1];
  g.perChannel = true;
  g.groups = a.kind == NormAttrs::Kind::Instance ? C : a.numGroups;
  if (g.groups <= 0 || C % g.groups != 0)
    return invalidArgument(std::to_string(C) + " channels do not divide into " + std::to_string(g.groups) + " groups");
  for (int64_t d = 2; d < rank; ++d)
    g.inner *= shape[static_cast<size_t>(d)];
  g.rows = shape[0] * g.groups;
  g.length = C / g.groups * g.inner;
  g.params = C;
  return g;
}

} // namespace infc
