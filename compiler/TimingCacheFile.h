// Timing-cache files on disk: the locked, merged, atomic save that builds use, and the
// `infc cache show | merge | prune` commands.
#pragma once

#include "codegen/TimingCache.h"

#include <string>
#include <vector>

namespace infc {

/// Merges `cache` into what `path` holds now and writes the result atomically, holding an
/// exclusive flock on `path`.lock meanwhile: two builds sharing one cache file both keep their
/// entries.
Status saveTimingCache(const std::string &path, const codegen::TimingCache &cache);

/// `infc cache show FILE [--json]`: per GPU, its library versions and entry counts (the JSON
/// form is the file itself, checked).
Expected<std::string> showTimingCache(const std::string &path, bool asJson);
/// `infc cache merge A B ... -o OUT`: one cache with every GPU's entries (the faster measurement
/// where two files time the same layer on the same GPU).
Status mergeTimingCaches(const std::vector<std::string> &inputs, const std::string &output);
/// `infc cache prune FILE [-o OUT]`: drops the GPUs timed with other CUDA, cuDNN or cuBLASLt
/// versions than this infc's. Returns a one-line report.
Expected<std::string> pruneTimingCache(const std::string &path, const std::string &output);

} // namespace infc
