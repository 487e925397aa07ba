#include "compiler/LayerPrecision.h"

#include <set>

namespace infc {

Expected<std::map<std::string, DType>> parseLayerPrecision(const std::string &spec, const Graph &graph, bool fp16,
                                                           bool int8, const std::string &modelPath, bool fp8) {
  std::map<std::string, DType> out;
  if (spec.empty())
    return out;
  std::set<std::string> nodes;
  for (const auto &op : graph.body().ops())
    for (const NodeRef &n : op->loc().nodes())
      if (!n.name.empty())
        nodes.insert(n.name);
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string entry = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    size_t colon = entry.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size())
      return invalidArgument("--layer-precision '" + entry + "' is not NAME:fp32, NAME:fp16, NAME:int8 or NAME:fp8");
    std::string name = entry.substr(0, colon), prec = entry.substr(colon + 1);
    if (prec != "fp32" && prec != "fp16" && prec != "int8" && prec != "fp8")
      return invalidArgument("--layer-precision " + entry + ": precision '" + prec + "' is not fp32, fp16, int8 or fp8");
    if (prec == "fp16" && !fp16 && !int8 && !fp8)
      return invalidArgument("--layer-precision " + entry + ": FP16 layers need --fp16 (it allows FP16 kernels at all)");
    if (prec == "int8" && !int8)
      return invalidArgument("--layer-precision " + entry + ": INT8 layers need --int8 and calibrated ranges");
    if (prec == "fp8" && !fp8)
      return invalidArgument("--layer-precision " + entry + ": FP8 layers need --fp8 and calibrated ranges");
    if (!nodes.count(name))
      return invalidArgument(modelPath + ": --layer-precision " + entry + ": the model has no node named '" + name + "'");
    if (out.count(name))
      return invalidArgument("--layer-precision names '" + name + "' twice");
    out[name] = prec == "fp32" ? DType::F32 : prec == "int8" ? DType::I8 : prec == "fp8" ? DType::F8E4M3 : DType::F16;
  }
  return out;
}

Expected<PrecisionFlags> precisionFlags(const std::string &layerPrecision, bool strict, const Module &module, bool fp16,
                                        bool int8, const std::string &modelPath, bool fp8) {
  if (strict && !fp16 && !int8 && !fp8)
    return invalidArgument("--strict-precision needs --fp16, --int8 or --fp8 (an FP32 build has no precision to fall back from)");
  PrecisionFlags f;
  f.strict = strict;
  INFC_ASSIGN_OR_RETURN(f.layers, parseLayerPrecision(layerPrecision, *module.mainGraph(), fp16, int8, modelPath, fp8));
  return f;
}

} // namespace infc
