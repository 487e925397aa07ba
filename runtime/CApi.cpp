// The C API over DeviceEngine / ExecutionContext.
#include "runtime/RuntimeImpl.h"

#include <cstdint>
#include <algorithm>
#include <cstring>

using namespace infc::rt;
namespace fb = infc::fb;

namespace {
thread_local std::string lastError;

infc_status fail(infc_status code, std::string msg) {
  lastError = std::move(msg);
  return code;
}
infc_status ok() {
  lastError.clear();
  return INFC_OK;
}

infc_status loadView(std::unique_ptr<EngineView> view, const std::string &err, const std::string &prefix,
                     infc_engine **engine) {
  if (!view)
    return fail(err.find("cannot open") != std::string::npos ? INFC_ERROR_IO : INFC_ERROR_INVALID_ENGINE, err);
  std::unique_ptr<DeviceEngine> dev;
  infc_status code = INFC_OK;
  if (std::string e = DeviceEngine::load(std::move(view), dev, code); !e.empty())
    return fail(code, prefix + e);
  *engine = new infc_engine{std::move(dev)};
  return ok();
}

const fb::Tensor *ioTensor(const infc_engine *e, int i, bool input) {
  if (!e)
    return nullptr;
  const fb::Engine &eng = e->impl->engine();
  const auto *list = input ? eng.inputs() : eng.outputs();
  if (i < 0 || static_cast<uint32_t>(i) >= list->size())
    return nullptr;
  return eng.tensors()->Get(static_cast<uint32_t>(list->Get(static_cast<uint32_t>(i))));
}
} // namespace

