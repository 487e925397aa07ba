// Dim-fit engines: GPU layers for optimization profiles whose dynamic dims are not only the batch
// (a sequence length, a width, a spatial size). The model is optimized and lowered as a static
// model at several probe shapes inside the profiles; every integer of the layers that differs
// between probes (a tensor's dim, a literal in a generated kernel's source, a launch size, a
// cuBLASLt field) must be one expression over the engine's dims that gives its value at every
// probe, and the layers must otherwise be the same. The engine keeps one set of layers whose
// integers are those expressions: kernels take the dims as an argument, the runtime evaluates
// launch sizes and library descriptors when the input shapes are set (docs/dynamic-shapes.md).
//
// The engine's dims ("atoms") are the dynamic input dims and quasi-affine functions of them,
// floor((x + offset) / divisor) (what a strided convolution or pool makes of a width). An
// expression is a sum of integer multiples of products of up to three atoms.
#pragma once

#include "ir/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace infc::codegen {

/// One engine dim: floor((dim `axis` of graph input `input` + offset) / divisor).
struct DimAtom {
  int input = 0, axis = 0;
  int64_t offset = 0, divisor = 1;
  std::string name; ///< for messages: "seq", "(width + 1) / 2"
  bool operator==(const DimAtom &o) const {
    return input == o.input && axis == o.axis && offset == o.offset && divisor == o.divisor;
  }
};

/// Floor division (rounds toward minus infinity).
int64_t floorDiv(int64_t a, int64_t b);

/// coef * atoms[0] * atoms[1] * ... (atom indices; empty: the constant coef).
struct DimTerm {
  int64_t coef = 0;
  std::vector<int> atoms;
};

/// A sum of terms over the engine's atoms.
struct DimExpr {
  std::vector<DimTerm> terms;
  static DimExpr constant(int64_t c) { return c ? DimExpr{{DimTerm{c, {}}}} : DimExpr{}; }
  bool isConstant() const;
  int64_t eval(const std::vector<int64_t> &atomValues) const;
  /// A C++ expression of type long long over `dims` (an array expression: "infc_D.d").
  std::string cuda(const std::string &dims) const;
  /// "2 * seq * batch + 1", for messages.
  std::string str(const std::vector<DimAtom> &atoms) const;
  /// Whether the value never decreases when an atom grows (no negative coefficient).
  bool monotone() const;
};

/// Finds expressions for values observed at the probe shapes. Probe p gives each dynamic input
/// dim (a base atom) a value; derived atoms are added as values need them.
class DimFitter {
public:
  /// `base`: the dynamic input dims (offset 0, divisor 1); `probeValues[p][i]`: base atom i at probe p;
  /// `ranges[i]`: the values base atom i takes in the profiles, inclusive (empty: the probes' span).
  DimFitter(std::vector<DimAtom> base, std::vector<std::vector<int64_t>> probeValues,
            std::vector<std::pair<int64_t, int64_t>> ranges = {});
  size_t numProbes() const { return values_.size(); }
  const std::vector<DimAtom> &atoms() const { return atoms_; }
  /// Atom values at probe p.
  const std::vector<int64_t> &atomValues(size_t p) const { return values_[p]; }
  /// An expression equal to values[p] at every probe p: a constant, c * m + d for a product m of
  /// up to three atoms, or a new quasi-affine atom of one dynamic input dim. nullopt: none.
  std::optional<DimExpr> fit(const std::vector<int64_t> &values);

  /// A shape the probes do not decide: two quasi-affine atoms floor((x + b) / s) both give every
  /// probe's value and differ at base atom `base` = `value` inside its range (ResNet's fifth
  /// stride-2 stage, floor((x + 31) / 32), agrees with floor((x + 26) / 32) unless x % 32 is 1
  /// to 5). fit() returns the first candidate; a fit with open questions must not be used: probe
  /// there and fit again.
  struct Question {
    size_t base = 0;
    int64_t value = 0;
    bool operator==(const Question &o) const { return base == o.base && value == o.value; }
  };
  const std::vector<Question> &questions() const { return questions_; }

private:
  std::optional<DimExpr> fitProducts(const std::vector<int64_t> &values) const;
  /// Records a question when another atom of base `i` with divisor 2..64 fits `q` (the values
  /// over `scale`) at every probe and differs from floor((x + b) / s) somewhere in the range.
  void askIfAmbiguous(size_t i, int64_t b, int64_t s, const std::vector<int64_t> &q);
  size_t numBase_ = 0;
  std::vector<std::pair<int64_t, int64_t>> ranges_;
  std::vector<Question> questions_;
  std::vector<DimAtom> atoms_;
  std::vector<std::vector<int64_t>> values_; ///< [probe][atom]
};

/// A generated kernel's source at every probe made one source: each integer literal that differs
/// between probes becomes its expression over the dims parameter `infc_D` (appended to the
/// kernel's parameters: `infc_dims infc_D`, defined in the source), `constexpr` declarations
/// holding one become `const`. `sources[p]` is the kernel at probe p; the result is built on
/// sources[base]. Unsupported, saying what differs, when the sources differ in anything but
/// integer literals (another kernel variant, a float constant computed from a dim).
struct FittedSource {
  std::string source;
  bool usesDims = false;
};
Expected<FittedSource> fitKernelSource(const std::vector<const std::string *> &sources, size_t base,
                                       const std::string &function, DimFitter &fitter);

/// Definition of the dims parameter's type (once per module; guarded).
const char *dimsStructSource();
/// Most atoms an engine has (the dims parameter's size).
constexpr size_t kMaxDimAtoms = 16;

} // namespace infc::codegen
