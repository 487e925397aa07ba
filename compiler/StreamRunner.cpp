#include "compiler/StreamRunner.h"

#include "runtime/CudaDriver.h"

#include <barrier>
#include <chrono>
#include <cstring>
#include <thread>

namespace infc {

namespace {

const rt::CudaDriver &cu() { return rt::cudaDriver(); }

/// What one thread owns. Freed by the thread, except the context and stream, which go to the caller.
struct Worker {
  infc_context *context = nullptr;
  CUstream stream = nullptr;
  CUevent ev[4] = {nullptr, nullptr, nullptr, nullptr};
  std::vector<void *> pinnedIn, pinnedOut;
  StreamTimes times;
  Status status = Status::ok();

  ~Worker() {
    for (CUevent e : ev)
      if (e)
        cu().cuEventDestroy(e);
    for (void *p : pinnedIn)
      if (p)
        cu().cuMemFreeHost(p);
    for (void *p : pinnedOut)
      if (p)
        cu().cuMemFreeHost(p);
  }
};

class Runner {
public:
  Runner(infc_engine *engine, const std::vector<IoInfo> &ins, const std::map<std::string, Tensor> &inputs,
         const std::vector<IoInfo> &outs, const StreamRunSettings &s)
      : engine_(engine), ins_(ins), inputs_(inputs), outs_(outs), s_(s), workers_(static_cast<size_t>(s.streams)),
        // Two sync points for every thread plus the caller's clock: set-up and warm-up done, then
        // timed iterations done.
        sync_(s.streams + 1) {}

  Expected<StreamRunResult> run() {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < workers_.size(); ++i)
      threads.emplace_back([this, i] { thread(workers_[i]); });
    sync_.arrive_and_wait(); // every thread set up and warmed up (or failed)
    auto t0 = std::chrono::steady_clock::now();
    sync_.arrive_and_wait(); // every thread's timed iterations done
    double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (std::thread &t : threads)
      t.join();
    StreamRunResult r;
    for (Worker &w : workers_) {
      r.contexts.push_back(w.context);
      r.cuStreams.push_back(w.stream);
      w.context = nullptr;
      w.stream = nullptr;
    }
    for (size_t i = 0; i < workers_.size(); ++i)
      if (!workers_[i].status.isOk()) {
        for (infc_context *c : r.contexts)
          infc_context_free(c);
        for (CUstream st : r.cuStreams)
          if (st)
            cu().cuStreamDestroy(st);
        return workers_[i].status;
      }
    r.wallMs = wall;
    for (size_t o = 0; o < outs_.size(); ++o) {
      Tensor t(outs_[o].dtype, outs_[o].shape);
      std::memcpy(t.mutableBytes(), workers_[0].pinnedOut[o], outs_[o].bytes);
      for (size_t i = 1; i < workers_.size(); ++i)
        if (std::memcmp(workers_[i].pinnedOut[o], workers_[0].pinnedOut[o], outs_[o].bytes) != 0)
          r.outputsAgree = false;
      r.outputs[outs_[o].name] = std::move(t);
    }
    for (Worker &w : workers_)
      r.streams.push_back(std::move(w.times));
    return r;
  }

private:
  void thread(Worker &w) {
    w.status = setUp(w);
    for (int it = 0; it < s_.warmup && w.status.isOk(); ++it)
      w.status = iteration(w, false);
    sync_.arrive_and_wait();
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < s_.iterations && w.status.isOk(); ++it)
      w.status = iteration(w, true);
    w.times.wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    sync_.arrive_and_wait();
  }

