// Engine residency on the GPU (weights, modules) and execution contexts (arena, layers).
#include "runtime/RuntimeImpl.h"

#include "runtime/CudaDriver.h"

#include <algorithm>

namespace infc::rt {

static const CudaDriver &drv() { return cudaDriver(); }

std::string shapeKeyText(const ShapeKey &key, bool dimFit) {
  std::string t = dimFit ? "dims " : "batch ";
  for (size_t i = 0; i < key.size(); ++i)
    t += (i ? ", " : "") + std::to_string(key[i]);
  return t;
}

int64_t evalDim(const fb::DimExpr *e, const ShapeKey &atoms) {
  int64_t sum = 0;
  if (e && e->terms())
    for (const fb::DimTerm *t : *e->terms()) {
      int64_t v = t->coef();
      if (t->atoms())
        for (uint8_t a : *t->atoms())
          v *= atoms[a];
      sum += v;
    }
  return sum;
}

std::vector<int64_t> shapeAt(const fb::Tensor &t, const ShapeKey &atoms) {
  std::vector<int64_t> d = t.shape() ? std::vector<int64_t>(t.shape()->begin(), t.shape()->end()) : std::vector<int64_t>{};
  if (t.dims() && t.dims()->size() == d.size())
    for (uint32_t i = 0; i < t.dims()->size(); ++i)
      d[i] = evalDim(t.dims()->Get(i), atoms);
  return d;
}

std::string queryDevice(DeviceInfo &info) {
  if (!drv().loaded)
    return "no usable GPU: " + drv().error;
  if (CUresult r = drv().cuInit(0); r != CUDA_SUCCESS)
    return cuCheck(r, "no usable GPU (cuInit)");
  CUdevice dev;
  int count = 0;
  if (drv().cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0)
    return "no usable GPU (no CUDA device found)";
  if (std::string e = cuCheck(drv().cuDeviceGet(&dev, 0), "cuDeviceGet"); !e.empty())
    return e;
  char name[256] = {0};
  drv().cuDeviceGetName(name, sizeof name, dev);
  info.name = name;
  drv().cuDeviceGetAttribute(&info.smMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  drv().cuDeviceGetAttribute(&info.smMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  drv().cuDeviceGetAttribute(&info.multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
  size_t bytes = 0;
  if (drv().cuDeviceTotalMem(&bytes, dev) == CUDA_SUCCESS)
    info.memoryBytes = bytes;
  return "";
}

ContextHandles::~ContextHandles() {
  if (cudnn_)
    cudnnDestroy(cudnn_);
  if (cublasLt_)
    cublasLtDestroy(cublasLt_);
}

std::string ContextHandles::cudnn(cudnnHandle_t &out) {
  if (!cudnn_)
    if (cudnnStatus_t s = cudnnCreate(&cudnn_); s != CUDNN_STATUS_SUCCESS) {
      cudnn_ = nullptr;
      return std::string("cudnnCreate: ") + cudnnGetErrorString(s);
    }
  out = cudnn_;
  return "";
}

std::string ContextHandles::cublasLt(cublasLtHandle_t &out) {
  if (!cublasLt_)
    if (cublasStatus_t s = cublasLtCreate(&cublasLt_); s != CUBLAS_STATUS_SUCCESS) {
      cublasLt_ = nullptr;
      return "cublasLtCreate failed (status " + std::to_string(static_cast<int>(s)) + ")";
    }
  out = cublasLt_;
  return "";
}

std::string DeviceEngine::makeCurrent() const {
  CUcontext current = nullptr;
  if (drv().cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == cuContext_)
    return "";
  return cuCheck(drv().cuCtxSetCurrent(cuContext_), "cuCtxSetCurrent");
}

DeviceEngine::~DeviceEngine() {
  if (cuContext_)
    makeCurrent();
  for (CUmodule m : modules_)
    drv().cuModuleUnload(m);
  if (weights_)
    drv().cuMemFree(weights_);
  if (cuContext_)
    drv().cuDevicePrimaryCtxRelease(cuDevice_);
}

std::string DeviceEngine::load(std::unique_ptr<EngineView> view, std::unique_ptr<DeviceEngine> &out,
                               infc_status &code) {
  auto e = std::unique_ptr<DeviceEngine>(new DeviceEngine());
  e->view_ = std::move(view);
  if (e->view_->engine().profiles() && e->view_->engine().profiles()->size() > 0 && e->view_->engine().batch_max() == 0 &&
      !isDimFit(e->view_->engine())) {
    code = INFC_ERROR_UNSUPPORTED;
    return "the engine has optimization profiles and no GPU layers (infc build said why in a warning; infc inspect shows "
           "it): run it on the reference executor (infc run --reference --shapes ...), or build an engine per shape "
           "with --shapes";
  }
  code = INFC_ERROR_NO_DEVICE;
  if (std::string err = queryDevice(e->device_); !err.empty())
    return err;
  const fb::BuildInfo *info = e->view_->engine().info();
  if (std::string err = checkDeviceMatch(*info, e->device_.smMajor, e->device_.smMinor, e->device_.name); !err.empty()) {
    code = INFC_ERROR_WRONG_DEVICE;
    return err;
  }
  code = INFC_ERROR_CUDA;
  CUdevice dev;
  if (std::string err = cuCheck(drv().cuDeviceGet(&dev, 0), "cuDeviceGet"); !err.empty())
    return err;
  e->cuDevice_ = dev;
  // The primary context is the one cuDNN, cuBLASLt and the CUDA runtime use: share it.
  if (std::string err = cuCheck(drv().cuDevicePrimaryCtxRetain(&e->cuContext_, dev), "cuDevicePrimaryCtxRetain"); !err.empty())
    return err;
  if (std::string err = cuCheck(drv().cuCtxSetCurrent(e->cuContext_), "cuCtxSetCurrent"); !err.empty())
    return err;
  uint64_t wbytes = e->view_->weightsSize();
  if (wbytes) {
    if (std::string err = cuCheck(drv().cuMemAlloc(&e->weights_, wbytes), "allocating " + std::to_string(wbytes) + " bytes of weights");
        !err.empty())
      return err;
    if (std::string err = cuCheck(drv().cuMemcpyHtoD(e->weights_, e->view_->weights(), wbytes), "uploading weights"); !err.empty())
      return err;
  }
  const fb::Engine &eng = e->view_->engine();
  if (eng.modules())
    for (const fb::Module *m : *eng.modules()) {
      CUmodule mod;
      std::string what = "loading kernel module '" + (m->name() ? m->name()->str() : std::string("?")) + "'";
      if (std::string err = cuCheck(drv().cuModuleLoadData(&mod, m->cubin()->data()), what); !err.empty())
        return err;
      e->modules_.push_back(mod);
    }
  code = INFC_OK;
  out = std::move(e);
  return "";
}

CUfunction DeviceEngine::function(uint32_t module, const std::string &name, std::string &error) const {
  CUfunction f = nullptr;
  error = cuCheck(drv().cuModuleGetFunction(&f, modules_[module], name.c_str()), "kernel '" + name + "'");
  return f;
}

// ---------------------------------------------------------------- ExecutionContext

ExecutionContext::~ExecutionContext() {
  engine_->makeCurrent();
  dropGraph();
  layers_.clear();
  if (arena_)
    drv().cuMemFree(arena_);
  if (workspace_)
    drv().cuMemFree(workspace_);
}

std::string ExecutionContext::create(const DeviceEngine &engine, std::unique_ptr<ExecutionContext> &out) {
  auto c = std::unique_ptr<ExecutionContext>(new ExecutionContext());
  c->engine_ = &engine;
  if (std::string err = engine.makeCurrent(); !err.empty())
    return err;
  const fb::Engine &e = engine.engine();
  if (e.arena_bytes())
    if (std::string err = cuCheck(drv().cuMemAlloc(&c->arena_, e.arena_bytes()), "allocating the activation arena"); !err.empty())
      return err;
  c->addr_.resize(e.tensors()->size());
  for (uint32_t i = 0; i < e.tensors()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(i);
    c->addr_[i] = (t->kind() == fb::TensorKind::Weight ? engine.weights() : c->arena_) + t->offset();
  }
  for (const fb::Layer *layer : *e.layers()) {
    std::unique_ptr<LayerExec> exec;
    std::string err;
    switch (layer->impl_type()) {
    case fb::LayerImpl::KernelLaunch: err = prepareKernelLaunch(engine, *layer, exec); break;
    case fb::LayerImpl::CudnnConv: err = prepareCudnnConv(engine, *layer, c->handles_, exec); break;
    case fb::LayerImpl::CublasLtMatmul: err = prepareCublasLtMatmul(engine, *layer, c->handles_, exec); break;
    default: err = "layer has no implementation"; break;
    }
    if (!err.empty())
      return "layer '" + (layer->name() ? layer->name()->str() : std::string("?")) + "': " + err;
    c->layers_.push_back(std::move(exec));
  }
  c->inputShapes_.resize(e.inputs()->size());
  if (e.batch_max() != 0 || isDimFit(e)) // the layers get ready for a shape when the input shapes are set
    return out = std::move(c), "";
  // Engine.workspace_bytes caps what a tactic may use; allocate what the chosen ones need.
  uint64_t workspace = 0;
  for (const auto &l : c->layers_)
    workspace = std::max(workspace, l->workspaceBytes());
  if (workspace)
    if (std::string err = cuCheck(drv().cuMemAlloc(&c->workspace_, workspace), "allocating the workspace"); !err.empty())
      return err;
  c->workspaceBytes_ = workspace;
  out = std::move(c);
  return "";
}

int ExecutionContext::findIO(const std::string &name, bool input) const {
  const fb::Engine &e = engine_->engine();
  for (int32_t idx : input ? *e.inputs() : *e.outputs()) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
    if (t->name() && t->name()->str() == name)
      return idx;
  }
  return -1;
}

std::string ExecutionContext::layerError(size_t i, const std::string &err) const {
  if (err.empty())
    return "";
  const fb::Layer *l = engine_->engine().layers()->Get(static_cast<uint32_t>(i));
  return "layer '" + (l->name() ? l->name()->str() : std::string("?")) + "': " + err;
}

std::string ExecutionContext::enqueueLayer(size_t i, CUstream stream) {
  return layerError(i, layers_[i]->enqueue(addr_, stream, workspace_));
}

std::string ExecutionContext::setProfile(int profile) {
  const fb::Engine &e = engine_->engine();
  int n = e.profiles() ? static_cast<int>(e.profiles()->size()) : 0;
  if (profile < 0 || profile >= std::max(n, 1))
    return "profile " + std::to_string(profile) + " does not exist (the engine has " + std::to_string(n) + ")";
  if (profile != profile_)
    for (auto &shape : inputShapes_)
      shape.clear(); // shapes are checked against the profile they are set in
  profile_ = profile;
  return "";
}

std::string ExecutionContext::setInputShape(const std::string &name, const std::vector<int64_t> &dims) {
  const fb::Engine &e = engine_->engine();
  for (uint32_t i = 0; i < e.inputs()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)));
    if (!t->name() || t->name()->str() != name)
      continue;
    std::vector<int64_t> shape = t->shape() ? std::vector<int64_t>(t->shape()->begin(), t->shape()->end()) : std::vector<int64_t>{};
    if (dims.size() != shape.size())
      return "input '" + name + "' has rank " + std::to_string(shape.size()) + ", not " + std::to_string(dims.size());
    const fb::ProfileInput *range = e.profiles() && e.profiles()->size() ? e.profiles()->Get(static_cast<uint32_t>(profile_))->inputs()->Get(i) : nullptr;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (shape[d] >= 0 && dims[d] != shape[d])
        return "input '" + name + "' dim " + std::to_string(d) + " is " + std::to_string(dims[d]) + ", and the engine has it fixed at " +
               std::to_string(shape[d]);
      if (shape[d] < 0 && range) {
        int64_t lo = range->min()->Get(static_cast<uint32_t>(d)), hi = range->max()->Get(static_cast<uint32_t>(d));
        if (dims[d] < lo || dims[d] > hi)
          return "input '" + name + "' dim " + std::to_string(d) + " is " + std::to_string(dims[d]) + ", outside profile " +
                 std::to_string(profile_) + "'s range " + std::to_string(lo) + ".." + std::to_string(hi);
      }
    }
    inputShapes_[i] = dims;
    return "";
  }
  return "no input named '" + name + "'";
}

