// Small helpers to write generated kernels: signatures, index decomposition, loads/stores.
#pragma once

#include "codegen/Lowering.h"

#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace infc::codegen {

/// Row-major strides (in elements) of a static shape.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape);

/// Starts `extern "C" __global__ void NAME(const T0* __restrict__ in0, ..., TO* __restrict__ out0, ...) {`
/// and records the tensor arguments in `k`. Without `noAlias` the pointers are not `__restrict__`
/// (an output written over an input, see inPlaceOperand).
void beginKernel(std::ostringstream &src, KernelLayer &k, const std::vector<const Value *> &ins,
                 const std::vector<const Value *> &outs, bool noAlias = true);

/// The input of elementwise `op` (one of `ins`, each read at the output's index by the thread that
/// writes that element) that its result may be written over (LoweringContext::canOverwrite), or
/// nullptr. The caller emits the kernel without __restrict__ and then calls ctx.addAlias.
const Value *inPlaceOperand(const Operation &op, const LoweringContext &ctx, const std::vector<const Value *> &ins);

/// Emits code that decomposes flat index `flat` of `shape` into variables `<prefix>0..N-1`.
void emitUnravel(std::ostringstream &src, const std::string &flat, const std::vector<int64_t> &shape,
                 const std::string &prefix, const std::string &indent = "    ");

/// Ends a generated kernel: takes its source from `src`, launches it 1-D over `n` elements (n / 8
/// threads with `vector8`, emitVector8's path) and adds it as the layer of `op` reading `ins` and
/// writing `outs`.
void finish(const Operation &op, LoweringContext &ctx, KernelLayer k, std::ostringstream &src, int64_t n,
            std::vector<const Value *> ins, std::vector<const Value *> outs, bool vector8 = false);

/// The 8-elements-per-thread path of an elementwise kernel whose inputs `ins` (in0, in1, ...) each
/// have the output's shape or one element, and whose output `out` (out0) has `n` elements: when
/// n is a multiple of 8, every element type is 1, 2 or 4 bytes and every pointer that moves with
/// the element is 16-byte aligned (checked when the kernel runs), each thread loads 8 elements of
/// each input with vector loads, calls `element(inputs, output)` once per element (`inputs[i]` is
/// the storage expression of input i's element, `output` the storage lvalue to assign) and stores 8
/// results at once, then returns; otherwise the scalar loop that follows runs. Returns whether it
/// emitted the path: launch n / 8 threads then (the scalar loop strides over the grid).
/// Memory-bound kernels (dequantize, activation, quantize) on large matmul results run at 2-3x the
/// throughput of one element per thread (the H200, BERT-base's FFN). `anyCount`
/// (LoweringOptions::shapeGeneric, dim-fit engines): the path is emitted whatever n is, taken when
/// n % 8 == 0 as the kernel runs, so that the kernel is one at every shape.
/// A statement copying 8 elements of `esize` bytes from `from` to `to` (16-byte aligned pointers):
/// one uint2, one uint4 or two uint4 moves.
std::string vectorMove8(size_t esize, const std::string &to, const std::string &from);

bool emitVector8(std::ostringstream &src, const std::vector<const Value *> &ins, const Value *out, int64_t n,
                 const std::function<void(const std::vector<std::string> &inputs, const std::string &output)> &element,
                 bool anyCount = false);

/// C++ literal for a double in the compute type (keeps NaN/inf representable).
std::string floatLiteral(double v, bool isDouble);

} // namespace infc::codegen
