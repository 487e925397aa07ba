#include "runtime/CudnnConv.h"

#include "runtime/CudaDriver.h"
#include "runtime/RuntimeImpl.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace infc::rt {

std::string cudnnCheck(cudnnStatus_t s, const std::string &what) {
  if (s == CUDNN_STATUS_SUCCESS)
    return "";
  return what + ": " + cudnnGetErrorString(s);
}

namespace {

constexpr int64_t kUidX = 1, kUidW = 2, kUidY = 3, kUidB = 4, kUidZ = 5, kUidS = 6, kUidPostMult = 7;

struct ActivationParams {
  cudnnPointwiseMode_t mode = CUDNN_POINTWISE_RELU_FWD;
  bool hasClip = false, hasSlope = false, isSwish = false;
  double clip[2] = {0, 0}, slope = 0;
};

bool cudnnTypeOf(int32_t dtype, cudnnDataType_t &out) {
  switch (dtype) {
  case 1: out = CUDNN_DATA_FLOAT; return true;
  case 10: out = CUDNN_DATA_HALF; return true;
  case 16: out = CUDNN_DATA_BFLOAT16; return true;
  case 3: out = CUDNN_DATA_INT8; return true;
  default: return false;
  }
}

/// Owns descriptors for one build() call and frees them with the plan.
struct Builder {
  std::vector<cudnnBackendDescriptor_t> &owned;
  std::string error;

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type) {
    cudnnBackendDescriptor_t d = nullptr;
    if (error.empty())
      error = cudnnCheck(cudnnBackendCreateDescriptor(type, &d), "cudnnBackendCreateDescriptor");
    if (d)
      owned.push_back(d);
    return d;
  }
  void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t n,
           const void *value) {
    if (error.empty())
      error = cudnnCheck(cudnnBackendSetAttribute(d, name, type, n, value),
                         "cudnnBackendSetAttribute(" + std::to_string(static_cast<int>(name)) + ")");
  }
  void finalize(cudnnBackendDescriptor_t d, const char *what) {
    if (error.empty())
      error = cudnnCheck(cudnnBackendFinalize(d), std::string("finalizing the ") + what);
  }

  cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t type, const std::vector<int64_t> &dims, bool nhwc,
                                  bool isVirtual) {
    std::vector<int64_t> strides(dims.size());
    // Packed strides: NCHW, or channels-last (N, then spatial, then C innermost).
    std::vector<size_t> order(dims.size());
    for (size_t i = 0; i < dims.size(); ++i)
      order[i] = i;
    if (nhwc && dims.size() > 2) {
      order.clear();
      order.push_back(0);
      for (size_t i = 2; i < dims.size(); ++i)
        order.push_back(i);
      order.push_back(1);
    }
    int64_t s = 1;
    for (size_t k = order.size(); k-- > 0;) {
      strides[order[k]] = s;
      s *= dims[order[k]];
    }
    cudnnBackendDescriptor_t t = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    int64_t alignment = 16;
    set(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type);
    set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, static_cast<int64_t>(dims.size()), dims.data());
    set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, static_cast<int64_t>(strides.size()), strides.data());
    set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment);
    set(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &isVirtual);
    finalize(t, "tensor descriptor");
    return t;
  }

  /// A float scalar passed by value at execution (a host pointer in the variant pack).
  cudnnBackendDescriptor_t scalarByValue(int64_t uid, size_t rank) {
    std::vector<int64_t> ones(rank, 1);
    cudnnDataType_t type = CUDNN_DATA_FLOAT;
    bool byValue = true;
    int64_t alignment = 16;
    cudnnBackendDescriptor_t t = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    set(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type);
    set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, static_cast<int64_t>(rank), ones.data());
    set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, static_cast<int64_t>(rank), ones.data());
    set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment);
    set(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &byValue);
    finalize(t, "by-value scalar");
    return t;
  }

  cudnnBackendDescriptor_t pointwise(cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t b,
                                     cudnnBackendDescriptor_t y, const ActivationParams *act = nullptr) {
    cudnnBackendDescriptor_t pw = make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    cudnnDataType_t prec = CUDNN_DATA_FLOAT;
    set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
    set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec);
    if (act && act->hasClip) { // ReLU with lower and upper clip: Clip(x, lo, hi), e.g. ReLU6
      set(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &act->clip[0]);
      set(pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &act->clip[1]);
    }
    if (act && act->hasSlope) // LeakyRelu: slope below zero
      set(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &act->slope);
    if (act && act->isSwish) { // SiLU is swish with beta 1
      double beta = 1.0;
      set(pw, CUDNN_ATTR_POINTWISE_SWISH_BETA, CUDNN_TYPE_DOUBLE, 1, &beta);
    }
    finalize(pw, "pointwise descriptor");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw);
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    if (b)
      set(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
    finalize(op, "pointwise operation");
    return op;
  }
};

