// Whole-buffer reads and writes on a file descriptor (files, pipes): the one retry loop for
// EINTR and short transfers.
#pragma once

#include <cstddef>

namespace infc::support {

/// Writes all `n` bytes of `data` to `fd`. False on an error, with errno set (EIO when the
/// descriptor takes no more bytes).
bool writeFully(int fd, const void *data, size_t n);

/// Reads exactly `n` bytes from `fd` into `data`. False on an error (errno set) or when the input
/// ends first (errno 0).
bool readFully(int fd, void *data, size_t n);

} // namespace infc::support