  Status setUp(Worker &w) {
    const std::string prefix = s_.enginePath + ": ";
    // The context is created on this thread, as a server's worker would: the runtime makes the
    // engine's CUDA context current here, which the stream and buffers below then use.
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_create(engine_, &w.context), prefix));
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_set_cuda_graph(w.context, s_.cudaGraph ? 1 : 0), prefix));
    if (s_.smCount > 0)
      INFC_RETURN_IF_ERROR(apiStatus(infc_context_set_sm_count(w.context, s_.smCount), prefix));
    if (s_.profile >= 0)
      INFC_RETURN_IF_ERROR(setContextShapes(w.context, s_.profile, ins_, prefix));
    INFC_RETURN_IF_ERROR(cuStatus(cu().cuStreamCreate(&w.stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
    for (CUevent &e : w.ev)
      INFC_RETURN_IF_ERROR(cuStatus(cu().cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate"));
    for (const IoInfo &io : ins_) {
      void *p = nullptr;
      INFC_RETURN_IF_ERROR(cuStatus(cu().cuMemHostAlloc(&p, std::max<size_t>(io.bytes, 1), 0),
                                    "allocating pinned host memory for input '" + io.name + "'"));
      w.pinnedIn.push_back(p);
      std::memcpy(p, inputs_.at(io.name).bytes(), io.bytes);
    }
    for (const IoInfo &io : outs_) {
      void *p = nullptr;
      INFC_RETURN_IF_ERROR(cuStatus(cu().cuMemHostAlloc(&p, std::max<size_t>(io.bytes, 1), 0),
                                    "allocating pinned host memory for output '" + io.name + "'"));
      w.pinnedOut.push_back(p);
    }
    return Status::ok();
  }

  Status iteration(Worker &w, bool timed) {
    auto copy = [&](bool in) -> Status {
      const std::vector<IoInfo> &ios = in ? ins_ : outs_;
      for (size_t i = 0; i < ios.size(); ++i) {
        void *dptr = nullptr;
        INFC_RETURN_IF_ERROR(apiStatus(infc_context_tensor_address(w.context, ios[i].name.c_str(), &dptr)));
        auto d = reinterpret_cast<CUdeviceptr>(dptr);
        CUresult r = in ? cu().cuMemcpyHtoDAsync(d, w.pinnedIn[i], ios[i].bytes, w.stream)
                        : cu().cuMemcpyDtoHAsync(w.pinnedOut[i], d, ios[i].bytes, w.stream);
        INFC_RETURN_IF_ERROR(cuStatus(r, std::string(in ? "copying input '" : "copying output '") + ios[i].name + "'"));
      }
      return Status::ok();
    };
    auto record = [&](int i) { return cuStatus(cu().cuEventRecord(w.ev[i], w.stream), "cuEventRecord"); };
    INFC_RETURN_IF_ERROR(record(0));
    INFC_RETURN_IF_ERROR(copy(true));
    INFC_RETURN_IF_ERROR(record(1));
    INFC_RETURN_IF_ERROR(apiStatus(infc_context_enqueue(w.context, w.stream), s_.enginePath + ": "));
    INFC_RETURN_IF_ERROR(record(2));
    INFC_RETURN_IF_ERROR(copy(false));
    INFC_RETURN_IF_ERROR(record(3));
    INFC_RETURN_IF_ERROR(cuStatus(cu().cuEventSynchronize(w.ev[3]), "running the engine"));
    if (!timed)
      return Status::ok();
    float a = 0, b = 0, c = 0, d = 0;
    cu().cuEventElapsedTime(&a, w.ev[0], w.ev[1]);
    cu().cuEventElapsedTime(&b, w.ev[1], w.ev[2]);
    cu().cuEventElapsedTime(&c, w.ev[2], w.ev[3]);
    cu().cuEventElapsedTime(&d, w.ev[0], w.ev[3]);
    w.times.h2d.push_back(a);
    w.times.compute.push_back(b);
    w.times.d2h.push_back(c);
    w.times.latency.push_back(d);
    return Status::ok();
  }

  infc_engine *engine_;
  const std::vector<IoInfo> &ins_;
  const std::map<std::string, Tensor> &inputs_;
  const std::vector<IoInfo> &outs_;
  StreamRunSettings s_;
  std::vector<Worker> workers_;
  std::barrier<> sync_;
};

} // namespace

Expected<StreamRunResult> runStreams(infc_engine *engine, const std::vector<IoInfo> &ins,
                                     const std::map<std::string, Tensor> &inputs, const std::vector<IoInfo> &outs,
                                     const StreamRunSettings &settings) {
  if (settings.streams < 1)
    return invalidArgument("--streams must be at least 1");
  Runner runner(engine, ins, inputs, outs, settings);
  return runner.run();
}

} // namespace infc
