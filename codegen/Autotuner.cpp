#include "codegen/Autotuner.h"

#include "codegen/Lowering.h"
#include "codegen/Nvrtc.h"
#include "codegen/TacticCheck.h"
#include "codegen/TimingCache.h"
#include "codegen/kernels/ConvInt8.h"

#include "ir/DType.h"
#include "runtime/CudaDriver.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

namespace infc::codegen {

namespace {

const rt::CudaDriver &drv() { return rt::cudaDriver(); }

Status cuStatus(CUresult r, const std::string &what) {
  std::string e = rt::cuCheck(r, what);
  return e.empty() ? Status::ok() : internalError("autotuning: " + e);
}

/// Device buffers freed on scope exit.
struct Scratch {
  std::vector<CUdeviceptr> ptrs;
  ~Scratch() {
    for (CUdeviceptr p : ptrs)
      drv().cuMemFree(p);
  }
  Expected<CUdeviceptr> alloc(uint64_t bytes) {
    CUdeviceptr p = 0;
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuMemAlloc(&p, std::max<uint64_t>(bytes, 256)), "allocating scratch buffers"));
    ptrs.push_back(p);
    // Small finite values (0x3c00 = 1.0 in f16, 0x3c003c00 a tiny f32): timing on NaN/garbage
    // inputs can be unrepresentative.
    drv().cuMemsetD8(p, 0x3c, std::max<uint64_t>(bytes, 256));
    return p;
  }
};

/// Deterministic values in [-1, 1) of dtype `t` (f32, f16, bf16; int8 within +-100) in
/// `elements` elements: zeros would make tensor cores draw less power (and clock higher) than
/// real data does; NaNs and denormals take other paths. One block of host values, repeated, keeps
/// large buffers cheap, and lets the host reference regenerate them (TacticCheck.h).
Status fillRandom(CUdeviceptr p, uint64_t elements, DType t, uint32_t seed) {
  size_t esize = dtypeSize(t);
  std::vector<uint8_t> host = randomBlock(elements, t, seed);
  uint64_t blockElements = host.size() / esize;
  for (uint64_t done = 0; done < elements; done += blockElements) {
    uint64_t n = std::min(blockElements, elements - done);
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuMemcpyHtoD(p + done * esize, host.data(), n * esize), "filling scratch buffers"));
  }
  return Status::ok();
}

/// The values of dtype `t` at `positions` of the buffer at `p` (one small copy each).
Expected<std::vector<double>> readSamples(CUdeviceptr p, DType t, const std::vector<uint64_t> &positions) {
  size_t esize = dtypeSize(t);
  std::vector<uint8_t> one(esize);
  std::vector<double> out;
  for (uint64_t pos : positions) {
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuMemcpyDtoH(one.data(), p + pos * esize, esize), "reading a checked result"));
    out.push_back(repeatedElement(one, t, 0));
  }
  return out;
}

constexpr size_t kCheckSamples = 256; ///< outputs compared with the host reference per candidate

/// `elements` float32 values `v` at `p`.
Status fillConstant(CUdeviceptr p, uint64_t elements, float v) {
  std::vector<float> host(elements, v);
  return cuStatus(drv().cuMemcpyHtoD(p, host.data(), elements * sizeof(float)), "filling scratch buffers");
}

/// Whether two buffers of `n` elements of dtype `t` (f32, f16, bf16, i8) agree: every element
/// within `rel` of the largest magnitude in `want` (int8: within one step).
bool sameWithin(const uint8_t *want, const uint8_t *got, uint64_t n, DType t, double rel) {
  auto at = [t](const uint8_t *p, uint64_t i) -> double {
    if (t == DType::I8)
      return static_cast<int8_t>(p[i]);
    if (t == DType::F32) {
      float f;
      std::memcpy(&f, p + i * 4, 4);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, p + i * 2, 2);
    return t == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
  };
  double scale = 0;
  for (uint64_t i = 0; i < n; ++i)
    scale = std::max(scale, std::abs(at(want, i)));
  double tolerance = t == DType::I8 ? 1.0 : rel * scale;
  for (uint64_t i = 0; i < n; ++i) {
    double a = at(want, i), b = at(got, i);
    if (!(std::abs(a - b) <= tolerance)) // NaN fails too
      return false;
  }
  return true;
}

