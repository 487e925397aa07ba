// File helpers: whole-file reads and atomic writes (no partial output files on error).
#pragma once

#include "ir/Status.h"

#include <string>

namespace infc {

/// Reads a whole file; `-` reads stdin.
Expected<std::string> readFile(const std::string &path);
/// Writes `data` to `path` through a temporary file in the same folder, then renames it, so a
/// failure never leaves a partial file. `-` writes to stdout.
Status writeFileAtomically(const std::string &path, const std::string &data);

} // namespace infc
