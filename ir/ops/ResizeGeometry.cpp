#include "ir/ops/ResizeGeometry.h"

#include <algorithm>
#include <cmath>

namespace infc::ops {

namespace {

double cubicWeight(double x, double a) {
  x = std::fabs(x);
  if (x <= 1)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

} // namespace

Expected<ResizePlan> planResize(const AttrMap &attrs, const std::vector<int64_t> &inShape, const std::vector<double> &scalesIn,
                                const std::vector<int64_t> &sizesIn, const std::vector<double> &roiIn) {
  auto dimOf = [&](int64_t a) { return inShape[static_cast<size_t>(a)]; };
    INFC_ASSIGN_OR_RETURN(std::string mode, attrs.getString("mode", "nearest"));
  INFC_ASSIGN_OR_RETURN(std::string ctm, attrs.getString("coordinate_transformation_mode", "half_pixel"));
  INFC_ASSIGN_OR_RETURN(std::string nearestMode, attrs.getString("nearest_mode", "round_prefer_floor"));
  INFC_ASSIGN_OR_RETURN(float cubicA, attrs.getFloat("cubic_coeff_a", -0.75f));
  INFC_ASSIGN_OR_RETURN(int64_t excludeOutside, attrs.getInt("exclude_outside", 0));
  INFC_ASSIGN_OR_RETURN(float extrapolation, attrs.getFloat("extrapolation_value", 0.0f));
  INFC_ASSIGN_OR_RETURN(int64_t antialias, attrs.getInt("antialias", 0));
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, attrs.getInts("axes", std::vector<int64_t>{}));
  INFC_ASSIGN_OR_RETURN(std::string policy, attrs.getString("keep_aspect_ratio_policy", "stretch"));
  if (antialias)
    return Status(StatusCode::Unsupported, "Resize with antialias is not supported");
  int64_t rank = static_cast<int64_t>(inShape.size());
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  std::vector<double> scale(static_cast<size_t>(rank), 1.0);
  std::vector<int64_t> outShape = inShape;
  bool haveSizes = !sizesIn.empty();
  if (haveSizes) {
    const std::vector<int64_t> &sizes = sizesIn;
    if (sizes.size() != axes.size())
      return invalidArgument("sizes does not match axes");
    if (policy != "stretch") {
      double s = policy == "not_larger" ? 1e300 : 0;
      for (size_t j = 0; j < axes.size(); ++j) {
        double r = static_cast<double>(sizes[j]) / static_cast<double>(dimOf(axes[j]));
        s = policy == "not_larger" ? std::min(s, r) : std::max(s, r);
      }
      for (int64_t a : axes) {
        scale[static_cast<size_t>(a)] = s;
        outShape[static_cast<size_t>(a)] = static_cast<int64_t>(std::round(s * static_cast<double>(dimOf(a))));
      }
    } else {
      for (size_t j = 0; j < axes.size(); ++j) {
        int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
        outShape[static_cast<size_t>(a)] = sizes[j];
        scale[static_cast<size_t>(a)] = static_cast<double>(sizes[j]) / static_cast<double>(dimOf(a));
      }
    }
  } else if (!scalesIn.empty()) {
    if (scalesIn.size() != axes.size())
      return invalidArgument("scales does not match axes");
    for (size_t j = 0; j < axes.size(); ++j) {
      int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
      scale[static_cast<size_t>(a)] = scalesIn[j];
      outShape[static_cast<size_t>(a)] = static_cast<int64_t>(std::floor(static_cast<double>(dimOf(a)) * scale[static_cast<size_t>(a)]));
    }
  } else {
    return invalidArgument("one of scales or sizes must be given");
  }
  std::vector<double> roiStart(static_cast<size_t>(rank), 0.0), roiEnd(static_cast<size_t>(rank), 1.0);
  if (ctm == "tf_crop_and_resize" && !roiIn.empty()) {
    size_t n = axes.size();
    if (roiIn.size() != 2 * n)
      return invalidArgument("roi has " + std::to_string(roiIn.size()) + " entries, expected " + std::to_string(2 * n));
    for (size_t j = 0; j < n; ++j) {
      int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
      roiStart[static_cast<size_t>(a)] = roiIn[j];
      roiEnd[static_cast<size_t>(a)] = roiIn[j + n];
    }
  }
  // Per-axis taps; an empty tap list marks extrapolation.
  std::vector<std::vector<ResizeTaps>> taps(static_cast<size_t>(rank));
  for (int64_t a = 0; a < rank; ++a) {
    int64_t in = dimOf(a), out = outShape[static_cast<size_t>(a)];
    double s = scale[static_cast<size_t>(a)];
    for (int64_t o = 0; o < out; ++o) {
      double xo;
      if (ctm == "half_pixel")
        xo = (o + 0.5) / s - 0.5;
      else if (ctm == "half_pixel_symmetric") {
        double adj = static_cast<double>(out) / (s * static_cast<double>(in));
        double center = static_cast<double>(in) / 2;
        double offset = center * (1 - adj);
        xo = offset + (o + 0.5) / s - 0.5;
      } else if (ctm == "pytorch_half_pixel")
        xo = out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
      else if (ctm == "align_corners") {
        // The resized length is scale * in (not floored), as the ONNX reference computes it.
        double len = s * static_cast<double>(in);
        xo = len == 1 ? 0.0 : o * static_cast<double>(in - 1) / (len - 1);
      } else if (ctm == "tf_half_pixel_for_nn")
        xo = (o + 0.5) / s;
      else if (ctm == "asymmetric")
        xo = o / s;
      else if (ctm == "tf_crop_and_resize") {
        double st = roiStart[static_cast<size_t>(a)], en = roiEnd[static_cast<size_t>(a)];
        xo = out > 1 ? st * (in - 1) + o * (en - st) * (in - 1) / static_cast<double>(out - 1) : 0.5 * (st + en) * (in - 1);
      } else
        return invalidArgument("unknown coordinate_transformation_mode '" + ctm + "'");
      ResizeTaps t;
      if (ctm == "tf_crop_and_resize" && (xo < 0 || xo > in - 1)) {
        taps[static_cast<size_t>(a)].push_back(t);
        continue;
      }
      if (mode == "nearest") {
        int64_t i;
        if (nearestMode == "round_prefer_floor")
          i = (xo - std::floor(xo) == 0.5) ? static_cast<int64_t>(std::floor(xo)) : static_cast<int64_t>(std::round(xo));
        else if (nearestMode == "round_prefer_ceil")
          i = static_cast<int64_t>(std::round(xo));
        else if (nearestMode == "floor")
          i = static_cast<int64_t>(std::floor(xo));
        else if (nearestMode == "ceil")
          i = static_cast<int64_t>(std::ceil(xo));
        else
          return invalidArgument("unknown nearest_mode '" + nearestMode + "'");
        t.push_back({std::clamp<int64_t>(i, 0, in - 1), 1.0});
      } else if (mode == "linear") {
        double xc = std::clamp(xo, 0.0, static_cast<double>(in - 1));
        int64_t x0 = static_cast<int64_t>(std::floor(xc)), x1 = std::min(x0 + 1, in - 1);
        double f = xc - static_cast<double>(x0);
        t.push_back({x0, 1 - f});
        t.push_back({x1, f});
      } else if (mode == "cubic") {
        int64_t x0 = static_cast<int64_t>(std::floor(xo));
        double f = xo - static_cast<double>(x0), sum = 0;
        for (int64_t k = -1; k <= 2; ++k) {
          double w = cubicWeight(static_cast<double>(k) - f, cubicA);
          int64_t i = x0 + k;
          if (i < 0 || i >= in) {
            if (excludeOutside)
              continue;
            i = std::clamp<int64_t>(i, 0, in - 1);
          }
          t.push_back({i, w});
          sum += w;
        }
        if (excludeOutside && sum != 0)
          for (auto &p : t)
            p.second /= sum;
      } else {
        return invalidArgument("unknown mode '" + mode + "'");
      }
      taps[static_cast<size_t>(a)].push_back(t);
    }
  }
  ResizePlan plan;
  plan.outShape = outShape;
  plan.taps = std::move(taps);
  plan.extrapolation = extrapolation;
  return plan;
}

} // namespace infc::ops