/// A stream and events for timing, destroyed on scope exit.
struct TimingStream {
  CUstream stream = nullptr;
  std::vector<CUevent> events;
  ~TimingStream() {
    for (CUevent e : events)
      drv().cuEventDestroy(e);
    if (stream)
      drv().cuStreamDestroy(stream);
  }
  Status create(size_t numEvents) {
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
    for (size_t i = 0; i < numEvents; ++i) {
      CUevent e = nullptr;
      INFC_RETURN_IF_ERROR(cuStatus(drv().cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate"));
      events.push_back(e);
    }
    return Status::ok();
  }
};

/// Candidates timed per layer at each --builder-opt-level (0..5; 3 is the default): cuDNN
/// engine configs (0 = all that finalize) and cuBLASLt heuristic answers.
size_t convCandidateCap(int level) {
  constexpr size_t caps[] = {1, 4, 12, 0, 0, 0};
  size_t c = caps[std::clamp(level, 0, 5)];
  return c ? c : SIZE_MAX;
}
int matmulCandidateCap(int level) {
  constexpr int caps[] = {1, 2, 4, 8, 16, 32};
  return caps[std::clamp(level, 0, 5)];
}
constexpr int kMatmulWarmups = 3;
constexpr int kMatmulTimedRuns = 10;
constexpr double kMatmulTie = 0.02; ///< within 2% of the fastest: tied, heuristic order decides

} // namespace

Expected<bool> Autotuner::sameInPlace(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &buf) {
  DType t = static_cast<DType>(spec.dtype), in = spec.int8 ? DType::I8 : t, param = spec.int8 ? DType::F32 : t;
  uint64_t n = elementCount(spec.yDims), bytes = n * dtypeSize(t);
  INFC_RETURN_IF_ERROR(fillRandom(buf.x, elementCount(spec.xDims), in, 11));
  INFC_RETURN_IF_ERROR(fillRandom(buf.w, elementCount(spec.wDims), in, 12));
  INFC_RETURN_IF_ERROR(fillRandom(buf.b, static_cast<uint64_t>(spec.yDims[1]), param, 13));
  if (spec.int8) { // int8 data is within +-100: a sum of `fanIn` products is about 3300 sqrt(fanIn)
    double fanIn = static_cast<double>(elementCount(spec.wDims) / static_cast<uint64_t>(spec.yDims[1]));
    INFC_RETURN_IF_ERROR(fillConstant(buf.s, static_cast<uint64_t>(spec.yDims[1]), static_cast<float>(0.01 / std::sqrt(fanIn))));
  }
  std::vector<uint8_t> separate(bytes), inPlace(bytes);
  for (CUdeviceptr out : {buf.y, buf.z}) {
    INFC_RETURN_IF_ERROR(fillRandom(buf.z, n, t, 14));
    if (!run(out).empty() || drv().cuCtxSynchronize() != CUDA_SUCCESS)
      return false;
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuMemcpyDtoH(out == buf.y ? separate.data() : inPlace.data(), out, bytes), "cuMemcpyDtoH"));
  }
  return sameWithin(separate.data(), inPlace.data(), n, t, 1e-2);
}

Expected<std::string> Autotuner::checkConv(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &buf) {
  DType t = static_cast<DType>(spec.dtype), in = spec.int8 ? DType::I8 : t, param = spec.int8 ? DType::F32 : t;
  DType zType = spec.zDtype ? static_cast<DType>(spec.zDtype) : t;
  ConvCheckData data;
  INFC_RETURN_IF_ERROR(fillRandom(buf.x, elementCount(spec.xDims), in, ConvCheckData::kSeedX));
  INFC_RETURN_IF_ERROR(fillRandom(buf.w, elementCount(spec.wDims), in, ConvCheckData::kSeedW));
  INFC_RETURN_IF_ERROR(fillRandom(buf.b, static_cast<uint64_t>(spec.yDims[1]), param, ConvCheckData::kSeedB));
  INFC_RETURN_IF_ERROR(fillRandom(buf.z, elementCount(spec.yDims), zType, ConvCheckData::kSeedZ));
  if (spec.int8) { // int8 data is within +-100: a sum of `fanIn` products is about 3300 sqrt(fanIn)
    double fanIn = static_cast<double>(elementCount(spec.wDims) / static_cast<uint64_t>(spec.yDims[1]));
    data.scale = static_cast<float>(0.01 / std::sqrt(fanIn));
    INFC_RETURN_IF_ERROR(fillConstant(buf.s, static_cast<uint64_t>(spec.yDims[1]), data.scale));
  }
  if (std::string e = run(buf.y); !e.empty() || drv().cuCtxSynchronize() != CUDA_SUCCESS)
    return std::string("it failed to run: ") + e;
  ConvReference reference(spec, data);
  if (!reference.unsupported().empty())
    return "unchecked: " + reference.unsupported();
  std::vector<uint64_t> positions = samplePositions(elementCount(spec.yDims), kCheckSamples);
  std::vector<double> want;
  for (uint64_t pos : positions)
    want.push_back(reference.at(pos));
  INFC_ASSIGN_OR_RETURN(std::vector<double> got, readSamples(buf.y, t, positions));
  std::string why;
  return samplesMatch(want, got, t, why) ? std::string() : why;
}

