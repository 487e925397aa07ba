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

/// One prepared layer of one execution context.
class LayerExec {
public:
  virtual ~LayerExec() = default;
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
  std::string captureGraph(CUstream stream);
  /// Enqueues layer i; errors name the layer.
  std::string enqueueLayer(size_t i, CUstream stream);

  const DeviceEngine *engine_ = nullptr;
  ContextHandles handles_; ///< declared before layers_: destroyed after them
  CUdeviceptr arena_ = 0;
  CUdeviceptr workspace_ = 0;
  uint64_t workspaceBytes_ = 0;
  TensorAddresses addr_;
  std::vector<std::unique_ptr<LayerExec>> layers_;
  bool useGraph_ = false;
  CUgraphExec graphExec_ = nullptr;
};

} // namespace infc::rt

struct infc_engine {
  std::unique_ptr<infc::rt::DeviceEngine> impl;
};
struct infc_context {
  std::unique_ptr<infc::rt::ExecutionContext> impl;
  infc_engine *engine = nullptr;
};
