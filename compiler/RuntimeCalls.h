// What the run tools (`infc run`, `infc compare`, the stream runner) share around the runtime's C
// API: its statuses and the CUDA driver's as Status, and an engine input or output's description.
#pragma once

#include "ir/IR.h"
#include "runtime/infc_runtime.h"

#include <cuda.h>

#include <string>
#include <vector>

namespace infc {

/// A CUDA driver result as a Status ("<what>: <error name>").
Status cuStatus(CUresult r, const std::string &what);
/// A C API status as a Status carrying infc_last_error() after `prefix`.
Status apiStatus(infc_status s, const std::string &prefix = "");

/// An engine input or output as the C API describes it.
struct IoInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t bytes;
};
Expected<IoInfo> ioInfo(infc_engine *e, const char *name);

/// `io` at `shape`, its bytes those of that shape.
void setShape(IoInfo &io, std::vector<int64_t> shape);

/// Engines with profiles: puts context `ctx` in `profile` with every input of `ins` at its shape.
Status setContextShapes(infc_context *ctx, int profile, const std::vector<IoInfo> &ins, const std::string &prefix);

/// The shapes and sizes of `outs` at the input shapes set on `ctx`.
Status outputShapes(const infc_context *ctx, std::vector<IoInfo> &outs, const std::string &prefix);

} // namespace infc