/// "relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "swish" (x * sigmoid(x)), "leaky:ALPHA"
/// (ReLU with a lower slope) or "clip:LO:HI" (ReLU clipped to [LO, HI]).
bool activationMode(const std::string &act, ActivationParams &p) {
  p = ActivationParams{};
  auto number = [](const char *s, char stop, double &out) -> const char * {
    char *end = nullptr;
    out = std::strtod(s, &end);
    return end && end != s && *end == stop ? end : nullptr;
  };
  p.mode = CUDNN_POINTWISE_RELU_FWD;
  if (act.rfind("clip:", 0) == 0) {
    const char *mid = number(act.c_str() + 5, ':', p.clip[0]);
    if (!mid || !number(mid + 1, '\0', p.clip[1]) || !(p.clip[0] <= p.clip[1]))
      return false;
    p.hasClip = true;
    return true;
  }
  if (act.rfind("leaky:", 0) == 0) {
    p.hasSlope = true;
    return number(act.c_str() + 6, '\0', p.slope) != nullptr;
  }
  if (act == "relu") p.mode = CUDNN_POINTWISE_RELU_FWD;
  else if (act == "sigmoid") p.mode = CUDNN_POINTWISE_SIGMOID_FWD;
  else if (act == "tanh") p.mode = CUDNN_POINTWISE_TANH_FWD;
  else if (act == "gelu") p.mode = CUDNN_POINTWISE_GELU_FWD;
  else if (act == "gelu_tanh") p.mode = CUDNN_POINTWISE_GELU_APPROX_TANH_FWD;
  else if (act == "swish") { p.mode = CUDNN_POINTWISE_SWISH_FWD; p.isSwish = true; }
  else return false;
  return true;
}

} // namespace

ConvPlan::Owned::~Owned() {
  for (auto it = d.rbegin(); it != d.rend(); ++it)
    cudnnBackendDestroyDescriptor(*it);
}

ConvPlan::~ConvPlan() {
  for (auto it = owned_.rbegin(); it != owned_.rend(); ++it)
    cudnnBackendDestroyDescriptor(*it);
}

