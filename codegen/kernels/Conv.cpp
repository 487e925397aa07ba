// Convolutions through cuDNN's graph API (bias, residual Add and activation fused into the cuDNN graph).
#include "codegen/kernels/ConvInt8.h"
#include "codegen/kernels/ConvInt8Stem.h"
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"
#include "codegen/EngineBuilder.h"

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
  if (c.s)
    l.inputs.push_back(c.s);
  l.outputs = {c.y};
  l.tactic = "cuDNN heuristic (mode A)";
  l.precision = c.s ? std::string("int8") + (c.nhwc ? " nhwc" : "") + " -> " + std::string(dtypeName(c.y->type().elem()))
                    : std::string(dtypeName(c.y->type().elem())) + (c.nhwc ? " nhwc" : "");
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

/// Whether `op` is a depthwise 2-D convolution (one filter per channel) in NHWC with 16-bit
/// elements and channels in multiples of 8: the generated kernel's case (16-byte accesses: arena
/// tensors are 256-byte aligned, bound inputs and outputs 16-byte, see infc_context_set_input).
bool generatedDepthwise(const Operation &op, const ConvAttrs &a) {
  DType t = op.result()->type().elem();
  if (a.layout != Layout::NHWC || a.strides.size() != 2 || (t != DType::F16 && t != DType::BF16))
    return false;
  std::vector<int64_t> xs = op.operand(0)->type().staticShape(), ws = op.operand(1)->type().staticShape();
  int64_t c = xs[3];
  return a.group == c && ws[0] == c && ws[3] == 1 && c % 8 == 0;
}

