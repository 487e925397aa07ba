#include "codegen/TacticCheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace infc::codegen {

std::vector<uint8_t> randomBlock(uint64_t elements, DType t, uint32_t seed) {
  size_t esize = dtypeSize(t);
  uint64_t n = std::min<uint64_t>(elements, uint64_t(1) << 20);
  std::vector<uint8_t> host(n * esize);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (uint64_t i = 0; i < n; ++i) {
    float v = dist(rng);
    if (t == DType::I8) {
      host[i] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(v * 100.0f)));
    } else if (t == DType::F16) {
      uint16_t h = floatToHalf(v);
      std::memcpy(host.data() + i * esize, &h, sizeof h);
    } else if (t == DType::BF16) {
      uint16_t h = floatToBf16(v);
      std::memcpy(host.data() + i * esize, &h, sizeof h);
    } else if (t == DType::F8E4M3) {
      host[i] = floatToF8e4m3(v);
    } else {
      std::memcpy(host.data() + i * esize, &v, sizeof v);
    }
  }
  return host;
}

double repeatedElement(const std::vector<uint8_t> &block, DType t, uint64_t i) {
  size_t esize = dtypeSize(t);
  uint64_t n = block.size() / esize;
  const uint8_t *p = block.data() + (i % n) * esize;
  switch (t) {
  case DType::I8: return static_cast<int8_t>(*p);
  case DType::F8E4M3: return f8e4m3ToFloat(*p);
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  default: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return t == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  }
}

uint64_t elementCount(const std::vector<int64_t> &dims) {
  uint64_t n = 1;
  for (int64_t d : dims)
    n *= static_cast<uint64_t>(d);
  return n;
}

std::vector<uint64_t> samplePositions(uint64_t total, size_t count) {
  std::vector<uint64_t> out;
  if (total == 0)
    return out;
  if (total <= count) {
    for (uint64_t i = 0; i < total; ++i)
      out.push_back(i);
    return out;
  }
  out.push_back(0);
  out.push_back(total - 1);
  std::mt19937_64 rng(12345);
  while (out.size() < count) {
    uint64_t p = rng() % total;
    if (std::find(out.begin(), out.end(), p) == out.end())
      out.push_back(p);
  }
  return out;
}

namespace {

/// Dims in memory order: (N, C, spatial...) or, channels-last, (N, spatial..., C).
std::vector<int64_t> memoryOrder(const std::vector<int64_t> &dims, bool nhwc) {
  if (!nhwc || dims.size() <= 2)
    return dims;
  std::vector<int64_t> m = {dims[0]};
  m.insert(m.end(), dims.begin() + 2, dims.end());
  m.push_back(dims[1]);
  return m;
}

/// Logical index (N, C, spatial...) of memory position `pos`.
std::vector<int64_t> logicalIndex(const std::vector<int64_t> &dims, bool nhwc, uint64_t pos) {
  std::vector<int64_t> mem = memoryOrder(dims, nhwc), idx(mem.size());
  for (size_t i = mem.size(); i-- > 0;) {
    idx[i] = static_cast<int64_t>(pos % static_cast<uint64_t>(mem[i]));
    pos /= static_cast<uint64_t>(mem[i]);
  }
  if (!nhwc || dims.size() <= 2)
    return idx;
  std::vector<int64_t> logical = {idx[0], idx.back()};
  logical.insert(logical.end(), idx.begin() + 1, idx.end() - 1);
  return logical;
}

/// Memory position of logical index `idx`.
uint64_t memoryPosition(const std::vector<int64_t> &dims, bool nhwc, const std::vector<int64_t> &idx) {
  std::vector<int64_t> mem = memoryOrder(dims, nhwc), order = idx;
  if (nhwc && dims.size() > 2) {
    order = {idx[0]};
    order.insert(order.end(), idx.begin() + 2, idx.end());
    order.push_back(idx[1]);
  }
  uint64_t pos = 0;
  for (size_t i = 0; i < mem.size(); ++i)
    pos = pos * static_cast<uint64_t>(mem[i]) + static_cast<uint64_t>(order[i]);
  return pos;
}

/// cuDNN's activation names (runtime/CudnnConv.cpp activationMode), in double.
bool applyActivation(const std::string &act, double &v) {
  if (act.empty())
    return true;
  if (act.rfind("clip:", 0) == 0) {
    char *end = nullptr;
    double lo = std::strtod(act.c_str() + 5, &end);
    if (!end || *end != ':')
      return false;
    double hi = std::strtod(end + 1, nullptr);
    v = std::min(std::max(v, lo), hi);
    return true;
  }
  if (act.rfind("leaky:", 0) == 0) {
    double slope = std::strtod(act.c_str() + 6, nullptr);
    v = v < 0 ? slope * v : v;
    return true;
  }
  if (act == "relu") v = std::max(v, 0.0);
  else if (act == "sigmoid") v = 1.0 / (1.0 + std::exp(-v));
  else if (act == "tanh") v = std::tanh(v);
  else if (act == "gelu") v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
  else if (act == "gelu_tanh") v = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
  else if (act == "swish") v = v / (1.0 + std::exp(-v));
  else return false;
  return true;
}

} // namespace