Autotuner::~Autotuner() {
  if (ltHandle_)
    cublasLtDestroy(ltHandle_);
  if (handle_)
    cudnnDestroy(handle_);
  if (context_)
    drv().cuDevicePrimaryCtxRelease(device_);
}

Expected<std::unique_ptr<Autotuner>> Autotuner::create(uint64_t maxWorkspace) {
  if (!drv().loaded)
    return unsupported("autotuning needs a GPU: " + drv().error);
  auto t = std::unique_ptr<Autotuner>(new Autotuner());
  t->maxWorkspace_ = maxWorkspace;
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuInit(0), "cuInit"));
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuDeviceGet(&t->device_, 0), "cuDeviceGet"));
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuDevicePrimaryCtxRetain(&t->context_, t->device_), "cuDevicePrimaryCtxRetain"));
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuCtxSetCurrent(t->context_), "cuCtxSetCurrent"));
  if (std::string e = rt::cudnnCheck(cudnnCreate(&t->handle_), "cudnnCreate"); !e.empty())
    return internalError("autotuning: " + e);
  return t;
}

void Autotuner::useTimingCache(TimingCache *cache, const GpuSku &gpu) {
  timingCache_ = cache;
  gpu_ = gpu;
  sku_ = skuKey(gpu);
  cached_ = std::make_unique<CachedTactics>(*cache, sku_);
}

Expected<std::string> Autotuner::acceptable(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &bufs) {
  if (spec.inPlace) {
    INFC_ASSIGN_OR_RETURN(bool same, sameInPlace(run, spec, bufs));
    if (!same)
      return std::string(kNotInPlace);
  }
  // Before it may win: its result against the host reference (TacticCheck.h).
  INFC_ASSIGN_OR_RETURN(std::string mismatch, checkConv(run, spec, bufs));
  if (mismatch.empty() || mismatch.rfind("unchecked: ", 0) == 0)
    return std::string();
  ++rejected_;
  return mismatch;
}

float Autotuner::timeRounds(const std::function<bool()> &run, CUevent start, CUevent stop) {
  float roundMs = 1e30f;
  constexpr int reps = 3;
  for (int round = 0; round < 3; ++round) {
    drv().cuEventRecord(start, nullptr);
    bool ok = true;
    for (int r = 0; r < reps; ++r)
      ok = run() && ok;
    drv().cuEventRecord(stop, nullptr);
    if (!ok || drv().cuEventSynchronize(stop) != CUDA_SUCCESS)
      return -1.0f;
    float ms = 0;
    drv().cuEventElapsedTime(&ms, start, stop);
    roundMs = std::min(roundMs, ms / static_cast<float>(reps));
  }
  return roundMs;
}

namespace {
std::string int8TileFunction(size_t tile) { return "infc_igemm_tile" + std::to_string(tile); }
} // namespace

Expected<Autotuner::Int8Tiles> Autotuner::startInt8Tiles(const rt::ConvSpec &spec) {
  Int8Tiles tiles;
  int major = 0, minor = 0;
  drv().cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_);
  drv().cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_);
  if (major < 8 || !int8ConvRefusal(spec).empty()) // cp.async and the int8 mma.sync need sm_80
    return tiles;
  for (size_t i = 0; i < int8ConvTiles().size(); ++i) {
    if (!int8ConvTileFits(spec, i))
      continue;
    INFC_ASSIGN_OR_RETURN(Int8ConvKernel k, int8ConvKernel(spec, i, int8TileFunction(i)));
    // One module per tile: the compiles run side by side (each in its own helper process).
    tiles.cubins.push_back(std::async(std::launch::async, [source = kernelPrelude() + "\n" + k.source, major, minor] {
      return compileToCubin(source, "infc_igemm.cu", major, minor);
    }));
    tiles.kernels.emplace_back(i, std::move(k));
  }
  return tiles;
}

