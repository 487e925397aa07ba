// Textual IR parser: accepts what the printer prints (plus `//` comments and free whitespace).
// Errors are `file:line:col: message`. Never crashes or hangs on malformed input.
#pragma once

#include "ir/IR.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace infc {

struct ParseOptions {
  /// Resolves `dense_ref<"name"> : type` constants (engine weights). Unset: such text is an error.
  std::function<Expected<Tensor>(const std::string &name, const TensorType &type)> resolveConstantRef;
};

Expected<std::unique_ptr<Module>> parseModule(std::string_view text, const std::string &filename,
                                              const ParseOptions &options = {});

} // namespace infc
