#include "compiler/BuildReport.h"

#include "compiler/Inspect.h"

#include <nlohmann/json.hpp>

namespace infc {

std::string buildReportJson(const CompileOptions &o, const Expected<CompileReport> &result) {
  nlohmann::ordered_json j;
  j["schema_version"] = kJsonSchemaVersion;
  j["ok"] = result.isOk();
  if (!result.isOk())
    j["error"] = result.status().message();
  j["model"] = o.modelPath;
  j["engine"] = result.isOk() ? nlohmann::ordered_json(o.outputPath) : nlohmann::ordered_json();
  nlohmann::ordered_json opts;
  opts["shapes"] = o.shapes;
  opts["target"] = o.target;
  opts["precision"] = o.int8 && o.fp8 ? "int8+fp8" : o.int8 ? "int8" : o.fp8 ? "fp8" : o.bf16 ? "bf16" : o.fp16 ? "fp16" : "fp32";
  opts["opt_level"] = o.optLevel;
  opts["builder_opt_level"] = o.builderOptLevel;
  opts["tuning_budget_s"] = o.tuningBudget;
  opts["timing"] = o.timing;
  opts["timing_cache"] = o.timingCachePath;
  opts["require_complete_cache"] = o.requireCompleteCache;
  opts["layer_precision"] = o.layerPrecision;
  opts["strict_precision"] = o.strictPrecision;
  if (o.int8 || o.fp8) {
    opts["calib"] = o.calib.dir;
    opts["calib_method"] = calibMethodName(o.calib.method);
    opts["calib_cache"] = o.calibCache;
  }
  opts["workspace_mib"] = o.workspaceBytes >> 20;
  j["options"] = opts;
  if (!result.isOk())
    return j.dump(2) + "\n";

  const CompileReport &r = *result;
  j["target"] = r.target;
  j["sha256"] = r.sha256;
  j["seconds"] = r.seconds;
  j["stages"] = nlohmann::ordered_json::array();
  for (const auto &[name, seconds] : r.stageSeconds)
    j["stages"].push_back({{"name", name}, {"seconds", seconds}});
  j["tactics"] = {{"summary", r.tactics},
                  {"candidates_timed", r.candidatesTried},
                  {"layers_timed", r.layersTimed},
                  {"from_timing_cache", r.cacheHits},
                  {"budget_cuts", r.budgetCuts},
                  {"refused_by_reference_check", r.rejected},
                  {"untuned", r.untuned}};
  if (!r.int8Summary.empty())
    j["int8"] = r.int8Summary;
  if (!r.fp8Summary.empty())
    j["fp8"] = r.fp8Summary;
  j["warnings"] = r.warnings;
  // The engine as written, read back: what `infc inspect --json` says of it.
  if (Expected<std::string> ins = inspectEngine(o.outputPath, true); ins.isOk()) {
    nlohmann::ordered_json e = nlohmann::ordered_json::parse(*ins, nullptr, false);
    if (!e.is_discarded()) {
      j["memory"] = e["memory"];
      j["inputs"] = e["inputs"];
      j["outputs"] = e["outputs"];
      j["layers"] = e["layers"];
      j["profiles"] = e["profiles"];
    }
  } else {
    j["inspect_error"] = ins.status().message();
  }
  return j.dump(2) + "\n";
}

} // namespace infc
