// GPU kernels against the reference interpreter, ggml test-backend-ops style: a table of
// single-op cases {op, attributes, operand shapes (runtime or constant)}; each builds an engine
// for the GPU present, runs it on random inputs and compares with interpret() on the same graph.
#include "compiler/Run.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"
#include "ir/OpHooks.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace infc;

namespace {

struct Operand {
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  bool constant = false;
  Tensor value; ///< used when set (otherwise random)
  bool absent = false; ///< an omitted optional operand
};

struct Case {
  const char *name;
  OpKind kind;
  std::vector<Operand> operands;
  AttrMap attrs;
  double rtol = 1e-4, atol = 1e-5;
  bool generatedDepthwise = false; ///< lower depthwise NHWC convs with the generated kernel
};

Tensor randomTensor(const Operand &o, std::mt19937 &rng) {
  if (o.value.valid())
    return o.value;
  Tensor t(o.dtype, o.shape);
  std::uniform_real_distribution<double> d(-2, 2);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setDouble(i, d(rng));
  return t;
}

void runCase(const Case &c) {
  INFO(c.name);
  std::mt19937 rng(17);
  Module m;
  Graph &g = m.addGraph("main");
  std::vector<Value *> operands;
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < c.operands.size(); ++i) {
    if (c.operands[i].absent) {
      operands.push_back(nullptr);
      continue;
    }
    Tensor t = randomTensor(c.operands[i], rng);
    if (c.operands[i].constant) {
      AttrMap a;
      a.set("value", t);
      operands.push_back(g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t.dtype(), t.shape())}, a, {},
                                         nullptr, {"c" + std::to_string(i)})->result());
    } else {
      operands.push_back(g.body().addArgument("in" + std::to_string(i), TensorType::fromStatic(t.dtype(), t.shape())));
      inputs.push_back(t);
    }
  }
  Operation *op = g.body().create(c.kind, operands, {TensorType::unranked(DType::Undefined)}, c.attrs, {}, nullptr, {"y"});
  REQUIRE(inferShapes(*op).isOk());
  g.addOutput("y", op->result());
  Expected<std::vector<Tensor>> want = interpret(*m.mainGraph(), inputs);
  if (!want.isOk())
    FAIL(want.status().message());
  Expected<std::vector<Tensor>> got = runModuleOnGpu(m, inputs, false, c.generatedDepthwise);
  if (!got.isOk())
    FAIL(got.status().message());
  double ratio = gputest::toleranceRatio(got->at(0), want->at(0), c.rtol, c.atol);
  // Where it differs: the first few elements out of tolerance.
  std::string where;
  if (!(ratio <= 1.0) && got->at(0).shape() == want->at(0).shape())
    for (int64_t i = 0, shown = 0; i < want->at(0).numElements() && shown < 4; ++i) {
      double g = got->at(0).getDouble(i), w = want->at(0).getDouble(i);
      if (std::fabs(g - w) > c.atol + c.rtol * std::fabs(w)) {
        where += " [" + std::to_string(i) + "] got " + std::to_string(g) + " want " + std::to_string(w) + ";";
        ++shown;
      }
    }
  INFO("first mismatches:" << where);
  CHECK(ratio <= 1.0);
}

Operand in(std::vector<int64_t> s) { return Operand{std::move(s)}; }
Operand in16(std::vector<int64_t> s, DType t = DType::F16) { return Operand{std::move(s), t}; }
const Operand kAbsent{{}, DType::F32, false, {}, true};
/// An f16 additive attention mask [1, 1, sq, sk]: 0, except row `deadRow` entirely -inf and,
/// from `maskFrom` on, the keys of every row.
Tensor attentionMask(int64_t sq, int64_t sk, int64_t deadRow, int64_t maskFrom, DType t = DType::F16) {
  Tensor m(t, {1, 1, sq, sk});
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < sk; ++j)
      m.setDouble(i * sk + j, i == deadRow || j >= maskFrom ? -INFINITY : 0.0);
  return m;
}
Operand cst(std::vector<int64_t> s) { return Operand{std::move(s), DType::F32, true}; }
Operand cval(Tensor t) { return Operand{t.shape(), t.dtype(), true, t}; }
AttrMap attrs(std::initializer_list<std::pair<const char *, Attribute>> kv) {
  AttrMap a;
  for (const auto &[k, v] : kv)
    a.set(k, v);
  return a;
}

} // namespace