std::string ExecutionContext::tensorShape(const std::string &name, std::vector<int64_t> &dims) const {
  const fb::Engine &e = engine_->engine();
  int64_t batch = -1;
  ShapeKey atoms;
  bool dimsKnown = false;
  if (isDimFit(e)) {
    // Once every input's shape is set, inputs that disagree on a dim they share are an error
    // here (an output's size would be no size at all), not only at enqueue.
    std::string err = dimValues(atoms);
    dimsKnown = err.empty();
    bool allSet = true;
    for (uint32_t i = 0; i < e.inputs()->size(); ++i)
      if (e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)))->dims() && inputShapes_[i].empty())
        allSet = false;
    if (!dimsKnown && allSet)
      return err;
  }
  for (uint32_t i = 0; i < e.inputs()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)));
    if (t->batch_dim0() > 0 && !inputShapes_[i].empty())
      batch = inputShapes_[i][0] / t->batch_dim0();
    if (t->name() && t->name()->str() == name && !inputShapes_[i].empty()) {
      dims = inputShapes_[i];
      return "";
    }
  }
  int idx = findIO(name, true);
  if (idx < 0)
    idx = findIO(name, false);
  if (idx < 0)
    return "no input or output named '" + name + "'";
  const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
  dims = t->shape() ? std::vector<int64_t>(t->shape()->begin(), t->shape()->end()) : std::vector<int64_t>{};
  if (t->batch_dim0() > 0)
    dims[0] = batch < 0 ? -1 : t->batch_dim0() * batch;
  if (dimsKnown)
    dims = shapeAt(*t, atoms);
  return "";
}

