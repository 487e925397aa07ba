#include "compiler/CalibrationCache.h"

#include "compiler/FileUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace infc {

std::string calibrationCacheJson(const CalibrationTable &table, const std::string &modelSha256) {
  nlohmann::ordered_json j;
  j["format"] = kCalibCacheFormat;
  j["method"] = calibMethodName(table.method);
  if (table.method == CalibMethod::Percentile)
    j["percentile"] = table.percentile;
  j["model_sha256"] = modelSha256;
  j["batches"] = table.batches;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::object();
  for (const auto &[name, r] : table.tensors) {
    tensors[name] = {{"amax", r.amax}, {"scale", r.scale}, {"max", r.max}, {"rms", r.rms}};
    if (r.clipRms >= 0)
      tensors[name]["clip_rms"] = r.clipRms;
  }
  j["tensors"] = std::move(tensors);
  return j.dump(1) + "\n";
}

Expected<CalibrationTable> readCalibrationCache(const std::string &path, const std::string &modelSha256,
                                                const std::string &modelPath) {
  INFC_ASSIGN_OR_RETURN(std::string text, readFile(path));
  auto bad = [&](const std::string &why) { return invalidArgument(path + ": not a calibration cache (" + why + ")"); };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return bad("not JSON");
  if (!j.contains("format") || !j["format"].is_number_integer())
    return bad("no \"format\"");
  if (j["format"].get<int64_t>() != kCalibCacheFormat)
    return bad("format " + j["format"].dump() + ", this infc reads format " + std::to_string(kCalibCacheFormat));
  if (!j.contains("model_sha256") || !j["model_sha256"].is_string())
    return bad("no \"model_sha256\"");
  if (j["model_sha256"].get<std::string>() != modelSha256)
    return invalidArgument(path + ": the calibration cache was computed for another model (model_sha256 " +
                           j["model_sha256"].get<std::string>() + "; " + modelPath + " is " + modelSha256 +
                           "): calibrate again with --calib DIR");
  CalibrationTable table;
  if (!j.contains("method") || !j["method"].is_string())
    return bad("no \"method\"");
  Expected<CalibMethod> m = parseCalibMethod(j["method"].get<std::string>());
  if (!m.isOk())
    return bad("unknown method " + j["method"].dump());
  table.method = *m;
  if (table.method == CalibMethod::Percentile) {
    if (!j.contains("percentile") || !j["percentile"].is_number())
      return bad("no \"percentile\"");
    table.percentile = j["percentile"].get<double>();
  }
  if (j.contains("batches") && j["batches"].is_number_integer())
    table.batches = j["batches"].get<int64_t>();
  if (!j.contains("tensors") || !j["tensors"].is_object())
    return bad("no \"tensors\"");
  for (const auto &[name, e] : j["tensors"].items()) {
    if (!e.is_object() || !e.contains("amax") || !e.contains("scale") || !e["amax"].is_number() || !e["scale"].is_number())
      return bad("tensor '" + name + "' needs numbers \"amax\" and \"scale\"");
    TensorRange r{e["amax"].get<double>(), e["scale"].get<double>()};
    if (!std::isfinite(r.amax) || r.amax < 0 || !std::isfinite(r.scale) || r.scale <= 0)
      return bad("tensor '" + name + "': amax must be finite and >= 0, scale finite and > 0");
    // "max", "rms" and "clip_rms" (what the INT8 matmul accuracy rule reads) came later: optional.
    for (auto [key, field] : {std::pair{"max", &r.max}, std::pair{"rms", &r.rms}, std::pair{"clip_rms", &r.clipRms}}) {
      if (!e.contains(key))
        continue;
      if (!e[key].is_number() || !std::isfinite(e[key].get<double>()) || e[key].get<double>() < 0)
        return bad("tensor '" + name + "': \"" + key + "\" must be a finite number >= 0");
      *field = e[key].get<double>();
    }
    table.tensors[name] = r;
  }
  return table;
}

} // namespace infc
