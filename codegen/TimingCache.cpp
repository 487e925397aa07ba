#include "codegen/TimingCache.h"

#include "support/FileRead.h"

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

namespace infc::codegen {

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxCacheBytes = uint64_t(1) << 30;

int64_t cudnnVersion() { return static_cast<int64_t>(cudnnGetVersion()); }
int64_t cublasLtVersion() { return static_cast<int64_t>(cublasLtGetVersion()); }

std::string hex(const std::vector<uint8_t> &b) {
  static const char *d = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) {
    s += d[v >> 4];
    s += d[v & 15];
  }
  return s;
}

bool unhex(const std::string &s, std::vector<uint8_t> &out) {
  if (s.size() % 2)
    return false;
  auto nib = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  out.clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

/// Lowercase words of a device name without "nvidia": "NVIDIA A100-SXM4-80GB" -> a100 sxm4 80gb.
std::vector<std::string> nameTokens(const std::string &name) {
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : name + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      if (cur != "nvidia")
        tokens.push_back(cur);
      cur.clear();
    }
  }
  return tokens;
}

/// Whether the SKU block `g` was timed with this infc's CUDA, cuDNN and cuBLASLt.
bool currentVersions(const json &g) {
  return g.value("cuda", int64_t(0)) == CUDA_VERSION && g.value("cudnn", int64_t(0)) == cudnnVersion() &&
         g.value("cublaslt", int64_t(0)) == cublasLtVersion();
}

} // namespace

std::string skuKey(const GpuSku &gpu) {
  std::ostringstream os;
  os << gpu.name << "|sm_" << gpu.smMajor << gpu.smMinor << "|" << gpu.smCount << " SMs|" << gpu.memoryGiB << " GiB|CUDA "
     << CUDA_VERSION << "|cuDNN "
     << cudnnVersion() << "|cuBLASLt " << cublasLtVersion();
  return os.str();
}

std::pair<int, int> skuComputeCapability(const std::string &name) {
  static const std::pair<const char *, std::pair<int, int>> kSkus[] = {
      {"t4", {7, 5}},   {"a100", {8, 0}}, {"a30", {8, 0}},  {"a10", {8, 6}},  {"a10g", {8, 6}}, {"l4", {8, 9}},
      {"l40", {8, 9}},  {"l40s", {8, 9}}, {"h100", {9, 0}}, {"h200", {9, 0}}, {"gh200", {9, 0}}, {"h20", {9, 0}},
      {"b200", {10, 0}}};
  for (const auto &[n, cc] : kSkus)
    if (name == n)
      return cc;
  return {0, 0};
}

std::string skuNameOf(const std::string &gpu) {
  std::vector<std::string> t = nameTokens(gpu);
  return t.empty() ? std::string() : t[0];
}

bool gpuMatchesSku(const std::string &gpu, const std::string &name) { return !name.empty() && skuNameOf(gpu) == name; }

Expected<TimingCache> TimingCache::load(const std::string &path, bool mustExist) {
  std::error_code ec;
  if (!mustExist && !std::filesystem::exists(path, ec))
    return TimingCache();
  std::string text, error;
  if (!support::readRegularFile(path, kMaxCacheBytes, text, error))
    return invalidArgument(error);
  return parse(text, path);
}

Expected<TimingCache> TimingCache::parse(const std::string &text, const std::string &what) {
  auto bad = [&](const std::string &why) { return invalidArgument(what + ": not an infc timing cache (" + why + ")"); };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return bad("not JSON");
  if (j.value("format", std::string()) != "infc-timing-cache")
    return bad("no \"format\": \"infc-timing-cache\"");
  if (!j.contains("version") || !j["version"].is_number_integer())
    return bad("no \"version\"");
  if (j["version"].get<int64_t>() != kFormatVersion)
    return invalidArgument(what + ": timing cache version " + j["version"].dump() + ", this infc reads version " +
                           std::to_string(kFormatVersion) + " (SKU keys now include the device memory): time again on the GPU");
  if (!j.contains("gpus") || !j["gpus"].is_object())
    return bad("no \"gpus\"");
  for (const auto &[sku, g] : j["gpus"].items()) {
    if (!g.is_object() || !g.contains("gpu") || !g["gpu"].is_string() || !g.contains("sm") || !g["sm"].is_string() ||
        !g.contains("entries") || !g["entries"].is_object())
      return bad("GPU '" + sku + "' needs \"gpu\", \"sm\" and \"entries\"");
    for (const auto &[key, e] : g["entries"].items()) {
      bool ok = key.rfind("conv:", 0) == 0 ? convTacticOf(e).isOk() : key.rfind("matmul:", 0) == 0 && matmulTacticOf(e).isOk();
      if (!ok)
        return bad("entry '" + key + "' of GPU '" + sku + "' is malformed");
    }
  }
  TimingCache c;
  c.root_ = std::move(j);
  return c;
}

std::string TimingCache::text() const { return root_.dump(1) + "\n"; }

void TimingCache::merge(const TimingCache &other) {
  json &gpus = root_["gpus"];
  for (const auto &[sku, g] : other.root_["gpus"].items()) {
    if (!gpus.contains(sku)) {
      gpus[sku] = g;
      continue;
    }
    json &entries = gpus[sku]["entries"];
    for (const auto &[key, e] : g["entries"].items())
      if (!entries.contains(key) || e.value("ms", 1e300) < entries[key].value("ms", 1e300))
        entries[key] = e;
  }
}

