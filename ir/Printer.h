// Textual IR printer. The text is a contract: print(parse(text)) == text (see docs/ir.md).
#pragma once

#include "ir/IR.h"

#include <functional>
#include <optional>
#include <string>

namespace infc {

struct PrintOptions {
  /// Print constants above 16 elements as `dense<elided: N bytes>` (for reading; not parseable).
  bool elideLargeConstants = false;
  /// When set and it returns a name for a constant's tensor, the constant prints as
  /// `dense_ref<"name">` (engines store weights once and refer to them from their IR).
  std::function<std::optional<std::string>(const Value &, const Tensor &)> constantRef;
};

std::string printModule(const Module &module, const PrintOptions &options = {});
std::string printGraph(const Graph &graph, const PrintOptions &options = {});
/// One op on one line (no indentation, no newline), for diagnostics.
std::string printOp(const Operation &op, const PrintOptions &options = {});
/// `%name` or `%"quoted name"`.
std::string printValueRef(const Value *v);
/// Attribute value in IR syntax.
std::string printAttribute(const Attribute &a, const PrintOptions &options = {});
/// Shortest round-tripping text of a float32, always distinguishable from an int.
std::string printFloat(float v);
std::string printDouble(double v);

} // namespace infc
