// OpKind enum and static per-op facts, expanded from ir/ops.def.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace infc {

enum OpTrait : uint32_t {
  kNoTraits = 0,
  kPure = 1u << 0,
  kElementwise = 1u << 1,
  kCommutative = 1u << 2,
  kBroadcast = 1u << 3,
};

enum class OpKind : uint16_t {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits) Onnx##Name,
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits) Infc##Name,
#include "ir/ops.def"
  NumOpKinds
};

/// Static facts about an op kind.
struct OpInfo {
  OpKind kind;
  std::string_view dialect;  ///< "onnx" or "infc"
  std::string_view name;     ///< ONNX op type or infc op name, e.g. "Conv"
  std::string_view fullName; ///< "onnx.Conv"
  int minOperands, maxOperands; ///< maxOperands == -1: variadic
  int minResults, maxResults;   ///< maxResults == -1: variadic
  uint32_t traits;
};

const OpInfo &opInfo(OpKind kind);
/// Looks up "onnx.Conv" style names.
std::optional<OpKind> opKindFromFullName(std::string_view fullName);
/// Looks up an ONNX op type in the onnx dialect ("Conv").
std::optional<OpKind> onnxOpKind(std::string_view onnxType);
inline bool hasTrait(OpKind k, OpTrait t) { return (opInfo(k).traits & t) != 0; }

} // namespace infc
