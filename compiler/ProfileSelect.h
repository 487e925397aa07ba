// The shapes of a run of an engine and the profile they fall in (`infc run --shapes ...
// [--profile-index K]`): an engine with optimization profiles takes any shapes within one of
// its profiles; a static engine its one shape.
#pragma once

#include "codegen/EngineBuilder.h"
#include "ir/IR.h"

#include <map>
#include <string>
#include <vector>

namespace infc {

/// An engine input as declared: its name and dims (-1: set at run time).
struct DeclaredInput {
  std::string name;
  std::vector<int64_t> dims;
};

struct RunShapes {
  std::vector<std::vector<int64_t>> dims; ///< per input, in input order
  int profile = -1;                       ///< the profile used (-1: the engine has none)
};

/// Chooses the shapes of every input and the profile. `given` holds the shapes from --shapes
/// and from --input files (a name given both ways must agree: the caller checks). Inputs with
/// dynamic dims and no given shape take the chosen profile's opt shape (announced in `notes`).
/// With `profileIndex` >= 0 that profile is used and the shapes must lie in it; otherwise the
/// first profile whose ranges hold every given shape. Errors name the input, the dim and the
/// range (or, with no profile holding the shapes, every profile's range of the first input that
/// falls outside).
Expected<RunShapes> selectRunShapes(const std::vector<DeclaredInput> &inputs,
                                    const std::vector<codegen::ProfileRanges> &profiles,
                                    const std::map<std::string, std::vector<int64_t>> &given, int profileIndex,
                                    const std::string &enginePath, std::vector<std::string> &notes);

/// "1x3x224x224".
std::string dimsStr(const std::vector<int64_t> &dims);

} // namespace infc
