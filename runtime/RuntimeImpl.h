// Internal runtime classes behind the C API: an engine resident on the GPU and execution
// contexts. Errors are one-sentence strings ("" = success), turned into status codes by the API.
#pragma once

#include "runtime/EngineReader.h"
#include "runtime/infc_runtime.h"

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>

#include <memory>
#include <string>
#include <vector>

namespace infc::rt {

struct DeviceInfo {
  std::string name;
  int smMajor = 0, smMinor = 0;
  int multiprocessors = 0;
  uint64_t memoryBytes = 0; ///< total device memory
};

/// Initializes the driver and describes the current device; error when there is no usable GPU.
std::string queryDevice(DeviceInfo &info);

/// Device addresses of every engine tensor, indexed like Engine.tensors.
using TensorAddresses = std::vector<CUdeviceptr>;

/// Plans a layer keeps for the shapes a context ran at (cuDNN plans, cuBLASLt algorithms), and
/// CUDA graphs a context keeps, per batch; past this the oldest is dropped.
constexpr size_t kMaxShapePlans = 8;

/// The shape a context runs an engine with profiles at: {batch} for a batch-loop engine, the
/// values of Engine.dim_atoms for a dim-fit one.
using ShapeKey = std::vector<int64_t>;
/// "batch 3" or "dims 3, 17" (a dim-fit engine's dims).
std::string shapeKeyText(const ShapeKey &key, bool dimFit);

/// What a layer keeps per (profile, shape) it ran at: `get` returns the entry, made by
/// `make(entry)` ("" or an error) on first use; past kMaxShapePlans the oldest is dropped.
template <class T> class ShapeCache {
public:
  template <class Make> std::string get(int profile, const ShapeKey &shape, bool dimFit, T &out, Make make) {
    std::pair<int, ShapeKey> key{profile, shape};
    for (auto &[k, v] : entries_)
      if (k == key) {
        out = v;
        return "";
      }
    T made{};
    if (std::string err = make(made); !err.empty())
      return "at " + shapeKeyText(shape, dimFit) + ": " + err;
    if (entries_.size() >= kMaxShapePlans)
      entries_.erase(entries_.begin());
    entries_.emplace_back(key, made);
    out = made;
    return "";
  }
  void clear() { entries_.clear(); }

private:
  std::vector<std::pair<std::pair<int, ShapeKey>, T>> entries_;
};

/// Whether `e` is a dim-fit engine (Engine.dim_atoms: layers whose sizes follow dims other than
/// the batch alone, docs/dynamic-shapes.md).
inline bool isDimFit(const fb::Engine &e) { return e.dim_atoms() && e.dim_atoms()->size() > 0; }
/// A dim-fit engine's expression at the dims' values `atoms`.
int64_t evalDim(const fb::DimExpr *e, const ShapeKey &atoms);
/// Tensor `t`'s shape at the dims' values `atoms` (its recorded shape where it has no expressions).
std::vector<int64_t> shapeAt(const fb::Tensor &t, const ShapeKey &atoms);

/// One prepared layer of one execution context.
class LayerExec {
public:
  virtual ~LayerExec() = default;
  /// Engines with profiles: makes the layer run at `shape` (batch-loop engines: {batch}; dim-fit
  /// engines: the dims' values) with the tactics of `profile` (a launch's grid, a library plan
  /// for that shape). Called before enqueue whenever the context's shape or profile changes.
  virtual std::string setShape(const ShapeKey & /*shape*/, int /*profile*/) { return ""; }
  /// Library layers (cuDNN, cuBLASLt): plans again with their kernels on `sms` SMs (0: all).
  virtual std::string setSmCount(int32_t /*sms*/) { return ""; }
  virtual std::string enqueue(const TensorAddresses &addr, CUstream stream, CUdeviceptr workspace) = 0;
  /// Workspace this layer's chosen tactic needs (the context allocates the largest need).
  virtual uint64_t workspaceBytes() const { return 0; }
};

class DeviceEngine;

/// The library handles of one execution context, shared by its layers: one cuDNN and one
/// cuBLASLt handle per context (created when a layer first needs one), never shared between
/// contexts, so that contexts on different threads never use one handle at once.
class ContextHandles {
public:
  ContextHandles() = default;
  ContextHandles(const ContextHandles &) = delete;
  ContextHandles &operator=(const ContextHandles &) = delete;
  ~ContextHandles();
  std::string cudnn(cudnnHandle_t &out);
  std::string cublasLt(cublasLtHandle_t &out);

private:
  cudnnHandle_t cudnn_ = nullptr;
  cublasLtHandle_t cublasLt_ = nullptr;
};

/// Builds the executor of one layer for a context ("" on success); `handles` outlive it.
std::string prepareKernelLaunch(const DeviceEngine &engine, const fb::Layer &layer, std::unique_ptr<LayerExec> &out);
std::string prepareCudnnConv(const DeviceEngine &engine, const fb::Layer &layer, ContextHandles &handles,
                             std::unique_ptr<LayerExec> &out);
std::string prepareCublasLtMatmul(const DeviceEngine &engine, const fb::Layer &layer, ContextHandles &handles,
                                  std::unique_ptr<LayerExec> &out);

/// An engine whose weights and kernels are resident on the current GPU. Immutable once loaded,
/// and so safe to share between threads: each thread runs its own ExecutionContext.
class DeviceEngine {
public:
  ~DeviceEngine();
  static std::string load(std::unique_ptr<EngineView> view, std::unique_ptr<DeviceEngine> &out,
                          infc_status &code);
  const fb::Engine &engine() const { return view_->engine(); }
  CUdeviceptr weights() const { return weights_; }
  CUfunction function(uint32_t module, const std::string &name, std::string &error) const;
  const DeviceInfo &device() const { return device_; }
  /// Makes the engine's CUDA context (the device's primary context) current on the calling
  /// thread: a thread other than the loader's starts with none.
  std::string makeCurrent() const;

private:
  std::unique_ptr<EngineView> view_;
  DeviceInfo device_;
  CUcontext cuContext_ = nullptr;
  CUdevice cuDevice_ = 0;
  CUdeviceptr weights_ = 0;
  std::vector<CUmodule> modules_;
};

/// One device arena plus prepared layers; enqueue runs the network on a stream. Used by one
/// thread at a time (its layers keep per-launch state; its handles are its own).
class ExecutionContext {
public:
  ~ExecutionContext();
  static std::string create(const DeviceEngine &engine, std::unique_ptr<ExecutionContext> &out);
  /// Tensor index of an input/output by name, or -1.
  int findIO(const std::string &name, bool input) const;
  void bind(int tensor, CUdeviceptr ptr) {
    if (addr_[static_cast<size_t>(tensor)] != ptr)
      dropGraph(); // the captured launches hold the old address
    addr_[static_cast<size_t>(tensor)] = ptr;
  }
  /// Optimization profiles (engines with profiles): the active profile, and the shape of an input
  /// within its range. Errors name the input, the dim and the range.
  std::string setProfile(int profile);
  int profileIndex() const { return profile_; }
  std::string setInputShape(const std::string &name, const std::vector<int64_t> &dims);
  /// The shape an input or output has at the shapes set (-1 where an input's shape is not set).
  std::string tensorShape(const std::string &name, std::vector<int64_t> &dims) const;
  /// The SMs the context's cuDNN and cuBLASLt kernels run on (0: all): a share of the GPU for
  /// each of several contexts running at once. Plans again (and drops the CUDA graphs).
  std::string setSmCount(int sms);
  /// Run through a CUDA graph: captured on the first enqueue (and again after a bind changes an
  /// address), then replayed with one launch. Not on the legacy default stream (it cannot capture).
  void setCudaGraph(bool on) {
    if (!on)
      dropGraph();
    useGraph_ = on;
  }
  bool cudaGraph() const { return useGraph_; }
  CUdeviceptr address(int tensor) const { return addr_[static_cast<size_t>(tensor)]; }
  std::string enqueue(CUstream stream);
  /// Device bytes this context allocated: its activation arena and its tactics' workspace.
  uint64_t arenaBytes() const { return engine_->engine().arena_bytes(); }
  uint64_t workspaceBytes() const { return workspaceBytes_; }
  /// One synchronous run with an event pair around every layer; per-layer GPU milliseconds.
  std::string profile(CUstream stream, std::vector<float> &layerMs);

private:
  void dropGraph();
  std::string captureGraph(CUstream stream, CUgraphExec &out);
  /// Engines with profiles: the shape the set input shapes give (the batch, or the dims), and
  /// the layers, workspace and graph made ready for it.
  std::string applyShapes();
  /// Dim-fit engines: the dims' values at the input shapes set, checked against every input's
  /// dims (inputs that share a dim must agree). Errors name the inputs.
  std::string dimValues(ShapeKey &out) const;
  /// Makes the layers, workspace and graph ready for `shape` at the active profile.
  std::string readyFor(const ShapeKey &shape);
  /// Reallocates the workspace when the layers' plans now need more than it has.
  std::string growWorkspace();
  /// Enqueues layer i; errors name the layer.
  std::string enqueueLayer(size_t i, CUstream stream);
  /// `err` ("" or an error of layer i) with the layer's name in front.
  std::string layerError(size_t i, const std::string &err) const;

  const DeviceEngine *engine_ = nullptr;
  ContextHandles handles_; ///< declared before layers_: destroyed after them
  CUdeviceptr arena_ = 0;
  CUdeviceptr workspace_ = 0;
  uint64_t workspaceBytes_ = 0;
  TensorAddresses addr_;
  std::vector<std::unique_ptr<LayerExec>> layers_;
  bool useGraph_ = false;
  /// Per (profile, shape): one entry, (0, {}), for static engines.
  std::vector<std::pair<std::pair<int, ShapeKey>, CUgraphExec>> graphs_;
  int profile_ = 0;
  std::vector<std::vector<int64_t>> inputShapes_; ///< per engine input; empty: not set (dynamic) or static
  ShapeKey shape_;                                ///< what the layers are ready for (empty: none yet, or a static engine)
  int readyProfile_ = 0;                          ///< the profile whose tactics they run
};

} // namespace infc::rt

struct infc_engine {
  std::unique_ptr<infc::rt::DeviceEngine> impl;
};
struct infc_context {
  std::unique_ptr<infc::rt::ExecutionContext> impl;
  infc_engine *engine = nullptr;
};
