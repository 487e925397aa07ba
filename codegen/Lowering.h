// Lowering of an optimized, statically shaped graph to engine layers: generated NVRTC kernels,
// cuDNN convolutions and cuBLASLt matmuls. Each op kind has one lowering function, registered in
// codegen/LoweringRegistry.cpp; ops without one are reported as unsupported on the GPU (no CPU
// fallback inside an engine).
#pragma once

#include "ir/IR.h"
#include "ir/InfcAttrs.h"

#include <array>
#include <unordered_map>
#include <unordered_set>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace infc::codegen {

/// One kernel parameter: a tensor's device pointer (by IR value) or a scalar.
struct KernelArg {
  enum class Kind { Tensor, I32, I64, F32 } kind = Kind::Tensor;
  const Value *value = nullptr;
  int64_t i = 0;
  float f = 0;
  static KernelArg tensor(const Value *v) { return {Kind::Tensor, v, 0, 0}; }
  static KernelArg i32(int64_t v) { return {Kind::I32, nullptr, v, 0}; }
  static KernelArg i64(int64_t v) { return {Kind::I64, nullptr, v, 0}; }
  static KernelArg f32(float v) { return {Kind::F32, nullptr, 0, v}; }
};

/// A generated kernel: its CUDA C source (one or more `extern "C" __global__` definitions plus
/// helpers, all with names unique in the engine) and one launch of `function`.
struct KernelLayer {
  std::string function;
  std::string source;
  std::array<uint32_t, 3> grid{1, 1, 1};
  std::array<uint32_t, 3> block{1, 1, 1};
  uint32_t sharedBytes = 0;
  std::vector<KernelArg> args;
  /// How grid[i] follows from a size, for dim-fit engines (codegen/DimFit.h), which find the size
  /// at every shape: grid[i] = min(ceil(gridWork[i] / gridPer[i]), gridCap[i]) (cap 0: none).
  /// gridWork[i] 0: grid[i] is itself that size.
  std::array<int64_t, 3> gridWork{0, 0, 0}, gridPer{1, 1, 1}, gridCap{0, 0, 0};
  void gridFrom(size_t axis, int64_t work, int64_t per, int64_t cap = 0) {
    gridWork[axis] = work;
    gridPer[axis] = per;
    gridCap[axis] = cap;
  }
};

struct ConvLayer {
  const Value *x = nullptr, *w = nullptr, *b = nullptr, *z = nullptr, *y = nullptr;
  /// INT8 (x and w int8): the float32 scale per output channel of the accumulator, and the
  /// factor after the activation (ConvAttrs' INT8 form).
  const Value *s = nullptr;
  float postMult = 1.0f;
  std::vector<int64_t> padsBegin, padsEnd, strides, dilations;
  bool transpose = false;
  bool nhwc = false; ///< x, y, z physically (N, spatial..., C), w (K, spatial..., C/g)
  std::string activation;
  bool inPlace = false; ///< y is written over z (LoweringContext::canOverwrite)
};

/// Row-major D[batch][m][n] = alpha * op(A)[m][k] op(B)[k][n] + beta * C (+ bias over n).
struct MatmulLayer {
  const Value *a = nullptr, *b = nullptr, *c = nullptr, *bias = nullptr, *d = nullptr;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t strideA = 0, strideB = 0, strideC = 0;
  bool transA = false, transB = false;
  float alpha = 1, beta = 0;
  std::string epilogue;
  /// FP8: A and B in e4m3 (C, D and the bias in D's type); Undefined: D's type.
  DType abType = DType::Undefined;
  bool fastAccum = false;
};

struct Layer {
  std::string name;
  std::variant<KernelLayer, ConvLayer, MatmulLayer> impl;
  std::vector<const Value *> inputs, outputs;
  Location loc;
  std::string tactic;
  std::string precision;
};

