#include "compiler/EngineReference.h"

#include "compiler/Profiles.h"

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "runtime/EngineReader.h"

#include <algorithm>
#include <unordered_map>

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
  // The IR must describe the engine's own inputs and outputs.
  const Graph *g = m->mainGraph();
  if (!g)
    return invalidArgument(enginePath + ": the engine's reference IR has no graph");
  auto mismatch = [&](const std::string &why) {
    return invalidArgument(enginePath + ": the engine's reference IR does not match its tensors (" + why + ")");
  };
  auto engineIo = [&](fb::TensorKind kind) {
    std::vector<const fb::Tensor *> ios;
    for (const fb::Tensor *t : *e.tensors())
      if (t->kind() == kind)
        ios.push_back(t);
    return ios;
  };
  // In a batch-loop or dim-fit engine a dim the IR keeps symbolic may be one the GPU layers fix.
  bool batchLoop = e.batch_max() != 0 || (e.dim_atoms() && e.dim_atoms()->size() > 0);
  auto same = [batchLoop](const fb::Tensor *t, const std::string &name, const TensorType &type) {
    if (!t->name() || t->name()->str() != name || t->dtype() != static_cast<int32_t>(type.elem()) || !type.isRanked())
      return false;
    std::vector<int64_t> dims = t->shape() ? std::vector<int64_t>(t->shape()->begin(), t->shape()->end()) : std::vector<int64_t>();
    if (static_cast<int64_t>(dims.size()) != type.rank())
      return false;
    for (size_t d = 0; d < dims.size(); ++d) {
      const Dim &dim = type.dim(static_cast<int64_t>(d));
      if (dim.isStatic() ? dims[d] != dim.value : (dims[d] != -1 && !batchLoop)) // -1 only in engines with profiles (verified)
        return false;
    }
    return true;
  };
  std::vector<const fb::Tensor *> ins = engineIo(fb::TensorKind::Input), outs = engineIo(fb::TensorKind::Output);
  const auto &args = g->body().arguments();
  if (ins.size() != args.size() || outs.size() != g->outputs().size())
    return mismatch(std::to_string(args.size()) + " inputs and " + std::to_string(g->outputs().size()) + " outputs in the IR, " +
                    std::to_string(ins.size()) + " and " + std::to_string(outs.size()) + " in the engine");
  for (size_t i = 0; i < args.size(); ++i)
    if (!same(ins[i], args[i]->name(), args[i]->type()))
      return mismatch("input " + std::to_string(i) + ": '" + args[i]->name() + "' " + args[i]->type().str() + " in the IR");
  for (size_t i = 0; i < outs.size(); ++i)
    if (!same(outs[i], g->outputs()[i].name, g->outputs()[i].value->type()))
      return mismatch("output " + std::to_string(i) + ": '" + g->outputs()[i].name + "' " +
                      g->outputs()[i].value->type().str() + " in the IR");
  ReferenceModel r;
  r.module = std::move(m);
  for (const fb::Tensor *t : ins)
    r.inputs.push_back({t->name()->str(), t->shape() ? std::vector<int64_t>(t->shape()->begin(), t->shape()->end())
                                                     : std::vector<int64_t>{}});
  r.profiles = engineProfiles(e);
  return r;
}

uint64_t referencePeakBytes(const Graph &graph) {
  auto bytesOf = [](const Value *v) -> uint64_t {
    std::optional<int64_t> n = v->type().numElements();
    if (!n)
      return UINT64_MAX / 4; // dynamic or overflowing: more than any machine has
    return static_cast<uint64_t>(*n) * dtypeSize(v->type().elem());
  };
  std::unordered_map<const Value *, size_t> remaining;
  for (const auto &op : graph.body().ops())
    for (const Value *v : op->operands())
      if (v)
        ++remaining[v];
  uint64_t live = 0, peak = 0;
  auto add = [&](uint64_t b) {
    live = b > UINT64_MAX / 4 || live > UINT64_MAX / 4 ? UINT64_MAX / 2 : live + b;
    peak = std::max(peak, live);
  };
  for (const auto &a : graph.body().arguments())
    add(bytesOf(a.get()));
  for (const auto &op : graph.body().ops()) {
    for (const Value *r : op->results())
      if (r)
        add(bytesOf(r));
    if (op->is(OpKind::OnnxConstant))
      continue;
    for (const Value *v : op->operands())
      if (v && --remaining[v] == 0 && !v->isGraphOutput() && !(v->definingOp() && v->definingOp()->is(OpKind::OnnxConstant)) &&
          live < UINT64_MAX / 4)
        live -= std::min(live, bytesOf(v));
  }
  return peak;
}

} // namespace infc