std::string ExecutionContext::setSmCount(int sms) {
  if (sms < 0 || sms > engine_->device().multiprocessors)
    return "an SM count of " + std::to_string(sms) + ": the GPU has " + std::to_string(engine_->device().multiprocessors);
  if (std::string err = engine_->makeCurrent(); !err.empty())
    return err;
  dropGraph();
  for (size_t i = 0; i < layers_.size(); ++i)
    if (std::string err = layerError(i, layers_[i]->setSmCount(sms)); !err.empty())
      return err;
  shape_.clear(); // engines with profiles: every layer makes its plan again at the next enqueue
  return growWorkspace(); // plans under an SM count target may need more
}

std::string ExecutionContext::growWorkspace() {
  uint64_t need = 0;
  for (const auto &l : layers_)
    need = std::max(need, l->workspaceBytes());
  if (need <= workspaceBytes_)
    return "";
  dropGraph(); // captured launches hold the old workspace
  if (workspace_)
    drv().cuMemFree(workspace_);
  workspace_ = 0;
  workspaceBytes_ = 0;
  if (std::string err = cuCheck(drv().cuMemAlloc(&workspace_, need), "allocating the workspace"); !err.empty())
    return err;
  workspaceBytes_ = need;
  return "";
}

std::string ExecutionContext::applyShapes() {
  const fb::Engine &e = engine_->engine();
  if (isDimFit(e)) {
    ShapeKey dims;
    if (std::string err = dimValues(dims); !err.empty())
      return err;
    return readyFor(dims);
  }
  if (e.batch_max() == 0)
    return "";
  int64_t batch = 0;
  std::string from;
  for (uint32_t i = 0; i < e.inputs()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)));
    if (t->batch_dim0() <= 0)
      continue;
    if (inputShapes_[i].empty())
      return "input '" + t->name()->str() + "' has a dynamic batch (dim 0): set its shape first (infc_context_set_input_shape; " +
             "infc run --shapes)";
    int64_t b = inputShapes_[i][0] / t->batch_dim0();
    if (batch && b != batch)
      return "inputs '" + from + "' and '" + t->name()->str() + "' have batches " + std::to_string(batch) + " and " +
             std::to_string(b) + ": the engine's inputs share one batch";
    batch = b;
    from = t->name()->str();
  }
  return readyFor({batch});
}

