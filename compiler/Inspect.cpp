#include "compiler/Inspect.h"

#include "compiler/BuildReport.h"
#include "compiler/ProfileSelect.h"
#include "compiler/Profiles.h"

#include "runtime/EngineReader.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace infc {

namespace {

/// The input whose bytes a layer's first output overwrites (the same arena offset), or "".
std::string inPlaceOver(const fb::Engine &e, const fb::Layer &l) {
  if (!l.outputs() || !l.outputs()->size() || !l.inputs())
    return "";
  const fb::Tensor *out = e.tensors()->Get(static_cast<uint32_t>(l.outputs()->Get(0)));
  if (out->kind() != fb::TensorKind::Activation)
    return "";
  for (int32_t i : *l.inputs()) {
    const fb::Tensor *in = e.tensors()->Get(static_cast<uint32_t>(i));
    if (in->kind() == fb::TensorKind::Activation && in->offset() == out->offset() && in->bytes() && in != out)
      return in->name()->str();
  }
  return "";
}


std::string dtypeStr(int32_t t) {
  switch (t) {
  case 1: return "f32"; case 2: return "u8"; case 3: return "i8"; case 4: return "u16"; case 5: return "i16";
  case 6: return "i32"; case 7: return "i64"; case 9: return "bool"; case 10: return "f16"; case 11: return "f64";
  case 12: return "u32"; case 13: return "u64"; case 16: return "bf16"; case 17: return "f8e4m3"; case 19: return "f8e5m2";
  default: return "dtype" + std::to_string(t);
  }
}

std::string shapeStr(const fb::Tensor &t) {
  std::vector<int64_t> dims = t.shape() ? std::vector<int64_t>(t.shape()->begin(), t.shape()->end()) : std::vector<int64_t>{};
  return dimsStr(dims) + "x" + dtypeStr(t.dtype()); // a dynamic dim prints as ?: set at run time
}

const char *kindStr(fb::TensorKind k) {
  switch (k) {
  case fb::TensorKind::Activation: return "activation";
  case fb::TensorKind::Weight: return "weight";
  case fb::TensorKind::Input: return "input";
  case fb::TensorKind::Output: return "output";
  }
  return "?";
}

nlohmann::json tensorJson(const fb::Engine &e, int32_t idx) {
  const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
  nlohmann::json j;
  j["name"] = t->name() ? t->name()->str() : "";
  j["dtype"] = dtypeStr(t->dtype());
  j["shape"] = t->shape() ? std::vector<int64_t>(t->shape()->begin(), t->shape()->end()) : std::vector<int64_t>{};
  j["kind"] = kindStr(t->kind());
  return j;
}

} // namespace

std::string layerKernel(const fb::Layer &l) {
  switch (l.impl_type()) {
  case fb::LayerImpl::KernelLaunch: return "generated:" + l.impl_as_KernelLaunch()->function()->str();
  case fb::LayerImpl::CudnnConv: return l.impl_as_CudnnConv()->transpose() ? "cudnn:conv_transpose" : "cudnn:conv";
  case fb::LayerImpl::CublasLtMatmul: return "cublaslt:matmul";
  default: return "none";
  }
}

