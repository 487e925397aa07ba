// Convolutions through cuDNN's graph API (bias, residual Add and activation fused into the cuDNN graph).
#include "codegen/kernels/Families.h"

#include "ir/InfcAttrs.h"
#include "ir/ops/ConvGeometry.h"

#include <cstdio>
#include <sstream>

namespace infc::codegen {

namespace {

/// Explicit begin/end pads for auto_pad (ONNX: SAME_UPPER puts the extra pad at the end).
Status resolvePads(const Operation &op, const std::vector<int64_t> &in, const std::vector<int64_t> &kernel,
                   const std::vector<int64_t> &strides, const std::vector<int64_t> &dilations,
                   std::vector<int64_t> &begin, std::vector<int64_t> &end) {
  size_t sd = kernel.size();
  INFC_ASSIGN_OR_RETURN(std::string autoPad, op.attrs().getString("auto_pad", "NOTSET"));
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> pads, op.attrs().getInts("pads", std::vector<int64_t>(2 * sd, 0)));
  begin.assign(pads.begin(), pads.begin() + static_cast<long>(sd));
  end.assign(pads.begin() + static_cast<long>(sd), pads.end());
  if (autoPad == "VALID") {
    begin.assign(sd, 0);
    end.assign(sd, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < sd; ++i) {
      int64_t outDim = (in[i] + strides[i] - 1) / strides[i];
      int64_t effK = (kernel[i] - 1) * dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (outDim - 1) * strides[i] + effK - in[i]);
      begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end[i] = total - begin[i];
    }
  }
  return Status::ok();
}

void addConvLayer(const Operation &op, LoweringContext &ctx, const ConvLayer &c, const Location &loc) {
  Layer l;
  l.loc = loc;
  l.name = ctx.kernelName(op, "cudnn");
  l.impl = c;
  l.inputs = {c.x, c.w};
  if (c.b)
    l.inputs.push_back(c.b);
  if (c.z)
    l.inputs.push_back(c.z);
  l.outputs = {c.y};
  l.tactic = "cuDNN heuristic (mode A)";
  l.precision = std::string(dtypeName(c.y->type().elem())) + (c.nhwc ? " nhwc" : "");
  ctx.addLayer(std::move(l));
}