extern "C" {

const char *infc_last_error(void) { return lastError.c_str(); }

const char *infc_status_name(infc_status s) {
  switch (s) {
  case INFC_OK: return "ok";
  case INFC_ERROR_INVALID_ARGUMENT: return "invalid argument";
  case INFC_ERROR_INVALID_ENGINE: return "invalid engine";
  case INFC_ERROR_WRONG_DEVICE: return "wrong device";
  case INFC_ERROR_NO_DEVICE: return "no device";
  case INFC_ERROR_CUDA: return "CUDA error";
  case INFC_ERROR_IO: return "I/O error";
  case INFC_ERROR_UNSUPPORTED: return "unsupported";
  }
  return "unknown status";
}

infc_status infc_engine_load(const char *path, infc_engine **engine) {
  if (!path || !engine)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_engine_load: null argument");
  std::string err;
  auto view = EngineView::fromFile(path, err);
  return loadView(std::move(view), err, std::string(path) + ": ", engine);
}

infc_status infc_engine_load_bytes(const void *data, size_t size, infc_engine **engine) {
  if (!data || !engine)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_engine_load_bytes: null argument");
  std::string err;
  auto view = EngineView::fromBytes(std::string(static_cast<const char *>(data), size), err);
  return loadView(std::move(view), err, "", engine);
}

void infc_engine_free(infc_engine *engine) { delete engine; }

int infc_engine_num_inputs(const infc_engine *e) { return e ? static_cast<int>(e->impl->engine().inputs()->size()) : 0; }
int infc_engine_num_outputs(const infc_engine *e) { return e ? static_cast<int>(e->impl->engine().outputs()->size()) : 0; }

const char *infc_engine_input_name(const infc_engine *e, int i) {
  const fb::Tensor *t = ioTensor(e, i, true);
  return t && t->name() ? t->name()->c_str() : nullptr;
}
const char *infc_engine_output_name(const infc_engine *e, int i) {
  const fb::Tensor *t = ioTensor(e, i, false);
  return t && t->name() ? t->name()->c_str() : nullptr;
}

infc_status infc_engine_tensor_info(const infc_engine *e, const char *name, int32_t *dtype, int *rank,
                                    int64_t dims[8], size_t *bytes) {
  if (!e || !name)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_engine_tensor_info: null argument");
  for (bool input : {true, false})
    for (int i = 0;; ++i) {
      const fb::Tensor *t = ioTensor(e, i, input);
      if (!t)
        break;
      if (!t->name() || std::strcmp(t->name()->c_str(), name) != 0)
        continue;
      if (t->shape() && t->shape()->size() > 8)
        return fail(INFC_ERROR_UNSUPPORTED, "tensor '" + std::string(name) + "' has rank above 8");
      if (dtype)
        *dtype = t->dtype();
      if (rank)
        *rank = t->shape() ? static_cast<int>(t->shape()->size()) : 0;
      if (dims && t->shape())
        for (uint32_t d = 0; d < t->shape()->size(); ++d)
          dims[d] = t->shape()->Get(d);
      if (bytes) // dynamic dims (engines with profiles): the size is known when the shapes are set
        *bytes = t->shape() && std::find(t->shape()->begin(), t->shape()->end(), -1) != t->shape()->end() ? 0 : t->bytes();
      return ok();
    }
  return fail(INFC_ERROR_INVALID_ARGUMENT, "no input or output named '" + std::string(name) + "'");
}

int infc_engine_num_profiles(const infc_engine *e) {
  return e && e->impl->engine().profiles() ? static_cast<int>(e->impl->engine().profiles()->size()) : 0;
}

infc_status infc_engine_get_profile_shape(const infc_engine *e, int profile, const char *name, int which, int64_t dims[8],
                                          int *rank) {
  if (!e || !name || !dims || !rank || which < 0 || which > 2)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_engine_get_profile_shape: null argument or `which` not 0, 1 or 2");
  if (profile < 0 || profile >= infc_engine_num_profiles(e))
    return fail(INFC_ERROR_INVALID_ARGUMENT, "profile " + std::to_string(profile) + " does not exist (the engine has " +
                                                 std::to_string(infc_engine_num_profiles(e)) + ")");
  for (const fb::ProfileInput *r : *e->impl->engine().profiles()->Get(static_cast<uint32_t>(profile))->inputs()) {
    if (!r->name() || r->name()->str() != name)
      continue;
    const auto *v = which == 0 ? r->min() : which == 1 ? r->opt() : r->max();
    if (v->size() > 8)
      return fail(INFC_ERROR_UNSUPPORTED, "input '" + std::string(name) + "' has rank above 8");
    *rank = static_cast<int>(v->size());
    std::copy(v->begin(), v->end(), dims);
    return ok();
  }
  return fail(INFC_ERROR_INVALID_ARGUMENT, "no input named '" + std::string(name) + "'");
}

infc_status infc_context_create(infc_engine *engine, infc_context **context) {
  if (!engine || !context)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_create: null argument");
  std::unique_ptr<ExecutionContext> c;
  if (std::string e = ExecutionContext::create(*engine->impl, c); !e.empty())
    return fail(INFC_ERROR_CUDA, e);
  *context = new infc_context{std::move(c), engine};
  return ok();
}

void infc_context_free(infc_context *context) { delete context; }

static infc_status bindIO(infc_context *c, const char *name, void *ptr, bool input) {
  if (!c || !name || !ptr)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "null argument");
  int idx = c->impl->findIO(name, input);
  if (idx < 0)
    return fail(INFC_ERROR_INVALID_ARGUMENT, std::string("no ") + (input ? "input" : "output") + " named '" + name + "'");
  // Kernels move 16 bytes per access and cuDNN's tensors are declared 16-byte aligned
  // (cudaMalloc gives 256): a misaligned buffer would fault or be misread on the GPU.
  if (reinterpret_cast<uintptr_t>(ptr) % 16 != 0)
    return fail(INFC_ERROR_INVALID_ARGUMENT, std::string(input ? "input" : "output") + " '" + name +
                                                 "': device address is not 16-byte aligned");
  c->impl->bind(idx, reinterpret_cast<CUdeviceptr>(ptr));
  return ok();
}

infc_status infc_context_set_input(infc_context *c, const char *name, void *ptr) { return bindIO(c, name, ptr, true); }
infc_status infc_context_set_output(infc_context *c, const char *name, void *ptr) { return bindIO(c, name, ptr, false); }