Expected<std::string> inspectEngine(const std::string &path, bool json) {
  std::string err;
  auto view = rt::EngineView::fromFile(path, err);
  if (!view)
    return invalidArgument(err);
  const fb::Engine &e = view->engine();
  const fb::BuildInfo &info = *e.info();
  nlohmann::json j;
  j["schema_version"] = kJsonSchemaVersion;
  j["file"] = path;
  j["format_version"] = view->header().formatVersion;
  j["target"] = {{"gpu", info.gpu_name()->str()},
                 {"compute_capability", "sm_" + std::to_string(info.sm_major()) + std::to_string(info.sm_minor())}};
  j["build"] = {{"infc_version", info.infc_version() ? info.infc_version()->str() : ""},
                {"cuda_version", info.cuda_version()},
                {"cudnn_version", info.cudnn_version()},
                {"cublaslt_version", info.cublaslt_version()},
                {"options", info.options() ? nlohmann::json::parse(info.options()->str(), nullptr, false) : nlohmann::json()}};
  j["memory"] = {{"weight_bytes", e.weight_bytes()}, {"activation_bytes", e.arena_bytes()},
                 {"activation_lower_bound_bytes", e.activation_lower_bound_bytes()},
                 {"workspace_limit_bytes", e.workspace_bytes()}};
  for (int32_t i : *e.inputs())
    j["inputs"].push_back(tensorJson(e, i));
  for (int32_t i : *e.outputs())
    j["outputs"].push_back(tensorJson(e, i));
  // Optimization profiles: per profile, per input, min / opt / max (dims -1 in the shapes above
  // are set within these ranges at run time).
  std::vector<codegen::ProfileRanges> profiles = engineProfiles(e);
  j["profiles"] = profilesJson(profiles);
  // Batch-loop engines: GPU layers for every batch up to this (0: none, or an engine of one shape).
  j["batch_max"] = e.batch_max();
  // Dim-fit engines: the dims their layers follow (empty: none).
  j["dims"] = nlohmann::json::array();
  if (e.dim_atoms())
    for (const fb::DimAtom *a : *e.dim_atoms())
      j["dims"].push_back({{"name", a->name() ? a->name()->str() : ""}, {"input", a->input()}, {"axis", a->axis()},
                           {"offset", a->offset()}, {"divisor", a->divisor()}});
  j["layers"] = nlohmann::json::array();
  for (const fb::Layer *l : *e.layers()) {
    nlohmann::json lj;
    lj["name"] = l->name() ? l->name()->str() : "";
    lj["kernel"] = layerKernel(*l);
    lj["tactic"] = l->tactic() ? l->tactic()->str() : "";
    lj["precision"] = l->precision() ? l->precision()->str() : "";
    lj["inputs"] = nlohmann::json::array();
    lj["outputs"] = nlohmann::json::array();
    if (l->inputs())
      for (int32_t i : *l->inputs())
        lj["inputs"].push_back(tensorJson(e, i));
    if (l->outputs())
      for (int32_t i : *l->outputs())
        lj["outputs"].push_back(tensorJson(e, i));
    if (std::string over = inPlaceOver(e, *l); !over.empty())
      lj["in_place_over"] = over;
    lj["onnx_nodes"] = nlohmann::json::array();
    if (l->onnx_nodes())
      for (const auto *n : *l->onnx_nodes())
        lj["onnx_nodes"].push_back(n->str());
    j["layers"].push_back(lj);
  }
  if (json)
    return j.dump(2) + "\n";

  std::ostringstream os;
  os << "engine " << path << " (format " << view->header().formatVersion << ")\n";
  os << "  target: " << info.gpu_name()->str() << ", sm_" << info.sm_major() << info.sm_minor() << "\n";
  os << "  built by infc " << j["build"]["infc_version"].get<std::string>() << " with CUDA " << info.cuda_version()
     << ", cuDNN " << info.cudnn_version() << ", cuBLASLt " << info.cublaslt_version() << "\n";
  os << "  memory: weights " << e.weight_bytes() << " bytes, activations " << e.arena_bytes() << " bytes (lower bound "
     << e.activation_lower_bound_bytes() << "), workspace up to "
     << e.workspace_bytes() << " bytes (a context allocates what its tactics need)\n";
  for (int32_t i : *e.inputs())
    os << "  input  " << e.tensors()->Get(static_cast<uint32_t>(i))->name()->str() << ": "
       << shapeStr(*e.tensors()->Get(static_cast<uint32_t>(i))) << "\n";
  for (int32_t i : *e.outputs())
    os << "  output " << e.tensors()->Get(static_cast<uint32_t>(i))->name()->str() << ": "
       << shapeStr(*e.tensors()->Get(static_cast<uint32_t>(i))) << "\n";
  for (size_t k = 0; k < profiles.size(); ++k) {
    os << "  profile " << k << ":";
    for (const codegen::ProfileRange &r : profiles[k])
      os << " " << r.name << " min " << dimsStr(r.min) << " opt " << dimsStr(r.opt) << " max " << dimsStr(r.max) << ";";
    os << "\n";
  }
  if (!profiles.empty() && e.dim_atoms() && e.dim_atoms()->size() > 0) {
    os << "  GPU layers for every shape of the profiles (dim-fit engine: kernels take the dims as an argument, cuDNN and "
          "cuBLASLt plans are made per shape); dims:";
    for (const fb::DimAtom *a : *e.dim_atoms())
      os << " " << (a->name() ? a->name()->str() : std::string("?")) << ";";
    os << "\n";
  } else if (!profiles.empty() && e.batch_max() == 0)
    os << "  runs on the reference executor only (infc run --reference --shapes ...): no GPU layers serve every shape of "
          "its profiles (infc build said why)\n";
  else if (!profiles.empty())
    os << "  GPU layers for batch 1 to " << e.batch_max() << " (batch-loop engine: kernels take one batch item per "
          "grid.z index, cuDNN and cuBLASLt plans are made per batch)\n";
  os << "  layers (" << e.layers()->size() << "):\n";
  size_t idx = 0;
  for (const fb::Layer *l : *e.layers()) {
    os << "    #" << idx++ << " " << layerKernel(*l) << " [" << (l->precision() ? l->precision()->str() : "") << "]";
    if (l->outputs())
      for (uint32_t o = 0; o < l->outputs()->size(); ++o)
        os << (o ? ", " : " -> ") << shapeStr(*e.tensors()->Get(static_cast<uint32_t>(l->outputs()->Get(o))));
    if (std::string over = inPlaceOver(e, *l); !over.empty())
      os << " (in place over " << over << ")";
    if (l->onnx_nodes() && l->onnx_nodes()->size()) {
      os << "  onnx_nodes:";
      for (const auto *n : *l->onnx_nodes())
        os << " " << n->str();
    }
    os << "\n";
  }
  return os.str();
}

} // namespace infc