std::string ExecutionContext::readyFor(const ShapeKey &shape) {
  if (shape == shape_ && profile_ == readyProfile_)
    return "";
  for (size_t i = 0; i < layers_.size(); ++i)
    if (std::string err = layerError(i, layers_[i]->setShape(shape, profile_)); !err.empty())
      return err;
  if (std::string err = growWorkspace(); !err.empty())
    return err;
  shape_ = shape;
  readyProfile_ = profile_;
  return "";
}

std::string ExecutionContext::dimValues(ShapeKey &out) const {
  const fb::Engine &e = engine_->engine();
  out.assign(e.dim_atoms()->size(), 0);
  for (uint32_t a = 0; a < e.dim_atoms()->size(); ++a) {
    const fb::DimAtom *atom = e.dim_atoms()->Get(a);
    const std::vector<int64_t> &shape = inputShapes_[static_cast<size_t>(atom->input())];
    if (shape.empty()) {
      const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(static_cast<uint32_t>(atom->input()))));
      return "input '" + t->name()->str() + "' has dynamic dims: set its shape first (infc_context_set_input_shape; " +
             "infc run --shapes)";
    }
    out[a] = dimAtomValue(*atom, shape[static_cast<size_t>(atom->axis())]);
  }
  // Every input's dims must be what the dims give them (inputs that share a dim agree).
  for (uint32_t i = 0; i < e.inputs()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)));
    if (!t->dims() || inputShapes_[i].empty())
      continue;
    std::vector<int64_t> want = shapeAt(*t, out);
    for (size_t d = 0; d < want.size(); ++d)
      if (want[d] != inputShapes_[i][d]) {
        std::string from;
        for (uint32_t a = 0; a < e.dim_atoms()->size(); ++a)
          if (const fb::DimAtom *atom = e.dim_atoms()->Get(a); atom->divisor() == 1 && atom->offset() == 0) {
            const fb::Tensor *src = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(static_cast<uint32_t>(atom->input()))));
            from += (from.empty() ? "" : ", ") + std::string("'") + (atom->name() ? atom->name()->str() : "?") + "' = " +
                    std::to_string(out[a]) + " from input '" + src->name()->str() + "' dim " + std::to_string(atom->axis());
          }
        return "input '" + t->name()->str() + "' dim " + std::to_string(d) + " is " + std::to_string(inputShapes_[i][d]) +
               ", and the engine needs it to be " + std::to_string(want[d]) + " (" + from + ")";
      }
  }
  return "";
}

