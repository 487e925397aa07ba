// `infc build --json FILE`: the build report, a JSON document for CI pipelines (docs/json.md).
#pragma once

#include "compiler/Compile.h"

#include <string>

namespace infc {

/// Version of the JSON documents infc prints (`build --json`, `inspect --json`, `run --json`,
/// `cache show --json`): bumped when a field changes meaning or disappears, not when one is added.
inline constexpr int kJsonSchemaVersion = 1;

/// The report of a build that succeeded (`result` holds the report; the engine at
/// options.outputPath is read back for its layers) or failed (`result` holds the error; `ok`
/// false and no engine).
std::string buildReportJson(const CompileOptions &options, const Expected<CompileReport> &result);

} // namespace infc
