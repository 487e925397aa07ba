#include "ir/OpKind.h"

#include <string>
#include <unordered_map>

namespace infc {

static const OpInfo kOpInfos[] = {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits)                                        \
  {OpKind::Onnx##Name, "onnx", #Name, "onnx." #Name, MinIn, MaxIn, MinOut, MaxOut, Traits},
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits)                              \
  {OpKind::Infc##Name, "infc", Spelling, "infc." Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits},
#include "ir/ops.def"
};

static_assert(sizeof(kOpInfos) / sizeof(kOpInfos[0]) == static_cast<size_t>(OpKind::NumOpKinds));

const OpInfo &opInfo(OpKind kind) { return kOpInfos[static_cast<size_t>(kind)]; }

std::optional<OpKind> opKindFromFullName(std::string_view fullName) {
  static const auto *map = [] {
    auto *m = new std::unordered_map<std::string_view, OpKind>();
    for (const OpInfo &i : kOpInfos)
      (*m)[i.fullName] = i.kind;
    return m;
  }();
  auto it = map->find(fullName);
  if (it == map->end())
    return std::nullopt;
  return it->second;
}

std::optional<OpKind> onnxOpKind(std::string_view onnxType) {
  return opKindFromFullName("onnx." + std::string(onnxType));
}

} // namespace infc
