// quantize-int8-stem: an image network's first convolution (a float input of at most 4
// channels: ResNet's 7x7 stem) and the max pool after it become one INT8 convolution in the stem
// form (ConvAttrs, ir/InfcAttrs.h), after quantize-int8 and fuse-pool-quant:
//   pool_max(act(conv(x, w) + b)) {q_scale = ys}   (or the pool's only reader QuantizeLinear by ys)
//     ->  conv(x, w8, b / ys, s = xs * ws / ys) {x_scale = xs, pool_*}   (int8 result)
// With the image's layout_cast (NCHW -> NHWC) before it, the kernel reads the image itself
// (x_layout). The input is quantized as the kernel reads it (xs from its calibrated range), the weights per
// output channel (ws), the epilogue runs in the pooled result's units, and the max pool takes the
// int8 values (max commutes with the rounding). quantize-int8 leaves such convolutions to this
// pass (int8StemCandidate, passes/QuantUtil.h): cuDNN's INT8 kernels run 3-channel convolutions
// slowly, and the fused kernel (codegen/kernels/ConvInt8Stem.cpp) neither writes the
// convolution's result nor reads it back, nor needs a QuantizeLinear kernel for its input.
// A candidate it does not take stays f16 and says why; --layer-precision NAME:int8 makes that an
// error, and so does --strict-precision.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

#include <algorithm>

namespace infc {
namespace {

class QuantizeInt8StemPass final : public Pass {
public:
  std::string_view name() const override { return "quantize-int8-stem"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    INFC_RETURN_IF_ERROR(requireCalibratedRanges(ctx, "quantize-int8-stem"));
    Block &body = graph.body();
    bool changed = false;
    std::vector<std::string> strictFailures;
    // The candidates first: a rewrite erases the ops of its pattern (the pool, its quantization,
    // the layout cast), which a walk over the op list would visit after them.
    std::vector<Operation *> candidates;
    for (Operation *op : body.opPointers())
      if (int8StemCandidate(*op))
        candidates.push_back(op);
    for (Operation *op : candidates) {
      std::string node;
      std::string asked = askedPrecision(*op, ctx.layerPrecision, node);
      Operation *pool = soleUser(op->result());
      INFC_ASSIGN_OR_RETURN(PoolAttrs pa, PoolAttrs::read(*pool));
      std::vector<Operation *> pattern = {op, pool};
      std::optional<float> ys = pa.qScale;
      if (Operation *q = soleUser(pool->result()); !ys && q && scalarQuantization(*q) && q->operand(0) == pool->result() &&
                                                   q->result()->type().elem() == DType::I8) {
        ys = static_cast<float>(*scalarValue(q->operand(1)));
        pattern.push_back(q);
      }
      const double *xr = calibratedRange(ctx.int8Ranges, op->operand(0));
      std::string why;
      if (!asked.empty() && asked != "int8")
        why = "--layer-precision " + node + ":" + asked;
      else if (!ys)
        why = "INT8 runs it only with the max pool after it, whose result is not quantized here (no INT8 layer reads it)";
      else if (!xr)
        why = "no calibrated range for its input %" + op->operand(0)->name();
      if (!why.empty()) {
        op->attrs().set("precision", std::string(dtypeName(op->result()->type().elem())) + ": " + why);
        if (asked == "int8")
          return invalidArgument("--layer-precision " + node + ":int8: " + op->describe() + " cannot run in INT8: " + why);
        if (ctx.strictPrecision && asked.empty())
          strictFailures.push_back(op->describe() + ": " + why);
        continue;
      }
      rewrite(body, op, pattern, pa, int8ScaleOf(*xr), *ys);
      ++ctx.stat(name(), "stems-int8");
      changed = true;
    }
    if (!strictFailures.empty())
      return strictPrecisionError(strictFailures, "convolution", "f16", "INT8");
    return changed;
  }

private:
  static void rewrite(Block &body, Operation *op, const std::vector<Operation *> &pattern, const PoolAttrs &pa, float xs,
                      float ys) {
    Expected<ConvAttrs> read = ConvAttrs::read(*op); // int8StemCandidate read it already
    ConvAttrs a = *read;
    Int8ConvConstants cst = int8ConvConstants(body, op, xs, ys);
    std::vector<Value *> operands = {op->operand(0), cst.w, cst.bias, nullptr, cst.scale};
    a.outType = DType::I8;
    a.postMult = 1.0f;
    a.xScale = xs;
    a.poolKernel = pa.kernel;
    a.poolStrides = pa.strides;
    a.poolPads = pa.pads;
    // The image's layout_cast (NCHW -> NHWC, maybe to f16 with a zero channel) read through:
    // the kernel reads the NCHW image itself, rounds as the cast did and quantizes.
    std::vector<Operation *> ops = pattern;
    Operation *lc = op->operand(0)->definingOp();
    if (lc && lc->is(OpKind::InfcLayoutCast) && soleUser(lc->result()) == op) {
      Expected<LayoutCastAttrs> la = LayoutCastAttrs::read(*lc);
      DType in = lc->operand(0)->type().elem();
      if (la.isOk() && la->from == Layout::NCHW && la->to == Layout::NHWC && lc->operand(0)->type().rank() == 4 &&
          (in == DType::F32 || in == DType::F16 || in == DType::BF16)) {
        operands[0] = lc->operand(0);
        a.xNchw = true;
        a.xRound = (la->dtype == DType::F16 || la->dtype == DType::BF16) && la->dtype != in ? la->dtype : DType::Undefined;
        ops.insert(ops.begin(), lc);
      }
    }
    AttrMap attrs = op->attrs();
    a.write(attrs);
    attrs.set("precision", "int8: input scale " + formatScale(xs) + ", weight scales " + formatScale(cst.wMin) + ".." +
                               formatScale(cst.wMax) + " per channel, output int8 scale " + formatScale(ys));
    replacePattern(ops, OpKind::InfcConv, operands, std::move(attrs));
  }
};

} // namespace

std::unique_ptr<Pass> createQuantizeInt8StemPass() { return std::make_unique<QuantizeInt8StemPass>(); }

} // namespace infc
