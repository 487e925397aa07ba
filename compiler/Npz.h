// NumPy .npz archives (np.savez): a ZIP file of .npy members, one per array. Stored members only
// (np.savez); deflated ones (np.savez_compressed) are refused with a clear error.
#pragma once

#include "ir/Tensor.h"

#include <string>
#include <utility>
#include <vector>

namespace infc {

/// The arrays of the .npz file `path`, in archive order, named as np.savez names them (the member
/// name without ".npy"). Errors name the file and, for a bad member, the array.
Expected<std::vector<std::pair<std::string, Tensor>>> readNpz(const std::string &path);
/// The same from the file's bytes (`path` names it in errors).
Expected<std::vector<std::pair<std::string, Tensor>>> parseNpz(const std::string &bytes, const std::string &path);

} // namespace infc