std::string ConvPlan::build(cudnnHandle_t handle, const ConvSpec &spec, int64_t engineId, const std::vector<int64_t> &knobs,
                            uint64_t maxWorkspace, std::vector<std::unique_ptr<ConvPlan>> *alternatives,
                            int32_t smCountTarget) {
  graphOwned_ = std::make_shared<Owned>();
  handle_ = handle;
  Builder b{graphOwned_->d, ""};
  cudnnDataType_t io, in, zType;
  if (!cudnnTypeOf(spec.dtype, io) || !cudnnTypeOf(spec.zDtype ? spec.zDtype : spec.dtype, zType))
    return "cuDNN convolution: unsupported dtype " + std::to_string(spec.dtype);
  if (spec.int8 && spec.transpose)
    return "cuDNN convolution: INT8 ConvTranspose is not supported";
  if (!spec.int8 && (io == CUDNN_DATA_INT8 || spec.zDtype))
    return "cuDNN convolution: int8 tensors need an INT8 convolution";
  in = spec.int8 ? CUDNN_DATA_INT8 : io;
  // Float epilogue tensors (bias, INT8 scale) are float32 in an INT8 convolution, y's type otherwise.
  cudnnDataType_t paramType = spec.int8 ? CUDNN_DATA_FLOAT : io;
  size_t sd = spec.xDims.size() - 2;
  hasBias_ = spec.hasBias;
  hasResidual_ = spec.hasResidual;
  hasScale_ = spec.int8;
  postMult_ = spec.int8 ? spec.postMult : 1.0f;
  bool fused = spec.int8 || spec.hasBias || spec.hasResidual || !spec.activation.empty();
  if (spec.transpose && fused)
    return "cuDNN convolution: epilogue fusion is not supported for ConvTranspose";

  int64_t nextVirtual = 100;
  cudnnBackendDescriptor_t x = b.tensor(kUidX, in, spec.xDims, spec.nhwc, false);
  cudnnBackendDescriptor_t w = b.tensor(kUidW, in, spec.wDims, spec.nhwc, false);
  // The convolution result is virtual when an epilogue follows; cuDNN keeps it in registers.
  cudnnDataType_t accType = spec.int8 ? CUDNN_DATA_INT32 : CUDNN_DATA_FLOAT;
  cudnnBackendDescriptor_t convOut = fused ? b.tensor(nextVirtual++, accType, spec.yDims, spec.nhwc, true)
                                           : b.tensor(kUidY, io, spec.yDims, spec.nhwc, false);

  cudnnBackendDescriptor_t conv = b.make(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  cudnnDataType_t comp = accType;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int64_t nsd = static_cast<int64_t>(sd);
  b.set(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
  b.set(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
  b.set(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &nsd);
  b.set(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, nsd, spec.dilations.data());
  b.set(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, nsd, spec.strides.data());
  b.set(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, nsd, spec.padsBegin.data());
  b.set(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, nsd, spec.padsEnd.data());
  b.finalize(conv, "convolution descriptor");

  float alpha = 1.0f, beta = 0.0f;
  std::vector<cudnnBackendDescriptor_t> ops;
  if (!spec.transpose) {
    cudnnBackendDescriptor_t op = b.make(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &convOut);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    b.finalize(op, "convolution operation");
    ops.push_back(op);
  } else {
    // ConvTranspose is the data gradient of a convolution: dx = conv_bwd_data(dy = x, w).
    cudnnBackendDescriptor_t op = b.make(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &convOut);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
    b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    b.finalize(op, "convolution backward-data operation");
    ops.push_back(op);
  }

  if (fused) {
    cudnnBackendDescriptor_t cur = convOut;
    std::vector<int64_t> biasDims(spec.yDims.size(), 1);
    biasDims[1] = spec.yDims[1];
    ActivationParams act;
    bool hasAct = !spec.activation.empty();
    if (hasAct && !activationMode(spec.activation, act))
      return "cuDNN convolution: unsupported activation '" + spec.activation + "'";
    // INT8 with a residual of another scale: y = postMult * act(...), the factor last (cuDNN 9.19
    // on sm_90 finalizes no INT8 graph that scales z in its add, POINTWISE_ALPHA2, and its engine
    // 11 crashes executing one that multiplies z by a by-value scalar first; docs/int8.md).
    bool post = spec.int8 && spec.postMult != 1.0f;
    int remaining = (spec.int8 ? 1 : 0) + (spec.hasResidual ? 1 : 0) + (spec.hasBias ? 1 : 0) + (hasAct ? 1 : 0) + (post ? 1 : 0);
    auto nextOut = [&]() {
      --remaining;
      return remaining == 0 ? b.tensor(kUidY, io, spec.yDims, spec.nhwc, false)
                            : b.tensor(nextVirtual++, CUDNN_DATA_FLOAT, spec.yDims, spec.nhwc, true);
    };
    if (spec.int8) { // the int32 accumulator times the per-channel scale (x's scale times w's)
      cudnnBackendDescriptor_t scale = b.tensor(kUidS, CUDNN_DATA_FLOAT, biasDims, spec.nhwc, false);
      cudnnBackendDescriptor_t out = nextOut();
      ops.push_back(b.pointwise(CUDNN_POINTWISE_MUL, cur, scale, out));
      cur = out;
    }
    if (spec.hasResidual) {
      cudnnBackendDescriptor_t z = b.tensor(kUidZ, zType, spec.yDims, spec.nhwc, false);
      cudnnBackendDescriptor_t out = nextOut();
      ops.push_back(b.pointwise(CUDNN_POINTWISE_ADD, cur, z, out));
      cur = out;
    }
    if (spec.hasBias) {
      cudnnBackendDescriptor_t bias = b.tensor(kUidB, paramType, biasDims, spec.nhwc, false);
      cudnnBackendDescriptor_t out = nextOut();
      ops.push_back(b.pointwise(CUDNN_POINTWISE_ADD, cur, bias, out));
      cur = out;
    }
    if (hasAct) {
      cudnnBackendDescriptor_t out = nextOut();
      ops.push_back(b.pointwise(act.mode, cur, nullptr, out, &act));
      cur = out;
    }
    if (post) {
      cudnnBackendDescriptor_t out = nextOut();
      ops.push_back(b.pointwise(CUDNN_POINTWISE_MUL, cur, b.scalarByValue(kUidPostMult, spec.yDims.size()), out));
    }
  }

  cudnnBackendDescriptor_t graph = b.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  b.set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(ops.size()), ops.data());
  b.set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
  b.finalize(graph, "operation graph");
  if (!b.error.empty())
    return b.error;

  // Candidate engine configs: the recorded one, or the heuristics' lists (mode A, then the
  // fallback list: mode A alone can come back with nothing that fits, e.g. at batch 256).
  std::vector<cudnnBackendDescriptor_t> configs;
  if (engineId >= 0) {
    cudnnBackendDescriptor_t engine = b.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
    b.set(engine, CUDNN_ATTR_ENGINE_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
    b.set(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &engineId);
    if (smCountTarget > 0)
      b.set(engine, CUDNN_ATTR_ENGINE_SM_COUNT_TARGET, CUDNN_TYPE_INT32, 1, &smCountTarget);
    b.finalize(engine, "recorded cuDNN engine");
    std::vector<cudnnBackendDescriptor_t> choices;
    for (size_t i = 0; i + 1 < knobs.size(); i += 2) {
      cudnnBackendDescriptor_t kc = b.make(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR);
      auto type = static_cast<cudnnBackendKnobType_t>(knobs[i]);
      b.set(kc, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &type);
      b.set(kc, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &knobs[i + 1]);
      b.finalize(kc, "knob choice");
      choices.push_back(kc);
    }
    cudnnBackendDescriptor_t cfg = b.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
    b.set(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &engine);
    if (!choices.empty())
      b.set(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(choices.size()),
            choices.data());
    b.finalize(cfg, "recorded engine config");
    if (!b.error.empty())
      return "recorded cuDNN tactic (engine " + std::to_string(engineId) + ") is not available: " + b.error +
             ": rebuild the engine";
    configs.push_back(cfg);
  } else {
    for (cudnnBackendHeurMode_t hm : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
      cudnnBackendDescriptor_t heur = b.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
      b.set(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
      b.set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &hm);
      if (smCountTarget > 0)
        b.set(heur, CUDNN_ATTR_ENGINEHEUR_SM_COUNT_TARGET, CUDNN_TYPE_INT32, 1, &smCountTarget);
      b.finalize(heur, "heuristics");
      if (!b.error.empty())
        return b.error;
      int64_t count = 0;
      if (std::string e = cudnnCheck(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                              CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
                                     "heuristic results");
          !e.empty())
        continue; // e.g. the fallback list is not available for this graph
      std::vector<cudnnBackendDescriptor_t> list(static_cast<size_t>(count));
      for (auto &c : list)
        c = b.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
      if (!b.error.empty())
        return b.error;
      int64_t got = 0;
      if (cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got,
                                   list.data()) != CUDNN_STATUS_SUCCESS)
        continue;
      list.resize(static_cast<size_t>(got));
      configs.insert(configs.end(), list.begin(), list.end());
    }
  }

  // Each distinct config becomes a plan; the fallback list repeats mode A's engines, and FP32
  // convolutions must stay FP32 unless a recorded tactic says otherwise (engines that run on
  // tensor cores (TF32) or down-convert inputs miss the reference by ~1e-3).
  std::vector<std::unique_ptr<ConvPlan>> plans;
  for (cudnnBackendDescriptor_t cfg : configs) {
    auto p = std::make_unique<ConvPlan>();
    p->graphOwned_ = graphOwned_;
    p->handle_ = handle_;
    p->hasBias_ = hasBias_;
    p->hasResidual_ = hasResidual_;
    p->hasScale_ = hasScale_;
    p->postMult_ = postMult_;
    if (!p->describe(cfg, io == CUDNN_DATA_FLOAT && engineId < 0))
      continue;
    bool repeated = std::any_of(plans.begin(), plans.end(), [&](const std::unique_ptr<ConvPlan> &q) {
      return q->engineId_ == p->engineId_ && q->knobs_ == p->knobs_;
    });
    if (!repeated)
      plans.push_back(std::move(p));
  }
  // Finalizing a plan is the slow part (cuDNN compiles runtime-fused kernels then, a tenth of a
  // second or more each): the autotuner's candidates finalize on several threads at once, the
  // way cuDNN's frontend builds plans by index in parallel. One plan: the first that finalizes.
  std::vector<char> ok(plans.size(), 0);
  if (alternatives && plans.size() > 1) {
    std::atomic<size_t> next{0};
    // The workers run in the caller's CUDA context (current per thread; cuDNN may load the
    // modules it compiles while finalizing).
    CUcontext ctx = nullptr;
    const CudaDriver &driver = cudaDriver();
    if (driver.loaded)
      driver.cuCtxGetCurrent(&ctx);
    auto work = [&] {
      if (ctx)
        driver.cuCtxSetCurrent(ctx);
      for (size_t i; (i = next.fetch_add(1)) < plans.size();)
        ok[i] = plans[i]->finalizePlan(maxWorkspace);
    };
    size_t n = std::min<size_t>(plans.size(), std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < n; ++t)
      pool.emplace_back(work);
    work();
    for (std::thread &t : pool)
      t.join();
  } else {
    for (size_t i = 0; i < plans.size() && !std::count(ok.begin(), ok.end(), 1); ++i)
      ok[i] = plans[i]->finalizePlan(maxWorkspace);
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    if (!ok[i])
      continue;
    if (!plan_)
      takeFrom(*plans[i]);
    else if (alternatives)
      alternatives->push_back(std::move(plans[i]));
    else
      break;
  }
  if (plan_)
    return "";
  return engineId >= 0 ? "recorded cuDNN tactic (engine " + std::to_string(engineId) +
                             ") does not finalize on this GPU/cuDNN: rebuild the engine"
                       : "cuDNN has no engine for this convolution within a " + std::to_string(maxWorkspace >> 20) +
                             " MiB workspace";
}

bool ConvPlan::describe(cudnnBackendDescriptor_t cfg, bool fp32Only) {
  cfg_ = cfg;
  cudnnBackendDescriptor_t eng = nullptr;
  if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) != CUDNN_STATUS_SUCCESS)
    return false;
  owned_.push_back(eng);
  int64_t got = 0;
  if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &got, &eng) !=
      CUDNN_STATUS_SUCCESS)
    return false;
  if (fp32Only) {
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    int64_t n = 0;
    if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                 CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n, notes) == CUDNN_STATUS_SUCCESS)
      for (int64_t i = 0; i < n; ++i)
        if (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS)
          return false;
  }
  // The tactic: engine global index and knob choices.
  if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &got, &engineId_) !=
      CUDNN_STATUS_SUCCESS)
    return false;
  std::vector<cudnnBackendDescriptor_t> kcs;
  for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; ++i) {
    cudnnBackendDescriptor_t kc = nullptr;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, &kc) != CUDNN_STATUS_SUCCESS)
      break;
    owned_.push_back(kc);
    kcs.push_back(kc);
  }
  int64_t nk = 0;
  knobs_.clear();
  if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                               static_cast<int64_t>(kcs.size()), &nk, kcs.data()) == CUDNN_STATUS_SUCCESS)
    for (int64_t i = 0; i < nk; ++i) {
      cudnnBackendKnobType_t type{};
      int64_t value = 0;
      cudnnBackendGetAttribute(kcs[static_cast<size_t>(i)], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &got,
                               &type);
      cudnnBackendGetAttribute(kcs[static_cast<size_t>(i)], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &got,
                               &value);
      knobs_.push_back(static_cast<int64_t>(type));
      knobs_.push_back(value);
    }
  return true;
}