struct LoweringOptions {
  int smMajor = 9, smMinor = 0;
  /// E4M3 tensor cores (sm_89 and later): what FP8 matmuls need.
  bool hasE4m3() const { return smMajor * 10 + smMinor >= 89; }
  bool fp16 = false;
  /// Depthwise NHWC 16-bit convolutions through the generated kernel instead of cuDNN
  /// (codegen/kernels/Conv.cpp): MobileNetV2 FP16 at batch 256 on the H200 ran in 31.3 ms with
  /// cuDNN's depthwise kernels and 6.7 ms with a first version of the generated one. Off only in
  /// the GPU tests that check the cuDNN path.
  bool generatedDepthwise = true;
  /// Results written over an input that nothing reads afterwards (LoweringContext::canOverwrite):
  /// a convolution's fused residual Add over the residual (ResNet-50 at batch 256 otherwise keeps
  /// a block's input and output, 411 MB each in FP16 in layer1, live at once), and elementwise
  /// kernels over an input of the result's shape.
  bool inPlace = true;
  /// Whether to run `fused` (a convolution with `absorbedOps` epilogue ops) instead of `base` (the
  /// same convolution with its bias only, the other ops left as separate kernels): cuDNN must run
  /// the fused graph on the target GPU, and faster than base plus the separate kernels. Set when
  /// the GPU is present (timed); without it, convolutions fuse their bias only.
  std::function<bool(const ConvLayer &fused, const ConvLayer &base, size_t absorbedOps)> acceptConvFusion;
  /// Which kernel runs an INT8 convolution (the layer as lowered, in place or not), from the
  /// autotuner or a timing cache when either is here: `tile` >= 0 is infc's own kernel with that
  /// tile (codegen/kernels/ConvInt8.h), -1 cuDNN; `tactic` the timed choice's text. Without it,
  /// cuDNN (chosen at load time or by the engine builder's tuning).
  struct Int8ConvChoice {
    int64_t tile = -1;
    std::string tactic;
  };
  std::function<Int8ConvChoice(const ConvLayer &)> int8ConvChoice;
  /// Dim-fit engines (codegen/DimFit.h): a generator's speed heuristics (a kernel variant chosen
  /// by size, correct at any size) are recorded where set when lowering at the opt shape, and
  /// replayed in order at the other shapes, so that one variant serves every shape.
  /// Dim-fit engines: generators write kernels that are one at every shape where they can at
  /// little cost (emitVector8's 8-wide path checked as the kernel runs instead of when it is
  /// written).
  bool shapeGeneric = false;
  std::vector<int64_t> *recordHeuristics = nullptr;
  const std::vector<int64_t> *replayHeuristics = nullptr;
};

/// Collects layers while lowering one graph.
class LoweringContext {
public:
  explicit LoweringContext(LoweringOptions options) : options_(options) {}
  const LoweringOptions &options() const { return options_; }
  /// A function name unique in this engine, derived from the op: "k12_Relu".
  std::string kernelName(const Operation &op, const std::string &suffix = "");
  /// Adds a generated-kernel layer for `op` (inputs = op operands, outputs = op results unless given).
  void addKernel(const Operation &op, KernelLayer kernel, std::vector<const Value *> inputs = {},
                 std::vector<const Value *> outputs = {});
  void addLayer(Layer layer) { layers_.push_back(std::move(layer)); }
  std::vector<Layer> &layers() { return layers_; }
  const std::vector<Layer> &layers() const { return layers_; }
  /// `choice` of a speed heuristic (a variant correct at any size), or the choice recorded at the
  /// opt shape (LoweringOptions::replayHeuristics).
  bool heuristic(bool choice) { return heuristicValue(choice) != 0; }
  /// The same for a size (a tile edge) that is correct at any shape.
  int64_t heuristicValue(int64_t choice) {
    if (options_.replayHeuristics)
      return heuristicNext_ < options_.replayHeuristics->size() ? (*options_.replayHeuristics)[heuristicNext_++] : choice;
    if (options_.recordHeuristics)
      options_.recordHeuristics->push_back(choice);
    return choice;
  }
  /// The op currently being lowered (set by the driver), for names and locations.
  void setCurrent(const Operation *op, size_t index) {
    current_ = op;
    index_ = index;
    lowered_.insert(op);
  }
  /// `out` is `in` under another shape (Reshape and friends): no layer; the engine gives both
  /// the same bytes. Only for values the user cannot bind (not graph inputs or outputs).
  void addAlias(const Value *out, const Value *in) { aliases_[out] = in; }
  /// Whether `op` (being lowered) may write its result over operand `v`'s bytes: in-place results
  /// are on (LoweringOptions::inPlace), v has the
  /// result's type, the result is no graph output, and every name of v's bytes (v, its alias
  /// root, the root's other aliases) is an arena tensor made by a layer (no graph input or output,
  /// no constant) that `op` reads once in all and is the last to read (every other reader was
  /// lowered before it). The kernel must read each element of v before it writes that element of
  /// the result.
  bool canOverwrite(const Value *v, const Operation &op) const;
  /// The value whose bytes `v` shares (v itself when it is no alias).
  const Value *aliasRoot(const Value *v) const {
    for (auto it = aliases_.find(v); it != aliases_.end(); it = aliases_.find(v))
      v = it->second;
    return v;
  }

private:
  std::unordered_map<const Value *, const Value *> aliases_;
  std::unordered_set<const Operation *> lowered_; ///< ops lowered so far (layers run in this order)
  LoweringOptions options_;
  std::vector<Layer> layers_;
  const Operation *current_ = nullptr;
  size_t index_ = 0;
  size_t counter_ = 0;
  size_t heuristicNext_ = 0;
};

