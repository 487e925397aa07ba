#include "compiler/EngineReference.h"

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "runtime/EngineReader.h"

#include <cstring>

namespace infc {

std::string referenceIrText(const Module &module) {
  PrintOptions o;
  o.constantRef = [](const Value &v, const Tensor &t) -> std::optional<std::string> {
    if (t.numElements() <= kInlineConstantElements)
      return std::nullopt;
    return v.name();
  };
  return printModule(module, o);
}

Expected<ReferenceModel> loadReferenceModel(const std::string &enginePath) {
  std::string err;
  auto view = rt::EngineView::fromFile(enginePath, err);
  if (!view)
    return invalidArgument(err);
  const fb::Engine &e = view->engine();
  if (!e.reference_ir() || e.reference_ir()->size() == 0)
    return unsupported(enginePath + ": the engine carries no reference IR");
  ParseOptions po;
  const rt::EngineView *v = view.get();
  po.resolveConstantRef = [v, &enginePath](const std::string &name, const TensorType &type) -> Expected<Tensor> {
    const fb::Engine &eng = v->engine();
    for (const fb::Tensor *t : *eng.tensors()) {
      if (t->kind() != fb::TensorKind::Weight || !t->name() || t->name()->str() != name)
        continue;
      if (t->dtype() != static_cast<int32_t>(type.elem()) || !type.isStatic())
        return invalidArgument(enginePath + ": weight '" + name + "' does not match its IR type " + type.str());
      return Tensor::fromBytes(type.elem(), type.staticShape(), v->weights() + t->offset(), t->bytes(), "weight '" + name + "'");
    }
    return invalidArgument(enginePath + ": the engine's IR refers to weight '" + name + "', which it does not contain");
  };
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> m, parseModule(e.reference_ir()->str(), enginePath + " (reference IR)", po));
  ReferenceModel r;
  r.module = std::move(m);
  return r;
}

} // namespace infc