bool ConvPlan::finalizePlan(uint64_t maxWorkspace) {
  cudnnBackendDescriptor_t plan = nullptr;
  if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan) != CUDNN_STATUS_SUCCESS)
    return false;
  owned_.push_back(plan);
  int64_t ws = 0, n = 0;
  if (cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle_) !=
          CUDNN_STATUS_SUCCESS ||
      cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg_) !=
          CUDNN_STATUS_SUCCESS ||
      cudnnBackendFinalize(plan) != CUDNN_STATUS_SUCCESS ||
      cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &ws) !=
          CUDNN_STATUS_SUCCESS ||
      static_cast<uint64_t>(ws) > maxWorkspace)
    return false;
  plan_ = plan;
  workspace_ = static_cast<uint64_t>(ws);
  return true;
}

void ConvPlan::takeFrom(ConvPlan &o) {
  std::swap(owned_, o.owned_);
  std::swap(plan_, o.plan_);
  std::swap(cfg_, o.cfg_);
  engineId_ = o.engineId_;
  knobs_ = o.knobs_;
  workspace_ = o.workspace_;
}

std::string ConvPlan::execute(cudnnHandle_t handle, void *x, void *w, void *y, void *b, void *z, void *workspace,
                              void *s) const {
  int64_t uids[7] = {kUidX, kUidW, kUidY, 0, 0, 0, 0};
  void *ptrs[7] = {x, w, y, nullptr, nullptr, nullptr, nullptr};
  int64_t n = 3;
  if (hasBias_) {
    uids[n] = kUidB;
    ptrs[n++] = b;
  }
  if (hasResidual_) {
    uids[n] = kUidZ;
    ptrs[n++] = z;
  }
  if (hasScale_) {
    uids[n] = kUidS;
    ptrs[n++] = s;
  }
  if (postMult_ != 1.0f) { // by value: cuDNN reads the float at this host address
    uids[n] = kUidPostMult;
    ptrs[n++] = const_cast<float *>(&postMult_);
  }
  cudnnBackendDescriptor_t pack = nullptr;
  if (std::string e = cudnnCheck(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack), "variant pack");
      !e.empty())
    return e;
  std::string err = cudnnCheck(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids),
                               "variant pack ids");
  if (err.empty())
    err = cudnnCheck(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs),
                     "variant pack pointers");
  if (err.empty())
    err = cudnnCheck(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace),
                     "variant pack workspace");
  if (err.empty())
    err = cudnnCheck(cudnnBackendFinalize(pack), "variant pack");
  if (err.empty())
    err = cudnnCheck(cudnnBackendExecute(handle, plan_, pack), "cudnnBackendExecute");
  cudnnBackendDestroyDescriptor(pack);
  return err;
}