Expected<Autotuner::GeneratedTiming> Autotuner::tuneGeneratedInt8(const rt::ConvSpec &spec, Int8Tiles &tiles,
                                                                  const ConvBuffers &bufs, CUdeviceptr out, CUevent start,
                                                                  CUevent stop, const std::string &key) {
  GeneratedTiming result;
  const std::vector<std::pair<size_t, Int8ConvKernel>> &kernels = tiles.kernels;
  std::vector<CUmodule> modules;
  struct Unload {
    std::vector<CUmodule> &m;
    ~Unload() {
      for (CUmodule x : m)
        drv().cuModuleUnload(x);
    }
  } unload{modules};
  std::vector<CUfunction> functions(kernels.size(), nullptr);
  for (size_t ki = 0; ki < kernels.size(); ++ki) {
    INFC_ASSIGN_OR_RETURN(CubinResult cubin, tiles.cubins[ki].get());
    CUmodule module = nullptr;
    INFC_RETURN_IF_ERROR(
        cuStatus(drv().cuModuleLoadData(&module, cubin.cubin.data()), "loading the generated INT8 convolutions"));
    modules.push_back(module);
    INFC_RETURN_IF_ERROR(cuStatus(drv().cuModuleGetFunction(&functions[ki], module, int8TileFunction(kernels[ki].first).c_str()),
                                  "cuModuleGetFunction"));
  }
  std::vector<std::pair<float, size_t>> timed; // (ms, index in kernels)
  std::vector<ConvRun> runs(kernels.size());
  for (size_t ki = 0; ki < kernels.size(); ++ki) {
    const auto &[tile, k] = kernels[ki];
    CUfunction fn = functions[ki];
    if (drv().cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(k.sharedBytes)) !=
        CUDA_SUCCESS)
      continue; // more shared memory than this GPU has
    runs[ki] = [fn, &k = k, &bufs, &spec](CUdeviceptr y) {
      CUdeviceptr b = spec.hasBias ? bufs.b : y, z = spec.hasResidual ? bufs.z : y;
      float postMult = spec.postMult;
      void *params[] = {const_cast<CUdeviceptr *>(&bufs.x), const_cast<CUdeviceptr *>(&bufs.w), &b, &z,
                        const_cast<CUdeviceptr *>(&bufs.s), &y, &postMult};
      return rt::cuCheck(drv().cuLaunchKernel(fn, k.blocks, 1, 1, k.threads, 1, 1, k.sharedBytes, nullptr, params, nullptr),
                         "cuLaunchKernel");
    };
    const ConvRun &run = runs[ki];
    if (!run(out).empty() || drv().cuCtxSynchronize() != CUDA_SUCCESS)
      return internalError("autotuning: the generated INT8 convolution (tile " + int8ConvTileName(tile) + ") failed to run");
    float ms = timeRounds([&] { return run(out).empty(); }, start, stop);
    if (log_)
      log_("tune conv " + key + ": infc INT8 implicit GEMM " + int8ConvTileName(tile) + ": " + std::to_string(ms) + " ms");
    if (ms >= 0)
      timed.emplace_back(ms, ki);
  }
  std::stable_sort(timed.begin(), timed.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
  result.timed = static_cast<int>(timed.size());
  for (const auto &[ms, ki] : timed) {
    INFC_ASSIGN_OR_RETURN(std::string why, acceptable(runs[ki], spec, bufs));
    if (!why.empty()) // our kernel must match: a mismatch is an infc bug
      return internalError("autotuning: the generated INT8 convolution (tile " + int8ConvTileName(kernels[ki].first) +
                           ") does not match the host reference: " + why);
    result.tile = static_cast<int64_t>(kernels[ki].first);
    result.ms = ms;
    break;
  }
  return result;
}

