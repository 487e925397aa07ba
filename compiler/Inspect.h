// `infc inspect`: describe an engine file (metadata, layers, tactics, memory) as text or JSON.
#pragma once

#include "ir/Status.h"
#include "runtime/engine_generated.h"

#include <string>

namespace infc {

/// Reads and verifies `path` (no GPU needed) and renders it.
Expected<std::string> inspectEngine(const std::string &path, bool json);

/// "generated:k12_Relu", "cudnn:conv", "cublaslt:matmul": what runs a layer.
std::string layerKernel(const fb::Layer &layer);

} // namespace infc