std::string normalizeConvSpec(ConvSpec &spec) {
  if (spec.xDims.size() < 3 || spec.xDims.size() != spec.wDims.size() || spec.xDims.size() != spec.yDims.size())
    return "convolution tensors have inconsistent ranks";
  if (spec.xDims.size() == 3) {
    // cuDNN convolves 2-D and 3-D: a 1-D convolution is a 2-D one over a height of 1.
    for (auto *d : {&spec.xDims, &spec.wDims, &spec.yDims})
      d->insert(d->begin() + 2, 1);
    spec.padsBegin.insert(spec.padsBegin.begin(), 0);
    spec.padsEnd.insert(spec.padsEnd.begin(), 0);
    spec.strides.insert(spec.strides.begin(), 1);
    spec.dilations.insert(spec.dilations.begin(), 1);
  }
  return "";
}

// ---------------------------------------------------------------- runtime layer

namespace {
/// One convolution layer of a context. In a batch-loop engine its N follows the context's batch:
/// a plan per batch (the recorded tactic, or cuDNN's heuristic where that tactic does not take
/// the batch), made on first use and kept (up to kMaxShapePlans, oldest dropped first).
class ConvExec final : public LayerExec {
public:
  cudnnHandle_t handle = nullptr; ///< the context's (ContextHandles)
  ConvSpec spec;                  ///< N is one batch item's when `batched`
  bool batched = false;           ///< a plan per shape (batch-loop and dim-fit engines)
  /// Dim-fit engines: sets the dims of x, w and y at the dims' values.
  std::function<std::string(ConvSpec &, const ShapeKey &)> dimsAt;
  /// The recorded tactic per profile (one entry unless the engine records several).
  std::vector<std::pair<int64_t, std::vector<int64_t>>> tactics;
  uint64_t maxWorkspace = 0;
  int32_t smCount = 0; ///< the context's SM count target (0: every SM)
  std::shared_ptr<ConvPlan> plan;
  ShapeCache<std::shared_ptr<ConvPlan>> byShape;
  int x = -1, w = -1, y = -1, b = -1, z = -1, s = -1;

