// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits: calibration caches record
// the model they were computed for.
#pragma once

#include <string_view>
#include <string>

namespace infc::support {

std::string sha256Hex(std::string_view data);

} // namespace infc::support