Expected<ConvTactic> Autotuner::tuneConv(const rt::ConvSpec &spec) {
  std::string key = convSignature(spec);
  if (auto it = cache_.find(key); it != cache_.end())
    return it->second;
  if (cached_)
    if (Expected<ConvTactic> hit = cached_->tuneConv(spec); hit.isOk()) {
      ++cacheHits_;
      if (log_)
        log_("tune conv " + key + ": from the timing cache: " + hit->description);
      return cache_[key] = *hit;
    }
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuCtxSetCurrent(context_), "cuCtxSetCurrent"));
  // infc's own INT8 tiles compile in the background while cuDNN's candidates finalize and run.
  Int8Tiles int8Tiles;
  if (spec.int8 && level_ >= 2 && !pastBudget()) {
    INFC_ASSIGN_OR_RETURN(int8Tiles, startInt8Tiles(spec));
  }
  auto first = std::make_unique<rt::ConvPlan>();
  std::vector<std::unique_ptr<rt::ConvPlan>> candidates;
  if (std::string e = first->build(handle_, spec, -1, {}, maxWorkspace_, &candidates); !e.empty())
    return unsupported(e);
  candidates.insert(candidates.begin(), std::move(first));
  // --builder-opt-level caps the search; once the tuning budget is spent, the heuristic's first.
  bool cut = pastBudget();
  size_t cap = cut ? 1 : convCandidateCap(level_);
  budgetCuts_ += cut ? 1 : 0;
  if (candidates.size() > cap)
    candidates.resize(cap);

  // Buffers in each tensor's dtype: INT8 convolutions read int8 x, w (and maybe z) and float32
  // bias and scales.
  uint64_t ysize = dtypeSize(static_cast<DType>(spec.dtype));
  uint64_t insize = spec.int8 ? 1 : ysize, psize = spec.int8 ? 4 : ysize;
  uint64_t zsize = spec.zDtype ? dtypeSize(static_cast<DType>(spec.zDtype)) : ysize;
  uint64_t channels = static_cast<uint64_t>(spec.yDims[1]);
  uint64_t maxWs = 0;
  for (const auto &c : candidates)
    maxWs = std::max(maxWs, c->workspaceBytes());
  Scratch s;
  ConvBuffers bufs;
  INFC_ASSIGN_OR_RETURN(bufs.x, s.alloc(elementCount(spec.xDims) * insize));
  INFC_ASSIGN_OR_RETURN(bufs.w, s.alloc(elementCount(spec.wDims) * insize));
  INFC_ASSIGN_OR_RETURN(bufs.y, s.alloc(elementCount(spec.yDims) * ysize));
  INFC_ASSIGN_OR_RETURN(bufs.b, s.alloc(channels * psize));
  INFC_ASSIGN_OR_RETURN(bufs.z, s.alloc(elementCount(spec.yDims) * std::max(zsize, ysize)));
  INFC_ASSIGN_OR_RETURN(bufs.s, s.alloc(channels * 4));
  INFC_ASSIGN_OR_RETURN(bufs.ws, s.alloc(maxWs));
  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void *>(p); };

  CUevent start = nullptr, stop = nullptr;
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate"));
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate"));
  cudnnSetStream(handle_, nullptr);
  // In place, y is z's bytes: timed as it will run.
  CUdeviceptr out = spec.inPlace ? bufs.z : bufs.y;
  // Candidate i with its result at y.
  auto cudnnRun = [&](size_t i) {
    return ConvRun([this, &bufs, &p = *candidates[i], ptr](CUdeviceptr y) {
      return p.execute(handle_, ptr(bufs.x), ptr(bufs.w), ptr(y), ptr(bufs.b), ptr(bufs.z), ptr(bufs.ws), ptr(bufs.s));
    });
  };
  std::vector<std::pair<float, size_t>> timedMs; // (ms, candidate), in candidate order
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!timedMs.empty() && pastBudget())
      break; // the budget ran out: the best found so far
    const rt::ConvPlan &p = *candidates[i];
    ConvRun toOut = cudnnRun(i);
    auto run = [&] { return toOut(out); };
    // One warm-up run (also weeds out configs that fail at execution), then the best of three
    // timed rounds of `reps` runs: robust against clock ramp-up and one-off stalls.
    if (!run().empty() || drv().cuCtxSynchronize() != CUDA_SUCCESS)
      continue;
    // One timed probe first: a config already 3x slower than the best so far cannot win, and
    // slow fallback engines would otherwise take most of a large network's build time.
    if (!timedMs.empty()) {
      float best = std::min_element(timedMs.begin(), timedMs.end())->first, probe = 0;
      drv().cuEventRecord(start, nullptr);
      bool ok = run().empty();
      drv().cuEventRecord(stop, nullptr);
      if (!ok || drv().cuEventSynchronize(stop) != CUDA_SUCCESS)
        continue;
      drv().cuEventElapsedTime(&probe, start, stop);
      if (probe > 3.0f * best) {
        ++probeCuts_;
        if (log_)
          log_("tune conv " + key + ": cuDNN engine " + std::to_string(p.engineId()) + ": " + std::to_string(probe) +
               " ms in one probe run, over 3x the best so far: not timed further");
        continue;
      }
    }
    float roundMs = timeRounds([&] { return run().empty(); }, start, stop);
    bool failed = roundMs < 0;
    if (!failed)
      timedMs.emplace_back(roundMs, i);
    if (log_) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "cuDNN engine %lld: ", static_cast<long long>(p.engineId()));
      log_("tune conv " + key + ": " + buf +
           (failed ? std::string("failed at execution") : std::to_string(roundMs) + " ms"));
    }
  }
  candidates_ += candidates.size();
  size_t timed = timedMs.size();
  // Fastest first; equal times keep cuDNN's order.
  std::stable_sort(timedMs.begin(), timedMs.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
  int best = -1;
  float bestMs = 0;
  std::string firstMismatch;
  for (const auto &[ms, i] : timedMs) {
    INFC_ASSIGN_OR_RETURN(std::string why, acceptable(cudnnRun(i), spec, bufs));
    if (why == kNotInPlace)
      continue; // this config does not tolerate y == z: the next fastest
    if (!why.empty()) {
      if (log_)
        log_("tune conv " + key + ": cuDNN engine " + std::to_string(candidates[i]->engineId()) + " rejected: " + why);
      if (firstMismatch.empty())
        firstMismatch = "engine " + std::to_string(candidates[i]->engineId()) + ": " + why;
      continue;
    }
    best = static_cast<int>(i);
    bestMs = ms;
    break;
  }
  // infc's own INT8 kernel, each tile that fits, timed the same way; it wins only when faster.
  GeneratedTiming gen;
  if (!int8Tiles.kernels.empty() && !cut) {
    INFC_ASSIGN_OR_RETURN(gen, tuneGeneratedInt8(spec, int8Tiles, bufs, out, start, stop, key));
  }
  drv().cuEventDestroy(start);
  drv().cuEventDestroy(stop);
  ConvTactic t;
  char buf[224];
  if (gen.tile >= 0 && (best < 0 || gen.ms < bestMs)) {
    t.engineId = kGeneratedConvEngine;
    t.knobs = {gen.tile};
    t.ms = static_cast<double>(gen.ms);
    std::snprintf(buf, sizeof buf, "infc INT8 implicit GEMM %s: %.4f ms, fastest of %d tiles",
                  int8ConvTileName(static_cast<size_t>(gen.tile)).c_str(), static_cast<double>(gen.ms), gen.timed);
    t.description = buf;
    if (best >= 0) {
      std::snprintf(buf, sizeof buf, "; cuDNN engine %lld: %.4f ms",
                    static_cast<long long>(candidates[static_cast<size_t>(best)]->engineId()), static_cast<double>(bestMs));
      t.description += buf;
    }
  } else {
    if (best < 0 && timed == 0)
      return unsupported("autotuning: none of the " + std::to_string(candidates.size()) +
                         " cuDNN engine configs for this convolution ran");
    if (best < 0)
      return internalError("autotuning: none of the " + std::to_string(timed) + " cuDNN engine configs for this convolution " +
                           (firstMismatch.empty() ? "gives the same result with its output over its residual"
                                                  : "matches the host reference (" + firstMismatch + ")"));
    const rt::ConvPlan &p = *candidates[static_cast<size_t>(best)];
    t.engineId = p.engineId();
    t.knobs = p.knobs();
    t.workspaceBytes = p.workspaceBytes();
    t.ms = static_cast<double>(bestMs);
    std::snprintf(buf, sizeof buf, "cuDNN engine %lld: %.4f ms, fastest of %zu timed", static_cast<long long>(t.engineId),
                  static_cast<double>(bestMs), timed);
    t.description = buf;
    // The runner-up: the next fastest config (what a worse choice would have cost).
    for (const auto &[ms, i] : timedMs)
      if (static_cast<int>(i) != best && ms >= bestMs) {
        std::snprintf(buf, sizeof buf, "; runner-up engine %lld: %.4f ms", static_cast<long long>(candidates[i]->engineId()),
                      static_cast<double>(ms));
        t.description += buf;
        break;
      }
    if (gen.tile >= 0) {
      std::snprintf(buf, sizeof buf, "; infc INT8 implicit GEMM: %.4f ms", static_cast<double>(gen.ms));
      t.description += buf;
    }
  }
  if (log_)
    log_("tune conv " + key + ": chose " + t.description);
  cache_[key] = t;
  if (timingCache_)
    timingCache_->put(sku_, gpu_, convCacheKey(spec), convEntry(t));
  return t;
}

