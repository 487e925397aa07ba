// Convolutions through cuDNN's graph API (bias fused into the cuDNN graph).
#include "codegen/kernels/Families.h"

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

Status lowerConv(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *w = op.operand(1), *b = op.hasOperand(2) ? op.operand(2) : nullptr, *y = op.result();
  DType t = y->type().elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return unsupported(op.describe() + ": Conv on " + std::string(dtypeName(t)) + " has no GPU kernel yet");
  std::vector<int64_t> xs = x->type().staticShape(), ws = w->type().staticShape();
  size_t sd = xs.size() - 2;
  if (sd < 2 || sd > 3)
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
  Layer l;
  l.name = ctx.kernelName(op, "cudnn");
  l.impl = c;
  l.inputs = {x, w};
  if (b)
    l.inputs.push_back(b);
  l.outputs = {y};
  l.loc = op.loc();
  l.tactic = "cuDNN heuristic (mode A)";
  l.precision = std::string(dtypeName(t));
  ctx.addLayer(std::move(l));
  return Status::ok();
}

} // namespace

void registerConvLowerings(LoweringTable &t) { t[static_cast<size_t>(OpKind::OnnxConv)] = &lowerConv; }

} // namespace infc::codegen
