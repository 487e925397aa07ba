// File helpers: whole-file reads and atomic writes (no partial output files on error).
#pragma once

#include "ir/Status.h"

#include <string>

namespace infc {

/// Reads a whole file; `-` reads stdin.
Expected<std::string> readFile(const std::string &path);
/// An output path that may be written: not the file `input` itself (same device and inode), and
/// not an existing non-regular file (a device, directory or FIFO that a rename would replace).
Status checkOutputPath(const std::string &output, const std::string &input = "");

/// Writes `data` to `path` through a temporary file in the same folder, then renames it, so a
/// failure never leaves a partial file; SIGINT or SIGTERM during the write removes the temporary
/// file before the process dies. Refuses paths checkOutputPath refuses. `-` writes to stdout.
Status writeFileAtomically(const std::string &path, const std::string &data);

} // namespace infc