std::string ExecutionContext::enqueue(CUstream stream) {
  if (std::string err = engine_->makeCurrent(); !err.empty())
    return err;
  if (std::string err = applyShapes(); !err.empty())
    return err;
  if (useGraph_ && stream) {
    std::pair<int, ShapeKey> key{readyProfile_, shape_};
    auto it = std::find_if(graphs_.begin(), graphs_.end(), [&](const auto &g) { return g.first == key; });
    if (it == graphs_.end()) {
      CUgraphExec exec = nullptr;
      if (std::string err = captureGraph(stream, exec); !err.empty())
        return err;
      if (graphs_.size() >= kMaxShapePlans) {
        drv().cuGraphExecDestroy(graphs_.front().second);
        graphs_.erase(graphs_.begin());
      }
      graphs_.emplace_back(key, exec);
      it = graphs_.end() - 1;
    }
    return cuCheck(drv().cuGraphLaunch(it->second, stream), "cuGraphLaunch");
  }
  for (size_t i = 0; i < layers_.size(); ++i)
    if (std::string err = enqueueLayer(i, stream); !err.empty())
      return err;
  return "";
}

void ExecutionContext::dropGraph() {
  for (auto &g : graphs_)
    drv().cuGraphExecDestroy(g.second);
  graphs_.clear();
}

std::string ExecutionContext::captureGraph(CUstream stream, CUgraphExec &graphExec) {
  // Thread-local mode: other threads' CUDA calls (another context's enqueue) are not disturbed.
  if (std::string err = cuCheck(drv().cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                                "capturing a CUDA graph (cuStreamBeginCapture)");
      !err.empty())
    return err;
  std::string err;
  for (size_t i = 0; i < layers_.size() && err.empty(); ++i)
    err = enqueueLayer(i, stream);
  CUgraph graph = nullptr;
  std::string endErr = cuCheck(drv().cuStreamEndCapture(stream, &graph), "capturing a CUDA graph (cuStreamEndCapture)");
  if (err.empty())
    err = endErr;
  if (err.empty())
    err = cuCheck(drv().cuGraphInstantiateWithFlags(&graphExec, graph, 0), "cuGraphInstantiate");
  if (graph)
    drv().cuGraphDestroy(graph);
  if (!err.empty()) {
    graphExec = nullptr;
    return err + " (run without a CUDA graph: --no-cuda-graph)";
  }
  return "";
}

std::string ExecutionContext::profile(CUstream stream, std::vector<float> &layerMs) {
  std::vector<CUevent> events(layers_.size() + 1, nullptr);
  std::string err = engine_->makeCurrent();
  if (err.empty())
    err = applyShapes();
  for (CUevent &ev : events)
    if (err.empty())
      err = cuCheck(drv().cuEventCreate(&ev, CU_EVENT_DEFAULT), "cuEventCreate");
  if (err.empty())
    err = cuCheck(drv().cuEventRecord(events[0], stream), "cuEventRecord");
  for (size_t i = 0; i < layers_.size() && err.empty(); ++i) {
    err = enqueueLayer(i, stream);
    if (err.empty())
      err = cuCheck(drv().cuEventRecord(events[i + 1], stream), "cuEventRecord");
  }
  if (err.empty())
    err = cuCheck(drv().cuStreamSynchronize(stream), "running the engine");
  layerMs.assign(layers_.size(), 0.0f);
  for (size_t i = 0; i < layers_.size() && err.empty(); ++i)
    drv().cuEventElapsedTime(&layerMs[i], events[i], events[i + 1]);
  for (CUevent ev : events)
    if (ev)
      drv().cuEventDestroy(ev);
  return err;
}