ConvReference::ConvReference(const rt::ConvSpec &spec, const ConvCheckData &data) : spec_(spec), data_(data) {
  DType io = static_cast<DType>(spec.dtype);
  in_ = spec.int8 ? DType::I8 : io;
  param_ = spec.int8 ? DType::F32 : io;
  zType_ = spec.zDtype ? static_cast<DType>(spec.zDtype) : io;
  size_t sd = spec.yDims.size() - 2;
  if (spec.xDims.size() != spec.yDims.size() || spec.wDims.size() != spec.yDims.size() || spec.strides.size() != sd ||
      spec.dilations.size() != sd || spec.padsBegin.size() != sd) {
    unsupported_ = "ranks the host reference does not know";
    return;
  }
  double probe = 0;
  if (!applyActivation(spec.activation, probe)) {
    unsupported_ = "activation '" + spec.activation + "' unknown to the host reference";
    return;
  }
  x_ = randomBlock(elementCount(spec.xDims), in_, ConvCheckData::kSeedX);
  w_ = randomBlock(elementCount(spec.wDims), in_, ConvCheckData::kSeedW);
  b_ = randomBlock(static_cast<uint64_t>(spec.yDims[1]), param_, ConvCheckData::kSeedB);
  z_ = randomBlock(elementCount(spec.yDims), zType_, ConvCheckData::kSeedZ);
}

double ConvReference::at(uint64_t pos) const {
  const rt::ConvSpec &spec = spec_;
  DType in = in_;
  size_t sd = spec.yDims.size() - 2;
  std::vector<int64_t> yi = logicalIndex(spec.yDims, spec.nhwc, pos);
  int64_t n = yi[0], outC = yi[1];
  double acc = 0;
  std::vector<int64_t> r(sd, 0), xi(spec.xDims.size()), wi(spec.wDims.size());
  // Groups (cuDNN reads them off the dims): forward w is (K, C / G, ...); backward data w is
  // (K = x's channels, C / G = y's per group, ...). The reduction runs over one group's channels.
  int64_t groups = spec.transpose ? spec.yDims[1] / spec.wDims[1] : spec.xDims[1] / spec.wDims[1];
  int64_t reduceC = spec.transpose ? spec.xDims[1] / groups : spec.wDims[1];
  int64_t group = spec.transpose ? outC / spec.wDims[1] : outC / (spec.yDims[1] / groups);
  int64_t outInGroup = spec.transpose ? outC % spec.wDims[1] : outC;
  // Every filter tap (odometer over the kernel's spatial dims) and every reduced channel.
  for (bool more = true; more;) {
    bool inside = true;
    std::vector<int64_t> xs(sd);
    for (size_t d = 0; d < sd && inside; ++d) {
      int64_t tap = r[d] * spec.dilations[d];
      if (!spec.transpose) {
        xs[d] = yi[2 + d] * spec.strides[d] - spec.padsBegin[d] + tap;
      } else { // dx position i = o * stride - pad + tap
        int64_t t = yi[2 + d] + spec.padsBegin[d] - tap;
        if (t % spec.strides[d] != 0) {
          inside = false;
          break;
        }
        xs[d] = t / spec.strides[d];
      }
      inside = xs[d] >= 0 && xs[d] < spec.xDims[2 + d];
    }
    if (inside) {
      for (int64_t c = 0; c < reduceC; ++c) {
        xi[0] = n;
        xi[1] = group * reduceC + c;
        std::copy(xs.begin(), xs.end(), xi.begin() + 2);
        // Forward: w is (K = y's channels, C / G); backward data: (K = x's channels, C / G).
        wi[0] = spec.transpose ? xi[1] : outC;
        wi[1] = spec.transpose ? outInGroup : c;
        std::copy(r.begin(), r.end(), wi.begin() + 2);
        acc += repeatedElement(x_, in, memoryPosition(spec.xDims, spec.nhwc, xi)) *
               repeatedElement(w_, in, memoryPosition(spec.wDims, spec.nhwc, wi));
      }
    }
    more = false;
    for (size_t d = sd; d-- > 0;) {
      if (++r[d] < spec.wDims[2 + d]) {
        more = true;
        break;
      }
      r[d] = 0;
    }
  }
  double v = spec.int8 ? acc * static_cast<double>(data_.scale) : acc;
  if (spec.hasResidual)
    v += repeatedElement(z_, zType_, pos);
  if (spec.hasBias)
    v += repeatedElement(b_, param_, static_cast<uint64_t>(outC));
  applyActivation(spec.activation, v); // known: checked by the constructor
  if (spec.int8)
    v *= static_cast<double>(spec.postMult);
  return v;
}

