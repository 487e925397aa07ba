// NumPy .npy files <-> Tensor (little-endian, C order; versions 1.0-3.0 read, 1.0 written).
#pragma once

#include "ir/Tensor.h"

#include <string>

namespace infc {

Expected<Tensor> readNpy(const std::string &path);
/// Serializes `t` as a version-1.0 .npy file image.
std::string npyBytes(const Tensor &t);

} // namespace infc