  /// The plan at `at` with profile `profile`'s tactic, or cuDNN's heuristic where that tactic does
  /// not take this batch.
  std::string build(const ConvSpec &at, int profile, std::shared_ptr<ConvPlan> &out) const {
    const auto &[engineId, knobs] = tactics[static_cast<size_t>(profile) < tactics.size() ? static_cast<size_t>(profile) : 0];
    out = std::make_shared<ConvPlan>();
    std::string err = out->build(handle, at, engineId, knobs, maxWorkspace, nullptr, smCount);
    // The recorded tactic may not take this batch, or an SM count target: cuDNN's heuristic then.
    if (!err.empty() && engineId >= 0 && (batched || smCount > 0)) {
      out = std::make_shared<ConvPlan>();
      err = out->build(handle, at, -1, {}, maxWorkspace, nullptr, smCount);
    }
    // cuDNN takes SM count targets for some graphs only (plain and conv-bias-activation
    // convolutions): the others run on every SM, as without a target.
    if (!err.empty() && smCount > 0) {
      out = std::make_shared<ConvPlan>();
      err = out->build(handle, at, engineId, knobs, maxWorkspace);
    }
    return err;
  }

  std::string setSmCount(int32_t sms) override {
    smCount = sms;
    byShape.clear();
    plan.reset();
    return batched ? "" : build(spec, 0, plan);
  }