const nlohmann::json *TimingCache::find(const std::string &sku, const std::string &key) const {
  const json &gpus = root_["gpus"];
  auto g = gpus.find(sku);
  if (g == gpus.end())
    return nullptr;
  auto e = (*g)["entries"].find(key);
  return e == (*g)["entries"].end() ? nullptr : &*e;
}

void TimingCache::put(const std::string &sku, const GpuSku &gpu, const std::string &key, nlohmann::json entry) {
  json &g = root_["gpus"][sku];
  if (!g.contains("gpu")) {
    g["gpu"] = gpu.name;
    g["sm"] = "sm_" + std::to_string(gpu.smMajor) + std::to_string(gpu.smMinor);
    g["sm_count"] = gpu.smCount;
    g["memory_gib"] = gpu.memoryGiB;
    g["cuda"] = CUDA_VERSION;
    g["cudnn"] = cudnnVersion();
    g["cublaslt"] = cublasLtVersion();
    g["entries"] = json::object();
  }
  g["entries"][key] = std::move(entry);
}

std::vector<std::string> TimingCache::skusFor(const std::string &target, int smMajor, int smMinor) const {
  std::string sm = "sm_" + std::to_string(smMajor) + std::to_string(smMinor);
  bool byName = skuComputeCapability(target).first != 0;
  std::vector<std::string> keys;
  for (const auto &[sku, g] : root_["gpus"].items())
    if (g["sm"] == sm && currentVersions(g) && (!byName || gpuMatchesSku(g["gpu"].get<std::string>(), target)))
      keys.push_back(sku);
  return keys;
}

size_t TimingCache::pruneStale() {
  size_t removed = 0;
  json &gpus = root_["gpus"];
  for (auto it = gpus.begin(); it != gpus.end();) {
    if (currentVersions(*it)) {
      ++it;
      continue;
    }
    removed += (*it)["entries"].size();
    it = gpus.erase(it);
  }
  return removed;
}

std::string convCacheKey(const rt::ConvSpec &spec) { return "conv:" + convSignature(spec); }
std::string matmulCacheKey(const rt::CublasLtProblem &problem) { return "matmul:" + problem.key(); }

nlohmann::json convEntry(const ConvTactic &t) {
  return {{"engine", t.engineId}, {"knobs", t.knobs}, {"workspace", t.workspaceBytes}, {"ms", t.ms}, {"description", t.description}};
}

nlohmann::json matmulEntry(const MatmulTactic &t) {
  return {{"algo", hex(t.algo)}, {"workspace", t.workspaceBytes}, {"ms", t.ms}, {"description", t.description}};
}

Expected<ConvTactic> convTacticOf(const nlohmann::json &e) {
  if (!e.is_object() || !e.contains("engine") || !e["engine"].is_number_integer() || !e.contains("knobs") ||
      !e["knobs"].is_array() || !e.contains("workspace") || !e["workspace"].is_number_unsigned() || !e.contains("ms") ||
      !e["ms"].is_number())
    return invalidArgument("malformed convolution entry");
  ConvTactic t;
  t.engineId = e["engine"].get<int64_t>();
  for (const json &k : e["knobs"]) {
    if (!k.is_number_integer())
      return invalidArgument("malformed convolution entry");
    t.knobs.push_back(k.get<int64_t>());
  }
  t.workspaceBytes = e["workspace"].get<uint64_t>();
  t.ms = e["ms"].get<double>();
  // As recorded when it was timed: the engine holds the same bytes whether its tactics were timed
  // in this build or read from the cache (the build's summary counts the cache hits).
  t.description = e.value("description", std::string());
  return t;
}

Expected<MatmulTactic> matmulTacticOf(const nlohmann::json &e) {
  MatmulTactic t;
  if (!e.is_object() || !e.contains("algo") || !e["algo"].is_string() || !unhex(e["algo"].get<std::string>(), t.algo) ||
      t.algo.size() != sizeof(cublasLtMatmulAlgo_t) || !e.contains("workspace") || !e["workspace"].is_number_unsigned() ||
      !e.contains("ms") || !e["ms"].is_number())
    return invalidArgument("malformed matmul entry");
  t.workspaceBytes = e["workspace"].get<uint64_t>();
  t.ms = e["ms"].get<double>();
  t.description = e.value("description", std::string());
  return t;
}

Expected<ConvTactic> CachedTactics::tuneConv(const rt::ConvSpec &spec) {
  const nlohmann::json *e = cache_.find(sku_, convCacheKey(spec));
  if (!e)
    return Status(StatusCode::NotFound, "no timing-cache entry for this convolution");
  return convTacticOf(*e);
}

Expected<MatmulTactic> CachedTactics::tuneMatmul(const rt::CublasLtProblem &problem) {
  const nlohmann::json *e = cache_.find(sku_, matmulCacheKey(problem));
  if (!e)
    return Status(StatusCode::NotFound, "no timing-cache entry for this matmul");
  return matmulTacticOf(*e);
}

} // namespace infc::codegen