/// Depthwise NHWC convolution with its whole epilogue, as one generated kernel: each thread
/// computes TW consecutive output pixels of one row for 8 channels, with f32 accumulation. Per
/// filter row it loads the input columns the TW pixels need once into registers (16 bytes = 8
/// channels each, zeros outside the image), and each tap's 8 weights once for the TW pixels.
/// cuDNN's NHWC FP16 depthwise kernels are slow: MobileNetV2 at batch 256 on the H200 spent
/// 5.19 ms in one 3x3 depthwise convolution (features.2, 144 channels at 112x112 -> 56x56),
/// against 1.76 ms in NCHW, for a layer that moves 0.3 GB. The whole network went from 31.3 ms
/// with cuDNN's kernels to 4.26 ms with a first version of this one (4 pixels per thread, no
/// register reuse of input columns).
Status lowerDepthwise(const Operation &op, LoweringContext &ctx, const ConvAttrs &a) {
  const Value *x = op.operand(0), *w = op.operand(1), *y = op.result();
  const Value *b = op.hasOperand(2) ? op.operand(2) : nullptr, *z = op.hasOperand(3) ? op.operand(3) : nullptr;
  DType t = y->type().elem();
  std::vector<int64_t> xs = x->type().staticShape(), ws = w->type().staticShape(), ys = y->type().staticShape();
  int64_t C = xs[3], H = xs[1], W = xs[2], R = ws[1], S = ws[2], OH = ys[1], OW = ys[2];
  int64_t SW = a.strides[1], DW = a.dilations[1];
  // Up to 8 pixels per thread at stride 1 (4 at larger strides: more columns per pixel), the
  // row split evenly (14 columns: 2 x 7, not 8 + 6).
  int64_t maxTile = SW == 1 ? 8 : 4;
  int64_t tiles = (OW + maxTile - 1) / maxTile, TW = (OW + tiles - 1) / tiles;
  int64_t cols = (TW - 1) * SW + (S - 1) * DW + 1;
  int64_t threads = ys[0] * OH * tiles * (C / 8);
  KernelLayer k;
  k.function = ctx.kernelName(op, "depthwise");
  std::string T = cudaStorageType(t);
  // y over z: each thread reads its 8 channels of z at a pixel just before writing y there.
  bool inPlace = z && ctx.canOverwrite(z, op);
  const char *zy = inPlace ? "* " : "* __restrict__ ";
  std::ostringstream src;
  src << "extern \"C\" __global__ void " << k.function << "(const " << T << "* __restrict__ x, const " << T
      << "* __restrict__ w, const " << T << "* __restrict__ bias, const " << T << zy << "z, " << T << zy << "y) {\n";
  src << "  constexpr int C = " << C << ", H = " << H << ", W = " << W << ", R = " << R << ", S = " << S << ", OH = " << OH
      << ", OW = " << OW << ", TILES = " << tiles << ", TW = " << TW << ", COLS = " << cols << ";\n";
  src << "  constexpr int SH = " << a.strides[0] << ", SW = " << SW << ", PH = " << a.pads[0] << ", PW = " << a.pads[1]
      << ", DH = " << a.dilations[0] << ", DW = " << DW << ";\n";
  src << "  INFC_GRID_STRIDE(i, " << threads << "LL) {\n";
  src << R"(    const int c0 = (int)(i % (C / 8)) * 8;
    long long p = i / (C / 8);
    const int ow0 = (int)(p % TILES) * TW; p /= TILES;
    const int oh = (int)(p % OH);
    const long long n = p / OH;
    const int iw0 = ow0 * SW - PW;
    float acc[TW][8];
    #pragma unroll
    for (int t = 0; t < TW; ++t)
      #pragma unroll
      for (int e = 0; e < 8; ++e) acc[t][e] = 0.f;
    for (int r = 0; r < R; ++r) {
      const int ih = oh * SH - PH + r * DH;
      if (ih < 0 || ih >= H) continue;
)";
  src << "      const " << T << " *xrow = x + (n * H + ih) * (long long)W * C + c0;\n";
  src << R"(      uint4 xin[COLS];
      #pragma unroll
      for (int j = 0; j < COLS; ++j) {
        const int iw = iw0 + j;
        xin[j] = (iw >= 0 && iw < W) ? *(const uint4 *)(xrow + (long long)iw * C) : make_uint4(0, 0, 0, 0);
      }
      #pragma unroll
      for (int s = 0; s < S; ++s) {
        float wv[8];
)";
  src << "        #pragma unroll\n        for (int e = 0; e < 8; ++e) wv[e] = "
      << loadAs(t, "__ldg(&w[(c0 + e) * R * S + r * S + s])") << ";\n";
  src << "        #pragma unroll\n        for (int t = 0; t < TW; ++t) {\n          const " << T
      << " *xe = (const " << T << " *)&xin[t * SW + s * DW];\n";
  src << "          #pragma unroll\n          for (int e = 0; e < 8; ++e) acc[t][e] += " << loadAs(t, "xe[e]") << " * wv[e];\n";
  src << "        }\n      }\n    }\n";
  src << "    #pragma unroll\n    for (int t = 0; t < TW; ++t) {\n      if (ow0 + t >= OW) break;\n";
  src << "      const long long o = (((n * OH + oh) * OW) + ow0 + t) * C + c0;\n      uint4 yv;\n      " << T << " *ye = (" << T
      << " *)&yv;\n";
  if (z)
    src << "      const uint4 zv = *(const uint4 *)(z + o);\n      const " << T << " *ze = (const " << T << " *)&zv;\n";
  src << "      #pragma unroll\n      for (int e = 0; e < 8; ++e) {\n        float v = acc[t][e]";
  if (b)
    src << " + " << loadAs(t, "bias[c0 + e]");
  if (z)
    src << " + " << loadAs(t, "ze[e]");
  src << ";\n        v = " << activationExpr(a.act, "v") << ";\n        ye[e] = " << storeAs(t, "v") << ";\n      }\n";
  src << "      *(uint4 *)(y + o) = yv;\n    }\n  }\n}\n";
  k.source = src.str();
  // Absent bias / residual: pass y (never read).
  for (const Value *v : {x, w, b ? b : y, z ? z : y, y})
    k.args.push_back(KernelArg::tensor(v));
  launch1D(k, threads);
  std::vector<const Value *> ins = {x, w};
  if (b)
    ins.push_back(b);
  if (z)
    ins.push_back(z);
  ctx.addKernel(op, std::move(k), ins, {y});
  if (inPlace)
    ctx.addAlias(y, z);
  return Status::ok();
}

/// The INT8 convolution as infc's own kernel (codegen/kernels/ConvInt8.h), where the autotuner
/// (or a timing cache) found it faster than cuDNN's configs.
Status lowerGeneratedInt8Conv(const Operation &op, LoweringContext &ctx, const ConvLayer &c,
                              const LoweringOptions::Int8ConvChoice &choice) {
  INFC_ASSIGN_OR_RETURN(rt::ConvSpec spec, convSpecOf(c));
  KernelLayer k;
  k.function = ctx.kernelName(op, "igemm");
  INFC_ASSIGN_OR_RETURN(Int8ConvKernel g, int8ConvKernel(spec, static_cast<size_t>(choice.tile), k.function));
  k.source = std::move(g.source);
  k.grid = {g.blocks, 1, 1};
  k.block = {g.threads, 1, 1};
  k.sharedBytes = g.sharedBytes;
  // Absent bias / residual: y's pointer (never read).
  for (const Value *v : {c.x, c.w, c.b ? c.b : c.y, c.z ? c.z : c.y, c.s, c.y})
    k.args.push_back(KernelArg::tensor(v));
  k.args.push_back(KernelArg::f32(c.postMult));
  std::vector<const Value *> ins = {c.x, c.w};
  for (const Value *v : {c.b, c.z, c.s})
    if (v)
      ins.push_back(v);
  ctx.addKernel(op, std::move(k), ins, {c.y});
  Layer &l = ctx.layers().back();
  l.tactic = choice.tactic;
  l.precision = "int8 nhwc -> " + std::string(dtypeName(c.y->type().elem()));
  if (c.inPlace)
    ctx.addAlias(c.y, c.z);
  return Status::ok();
}