using LowerFn = Status (*)(const Operation &, LoweringContext &);

/// The cuDNN layer of infc.conv `op` with its whole epilogue fused (what the autotuner times when
/// the precision of a convolution is decided by timing, passes/QuantizeInt8Pass.cpp).
Expected<ConvLayer> fusedConvLayer(const Operation &op);

/// The cuBLASLt layer of a 16-bit (or f32) infc.matmul (bias, ReLU and residual in its epilogue
/// as lowering runs them) or onnx.MatMul: what quantize-fp8's timing compares the FP8 form with.
Expected<MatmulLayer> f16MatmulLayer(const Operation &op);

/// The op reading `v` when it is the only reader and `v` is not a graph output: the condition
/// for a fusion to absorb that op (v then never needs to exist in memory).
const Operation *soleUser(const Value *v);

/// The lowering function of an op kind, or nullptr if the op cannot run on the GPU yet.
LowerFn findLowering(OpKind kind);

// ---- Helpers for kernel generators (codegen/KernelUtil.cpp). ----

/// CUDA C storage type of a dtype ("float", "double", "unsigned short" for f16/bf16, ...).
std::string cudaStorageType(DType t);
/// Expression converting storage `expr` of dtype t to the compute type (float/double/int64).
std::string loadAs(DType t, const std::string &expr);
/// Element `expr` of storage type `t` as a float compute value of type `T` ("float", "double"):
/// loadAs, but 8- to 32-bit integers go through int (loadAs widens them to long long, and a
/// 64-bit integer to float conversion costs several instructions: the int8 inputs of quantized
/// chains and norms).
std::string loadAsFloat(DType t, const std::string &expr, const std::string &T);
/// Expression converting compute value `expr` to storage of dtype t.
std::string storeAs(DType t, const std::string &expr);
/// Expression storing float `expr` (already divided by its scale) quantized to `t`: int8 rounded
/// half to even and saturated to [-128, 127], e4m3 by its saturating conversion (QuantizeLinear
/// by a scalar scale, as fused chains and norms write it).
std::string storeQuantized(DType t, const std::string &expr);
/// Compute type used for dtype t in kernels: "double" for f64, "float" for other floats,
/// "long long" for signed ints, "unsigned long long" for unsigned ints, "bool" for bool.
std::string computeType(DType t);
/// Device helpers every kernel source may use (f16/bf16 conversions, index math). Prepended once
/// per module by the engine builder.
const std::string &kernelPrelude();
/// CUDA expression (float) of an epilogue activation applied to float expression `v`.
std::string activationExpr(const Activation &act, const std::string &v);
/// y = act(y [+ z]) in place, as its own kernel: the part of a conv or matmul epilogue that its
/// library call does not run.
void addEpilogueKernel(const Operation &op, LoweringContext &ctx, const Value *y, const Value *z, const Activation &act);
/// 1-D launch covering `n` threads with `threadsPerBlock`.
void launch1D(KernelLayer &k, int64_t n, uint32_t threadsPerBlock = 256);

} // namespace infc::codegen