MatmulReference::MatmulReference(const rt::CublasLtProblem &p) : p_(p) {
  const std::string &e = p.epilogue;
  if (!e.empty() && e != "bias" && e != "relu" && e != "relu_bias" && e != "gelu" && e != "gelu_bias") {
    unsupported_ = "epilogue '" + e + "' unknown to the host reference";
    return;
  }
  DType t = static_cast<DType>(p.dtype), ab = static_cast<DType>(p.inputDtype());
  a_ = randomBlock(p.aElements(), ab, MatmulCheckData::kSeedA);
  b_ = randomBlock(p.bElements(), ab, MatmulCheckData::kSeedB);
  c_ = randomBlock(p.cElements(), t, MatmulCheckData::kSeedC);
  bias_ = randomBlock(static_cast<uint64_t>(p.n), static_cast<DType>(p.biasDtype()), MatmulCheckData::kSeedBias);
}

double MatmulReference::at(uint64_t logical, uint64_t &memoryPos) const {
  const rt::CublasLtProblem &p = p_;
  DType t = static_cast<DType>(p.dtype), ab = static_cast<DType>(p.inputDtype());
  uint64_t M = static_cast<uint64_t>(p.m), N = static_cast<uint64_t>(p.n);
  uint64_t b = logical / (M * N), m = logical / N % M, n = logical % N;
  auto at = [](uint64_t batch, int64_t stride) { return batch * static_cast<uint64_t>(stride); };
  double acc = 0;
  for (uint64_t k = 0; k < static_cast<uint64_t>(p.k); ++k) {
    uint64_t ia = at(b, p.strideA) + (p.transA ? k * static_cast<uint64_t>(p.lda) + m : m * static_cast<uint64_t>(p.lda) + k);
    uint64_t ib = at(b, p.strideB) + (p.transB ? n * static_cast<uint64_t>(p.ldb) + k : k * static_cast<uint64_t>(p.ldb) + n);
    acc += repeatedElement(a_, ab, ia) * repeatedElement(b_, ab, ib);
  }
  memoryPos = at(b, p.strideC) + m * static_cast<uint64_t>(p.ldc) + n;
  double v = static_cast<double>(p.alpha) * acc;
  if (p.hasC)
    v += static_cast<double>(p.beta) * repeatedElement(c_, t, memoryPos);
  if (p.hasBias)
    v += repeatedElement(bias_, static_cast<DType>(p.biasDtype()), n);
  const std::string &e = p.epilogue;
  if (e == "relu" || e == "relu_bias")
    v = std::max(v, 0.0);
  else if (e == "gelu" || e == "gelu_bias") // cuBLASLt's GELU is the tanh form
    applyActivation("gelu_tanh", v);
  return v; // other epilogues: refused by the constructor
}

bool samplesMatch(const std::vector<double> &want, const std::vector<double> &got, DType t, std::string &why) {
  double scale = 0;
  for (double w : want)
    scale = std::max(scale, std::abs(w));
  double tolerance = t == DType::I8 ? 1.5 : 0.02 * scale + 1e-6;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    double want_i = t == DType::I8 ? std::clamp(want[i], -128.0, 127.0) : want[i];
    if (!(std::abs(got[i] - want_i) <= tolerance)) { // NaN fails too
      char buf[160];
      std::snprintf(buf, sizeof buf, "sample %zu of %zu: %.6g where the reference gives %.6g (tolerance %.3g)", i + 1,
                    want.size(), got[i], want_i, tolerance);
      why = buf;
      return false;
    }
  }
  return true;
}

} // namespace infc::codegen
