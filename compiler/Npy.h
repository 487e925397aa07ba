// NumPy .npy files <-> Tensor (little-endian, C order; versions 1.0-3.0 read, 1.0 written).
#pragma once

#include "ir/Tensor.h"

#include <string>

namespace infc {

Expected<Tensor> readNpy(const std::string &path);
/// Parses the image of a .npy file; errors start with `what` (a path, or "FILE.npz: NAME").
Expected<Tensor> parseNpy(const std::string &data, const std::string &what);
/// Serializes `t` as a version-1.0 .npy file image.
std::string npyBytes(const Tensor &t);

} // namespace infc
