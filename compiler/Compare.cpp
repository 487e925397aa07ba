#include "compiler/Compare.h"

#include "compiler/Driver.h"
#include "compiler/Npy.h"
#include "compiler/Pipeline.h"
#include "compiler/ProfileSelect.h"
#include "compiler/Profiles.h"
#include "compiler/Run.h"
#include "ir/Interpreter.h"
#include "runtime/EngineReader.h"

#include <cmath>
#include <random>
#include <sstream>

namespace infc {

OutputDiff diffTensors(const std::string &name, const Tensor &got, const Tensor &want, double rtol, double atol) {
  OutputDiff d;
  d.name = name;
  if (got.shape() != want.shape()) {
    d.withinTolerance = false;
    d.maxAbs = d.maxRel = INFINITY;
    d.cosine = 0;
    return d;
  }
  double dot = 0, ng = 0, nw = 0, worst = -1;
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double g = got.getDouble(i), w = want.getDouble(i);
    if (std::isnan(g) || std::isnan(w)) {
      if (!(std::isnan(g) && std::isnan(w))) {
        d.withinTolerance = false;
        d.worstIndex = i;
        d.maxAbs = INFINITY;
      }
      continue;
    }
    if (std::isinf(w) || std::isinf(g)) {
      if (g != w) {
        d.withinTolerance = false;
        d.worstIndex = i;
        d.maxAbs = INFINITY;
      }
      continue;
    }
    double abs = std::fabs(g - w), rel = abs / std::max(std::fabs(w), 1e-30);
    d.maxAbs = std::max(d.maxAbs, abs);
    d.maxRel = std::max(d.maxRel, std::fabs(w) > 0 ? rel : (abs > 0 ? INFINITY : 0));
    double ratio = abs / (atol + rtol * std::fabs(w));
    if (ratio > worst) {
      worst = ratio;
      d.worstIndex = i;
    }
    if (ratio > 1)
      d.withinTolerance = false;
    dot += g * w;
    ng += g * g;
    nw += w * w;
  }
  d.cosine = (ng == 0 && nw == 0) ? 1.0 : dot / (std::sqrt(ng) * std::sqrt(nw) + 1e-300);
  return d;
}

Expected<CompareReport> compareModelAndEngine(const CompareOptions &o) {
  std::string err;
  auto view = rt::EngineView::fromFile(o.enginePath, err);
  if (!view)
    return invalidArgument(err);
  std::map<std::string, Tensor> inputs;
  for (const auto &[name, path] : o.inputFiles) {
    INFC_ASSIGN_OR_RETURN(Tensor t, readNpy(path));
    inputs[name] = std::move(t);
  }
  CompareReport report;
  // Fix the model's input shapes to the engine's: its one shape, or (an engine with profiles)
  // the --input files' shapes within a profile, the first profile's opt shapes for the others.
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, loadModel(o.modelPath));
  const fb::Engine &e = view->engine();
  std::vector<DeclaredInput> declared;
  for (int32_t idx : *e.inputs()) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
    declared.push_back({t->name()->str(), std::vector<int64_t>(t->shape()->begin(), t->shape()->end())});
  }
  std::vector<InputShape> shapes;
  std::vector<codegen::ProfileRanges> profiles = engineProfiles(e);
  if (profiles.empty()) {
    for (const DeclaredInput &d : declared)
      shapes.push_back({d.name, d.dims});
  } else {
    std::map<std::string, std::vector<int64_t>> given;
    for (const auto &[name, t] : inputs)
      given[name] = t.shape();
    INFC_ASSIGN_OR_RETURN(RunShapes chosen, selectRunShapes(declared, profiles, given, -1, o.enginePath, report.notes));
    for (size_t i = 0; i < declared.size(); ++i)
      shapes.push_back({declared[i].name, chosen.dims[i]});
  }
  INFC_RETURN_IF_ERROR(applyInputShapes(*module, shapes, o.modelPath));
  INFC_RETURN_IF_ERROR(runPassPipeline(*module, "shape-infer").withPrefix(o.modelPath));
  const Graph &g = *module->mainGraph();

  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> ordered, bindGraphInputs(g, inputs, o.modelPath, report.notes));
  for (size_t i = 0; i < ordered.size(); ++i)
    inputs[g.body().argument(i)->name()] = ordered[i];
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> ref, interpret(g, ordered));
  INFC_ASSIGN_OR_RETURN(auto got, runEngineOnce(o.enginePath, inputs));
  std::ostringstream os;
  os.setf(std::ios::scientific);
  os.precision(3);
  for (size_t i = 0; i < ref.size(); ++i) {
    const std::string &name = g.outputs()[i].name;
    auto it = got.find(name);
    if (it == got.end())
      return invalidArgument(o.enginePath + ": the engine has no output '" + name + "'");
    OutputDiff d = diffTensors(name, it->second.castTo(ref[i].dtype()), ref[i], o.rtol, o.atol);
    report.ok = report.ok && d.withinTolerance;
    os << (d.withinTolerance ? "ok   " : "FAIL ") << name << ": max_abs_err " << d.maxAbs << ", max_rel_err " << d.maxRel
       << ", cosine " << std::fixed << d.cosine << std::scientific;
    if (!d.withinTolerance && d.worstIndex >= 0)
      os << " (worst at element " << d.worstIndex << ": engine " << it->second.getDouble(d.worstIndex) << ", reference "
         << ref[i].getDouble(d.worstIndex) << ")";
    os << "\n";
    report.outputs.push_back(d);
  }
  os << (report.ok ? "PASS" : "FAIL") << ": rtol " << o.rtol << ", atol " << o.atol << "\n";
  report.text = os.str();
  return report;
}

} // namespace infc