/// onnx.Conv (at --opt-level 0, where nothing fuses): conv + bias.
Status lowerConv(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *w = op.operand(1), *b = op.hasOperand(2) ? op.operand(2) : nullptr, *y = op.result();
  DType t = y->type().elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return unsupported(op.describe() + ": Conv on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  std::vector<int64_t> xs = x->type().staticShape(), ws = w->type().staticShape();
  size_t sd = xs.size() - 2;
  if (sd < 1 || sd > 3)
    return unsupported(op.describe() + ": " + std::to_string(sd) + "-D convolution has no GPU kernel yet");
  ConvLayer c;
  c.x = x;
  c.w = w;
  c.b = b;
  c.y = y;
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  INFC_ASSIGN_OR_RETURN(c.strides, op.attrs().getInts("strides", std::vector<int64_t>(sd, 1)));
  INFC_ASSIGN_OR_RETURN(c.dilations, op.attrs().getInts("dilations", std::vector<int64_t>(sd, 1)));
  std::vector<int64_t> spatial(xs.begin() + 2, xs.end());
  INFC_RETURN_IF_ERROR(resolvePads(op, spatial, kernel, c.strides, c.dilations, c.padsBegin, c.padsEnd));
  addConvLayer(op, ctx, c, op.loc());
  return Status::ok();
}

/// cuDNN's spelling of an epilogue activation ("" when cuDNN has no such pointwise mode).
std::string cudnnActivation(const Activation &a) {
  char buf[96];
  switch (a.kind) {
  case Act::Relu: return "relu";
  case Act::Sigmoid: return "sigmoid";
  case Act::Tanh: return "tanh";
  case Act::Gelu: return "gelu";
  case Act::GeluTanh: return "gelu_tanh";
  case Act::Silu: return "swish";
  case Act::Clip:
    std::snprintf(buf, sizeof buf, "clip:%.9g:%.9g", a.params[0], a.params[1]);
    return buf;
  case Act::LeakyRelu:
    std::snprintf(buf, sizeof buf, "leaky:%.9g", a.params[0]);
    return buf;
  default: return "";
  }
}

/// infc.conv: one cuDNN graph with the whole epilogue when the target GPU is here to show that
/// it runs and pays (LoweringOptions::acceptConvFusion); otherwise conv + bias in cuDNN and the
/// rest of the epilogue as a generated kernel. The IR's fusion decision stands either way: this
/// only picks how to run it.
Status lowerInfcConv(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  DType t = op.result()->type().elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return unsupported(op.describe() + ": Conv on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  size_t sd = a.strides.size();
  if (sd < 1 || sd > 3)
    return unsupported(op.describe() + ": " + std::to_string(sd) + "-D convolution has no GPU kernel yet");
  ConvLayer base;
  base.x = op.operand(0);
  base.w = op.operand(1);
  base.b = op.hasOperand(2) ? op.operand(2) : nullptr;
  base.y = op.result();
  base.strides = a.strides;
  base.dilations = a.dilations;
  base.padsBegin.assign(a.pads.begin(), a.pads.begin() + static_cast<long>(sd));
  base.padsEnd.assign(a.pads.begin() + static_cast<long>(sd), a.pads.end());
  base.nhwc = a.layout == Layout::NHWC;
  const Value *z = op.hasOperand(3) ? op.operand(3) : nullptr;
  if (!z && a.act.none()) {
    addConvLayer(op, ctx, base, op.loc());
    return Status::ok();
  }
  ConvLayer fused = base;
  fused.z = z;
  fused.activation = cudnnActivation(a.act);
  bool expressible = a.act.none() || !fused.activation.empty();
  size_t parts = (z ? 1 : 0) + (a.act.none() ? 0 : 1);
  if (expressible && ctx.options().acceptConvFusion && ctx.options().acceptConvFusion(fused, base, parts)) {
    addConvLayer(op, ctx, fused, op.loc());
    return Status::ok();
  }
  addConvLayer(op, ctx, base, op.loc());
  addEpilogueKernel(op, ctx, base.y, z, a.act);
  return Status::ok();
}

Status lowerConvTranspose(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *w = op.operand(1), *b = op.hasOperand(2) ? op.operand(2) : nullptr, *y = op.result();
  DType t = y->type().elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return unsupported(op.describe() + ": ConvTranspose on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  INFC_ASSIGN_OR_RETURN(int64_t group, op.attrs().getInt("group", 1));
  if (group != 1)
    return unsupported(op.describe() + ": grouped ConvTranspose has no GPU kernel yet");
  std::vector<int64_t> xs = x->type().staticShape(), ws = w->type().staticShape(), ys = y->type().staticShape();
  size_t sd = xs.size() - 2;
  if (sd < 1 || sd > 3)
    return unsupported(op.describe() + ": " + std::to_string(sd) + "-D ConvTranspose has no GPU kernel yet");
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end()), in(xs.begin() + 2, xs.end()), out(ys.begin() + 2, ys.end());
  Expected<ops::WindowGeometry> g = ops::windowGeometry(op.attrs(), kernel, in, true);
  if (!g.isOk())
    return op.error(g.status().message());
  ConvLayer c;
  c.x = x;
  c.w = w;
  c.y = y;
  c.transpose = true;
  c.strides = g->strides;
  c.dilations = g->dilations;
  // Pads from the actual output size: total = s*(in-1) + outpad + effK - out (output_shape or not).
  for (size_t i = 0; i < sd; ++i) {
    int64_t effK = (kernel[i] - 1) * g->dilations[i] + 1;
    int64_t total = g->strides[i] * (in[i] - 1) + effK - out[i];
    int64_t begin = g->padsBegin[i];
    if (op.attrs().has("output_shape")) {
      INFC_ASSIGN_OR_RETURN(std::string autoPad, op.attrs().getString("auto_pad", "NOTSET"));
      int64_t tp = std::max<int64_t>(0, total + g->outputPadding[i]);
      begin = autoPad == "SAME_UPPER" ? tp / 2 : tp - tp / 2;
    }
    c.padsBegin.push_back(begin);
    c.padsEnd.push_back(total - begin);
  }
  for (int64_t p : c.padsEnd)
    if (p < 0)
      return unsupported(op.describe() + ": ConvTranspose with output_padding beyond the padding has no GPU kernel yet");
  Layer l;
  l.name = ctx.kernelName(op, "cudnn");
  l.impl = c;
  l.inputs = {x, w};
  l.outputs = {y};
  l.loc = op.loc();
  l.tactic = "cuDNN backward-data heuristic (mode A)";
  l.precision = std::string(dtypeName(t));
  ctx.addLayer(std::move(l));
  if (b) {
    // y += bias[channel], in place after the convolution.
    int64_t n = *y->type().numElements(), inner = 1;
    for (size_t i = 2; i < ys.size(); ++i)
      inner *= ys[i];
    KernelLayer k;
    k.function = ctx.kernelName(op, "bias");
    std::ostringstream src;
    src << "extern \"C\" __global__ void " << k.function << "(const " << cudaStorageType(t) << "* __restrict__ bias, "
        << cudaStorageType(t) << "* y) {\n  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long ch = (i / " << inner
        << "LL) % " << ys[1] << "LL;\n    y[i] = " << storeAs(t, loadAs(t, "y[i]") + " + " + loadAs(t, "bias[ch]")) << ";\n  }\n}\n";
    k.args = {KernelArg::tensor(b), KernelArg::tensor(y)};
    k.source = src.str();
    launch1D(k, n);
    ctx.addKernel(op, std::move(k), {b, y}, {y});
  }
  return Status::ok();
}

} // namespace

void registerConvLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxConv)] = &lowerConv;
  t[static_cast<size_t>(OpKind::OnnxConvTranspose)] = &lowerConvTranspose;
  t[static_cast<size_t>(OpKind::InfcConv)] = &lowerInfcConv;
}

} // namespace infc::codegen