  std::string setShape(const ShapeKey &shape, int profile) override {
    if (!batched)
      return "";
    return byShape.get(profile, shape, dimsAt != nullptr, plan, [&](std::shared_ptr<ConvPlan> &p) {
      ConvSpec at = spec;
      if (dimsAt) {
        if (std::string err = dimsAt(at, shape); !err.empty())
          return err;
      } else {
        at.xDims[0] *= shape[0];
        at.yDims[0] *= shape[0];
      }
      return build(at, profile, p);
    });
  }

  std::string enqueue(const TensorAddresses &addr, CUstream stream, CUdeviceptr workspace) override {
    if (!plan)
      return "no batch set";
    if (std::string e = cudnnCheck(cudnnSetStream(handle, reinterpret_cast<cudaStream_t>(stream)), "cudnnSetStream");
        !e.empty())
      return e;
    auto ptr = [&](int idx) { return idx < 0 ? nullptr : reinterpret_cast<void *>(addr[static_cast<size_t>(idx)]); };
    return plan->execute(handle, ptr(x), ptr(w), ptr(y), ptr(b), ptr(z), reinterpret_cast<void *>(workspace), ptr(s));
  }
  uint64_t workspaceBytes() const override { return plan ? plan->workspaceBytes() : 0; }
};

std::vector<int64_t> toVec(const flatbuffers::Vector<int64_t> *v) {
  return v ? std::vector<int64_t>(v->begin(), v->end()) : std::vector<int64_t>{};
}
} // namespace