infc_status infc_context_tensor_address(infc_context *c, const char *name, void **ptr) {
  if (!c || !name || !ptr)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "null argument");
  int idx = c->impl->findIO(name, true);
  if (idx < 0)
    idx = c->impl->findIO(name, false);
  if (idx < 0)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "no input or output named '" + std::string(name) + "'");
  *ptr = reinterpret_cast<void *>(c->impl->address(idx));
  return ok();
}

infc_status infc_context_set_profile(infc_context *c, int profile) {
  if (!c)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_set_profile: null context");
  if (std::string e = c->impl->setProfile(profile); !e.empty())
    return fail(INFC_ERROR_INVALID_ARGUMENT, e);
  return ok();
}

infc_status infc_context_set_input_shape(infc_context *c, const char *name, const int64_t *dims, int rank) {
  if (!c || !name || (!dims && rank > 0) || rank < 0 || rank > 8)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_set_input_shape: null argument or rank outside 0..8");
  if (std::string e = c->impl->setInputShape(name, std::vector<int64_t>(dims, dims + rank)); !e.empty())
    return fail(INFC_ERROR_INVALID_ARGUMENT, e);
  return ok();
}

infc_status infc_context_get_tensor_shape(const infc_context *c, const char *name, int64_t dims[8], int *rank) {
  if (!c || !name || !dims || !rank)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_get_tensor_shape: null argument");
  std::vector<int64_t> d;
  if (std::string e = c->impl->tensorShape(name, d); !e.empty())
    return fail(INFC_ERROR_INVALID_ARGUMENT, e);
  if (d.size() > 8)
    return fail(INFC_ERROR_UNSUPPORTED, "tensor '" + std::string(name) + "' has rank above 8");
  *rank = static_cast<int>(d.size());
  std::copy(d.begin(), d.end(), dims);
  return ok();
}

infc_status infc_context_enqueue(infc_context *c, void *stream) {
  if (!c)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_enqueue: null context");
  if (std::string e = c->impl->enqueue(static_cast<CUstream>(stream)); !e.empty())
    return fail(INFC_ERROR_CUDA, e);
  return ok();
}

infc_status infc_context_set_cuda_graph(infc_context *c, int enable) {
  if (!c)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_set_cuda_graph: null context");
  c->impl->setCudaGraph(enable != 0);
  return ok();
}

infc_status infc_context_set_sm_count(infc_context *c, int sms) {
  if (!c)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_set_sm_count: null context");
  if (std::string e = c->impl->setSmCount(sms); !e.empty())
    return fail(e.rfind("an SM count", 0) == 0 ? INFC_ERROR_INVALID_ARGUMENT : INFC_ERROR_CUDA, e);
  return ok();
}

infc_status infc_context_device_memory(const infc_context *c, size_t *engine_bytes, size_t *context_bytes) {
  if (!c || !engine_bytes || !context_bytes)
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_device_memory: null argument");
  *engine_bytes = static_cast<size_t>(c->engine->impl->engine().weight_bytes());
  *context_bytes = static_cast<size_t>(c->impl->arenaBytes() + c->impl->workspaceBytes());
  return ok();
}

int infc_engine_num_layers(const infc_engine *engine) {
  return engine ? static_cast<int>(engine->impl->engine().layers()->size()) : 0;
}

infc_status infc_context_profile(infc_context *c, void *stream, float *layer_ms, int n) {
  if (!c || !layer_ms || n != infc_engine_num_layers(c->engine))
    return fail(INFC_ERROR_INVALID_ARGUMENT, "infc_context_profile: null argument or wrong layer count");
  std::vector<float> ms;
  if (std::string e = c->impl->profile(static_cast<CUstream>(stream), ms); !e.empty())
    return fail(INFC_ERROR_CUDA, e);
  std::copy(ms.begin(), ms.end(), layer_ms);
  return ok();
}

} // extern "C"
