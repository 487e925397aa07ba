#include "ir/ops/ConvGeometry.h"

namespace infc::ops {

Expected<WindowGeometry> windowGeometry(const AttrMap &attrs, const std::vector<int64_t> &kernel,
                                        const std::vector<int64_t> &in, bool transposed) {
  size_t sd = kernel.size();
  WindowGeometry g;
  g.kernel = kernel;
  INFC_ASSIGN_OR_RETURN(g.strides, attrs.getInts("strides", std::vector<int64_t>(sd, 1)));
  INFC_ASSIGN_OR_RETURN(g.dilations, attrs.getInts("dilations", std::vector<int64_t>(sd, 1)));
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> pads, attrs.getInts("pads", std::vector<int64_t>(2 * sd, 0)));
  INFC_ASSIGN_OR_RETURN(g.outputPadding, attrs.getInts("output_padding", std::vector<int64_t>(sd, 0)));
  INFC_ASSIGN_OR_RETURN(int64_t ceil, attrs.getInt("ceil_mode", 0));
  INFC_ASSIGN_OR_RETURN(std::string autoPad, attrs.getString("auto_pad", "NOTSET"));
  g.ceilMode = ceil != 0;
  if (g.strides.size() != sd || g.dilations.size() != sd || pads.size() != 2 * sd || g.outputPadding.size() != sd)
    return invalidArgument("strides/dilations/pads do not match " + std::to_string(sd) + " spatial dims");
  // Window attributes (and kernels) below 2^31 and spatial sizes below 2^31 keep every product
  // and sum of the output-size arithmetic inside int64 (the largest, stride * (in - 1) +
  // (kernel - 1) * dilation + padding, stays below 2^63): a hostile model cannot make it wrap.
  constexpr int64_t kLimit = (int64_t(1) << 31) - 1;
  for (size_t i = 0; i < sd; ++i) {
    if (g.strides[i] <= 0 || g.dilations[i] <= 0)
      return invalidArgument("strides and dilations must be positive");
    if (kernel[i] <= 0)
      return invalidArgument("kernel size must be positive");
    if (g.strides[i] > kLimit || g.dilations[i] > kLimit || kernel[i] > kLimit || g.outputPadding[i] < 0 ||
        g.outputPadding[i] > kLimit || (i < in.size() && in[i] > kLimit))
      return invalidArgument("a stride, dilation, kernel size, output padding or spatial size of 2^31 or more (or a "
                             "negative output padding)");
  }
  for (int64_t p : pads)
    if (p < 0 || p > kLimit)
      return invalidArgument("pads must be non-negative and below 2^31");
  g.padsBegin.assign(pads.begin(), pads.begin() + static_cast<long>(sd));
  g.padsEnd.assign(pads.begin() + static_cast<long>(sd), pads.end());
  if (autoPad == "VALID") {
    g.padsBegin.assign(sd, 0);
    g.padsEnd.assign(sd, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < sd; ++i) {
      if (in[i] < 0) {
        g.padsBegin[i] = g.padsEnd[i] = 0;
        continue;
      }
      int64_t effK = (kernel[i] - 1) * g.dilations[i] + 1, total;
      if (transposed) {
        int64_t out = in[i] * g.strides[i];
        total = std::max<int64_t>(0, g.strides[i] * (in[i] - 1) + g.outputPadding[i] + effK - out);
      } else {
        int64_t out = (in[i] + g.strides[i] - 1) / g.strides[i];
        total = std::max<int64_t>(0, (out - 1) * g.strides[i] + effK - in[i]);
      }
      g.padsBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.padsEnd[i] = total - g.padsBegin[i];
    }
  } else if (autoPad != "NOTSET") {
    return invalidArgument("unknown auto_pad '" + autoPad + "'");
  }
  return g;
}

int64_t windowOutput(const WindowGeometry &g, size_t i, int64_t in, bool transposed) {
  if (in < 0)
    return -1;
  int64_t effK = (g.kernel[i] - 1) * g.dilations[i] + 1;
  if (transposed)
    return g.strides[i] * (in - 1) + g.outputPadding[i] + effK - g.padsBegin[i] - g.padsEnd[i];
  int64_t span = in + g.padsBegin[i] + g.padsEnd[i] - effK;
  if (span < 0)
    return 0;
  int64_t out = (g.ceilMode ? (span + g.strides[i] - 1) / g.strides[i] : span / g.strides[i]) + 1;
  // A window must start inside the input or the left padding.
  if (g.ceilMode && (out - 1) * g.strides[i] >= in + g.padsBegin[i])
    --out;
  return out;
}

} // namespace infc::ops
