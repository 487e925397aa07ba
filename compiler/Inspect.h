// `infc inspect`: describe an engine file (metadata, layers, tactics, memory) as text or JSON.
#pragma once

#include "ir/Status.h"

#include <string>

namespace infc {

/// Reads and verifies `path` (no GPU needed) and renders it.
Expected<std::string> inspectEngine(const std::string &path, bool json);

} // namespace infc