/// The INT8 form of infc.conv: one cuDNN graph (the per-channel scale is part of it), or infc's
/// own kernel where the autotuner timed it faster (LoweringOptions::int8ConvChoice).
Status lowerInt8Conv(const Operation &op, LoweringContext &ctx, const ConvAttrs &a) {
  if (a.strides.size() != 2 || a.group != 1 || a.layout != Layout::NHWC)
    return unsupported(op.describe() + ": INT8 convolutions run 2-D, ungrouped and channels-last");
  INFC_ASSIGN_OR_RETURN(ConvLayer c, fusedConvLayer(op));
  // In place over an int8 residual read only here (ResNet's identity), as in FP16; the autotuner
  // checks each tactic that way.
  c.inPlace = c.z && c.z->type() == c.y->type() && ctx.canOverwrite(c.z, op);
  if (ctx.options().int8ConvChoice && !ctx.options().shapeGeneric) {
    LoweringOptions::Int8ConvChoice choice = ctx.options().int8ConvChoice(c);
    if (choice.tile >= 0)
      return lowerGeneratedInt8Conv(op, ctx, c, choice);
  }
  addConvLayer(op, ctx, c, op.loc());
  if (c.inPlace)
    ctx.addAlias(c.y, c.z);
  return Status::ok();
}

/// infc.conv: one cuDNN graph with the whole epilogue when the target GPU is here to show that
/// it runs and pays (LoweringOptions::acceptConvFusion); otherwise conv + bias in cuDNN and the
/// rest of the epilogue as a generated kernel. The IR's fusion decision stands either way: this
/// only picks how to run it.
Status lowerInfcConv(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  if (a.xScale || a.pooled())
    return lowerInt8StemConv(op, ctx, a);
  if (op.operand(0)->type().elem() == DType::I8)
    return lowerInt8Conv(op, ctx, a);
  DType t = op.result()->type().elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return unsupported(op.describe() + ": Conv on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  size_t sd = a.strides.size();
  if (sd < 1 || sd > 3)
    return unsupported(op.describe() + ": " + std::to_string(sd) + "-D convolution has no GPU kernel yet");
  if (ctx.options().generatedDepthwise && generatedDepthwise(op, a))
    return lowerDepthwise(op, ctx, a);
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
  if (expressible && ctx.options().acceptConvFusion) {
    // The block output written over the residual when nothing reads the residual afterwards
    // (ResNet's identity: its 4x-wide tensor is then not live twice). cuDNN's epilogue reads
    // each element of z before writing that element of y; the autotuner times and checks every
    // tactic this way, and falls back to separate buffers when none passes.
    ConvLayer inPlace = fused;
    inPlace.inPlace = z && ctx.canOverwrite(z, op);
    for (const ConvLayer *c : {&inPlace, &fused}) {
      if (c == &fused && !inPlace.inPlace)
        continue; // already tried: the same layer
      if (ctx.options().acceptConvFusion(*c, base, parts)) {
        addConvLayer(op, ctx, *c, op.loc());
        if (c->inPlace)
          ctx.addAlias(c->y, c->z);
        return Status::ok();
      }
    }
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

Expected<ConvLayer> fusedConvLayer(const Operation &op) {
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  size_t sd = a.strides.size();
  ConvLayer c;
  c.x = op.operand(0);
  c.w = op.operand(1);
  c.b = op.hasOperand(2) ? op.operand(2) : nullptr;
  c.z = op.hasOperand(3) ? op.operand(3) : nullptr;
  c.s = op.hasOperand(4) ? op.operand(4) : nullptr;
  c.y = op.result();
  c.postMult = a.postMult;
  c.strides = a.strides;
  c.dilations = a.dilations;
  c.padsBegin.assign(a.pads.begin(), a.pads.begin() + static_cast<long>(sd));
  c.padsEnd.assign(a.pads.begin() + static_cast<long>(sd), a.pads.end());
  c.nhwc = a.layout == Layout::NHWC;
  c.activation = cudnnActivation(a.act);
  if (!a.act.none() && c.activation.empty())
    return unsupported(op.describe() + ": cuDNN has no epilogue for activation " + std::string(a.act.name()));
  return c;
}

void registerConvLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxConv)] = &lowerConv;
  t[static_cast<size_t>(OpKind::OnnxConvTranspose)] = &lowerConvTranspose;
  t[static_cast<size_t>(OpKind::InfcConv)] = &lowerInfcConv;
}

} // namespace infc::codegen