TEST_CASE("GPU kernels match the reference interpreter", "[gpu]") {
  REQUIRE_GPU();
  std::vector<Case> cases = {
      {"add broadcast", OpKind::OnnxAdd, {in({2, 3, 4}), in({3, 1})}},
      {"gelu", OpKind::OnnxGelu, {in({64})}},
      {"softmax axis 1", OpKind::OnnxSoftmax, {in({2, 5, 7})}, attrs({{"axis", int64_t(1)}})},
      {"logsoftmax", OpKind::OnnxLogSoftmax, {in({3, 70})}},
      {"layernorm", OpKind::OnnxLayerNormalization, {in({4, 96}), cst({96}), cst({96})}},
      {"instancenorm", OpKind::OnnxInstanceNormalization, {in({2, 3, 5, 5}), cst({3}), cst({3})}},
      {"groupnorm (onnx, opset 21 form)", OpKind::OnnxGroupNormalization, {in({2, 6, 4, 3}), cst({6}), cst({6})},
       attrs({{"num_groups", int64_t(3)}})},
      // infc.norm, every kind; 16-bit data with f32 statistics.
      {"infc.norm layer f16 axis 1", OpKind::InfcNorm,
       {in16({3, 4, 40}), Operand{{4, 40}, DType::F16, true}, Operand{{4, 40}, DType::F16, true}},
       attrs({{"kind", std::string("layer")}, {"axis", int64_t(1)}, {"epsilon", 1e-3f}}), 1e-2, 1e-2},
      // Rows of 768 (the register path: 3 chunks of 8 per lane), of 2056 (past its 2048 limit: the
      // general loop) and of 136 (fewer chunks than lanes).
      {"infc.norm layer f16 rows of 768", OpKind::InfcNorm,
       {in16({9, 768}), Operand{{768}, DType::F16, true}, Operand{{768}, DType::F16, true}},
       attrs({{"kind", std::string("layer")}, {"axis", int64_t(-1)}, {"epsilon", 1e-5f}}), 1e-2, 1e-2},
      {"infc.norm layer f16 rows of 2056", OpKind::InfcNorm,
       {in16({3, 2056}), Operand{{2056}, DType::F16, true}, Operand{{2056}, DType::F16, true}},
       attrs({{"kind", std::string("layer")}, {"axis", int64_t(-1)}, {"epsilon", 1e-5f}}), 1e-2, 1e-2},
      {"infc.norm rms f32 rows of 136", OpKind::InfcNorm, {in({5, 136}), cst({136})},
       attrs({{"kind", std::string("rms")}, {"axis", int64_t(-1)}, {"epsilon", 1e-6f}})},
      {"infc.norm rms bf16, no bias", OpKind::InfcNorm, {in16({5, 130}, DType::BF16), Operand{{130}, DType::BF16, true}},
       attrs({{"kind", std::string("rms")}, {"axis", int64_t(-1)}, {"epsilon", 1e-6f}}), 3e-2, 3e-2},
      {"infc.norm instance f32", OpKind::InfcNorm, {in({2, 3, 7, 5}), cst({3}), cst({3})},
       attrs({{"kind", std::string("instance")}, {"epsilon", 1e-5f}})},
      {"infc.norm group f16, 4 groups of 2 channels", OpKind::InfcNorm,
       {in16({2, 8, 6, 6}), Operand{{8}, DType::F16, true}, Operand{{8}, DType::F16, true}},
       attrs({{"kind", std::string("group")}, {"num_groups", int64_t(4)}, {"epsilon", 1e-5f}}), 1e-2, 1e-2},
      {"batchnorm", OpKind::OnnxBatchNormalization,
       {in({2, 3, 4, 4}), cst({3}), cst({3}), cst({3}), cval(Tensor::fromF32({0.5f, 1.0f, 2.0f}, {3}))}},
      {"reduce mean axes 1,2", OpKind::OnnxReduceMean, {in({2, 3, 4, 5}), cval(Tensor::fromI64({1, 2}))}},
      {"reduce logsumexp", OpKind::OnnxReduceLogSumExp, {in({3, 8})}, attrs({{"keepdims", int64_t(0)}})},
      {"argmax", OpKind::OnnxArgMax, {in({4, 9})}, attrs({{"axis", int64_t(1)}})},
      {"maxpool 3x3 s2 p1", OpKind::OnnxMaxPool, {in({1, 2, 9, 9})},
       attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}})},
      {"avgpool count_include_pad", OpKind::OnnxAveragePool, {in({1, 2, 6, 6})},
       attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
              {"count_include_pad", int64_t(1)}})},
      // NHWC 16-bit pools (8 channels per thread) and a reduction over H, W of NHWC (a column
      // reduction: one thread per output, 4096 outputs and more).
      {"pool nhwc f16 max 3x3 s2 p1", OpKind::InfcPool, {in16({2, 9, 11, 16})},
       attrs({{"kind", std::string("max")}, {"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"layout", std::string("nhwc")}}), 1e-3, 1e-3},
      // The max pool writing its int8 quantization (fuse-pool-quant): inputs up to 1 by 1/200,
      // so some saturate at 127 and -128; one step for the float against double division.
      {"pool nhwc f16 max quantized (q_scale)", OpKind::InfcPool, {in16({2, 9, 11, 16})},
       attrs({{"kind", std::string("max")}, {"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"layout", std::string("nhwc")}, {"q_scale", 0.005f}}), 0.0, 1.0},
      {"pool nhwc bf16 avg count_include_pad ceil", OpKind::InfcPool, {in16({1, 7, 7, 24}, DType::BF16)},
       attrs({{"kind", std::string("avg")}, {"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"count_include_pad", int64_t(1)}, {"ceil_mode", int64_t(1)},
              {"layout", std::string("nhwc")}}), 2e-2, 2e-2},
      {"pool nhwc f16 avg excluding pads", OpKind::InfcPool, {in16({1, 6, 6, 8})},
       attrs({{"kind", std::string("avg")}, {"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
              {"layout", std::string("nhwc")}}), 1e-2, 1e-2},
      {"reduce mean nhwc H, W (columns)", OpKind::OnnxReduceMean, {in16({4, 7, 7, 1040}), cval(Tensor::fromI64({1, 2}))},
       {}, 1e-2, 1e-2},
      {"reduce max axis 1 (columns)", OpKind::OnnxReduceMax, {in({3, 50, 4096}), cval(Tensor::fromI64({1}))},
       attrs({{"keepdims", int64_t(0)}})},
      {"conv1d", OpKind::OnnxConv, {in({1, 3, 16}), cst({4, 3, 3}), cst({4})}},
      {"conv grouped", OpKind::OnnxConv, {in({1, 4, 8, 8}), cst({4, 1, 3, 3})},
       attrs({{"group", int64_t(4)}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}})},
      {"convtranspose s2", OpKind::OnnxConvTranspose, {in({1, 3, 5, 5}), cst({3, 2, 3, 3}), cst({2})},
       attrs({{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}})},
      {"matmul batched broadcast B", OpKind::OnnxMatMul, {in({2, 3, 4, 8}), cst({8, 5})}},
      {"transpose", OpKind::OnnxTranspose, {in({2, 3, 4})}, attrs({{"perm", std::vector<int64_t>{2, 0, 1}}})},
      {"slice negative step", OpKind::OnnxSlice,
       {in({6, 5}), cval(Tensor::fromI64({-1, 0})), cval(Tensor::fromI64({-7, 5})), cval(Tensor::fromI64({0, 1})),
        cval(Tensor::fromI64({-2, 2}))}},
      {"pad reflect", OpKind::OnnxPad, {in({3, 4}), cval(Tensor::fromI64({1, 2, 1, 2}))}, attrs({{"mode", std::string("reflect")}})},
      {"gather axis 1", OpKind::OnnxGather, {in({3, 5}), cval(Tensor::fromI64({4, -1, 0}))}, attrs({{"axis", int64_t(1)}})},
      {"gather elements", OpKind::OnnxGatherElements, {in({3, 4}), cval(Tensor::fromI64({0, 3, 1, 2, 2, 0, 1, 1, 3, 0, 0, 2}).reshaped({3, 4}))},
       attrs({{"axis", int64_t(1)}})},
      {"trilu lower k=1", OpKind::OnnxTrilu, {in({4, 5}), cval(Tensor::scalarI64(1))}, attrs({{"upper", int64_t(0)}})},
      {"depth to space CRD", OpKind::OnnxDepthToSpace, {in({1, 8, 2, 3})},
       attrs({{"blocksize", int64_t(2)}, {"mode", std::string("CRD")}})},
      {"resize linear half_pixel", OpKind::OnnxResize,
       {in({1, 2, 4, 5}), Operand{{0}, DType::F32, true, Tensor(DType::F32, {0})}, cval(Tensor::fromF32({1, 1, 2, 1.5f}, {4}))},
       attrs({{"mode", std::string("linear")}})},
      {"resize cubic align_corners", OpKind::OnnxResize,
       {in({1, 1, 5, 5}), Operand{{0}, DType::F32, true, Tensor(DType::F32, {0})}, cval(Tensor::fromF32({1, 1, 0.6f, 1.4f}, {4}))},
       attrs({{"mode", std::string("cubic")}, {"coordinate_transformation_mode", std::string("align_corners")}})},
      {"resize nearest asymmetric", OpKind::OnnxResize,
       {in({1, 2, 3, 3}), Operand{{0}, DType::F32, true, Tensor(DType::F32, {0})}, cval(Tensor::fromF32({1, 1, 2, 2}, {4}))},
       attrs({{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
              {"nearest_mode", std::string("floor")}})},
      // infc.attention: the warp kernel (f32, odd head sizes) and the tensor-core kernel (f16/bf16,
      // head size 16k <= 128), partial query and key tiles, masks, causal, packed qkv.
      {"attention f32 bhsd Dv != D", OpKind::InfcAttention, {in({2, 3, 10, 16}), in({2, 3, 12, 16}), in({2, 3, 12, 8})},
       attrs({{"scale", 0.25f}})},
      {"attention f32 bshd mask causal", OpKind::InfcAttention,
       {in({2, 12, 3, 20}), in({2, 12, 3, 20}), in({2, 12, 3, 20}), cval(attentionMask(12, 12, 99, 11, DType::F32))},
       attrs({{"scale", 0.2f}, {"layout", std::string("bshd")}, {"causal", int64_t(1)}})},
      {"attention f16 bhsd masked, dead row", OpKind::InfcAttention,
       {in16({2, 2, 70, 64}), in16({2, 2, 130, 64}), in16({2, 2, 130, 64}), cval(attentionMask(70, 130, 5, 120))},
       attrs({{"scale", 0.125f}, {"nan_to_zero", int64_t(1)}}), 2e-2, 2e-2},
      {"attention f16 bs3hd causal", OpKind::InfcAttention, {in16({2, 100, 3, 4, 64}), kAbsent, kAbsent},
       attrs({{"scale", 0.125f}, {"layout", std::string("bs3hd")}, {"causal", int64_t(1)}}), 2e-2, 2e-2},
      {"attention bf16 bshd D=32", OpKind::InfcAttention,
       {in16({1, 65, 2, 32}, DType::BF16), in16({1, 65, 2, 32}, DType::BF16), in16({1, 65, 2, 32}, DType::BF16)},
       attrs({{"scale", 0.18f}, {"layout", std::string("bshd")}}), 5e-2, 5e-2},
      // Depthwise NHWC 16-bit convolutions through the generated kernel (LoweringOptions::
      // generatedDepthwise); 7 output columns: a full tile of 4 and a partial one.
      {"depthwise nhwc f16 s2 bias residual relu6", OpKind::InfcConv,
       {in16({2, 9, 9, 16}), Operand{{16, 3, 3, 1}, DType::F16, true}, Operand{{16}, DType::F16, true}, in16({2, 5, 5, 16})},
       attrs({{"strides", std::vector<int64_t>{2, 2}}, {"dilations", std::vector<int64_t>{1, 1}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t(16)}, {"layout", std::string("nhwc")},
              {"act", std::string("clip")}, {"act_params", std::vector<float>{0.0f, 6.0f}}}), 1e-2, 1e-2, true},
      {"depthwise nhwc f16 s1 7 columns, through cuDNN", OpKind::InfcConv,
       {in16({2, 7, 7, 32}), Operand{{32, 3, 3, 1}, DType::F16, true}, Operand{{32}, DType::F16, true}},
       attrs({{"strides", std::vector<int64_t>{1, 1}}, {"dilations", std::vector<int64_t>{1, 1}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t(32)}, {"layout", std::string("nhwc")},
              {"act", std::string("relu")}}), 1e-2, 1e-2, false},
      {"depthwise nhwc f16 s1 7 columns", OpKind::InfcConv,
       {in16({2, 7, 7, 32}), Operand{{32, 3, 3, 1}, DType::F16, true}, Operand{{32}, DType::F16, true}},
       attrs({{"strides", std::vector<int64_t>{1, 1}}, {"dilations", std::vector<int64_t>{1, 1}},
              {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t(32)}, {"layout", std::string("nhwc")},
              {"act", std::string("relu")}}), 1e-2, 1e-2, true},
      {"depthwise nhwc bf16 dilated 5x5", OpKind::InfcConv,
       {in16({1, 11, 7, 24}, DType::BF16), Operand{{24, 5, 5, 1}, DType::BF16, true}},
       attrs({{"strides", std::vector<int64_t>{1, 1}}, {"dilations", std::vector<int64_t>{2, 1}},
              {"pads", std::vector<int64_t>{4, 2, 4, 2}}, {"group", int64_t(24)}, {"layout", std::string("nhwc")}}), 3e-2, 3e-2, true},
      // Layout casts: tiled batched transposes (partial tiles, 3-channel images), one converting.
      {"layout_cast nchw->nhwc f32->f16, 3 channels", OpKind::InfcLayoutCast, {in({2, 3, 17, 19})},
       attrs({{"from", std::string("nchw")}, {"to", std::string("nhwc")}, {"dtype", std::string("f16")}}), 1e-3, 1e-3},
      {"layout_cast nchw->nhwc f32->f16, 3 channels padded to 4", OpKind::InfcLayoutCast, {in({2, 3, 17, 19})},
       attrs({{"from", std::string("nchw")}, {"to", std::string("nhwc")}, {"dtype", std::string("f16")},
              {"pad_channels", int64_t(1)}}), 1e-3, 1e-3},
      {"layout_cast nchw->nhwc f16, 40 channels", OpKind::InfcLayoutCast, {in16({2, 40, 9, 33})},
       attrs({{"from", std::string("nchw")}, {"to", std::string("nhwc")}})},
      {"layout_cast nhwc->nchw f16, 5 channels", OpKind::InfcLayoutCast, {in16({3, 7, 40, 5})},
       attrs({{"from", std::string("nhwc")}, {"to", std::string("nchw")}})},
      {"layout_cast nhwc->nchw f16->f32", OpKind::InfcLayoutCast, {in16({1, 33, 2, 64})},
       attrs({{"from", std::string("nhwc")}, {"to", std::string("nchw")}, {"dtype", std::string("f32")}})},
      {"attention f16 D=128 with a row mask", OpKind::InfcAttention,
       {in16({1, 2, 64, 128}), in16({1, 2, 64, 128}), in16({1, 2, 64, 128}), cval(attentionMask(64, 64, 99, 40))},
       attrs({{"scale", 0.09f}}), 2e-2, 2e-2},
  };
  for (const Case &c : cases)
    runCase(c);
}

namespace {
/// Random int8 weights in [-127, 127] and positive per-channel scales in [lo, hi] (what
/// quantize-int8-stem makes), fixed seed.
Tensor randomInt8(std::vector<int64_t> shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-127, 127);
  Tensor t(DType::I8, std::move(shape));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.setInt(i, d(rng));
  return t;
}
Tensor randomFloats(int64_t n, double lo, double hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &f : v)
    f = static_cast<float>(d(rng));
  return Tensor::fromF32(v, {n});
}
AttrMap stemAttrs(std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> poolKernel,
                  std::vector<int64_t> poolStrides, std::vector<int64_t> poolPads, bool relu) {
  AttrMap a = attrs({{"strides", strides}, {"dilations", std::vector<int64_t>{1, 1}}, {"pads", pads}, {"layout", std::string("nhwc")},
                     {"x_scale", 0.02f}, {"pool_kernel", poolKernel}, {"pool_strides", poolStrides}, {"pool_pads", poolPads}});
  if (relu)
    a.set("act", std::string("relu"));
  return a;
}
} // namespace

// infc.conv's stem form (quantize-int8-stem): the input quantized as read (x_scale 0.02 of inputs
// in [-2, 2]: -100..100), int8 weights, the epilogue, the max pool of the int8 result, in one
// kernel (codegen/kernels/ConvInt8Stem.cpp). Scales put the results across the int8 range, some
// saturating; one step for the float epilogue against the reference's double. Odd image sizes:
// partial pooled tiles and windows over the edges.
TEST_CASE("GPU INT8 stem kernel matches the reference interpreter", "[gpu]") {
  REQUIRE_GPU();
  const std::vector<Case> cases = {
      {"stem 7x7 s2 p3, f16 x 4 channels, 64 out, relu, max pool 3x3 s2 p1", OpKind::InfcConv,
       {in16({2, 37, 29, 4}), cval(randomInt8({64, 7, 7, 4}, 1)), cval(randomFloats(64, -20, 20, 2)), kAbsent,
        cval(randomFloats(64, 2e-4, 2e-3, 3))},
       stemAttrs({2, 2}, {3, 3, 3, 3}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true), 0.0, 1.0},
      {"stem 3x3 s1 p1, f32 x 3 channels, 32 out, no bias or activation, max pool 2x2 s2", OpKind::InfcConv,
       {in({1, 19, 21, 3}), cval(randomInt8({32, 3, 3, 3}, 4)), kAbsent, kAbsent, cval(randomFloats(32, 1e-3, 8e-3, 5))},
       stemAttrs({1, 1}, {1, 1, 1, 1}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false), 0.0, 1.0},
      {"stem 5x5 s2 p2, bf16 x 1 channel, 128 out, relu, max pool 3x3 s1 p1", OpKind::InfcConv,
       {in16({1, 24, 20, 1}, DType::BF16), cval(randomInt8({128, 5, 5, 1}, 6)), cval(randomFloats(128, -5, 5, 7)), kAbsent,
        cval(randomFloats(128, 1e-3, 2e-2, 8))},
       stemAttrs({2, 2}, {2, 2, 2, 2}, {3, 3}, {1, 1}, {1, 1, 1, 1}, true), 0.0, 1.0},
      // The image's layout_cast folded in (x_layout nchw, x_dtype f16): 3 channels of f32 NCHW,
      // weights for 4 (the padding channel's weights nonzero here, so that a read of it shows).
      {"stem 7x7 s2 p3, f32 NCHW x 3 channels rounded to f16, 64 out, relu, max pool 3x3 s2 p1", OpKind::InfcConv,
       {in({2, 3, 45, 38}), cval(randomInt8({64, 7, 7, 4}, 9)), cval(randomFloats(64, -20, 20, 10)), kAbsent,
        cval(randomFloats(64, 2e-4, 2e-3, 11))},
       [] {
         AttrMap a = stemAttrs({2, 2}, {3, 3, 3, 3}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true);
         a.set("x_layout", std::string("nchw"));
         a.set("x_dtype", std::string("f16"));
         return a;
       }(),
       0.0, 1.0},
  };
  for (const Case &c : cases)
    runCase(c);
}
