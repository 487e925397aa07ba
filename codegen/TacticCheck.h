// Checks a candidate tactic's result against a reference before it may win a timing: the
// autotuner fills the layer's inputs with known pseudo-random values (randomBlock), runs the
// candidate, and compares a sample of its outputs with the same outputs computed here on the
// host in double precision. Sampling keeps the check cheap for any layer size (each sampled
// output costs one dot product), and the values are regenerated rather than copied back.
// GPU-free: tested on the CPU against the reference interpreter (tests/unit/test_tactic_check.cpp).
#pragma once

#include "ir/DType.h"
#include "runtime/CublasLtMatmul.h"
#include "runtime/CudnnConv.h"

#include <cstdint>
#include <string>
#include <vector>

namespace infc::codegen {

/// The bytes of min(elements, 2^20) values in [-1, 1) of dtype `t` (f32, f16, bf16; int8: within
/// +-100) from `seed`; a buffer of `elements` holds this block repeated.
std::vector<uint8_t> randomBlock(uint64_t elements, DType t, uint32_t seed);

/// Element `i` of a buffer filled by repeating `block` (of dtype `t`), as double.
double repeatedElement(const std::vector<uint8_t> &block, DType t, uint64_t i);

/// `count` distinct output positions spread over [0, total), the first and the last among them.
std::vector<uint64_t> samplePositions(uint64_t total, size_t count);

/// The number of elements of `dims`.
uint64_t elementCount(const std::vector<int64_t> &dims);

/// Seeds and values a convolution's buffers hold while its candidates are checked.
struct ConvCheckData {
  static constexpr uint32_t kSeedX = 21, kSeedW = 22, kSeedB = 23, kSeedZ = 24;
  float scale = 1.0f; ///< INT8: every per-channel scale s
};

/// The convolution `spec` on the host, with x, w, b, z holding randomBlock(.., kSeed*) repeated
/// and s = data.scale: the blocks are made once, then at() gives any output.
class ConvReference {
public:
  ConvReference(const rt::ConvSpec &spec, const ConvCheckData &data);
  /// "" when supported; else why this spec has no host reference (the candidate then goes
  /// unchecked).
  const std::string &unsupported() const { return unsupported_; }
  /// What a correct tactic writes at flat output position `pos` (in y's memory order), before
  /// rounding to y's dtype. Only when supported.
  double at(uint64_t pos) const;

private:
  rt::ConvSpec spec_;
  ConvCheckData data_;
  DType in_ = DType::F32, param_ = DType::F32, zType_ = DType::F32;
  std::vector<uint8_t> x_, w_, b_, z_;
  std::string unsupported_;
};

/// Seeds of a matmul's buffers while its candidates are checked.
struct MatmulCheckData {
  static constexpr uint32_t kSeedA = 31, kSeedB = 32, kSeedC = 33, kSeedBias = 34;
};

/// Matmul `p` on the host, A, B, C and the bias holding randomBlock(.., kSeed*) repeated.
class MatmulReference {
public:
  explicit MatmulReference(const rt::CublasLtProblem &p);
  const std::string &unsupported() const { return unsupported_; }
  /// The value at output `logical` (batch, row, column of D, row-major over [batch, m, n]);
  /// `memoryPos` is where D holds it (with ldc and the batch stride). Only when supported.
  double at(uint64_t logical, uint64_t &memoryPos) const;

private:
  rt::CublasLtProblem p_;
  std::vector<uint8_t> a_, b_, c_, bias_;
  std::string unsupported_;
};

/// Whether `got` (values of dtype `t` read at `positions`) matches `want`: within 2% of the
/// largest reference magnitude (16-bit and f32 results, TF32 included), or one step for int8
/// (two where rounding of a saturated or activated value may differ). Sets `why` on a mismatch.
bool samplesMatch(const std::vector<double> &want, const std::vector<double> &got, DType t, std::string &why);

} // namespace infc::codegen