std::string prepareCudnnConv(const DeviceEngine &engine, const fb::Layer &layer, ContextHandles &handles,
                             std::unique_ptr<LayerExec> &out) {
  const fb::CudnnConv *c = layer.impl_as_CudnnConv();
  const fb::Engine &e = engine.engine();
  // Dims of one batch item where the tensor grows with the batch (a dim-fit engine's are set per
  // shape).
  auto dims = [&](int idx) {
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
    std::vector<int64_t> d = toVec(t->shape());
    if (t->batch_dim0() > 0 && !d.empty())
      d[0] = t->batch_dim0();
    return d;
  };
  bool dimFit = isDimFit(e);
  ConvSpec spec;
  spec.xDims = dims(c->x());
  spec.wDims = dims(c->w());
  spec.yDims = dims(c->y());
  spec.padsBegin = toVec(c->pads_begin());
  spec.padsEnd = toVec(c->pads_end());
  spec.strides = toVec(c->strides());
  spec.dilations = toVec(c->dilations());
  spec.transpose = c->transpose();
  spec.hasBias = c->b() >= 0;
  spec.hasResidual = c->z() >= 0;
  spec.activation = c->activation() ? c->activation()->str() : "";
  spec.dtype = c->io_dtype();
  spec.nhwc = c->layout_nhwc();
  spec.int8 = c->s() >= 0;
  spec.zDtype = c->z_dtype();
  spec.postMult = c->post_mult();
  auto toLogical = [](ConvSpec &s) {
    if (s.nhwc) // the tensors hold physical (N, spatial..., C) shapes; cuDNN takes (N, C, spatial...)
      for (std::vector<int64_t> *d : {&s.xDims, &s.wDims, &s.yDims})
        if (d->size() >= 3)
          std::rotate(d->begin() + 1, d->end() - 1, d->end());
  };
  // A dim-fit engine's spec is completed (its dims, then normalized) per shape.
  if (!dimFit) {
    toLogical(spec);
    if (std::string err = normalizeConvSpec(spec); !err.empty())
      return err;
  }
  auto exec = std::make_unique<ConvExec>();
  exec->x = c->x(); exec->w = c->w(); exec->y = c->y(); exec->b = c->b(); exec->z = c->z(); exec->s = c->s();
  if (std::string err = handles.cudnn(exec->handle); !err.empty())
    return err;
  exec->spec = spec;
  exec->batched = e.tensors()->Get(static_cast<uint32_t>(c->x()))->batch_dim0() > 0 || dimFit;
  if (dimFit) {
    const fb::Tensor *tx = e.tensors()->Get(static_cast<uint32_t>(c->x())), *tw = e.tensors()->Get(static_cast<uint32_t>(c->w())),
                     *ty = e.tensors()->Get(static_cast<uint32_t>(c->y()));
    exec->dimsAt = [tx, tw, ty, toLogical](ConvSpec &at, const ShapeKey &atoms) {
      at.xDims = shapeAt(*tx, atoms);
      at.wDims = shapeAt(*tw, atoms);
      at.yDims = shapeAt(*ty, atoms);
      toLogical(at);
      return normalizeConvSpec(at);
    };
  }
  exec->tactics.push_back({c->engine_id(), toVec(c->knobs())});
  if (c->profile_tactics())
    for (const fb::ProfileTactic *t : *c->profile_tactics())
      exec->tactics.push_back({t->engine_id(), toVec(t->knobs())});
  exec->maxWorkspace = e.workspace_bytes();
  if (!exec->batched)
    if (std::string err = exec->build(spec, 0, exec->plan); !err.empty())
      return err;
  out = std::move(exec);
  return "";
}

} // namespace infc::rt