Expected<MatmulTactic> Autotuner::tuneMatmul(const rt::CublasLtProblem &problem) {
  std::string key = problem.key();
  if (auto it = matmulCache_.find(key); it != matmulCache_.end())
    return it->second;
  if (cached_)
    if (Expected<MatmulTactic> hit = cached_->tuneMatmul(problem); hit.isOk()) {
      ++cacheHits_;
      if (log_)
        log_("tune matmul " + key + ": from the timing cache: " + hit->description);
      return matmulCache_[key] = *hit;
    }
  INFC_RETURN_IF_ERROR(cuStatus(drv().cuCtxSetCurrent(context_), "cuCtxSetCurrent"));
  if (!ltHandle_)
    if (std::string e = rt::cublasCheck(cublasLtCreate(&ltHandle_), "cublasLtCreate"); !e.empty())
      return internalError("autotuning: " + e);
  rt::CublasLtPlan plan;
  if (std::string e = plan.init(problem); !e.empty())
    return unsupported(e);
  // The heuristic is asked exactly as the runtime asks it (same descriptors, preference and
  // workspace limit), only for more than one answer.
  std::vector<cublasLtMatmulHeuristicResult_t> heuristics;
  bool cut = pastBudget();
  int wanted = cut ? 1 : matmulCandidateCap(level_);
  budgetCuts_ += cut ? 1 : 0;
  if (std::string e = plan.heuristics(ltHandle_, wanted, maxWorkspace_, heuristics); !e.empty())
    return unsupported("autotuning: " + e);
  matmulCandidates_ += heuristics.size();

  struct Candidate {
    cublasLtMatmulAlgo_t algo;
    uint64_t workspace = 0; ///< passed to every run here, recorded, and passed by the runtime
    float ms = -1;          ///< median time; < 0 when it did not run
  };
  // Only algorithms the runtime's cublasLtMatmulAlgoCheck accepts within the recorded workspace:
  // one that fails there is replaced by the heuristic's pick at load time.
  std::vector<Candidate> candidates;
  uint64_t maxWs = 0;
  for (const cublasLtMatmulHeuristicResult_t &h : heuristics) {
    uint64_t need = 0;
    if (!plan.check(ltHandle_, h.algo, need).empty())
      continue;
    Candidate cand{h.algo, std::max<uint64_t>(h.workspaceSize, need), -1};
    if (cand.workspace > maxWorkspace_)
      continue;
    maxWs = std::max(maxWs, cand.workspace);
    candidates.push_back(cand);
  }

  DType t = static_cast<DType>(problem.dtype), ab = static_cast<DType>(problem.inputDtype()),
        biasType = static_cast<DType>(problem.biasDtype());
  uint64_t esize = dtypeSize(t), abSize = dtypeSize(ab);
  Scratch s;
  INFC_ASSIGN_OR_RETURN(CUdeviceptr a, s.alloc(problem.aElements() * abSize));
  INFC_RETURN_IF_ERROR(fillRandom(a, problem.aElements(), ab, 1));
  INFC_ASSIGN_OR_RETURN(CUdeviceptr b, s.alloc(problem.bElements() * abSize));
  INFC_RETURN_IF_ERROR(fillRandom(b, problem.bElements(), ab, 2));
  INFC_ASSIGN_OR_RETURN(CUdeviceptr d, s.alloc(problem.cElements() * esize));
  INFC_RETURN_IF_ERROR(fillRandom(d, problem.cElements(), t, 3));
  CUdeviceptr c = 0, bias = 0;
  if (problem.hasC) {
    INFC_ASSIGN_OR_RETURN(c, s.alloc(problem.cElements() * esize));
    INFC_RETURN_IF_ERROR(fillRandom(c, problem.cElements(), t, 4));
  }
  if (problem.hasBias) {
    INFC_ASSIGN_OR_RETURN(bias, s.alloc(static_cast<uint64_t>(problem.n) * dtypeSize(biasType)));
    INFC_RETURN_IF_ERROR(fillRandom(bias, static_cast<uint64_t>(problem.n), biasType, 5));
  }
  INFC_ASSIGN_OR_RETURN(CUdeviceptr ws, s.alloc(maxWs));
  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void *>(p); };

  TimingStream ts;
  INFC_RETURN_IF_ERROR(ts.create(kMatmulTimedRuns + 1));
  bool anyTimed = false;
  for (Candidate &cand : candidates) {
    if (anyTimed && pastBudget())
      break; // the budget ran out: the best found so far
    auto run = [&] {
      return plan.run(ltHandle_, cand.algo, ptr(a), ptr(b), ptr(c), ptr(d), ptr(bias), ptr(ws), cand.workspace, ts.stream)
          .empty();
    };
    // One checked run weeds out algorithms that fail at execution; then warm-ups and an event
    // between consecutive runs, so each run is timed on its own and the median drops stalls.
    if (!run() || drv().cuStreamSynchronize(ts.stream) != CUDA_SUCCESS)
      continue;
    bool ok = true;
    for (int r = 0; r < kMatmulWarmups; ++r)
      ok = ok && run();
    ok = ok && drv().cuEventRecord(ts.events[0], ts.stream) == CUDA_SUCCESS;
    for (int r = 0; r < kMatmulTimedRuns; ++r)
      ok = ok && run() && drv().cuEventRecord(ts.events[static_cast<size_t>(r) + 1], ts.stream) == CUDA_SUCCESS;
    if (!ok || drv().cuEventSynchronize(ts.events.back()) != CUDA_SUCCESS)
      continue;
    std::vector<float> times;
    for (int r = 0; r < kMatmulTimedRuns; ++r) {
      float ms = 0;
      if (drv().cuEventElapsedTime(&ms, ts.events[static_cast<size_t>(r)], ts.events[static_cast<size_t>(r) + 1]) !=
          CUDA_SUCCESS)
        ok = false;
      times.push_back(ms);
    }
    if (!ok)
      continue;
    std::sort(times.begin(), times.end());
    size_t mid = times.size() / 2;
    cand.ms = times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    anyTimed = true;
    if (log_)
      log_("tune matmul " + key + ": cuBLASLt candidate " + std::to_string(&cand - candidates.data() + 1) + ": " +
           std::to_string(cand.ms) + " ms");
  }
  drv().cuStreamSynchronize(ts.stream); // nothing may still use the scratch buffers

  // Whether a candidate's result matches the host reference at sampled outputs (TacticCheck.h).
  const MatmulReference reference(problem);
  auto check = [&](const Candidate &cand) -> Expected<std::string> {
    INFC_RETURN_IF_ERROR(fillRandom(a, problem.aElements(), ab, MatmulCheckData::kSeedA));
    INFC_RETURN_IF_ERROR(fillRandom(b, problem.bElements(), ab, MatmulCheckData::kSeedB));
    if (problem.hasC)
      INFC_RETURN_IF_ERROR(fillRandom(c, problem.cElements(), t, MatmulCheckData::kSeedC));
    if (problem.hasBias)
      INFC_RETURN_IF_ERROR(fillRandom(bias, static_cast<uint64_t>(problem.n), biasType, MatmulCheckData::kSeedBias));
    if (!plan.run(ltHandle_, cand.algo, ptr(a), ptr(b), ptr(c), ptr(d), ptr(bias), ptr(ws), cand.workspace, ts.stream).empty() ||
        drv().cuStreamSynchronize(ts.stream) != CUDA_SUCCESS)
      return std::string("it failed to run");
    if (!reference.unsupported().empty())
      return "unchecked: " + reference.unsupported();
    std::vector<uint64_t> logical = samplePositions(static_cast<uint64_t>(problem.batch * problem.m * problem.n), kCheckSamples);
    std::vector<uint64_t> positions;
    std::vector<double> want;
    for (uint64_t l : logical) {
      uint64_t pos = 0;
      want.push_back(reference.at(l, pos));
      positions.push_back(pos);
    }
    INFC_ASSIGN_OR_RETURN(std::vector<double> got, readSamples(d, t, positions));
    std::string why;
    return samplesMatch(want, got, t, why) ? std::string() : why;
  };
  const Candidate *chosen = nullptr;
  std::vector<const Candidate *> timed;
  size_t winner = 0;
  std::string firstMismatch;
  while (!chosen) {
    timed.clear();
    for (const Candidate &cand : candidates)
      if (cand.ms >= 0)
        timed.push_back(&cand);
    if (timed.empty())
      return firstMismatch.empty()
                 ? unsupported("autotuning: none of the " + std::to_string(heuristics.size()) +
                               " cuBLASLt algorithms for this matmul ran")
                 : internalError("autotuning: none of the cuBLASLt algorithms for this matmul matches the host reference (" +
                                 firstMismatch + ")");
    float fastest = timed[0]->ms;
    for (const Candidate *cand : timed)
      fastest = std::min(fastest, cand->ms);
    // The earliest in heuristic order among those within noise of the fastest: deterministic when
    // several algorithms tie, and no worse than the heuristic's own pick when they do.
    winner = 0;
    while (static_cast<double>(timed[winner]->ms) > static_cast<double>(fastest) * (1.0 + kMatmulTie))
      ++winner;
    Candidate &w = candidates[static_cast<size_t>(timed[winner] - candidates.data())];
    INFC_ASSIGN_OR_RETURN(std::string mismatch, check(w));
    if (mismatch.empty() || mismatch.rfind("unchecked: ", 0) == 0) {
      chosen = &w;
    } else {
      ++rejected_;
      if (log_)
        log_("tune matmul " + key + ": cuBLASLt candidate " + std::to_string(&w - candidates.data() + 1) + " rejected: " + mismatch);
      if (firstMismatch.empty())
        firstMismatch = mismatch;
      w.ms = -1; // out of the running
    }
  }
  const Candidate &best = *chosen;
  MatmulTactic tactic;
  tactic.algo.resize(sizeof best.algo);
  std::memcpy(tactic.algo.data(), &best.algo, sizeof best.algo);
  tactic.workspaceBytes = best.workspace;
  tactic.ms = static_cast<double>(best.ms);
  auto msText = [](float ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f ms", static_cast<double>(ms));
    return std::string(buf);
  };
  tactic.description = "cuBLASLt algo " + std::to_string(winner + 1) + " of " + std::to_string(timed.size()) +
                       " timed: " + msText(best.ms) +
                       (winner == 0 ? " (the heuristic's first)" : " (heuristic first: " + msText(timed[0]->ms) + ")");
  const Candidate *runnerUp = nullptr;
  for (const Candidate *cand : timed)
    if (cand != &best && (!runnerUp || cand->ms < runnerUp->ms))
      runnerUp = cand;
  if (runnerUp)
    tactic.description += "; runner-up " + msText(runnerUp->ms);
  if (size_t skipped = heuristics.size() - timed.size(); skipped > 0)
    tactic.description += "; " + std::to_string(skipped) + " more not timed";
  if (log_)
    log_("tune matmul " + key + ": chose " + tactic.description);
  matmulCache_[key] = tactic;
  if (timingCache_)
    timingCache_->put(sku_, gpu_, matmulCacheKey(problem), matmulEntry(tactic));
  return tactic;
}

} // namespace infc::codegen
