// The one whole-file reader below everything (models, engines, IR text, caches): it never blocks on
// a FIFO, never reads a device or directory, and never reads more than a stated limit.
#pragma once

#include <cstdint>
#include <string>

namespace infc::support {

/// Reads the whole regular file `path` into `out`. The file is opened with O_NONBLOCK and
/// O_CLOEXEC, then the open descriptor is checked with fstat (no path check followed by a second
/// open): it must be a regular file of at most `maxBytes`, and exactly its size is read. On
/// failure returns false and sets `error` to a message that starts with `path`.
bool readRegularFile(const std::string &path, uint64_t maxBytes, std::string &out, std::string &error);

} // namespace infc::support