// ---------------------------------------------------------------- generated kernels

namespace {
class KernelLaunchExec final : public LayerExec {
public:
  CUfunction fn = nullptr;
  unsigned grid[3], block[3], shared = 0;
  bool batchGridZ = false; ///< one batch item per grid.z index
  const fb::KernelLaunch *fit = nullptr; ///< dim-fit engines: sizes and arguments from the dims
  struct Dims {
    long long d[16];
  } dims{};

  std::string setShape(const ShapeKey &shape, int) override {
    if (batchGridZ)
      grid[2] = static_cast<unsigned>(shape[0]);
    if (!fit)
      return "";
    for (uint32_t i = 0; i < 3; ++i) {
      const fb::GridExpr *g = fit->grid_exprs()->Get(i);
      int64_t work = evalDim(g->work(), shape), n = work <= 0 ? 1 : (work + g->per() - 1) / g->per();
      if (g->cap() > 0)
        n = std::min(n, g->cap());
      if (n > (i == 0 ? int64_t(0x7fffffff) : int64_t(65535)))
        return "a launch of " + std::to_string(n) + " blocks in dim " + std::to_string(i) + ", more than CUDA allows";
      grid[i] = static_cast<unsigned>(n);
    }
    for (size_t i = 0; i < args.size(); ++i)
      if (const fb::DimExpr *e = fit->args()->Get(static_cast<uint32_t>(i))->expr()) {
        args[i].i64 = evalDim(e, shape);
        args[i].i32 = static_cast<int32_t>(args[i].i64);
      }
    for (size_t i = 0; i < shape.size() && i < 16; ++i)
      dims.d[i] = shape[i];
    return "";
  }
  struct Arg {
    fb::ArgKind kind;
    int tensor;
    int32_t i32;
    int64_t i64;
    float f32;
    CUdeviceptr ptr;
  };
  std::vector<Arg> args;

  std::string enqueue(const TensorAddresses &addr, CUstream stream, CUdeviceptr) override {
    std::vector<void *> params(args.size());
    if (fit && fit->dims_param())
      params.push_back(&dims);
    for (size_t i = 0; i < args.size(); ++i) {
      Arg &a = args[i];
      switch (a.kind) {
      case fb::ArgKind::TensorPtr: a.ptr = addr[static_cast<size_t>(a.tensor)]; params[i] = &a.ptr; break;
      case fb::ArgKind::I32: params[i] = &a.i32; break;
      case fb::ArgKind::I64: params[i] = &a.i64; break;
      case fb::ArgKind::F32: params[i] = &a.f32; break;
      }
    }
    return cuCheck(drv().cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], shared, stream,
                                  params.data(), nullptr),
                   "cuLaunchKernel");
  }
};
} // namespace

std::string prepareKernelLaunch(const DeviceEngine &engine, const fb::Layer &layer, std::unique_ptr<LayerExec> &out) {
  const fb::KernelLaunch *k = layer.impl_as_KernelLaunch();
  auto exec = std::make_unique<KernelLaunchExec>();
  std::string err;
  exec->fn = engine.function(k->module_index(), k->function()->str(), err);
  if (!err.empty())
    return err;
  for (int i = 0; i < 3; ++i) {
    exec->grid[i] = k->grid()->Get(static_cast<uint32_t>(i));
    exec->block[i] = k->block()->Get(static_cast<uint32_t>(i));
  }
  exec->shared = k->shared_bytes();
  exec->batchGridZ = k->batch_grid_z();
  if (k->grid_exprs() && k->grid_exprs()->size() == 3)
    exec->fit = k;
  if (exec->shared > 48 * 1024)
    if (std::string e = cuCheck(drv().cuFuncSetAttribute(exec->fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                   static_cast<int>(exec->shared)), "cuFuncSetAttribute");
        !e.empty())
      return e;
  if (k->args())
    for (const fb::KernelArg *a : *k->args())
      exec->args.push_back({a->kind(), a->tensor(), static_cast<int32_t>(a->i()), a->i(), a->f(), 0});
  out = std::move(exec);
  return "";
}

} // namespace infc::rt
