// The timing cache of `infc build --timing-cache FILE`: the tactics the autotuner chose, per GPU
// SKU and library versions, so that later builds skip the timing and builds on machines without
// that GPU (CI runners) choose exactly the same tactics and write byte-identical engines.
//
// Versioned JSON, one block per SKU key ("NVIDIA H200|sm_90|132 SMs|140 GiB|CUDA 13000|cuDNN
// 91900|cuBLASLt 130100"): entries of one SKU never serve another (a variant with other memory
// or another SM count is another SKU), nor other library versions.
//   {"format": "infc-timing-cache", "version": 2, "gpus": {"<sku key>": {"gpu": "NVIDIA H200",
//    "sm": "sm_90", "sm_count": 132, "memory_gib": 140, "cuda": 13000, "cudnn": 91900, "cublaslt": 130100,
//    "entries": {"conv:<signature>": {"engine": 12, "knobs": [...], "workspace": 0, "ms": 0.41,
//    "description": "..."}, "matmul:<problem>": {"algo": "<hex>", "workspace": 0, "ms": ...}}}}}
#pragma once

#include "codegen/TacticSource.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace infc::codegen {

struct GpuSku {
  std::string name; ///< the driver's device name, "NVIDIA H200"
  int smMajor = 0, smMinor = 0;
  int smCount = 0;
  int memoryGiB = 0; ///< total device memory, rounded to GiB
};

/// The SKU key of `gpu` with this infc's CUDA, cuDNN and cuBLASLt versions.
std::string skuKey(const GpuSku &gpu);

/// Compute capability of a GPU named on the command line (`--target h200`), or {0, 0}.
std::pair<int, int> skuComputeCapability(const std::string &name);
/// The SKU name of a device name: its first word after "NVIDIA", lowercase ("h100").
std::string skuNameOf(const std::string &gpu);
/// Whether the device name `gpu` ("NVIDIA H100 80GB HBM3") is the SKU `name` ("h100").
bool gpuMatchesSku(const std::string &gpu, const std::string &name);

class TimingCache {
public:
  /// 2: SKU keys and blocks carry the device memory (version 1's keys did not).
  static constexpr int kFormatVersion = 2;
  /// Reads `path`; a missing file is an empty cache unless `mustExist`. A file that is not a
  /// timing cache, or of another format version, is an error naming it.
  static Expected<TimingCache> load(const std::string &path, bool mustExist);
  static Expected<TimingCache> parse(const std::string &text, const std::string &what);
  std::string text() const;
  /// Adds `other`'s SKUs and entries; for a key both have, the faster measurement stays.
  void merge(const TimingCache &other);

  const nlohmann::json *find(const std::string &sku, const std::string &key) const;
  void put(const std::string &sku, const GpuSku &gpu, const std::string &key, nlohmann::json entry);
  /// Keys of the SKUs that match `target` ("h200" or "sm_90") and this infc's library versions.
  std::vector<std::string> skusFor(const std::string &target, int smMajor, int smMinor) const;
  const nlohmann::json &raw() const { return root_; }
  /// Removes the SKUs timed with other CUDA / cuDNN / cuBLASLt versions than this infc's;
  /// returns how many entries went.
  size_t pruneStale();

private:
  nlohmann::json root_ = {{"format", "infc-timing-cache"}, {"version", kFormatVersion}, {"gpus", nlohmann::json::object()}};
};

/// Tactics from a timing cache's entries for one SKU: what a build on the machine without that
/// GPU records. A layer without an entry is NotFound (the builder falls back to heuristics, or
/// fails with --require-complete-cache).
class CachedTactics final : public TacticSource {
public:
  CachedTactics(const TimingCache &cache, std::string sku) : cache_(cache), sku_(std::move(sku)) {}
  Expected<ConvTactic> tuneConv(const rt::ConvSpec &spec) override;
  Expected<MatmulTactic> tuneMatmul(const rt::CublasLtProblem &problem) override;

private:
  const TimingCache &cache_;
  std::string sku_;
};

/// The timing-cache keys of a convolution ("conv:" + convSignature) and a matmul ("matmul:" +
/// its problem key).
std::string convCacheKey(const rt::ConvSpec &spec);
std::string matmulCacheKey(const rt::CublasLtProblem &problem);

/// Entries <-> tactics (shared by the autotuner, which records, and CachedTactics, which reads).
nlohmann::json convEntry(const ConvTactic &t);
nlohmann::json matmulEntry(const MatmulTactic &t);
Expected<ConvTactic> convTacticOf(const nlohmann::json &entry);
Expected<MatmulTactic> matmulTacticOf(const nlohmann::json &entry);

} // namespace infc::codegen
