// Structural IR invariants, checked after every pass (a broken invariant is our bug).
#pragma once

#include "ir/IR.h"

namespace infc {

/// Operand/result counts per ops.def, definitions before uses (in the same or an enclosing
/// block), use lists consistent with operands, unique value names, typed results, graph outputs
/// and region yields defined in scope.
Status verifyGraph(const Graph &graph);
Status verifyModule(const Module &module);

} // namespace infc
