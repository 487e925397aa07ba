// The engine's own IR (stored in the .plan, weights by reference) for `infc run --reference`:
// users without a GPU, and tests, can execute exactly the graph an engine was built from.
#pragma once

#include "codegen/EngineBuilder.h"
#include "compiler/ProfileSelect.h"
#include "ir/IR.h"

#include <memory>
#include <string>

namespace infc {

/// Constants above this many elements print as `dense_ref<"name">` and are stored once, as
/// engine weights.
constexpr int64_t kInlineConstantElements = 16;

/// Prints `module` with large constants as references to engine weights (by value name).
std::string referenceIrText(const Module &module);

struct ReferenceModel {
  std::unique_ptr<Module> module;
  std::vector<DeclaredInput> inputs;               ///< the engine's inputs (dims -1: dynamic)
  std::vector<codegen::ProfileRanges> profiles;    ///< empty: a static engine
};

/// Reads an engine (verified, no GPU needed) and rebuilds its graph with weights from the blob.
/// The graph must be the engine's: its inputs and outputs have the engine's names, dtypes and
/// shapes (dynamic dims where the engine's are -1; a forged engine's unrelated IR is an error).
Expected<ReferenceModel> loadReferenceModel(const std::string &enginePath);

/// The most bytes of values alive at once when the interpreter runs `graph` (it frees each value
/// after its last use; constants and graph outputs stay): what a reference run needs.
uint64_t referencePeakBytes(const Graph &graph);

} // namespace infc
