#include "codegen/EngineBuilder.h"

#include "codegen/Autotuner.h"
#include "codegen/BatchLoop.h"
#include "codegen/EngineEmit.h"
#include "codegen/Nvrtc.h"
#include "codegen/kernels/ConvInt8.h"
#include "passes/MemoryPlanner.h"
#include "runtime/EngineReader.h"
#include "runtime/EngineWriter.h"

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace infc::codegen {

namespace {

struct TensorSlot {
  const Value *value = nullptr;
  std::string name;
  fb::TensorKind kind = fb::TensorKind::Activation;
  uint64_t offset = 0, bytes = 0;
  int64_t itemDim0 = 0; ///< batch-loop engines: dim 0 of one batch item when it grows with the batch
};

/// The engine's tensors: every value a layer touches, plus graph inputs and outputs.
struct EngineTensors {
  std::vector<TensorSlot> slots;
  std::unordered_map<const Value *, int> slotOf;
  std::vector<int> inputs, outputs;

  /// The slot of `v`, created on first use (weights for constants, inputs for graph arguments).
  int slotFor(const Value *v) {
    auto it = slotOf.find(v);
    if (it != slotOf.end())
      return it->second;
    TensorSlot s;
    s.value = v;
    s.name = v->name();
    s.bytes = static_cast<uint64_t>(*v->type().numElements()) * dtypeSize(v->type().elem());
    if (getConstantValue(v))
      s.kind = fb::TensorKind::Weight;
    else if (!v->definingOp())
      s.kind = fb::TensorKind::Input;
    slots.push_back(s);
    slotOf[v] = static_cast<int>(slots.size() - 1);
    return static_cast<int>(slots.size() - 1);
  }
};

struct ArenaPlan {
  MemoryPlan plan;
  uint64_t lowerBound = 0; ///< the largest sum of live bytes at any step
};

flatbuffers::Offset<fb::BuildInfo> buildInfo(flatbuffers::FlatBufferBuilder &fbb, const EngineBuildOptions &options) {
  std::string gpuName = options.gpuName.empty() ? "sm_" + std::to_string(options.lowering.smMajor) +
                                                      std::to_string(options.lowering.smMinor) + " target (no GPU at build time)"
                                                : options.gpuName;
  return fb::CreateBuildInfoDirect(fbb, INFC_VERSION, gpuName.c_str(), options.lowering.smMajor, options.lowering.smMinor,
                                   CUDA_VERSION, static_cast<int64_t>(cudnnGetVersion()),
                                   static_cast<int64_t>(cublasLtGetVersion()), options.optionsJson.c_str());
}

Status requireStatic(const Value &v, const std::string &modelPath) {
  if (v.type().isStatic())
    return Status::ok();
  return unsupported(modelPath + ": tensor '" + v.name() + "' has type " + v.type().str() +
                         ": engines need static shapes for now; fix the inputs' dims with --shapes");
}

} // namespace

Status lowerGraph(const Graph &graph, LoweringContext &ctx, const std::string &modelPath) {
  size_t index = 0, lowered = 0;
  std::vector<std::string> unsupportedOps;
  for (const auto &op : graph.body().ops()) {
    for (Value *r : op->results())
      INFC_RETURN_IF_ERROR(requireStatic(*r, modelPath));
    if (op->is(OpKind::OnnxConstant))
      continue;
    ++lowered;
    LowerFn fn = findLowering(op->kind());
    if (!fn) {
      unsupportedOps.push_back(modelPath + ": " + op->describe() + ": " + std::string(op->name()) +
                               " has no GPU kernel yet (see docs/operators.md)");
      continue;
    }
    ctx.setCurrent(op.get(), index++);
    size_t before = ctx.layers().size();
    Status s = fn(*op, ctx);
    // The reason assign-precision gave for keeping the op in f32, on every layer it became
    // (inspect shows it; infc.fused kernels add their members' reasons themselves).
    if (const Attribute *why = op->attrs().find("precision"); s.isOk() && why && std::holds_alternative<std::string>(*why))
      for (size_t i = before; i < ctx.layers().size(); ++i)
        if (Layer &l = ctx.layers()[i]; l.precision.find(std::get<std::string>(*why)) == std::string::npos)
          l.precision += "; " + std::get<std::string>(*why);
    if (s.code() == StatusCode::Unsupported)
      unsupportedOps.push_back(s.withPrefix(modelPath).message());
    else if (!s.isOk())
      return s.withPrefix(modelPath);
  }
  if (unsupportedOps.size() == 1)
    return unsupported(unsupportedOps[0]);
  if (!unsupportedOps.empty()) {
    std::string msg;
    for (const std::string &m : unsupportedOps)
      msg += m + "\nerror: ";
    return unsupported(msg + modelPath + ": " + std::to_string(unsupportedOps.size()) + " of " + std::to_string(lowered) +
                       " ops have no GPU kernel");
  }
  return Status::ok();
}

namespace {

Status collectTensors(const Graph &graph, LoweringContext &ctx, const EngineBuildOptions &options,
                      const std::string &modelPath, EngineTensors &t) {
  auto &slots = t.slots;
  auto slotFor = [&t](const Value *v) { return t.slotFor(v); };
  auto &inputs = t.inputs;
  auto &outputs = t.outputs;
  // Every value a layer touches, plus graph inputs and outputs.
  for (const auto &a : graph.body().arguments())
    inputs.push_back(slotFor(a.get()));
  for (const GraphOutput &o : graph.outputs()) {
    if (!o.value->definingOp() || getConstantValue(o.value))
      return unsupported(modelPath + ": graph output '" + o.name +
                         "' is a graph input or a constant; engines do not copy those yet");
    int s = slotFor(o.value);
    if (slots[s].kind == fb::TensorKind::Output)
      return unsupported(modelPath + ": graph output '" + o.name + "' repeats another output's value");
    slots[s].kind = fb::TensorKind::Output;
    slots[s].name = o.name; // engines expose the ONNX output names
    outputs.push_back(s);
  }
  for (Layer &l : ctx.layers()) {
    for (const Value *v : l.inputs)
      slotFor(v);
    for (const Value *v : l.outputs)
      slotFor(v);
  }
  // Large constants are weights even when no layer reads them directly (shapes baked into
  // kernels): the engine's reference IR refers to them by name.
  for (const auto &op : graph.body().ops())
    if (op->is(OpKind::OnnxConstant) && *op->result()->type().numElements() > options.inlineConstantElements)
      slotFor(op->result());

  return Status::ok();
}

ArenaPlan planArena(LoweringContext &ctx, EngineTensors &t) {
  auto &slots = t.slots;
  auto &slotOf = t.slotOf;
  auto slotFor = [&t](const Value *v) { return t.slotFor(v); };
  // Memory plan for arena tensors: lifetimes in layer steps. An alias (Reshape and friends)
  // shares its root's bytes: its uses extend the root's lifetime.
  for (const Layer &l : ctx.layers())
    for (const auto *list : {&l.inputs, &l.outputs})
      for (const Value *v : *list)
        slotFor(ctx.aliasRoot(v));
  auto planSlot = [&](const Value *v) { return slotOf[ctx.aliasRoot(v)]; };
  int64_t numSteps = static_cast<int64_t>(ctx.layers().size());
  std::vector<int64_t> first(slots.size(), INT64_MAX), last(slots.size(), -1);
  for (int64_t step = 0; step < numSteps; ++step) {
    const Layer &l = ctx.layers()[static_cast<size_t>(step)];
    for (const auto *list : {&l.outputs, &l.inputs})
      for (const Value *v : *list) {
        int s = planSlot(v);
        first[s] = std::min(first[s], step);
        last[s] = std::max(last[s], step);
      }
  }
  std::vector<BufferRequest> requests;
  std::vector<int> requestSlot;
  for (size_t s = 0; s < slots.size(); ++s) {
    if (slots[s].kind == fb::TensorKind::Weight || ctx.aliasRoot(slots[s].value) != slots[s].value)
      continue;
    int64_t f = first[s] == INT64_MAX ? 0 : first[s], la = std::max<int64_t>(last[s], f);
    if (slots[s].kind == fb::TensorKind::Input)
      f = -1; // written by the user before the first layer
    if (slots[s].kind == fb::TensorKind::Output)
      la = numSteps; // read by the user after the last layer
    requests.push_back({slots[s].bytes, f, la});
    requestSlot.push_back(static_cast<int>(s));
  }
  ArenaPlan arena;
  arena.plan = planMemory(requests, rt::kEngineAlignment);
  MemoryPlan &plan = arena.plan;
  // No plan can use less than the bytes live at the busiest step.
  uint64_t &lowerBound = arena.lowerBound;
  for (int64_t step = -1; step <= numSteps; ++step) {
    uint64_t live = 0;
    for (const BufferRequest &r : requests)
      if (r.first <= step && step <= r.last)
        live += r.bytes;
    lowerBound = std::max(lowerBound, live);
  }
  for (size_t r = 0; r < requests.size(); ++r)
    slots[static_cast<size_t>(requestSlot[r])].offset = plan.offsets[r];
  for (TensorSlot &s : slots)
    if (const Value *root = ctx.aliasRoot(s.value); root != s.value)
      s.offset = slots[static_cast<size_t>(slotOf[root])].offset;

  return arena;
}

void packWeights(EngineTensors &t, rt::EngineWriter &writer) {
  auto &slots = t.slots;
  // Weights into the blob (in tensor order: deterministic).
  for (TensorSlot &s : slots)
    if (s.kind == fb::TensorKind::Weight) {
      const Tensor *t = getConstantValue(s.value);
      s.offset = writer.addWeight(t->bytes(), t->byteSize());
    }

}

/// CUDA's limit on a kernel's parameters (bytes) for the targets infc builds for.
constexpr size_t kMaxKernelParamBytes = 4096;

Expected<CubinResult> compileKernels(LoweringContext &ctx, const EngineBuildOptions &options, const std::string &modelPath) {
  // One NVRTC module with every generated kernel.
  std::string source = kernelPrelude();
  bool anyKernel = false;
  for (const Layer &l : ctx.layers())
    if (const auto *k = std::get_if<KernelLayer>(&l.impl)) {
      if (k->args.size() * 8 > kMaxKernelParamBytes)
        return unsupported(modelPath + ": " + l.loc.describe() + ": layer " + l.name + " would take " +
                           std::to_string(k->args.size()) + " kernel parameters, more than CUDA allows (" +
                           std::to_string(kMaxKernelParamBytes / 8) + ")");
      source += "\n" + k->source;
      anyKernel = true;
    }
  if (!anyKernel)
    return CubinResult{};
  // For infc developers: INFC_DUMP_KERNELS=FILE writes the generated CUDA source NVRTC compiles
  // (docs/codegen.md). The engine does not depend on it.
  if (const char *dump = std::getenv("INFC_DUMP_KERNELS"); dump && *dump)
    if (FILE *f = std::fopen(dump, "wb")) {
      std::fwrite(source.data(), 1, source.size(), f);
      std::fclose(f);
    }
  Expected<CubinResult> all = compileToCubin(source, "infc_kernels.cu", options.lowering.smMajor, options.lowering.smMinor);
  if (all.isOk())
    return all;
  // Generated code must compile (this is an infc bug): name the layers whose kernels do not.
  std::string failing;
  for (const Layer &l : ctx.layers())
    if (const auto *k = std::get_if<KernelLayer>(&l.impl)) {
      Expected<CubinResult> one = compileToCubin(kernelPrelude() + "\n" + k->source, l.name + ".cu", options.lowering.smMajor,
                                                 options.lowering.smMinor);
      if (!one.isOk())
        failing += "\n  layer " + l.name + " (" + l.loc.describe() + "): " + one.status().message().substr(0, 600);
    }
  if (failing.empty())
    return all.status().withPrefix(modelPath);
  return internalError(modelPath + ": generated kernels do not compile (an infc bug; please report it):" + failing);
}

} // namespace

namespace {
/// The dtype of a convolution's residual when it differs from the result's (an int8 residual into
/// an f16 result, or the reverse), else 0: ConvSpec::zDtype and the engine's `z_dtype`.
int32_t residualDtype(const ConvLayer &c) {
  return c.z && c.z->type().elem() != c.y->type().elem() ? static_cast<int32_t>(c.z->type().elem()) : 0;
}
} // namespace

Expected<rt::ConvSpec> convSpecOf(const ConvLayer &c) {
  rt::ConvSpec spec;
  // cuDNN takes logical (N, C, spatial...) dims; strides carry the layout.
  int64_t rank = c.w->type().rank();
  std::vector<int64_t> toLogical = layoutInversePerm(c.nhwc ? Layout::NHWC : Layout::NCHW, rank);
  spec.xDims = permuted(c.x->type().staticShape(), toLogical);
  spec.wDims = permuted(c.w->type().staticShape(), toLogical);
  spec.yDims = permuted(c.y->type().staticShape(), toLogical);
  spec.nhwc = c.nhwc;
  spec.padsBegin = c.padsBegin;
  spec.padsEnd = c.padsEnd;
  spec.strides = c.strides;
  spec.dilations = c.dilations;
  spec.transpose = c.transpose;
  spec.hasBias = c.b != nullptr;
  spec.hasResidual = c.z != nullptr;
  spec.activation = c.activation;
  spec.dtype = static_cast<int32_t>(c.y->type().elem());
  spec.inPlace = c.inPlace;
  spec.int8 = c.s != nullptr;
  spec.postMult = c.postMult;
  spec.zDtype = residualDtype(c);
  if (std::string e = rt::normalizeConvSpec(spec); !e.empty())
    return internalError(e);
  return spec;
}

namespace {

/// The modeled time of a separate memory-bound kernel moving `bytes` (read plus written): 2 TB/s
/// plus 3 us of launch and tail (what fusing or not fusing it saves).
double separateKernelMs(double bytes) { return bytes / 2.0e12 * 1e3 + 0.003; }

} // namespace

Expected<Int8ConvTiming> timeInt8Conv(TacticSource &tactics, const Operation &op, const Int8ConvForm &form) {
  bool int8Out = form.int8Out, int8Residual = form.int8Residual;
  INFC_ASSIGN_OR_RETURN(ConvLayer layer, fusedConvLayer(op));
  INFC_ASSIGN_OR_RETURN(rt::ConvSpec f16, convSpecOf(layer));
  rt::ConvSpec q = f16;
  q.int8 = true;
  q.dtype = static_cast<int32_t>(int8Out ? DType::I8 : DType::F16);
  if (q.hasResidual && int8Residual != int8Out)
    q.zDtype = static_cast<int32_t>(int8Residual ? DType::I8 : DType::F16);
  // Only whether there is a factor after the activation shapes the graph (passes/QuantizeInt8Pass).
  q.postMult = q.hasResidual && (int8Residual || int8Out) ? 0.5f : 1.0f;
  INFC_ASSIGN_OR_RETURN(ConvTactic a, tactics.tuneConv(f16));
  INFC_ASSIGN_OR_RETURN(ConvTactic b, tactics.tuneConv(q));
  // A float input is quantized by a QuantizeLinear kernel of its own: f16 read, int8 written.
  Int8ConvTiming t;
  t.f16Ms = a.ms;
  t.int8Ms = b.ms;
  t.quantizeMs = separateKernelMs(3.0 * static_cast<double>(*op.operand(0)->type().numElements()));
  return t;
}

void useAutotuner(EngineBuildOptions &options, TacticSource *tuner, std::function<void(const std::string &)> log) {
  options.autotuner = tuner;
  options.lowering.int8ConvChoice = [tuner](const ConvLayer &c) {
    LoweringOptions::Int8ConvChoice choice;
    Expected<rt::ConvSpec> spec = convSpecOf(c);
    if (!spec.isOk())
      return choice;
    Expected<ConvTactic> t = tuner->tuneConv(*spec);
    if (t.isOk() && t->engineId == kGeneratedConvEngine && t->knobs.size() == 1 &&
        int8ConvTileFits(*spec, static_cast<size_t>(t->knobs[0]))) {
      choice.tile = t->knobs[0];
      choice.tactic = t->description;
    }
    return choice;
  };
  options.lowering.acceptConvFusion = [tuner, log](const ConvLayer &fused, const ConvLayer &base, size_t absorbedOps) {
    Expected<rt::ConvSpec> fs = convSpecOf(fused), bs = convSpecOf(base);
    if (!fs.isOk() || !bs.isOk())
      return false;
    Expected<ConvTactic> ft = tuner->tuneConv(*fs);
    if (!ft.isOk())
      return false;
    Expected<ConvTactic> bt = tuner->tuneConv(*bs);
    if (!bt.isOk())
      return true;
    // Unfused, each absorbed op is a kernel that reads and writes y (a residual add also reads
    // z): estimate it at 2 TB/s plus 3 us of launch and tail.
    double bytes = static_cast<double>(*base.y->type().numElements() * static_cast<int64_t>(dtypeSize(base.y->type().elem())));
    double perOp = separateKernelMs(2.0 * bytes);
    double separate = bt->ms + static_cast<double>(absorbedOps) * perOp + (fused.z ? bytes / 2.0e12 * 1e3 : 0.0);
    bool keep = ft->ms <= separate;
    if (log) {
      char buf[160];
      std::snprintf(buf, sizeof buf, ": fused %.4f ms against %.4f ms unfused (conv %.4f ms + %zu separate ops)", ft->ms,
                    separate, bt->ms, absorbedOps);
      log(std::string(keep ? "fused" : "did not fuse") + " the epilogue of the convolution writing %" + base.y->name() + buf);
    }
    return keep;
  };
}

namespace {

/// The cuBLASLt problem of a matmul layer: the fields its fb::CublasLtMatmul records, as the
/// runtime reads them back (so the tuner times exactly what the runtime will run).
rt::CublasLtProblem cublasLtProblemOf(const MatmulLayer &m) {
  rt::CublasLtProblem p;
  p.dtype = static_cast<int32_t>(m.d->type().elem());
  p.m = m.m;
  p.n = m.n;
  p.k = m.k;
  p.batch = m.batch;
  p.lda = m.lda;
  p.ldb = m.ldb;
  p.ldc = m.ldc;
  p.strideA = m.strideA;
  p.strideB = m.strideB;
  p.strideC = m.strideC;
  p.transA = m.transA;
  p.transB = m.transB;
  p.alpha = m.alpha;
  p.beta = m.beta;
  p.epilogue = m.epilogue;
  p.hasBias = m.bias != nullptr;
  p.hasC = m.c != nullptr;
  p.abDtype = m.abType == DType::Undefined ? 0 : static_cast<int32_t>(m.abType);
  p.fastAccum = m.fastAccum;
  return p;
}

} // namespace

Expected<std::pair<double, double>> timeQuantMatmul(TacticSource &tactics, const Operation &op, DType abType,
                                                    double extraBytes) {
  if (abType != DType::F8E4M3 && abType != DType::I8)
    return invalidArgument(op.describe() + ": quantized matmuls take e4m3 or int8, not " + std::string(dtypeName(abType)));
  INFC_ASSIGN_OR_RETURN(MatmulLayer layer, f16MatmulLayer(op));
  rt::CublasLtProblem f16 = cublasLtProblemOf(layer);
  // The quantized form: A and B in abType, B stored [N, K] (codegen/kernels/Matmul.cpp,
  // quantMatmulLayer). INT8 writes int8 and adds no residual (a kernel after it does).
  rt::CublasLtProblem q = f16;
  q.abDtype = static_cast<int32_t>(abType);
  q.fastAccum = abType == DType::F8E4M3;
  q.transB = true;
  q.ldb = q.k;
  if (abType == DType::I8) {
    q.dtype = static_cast<int32_t>(DType::I8);
    q.hasC = false;
    q.beta = 0.0f;
  }
  INFC_ASSIGN_OR_RETURN(MatmulTactic a, tactics.tuneMatmul(f16));
  INFC_ASSIGN_OR_RETURN(MatmulTactic b, tactics.tuneMatmul(q));
  return std::make_pair(a.ms, b.ms + (extraBytes > 0 ? separateKernelMs(extraBytes) : 0.0));
}

/// A dim expression's table.
static flatbuffers::Offset<fb::DimExpr> dimExprTable(flatbuffers::FlatBufferBuilder &fbb, const DimExpr &e) {
  std::vector<flatbuffers::Offset<fb::DimTerm>> terms;
  for (const DimTerm &t : e.terms) {
    std::vector<uint8_t> atoms(t.atoms.begin(), t.atoms.end());
    terms.push_back(fb::CreateDimTermDirect(fbb, t.coef, &atoms));
  }
  return fb::CreateDimExprDirect(fbb, &terms);
}

/// The engine's layers; tactics are timed here when the autotuner is set. `matmulWorkspace` is
/// the most workspace a timed cuBLASLt algorithm needs.
Expected<std::vector<flatbuffers::Offset<fb::Layer>>> serializeLayers(flatbuffers::FlatBufferBuilder &fbb, LoweringContext &ctx,
                                                                     EngineTensors &t, const EngineBuildOptions &options,
                                                                     const std::string &modelPath, bool &usesLibraries,
                                                                     uint64_t &matmulWorkspace, std::vector<std::string> &untuned,
                                                                     const DynamicLayers *dynamic, const DimFitSpec *dimFit) {
  auto &slotOf = t.slotOf;
  auto slotFor = [&t](const Value *v) { return t.slotFor(v); };
  std::vector<flatbuffers::Offset<fb::Layer>> fbLayers;
  usesLibraries = false;
  size_t libraryLayers = 0, libraryDone = 0;
  for (const Layer &l : ctx.layers())
    libraryLayers += !std::holds_alternative<KernelLayer>(l.impl);
  // "tune" when tactics are timed (or taken from a timing cache) here, else only "serialize".
  const char *stage = options.autotuner ? "tune" : "serialize";
  if (options.progress)
    options.progress(stage, 0, libraryLayers);
  for (size_t li = 0; li < ctx.layers().size(); ++li) {
    const Layer &l = ctx.layers()[li];
    const Layer &timedAs = dynamic ? (*dynamic->tuneAt)[li] : l;
    if (options.progress && !std::holds_alternative<KernelLayer>(l.impl))
      options.progress(stage, ++libraryDone, libraryLayers);
    std::vector<int32_t> in, out;
    for (const Value *v : l.inputs)
      in.push_back(slotOf[v]);
    for (const Value *v : l.outputs)
      out.push_back(slotOf[v]);
    std::vector<flatbuffers::Offset<flatbuffers::String>> nodes;
    for (const NodeRef &n : l.loc.nodes()) {
      std::string label = n.name; // unnamed nodes: "#12 (Relu)"
      if (label.empty()) {
        label = "#";
        label.append(std::to_string(n.index)).append(" (").append(n.opType).append(")");
      }
      nodes.push_back(fbb.CreateString(label));
    }
    fb::LayerImpl implType = fb::LayerImpl::NONE;
    flatbuffers::Offset<void> impl;
    std::string tacticText = l.tactic;
    if (const auto *k = std::get_if<KernelLayer>(&l.impl)) {
      const DimFitSpec::Kernel *fit = dimFit && dimFit->kernels[li] ? &*dimFit->kernels[li] : nullptr;
      std::vector<flatbuffers::Offset<fb::KernelArg>> args;
      for (size_t ai = 0; ai < k->args.size(); ++ai) {
        const KernelArg &a = k->args[ai];
        flatbuffers::Offset<fb::DimExpr> expr;
        if (fit && fit->args[ai])
          expr = dimExprTable(fbb, *fit->args[ai]);
        switch (a.kind) {
        case KernelArg::Kind::Tensor: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::TensorPtr, slotFor(a.value))); break;
        case KernelArg::Kind::I32: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::I32, -1, a.i, 0, expr)); break;
        case KernelArg::Kind::I64: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::I64, -1, a.i, 0, expr)); break;
        case KernelArg::Kind::F32: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::F32, -1, 0, a.f)); break;
        }
      }
      std::vector<flatbuffers::Offset<fb::GridExpr>> gridExprs;
      if (fit)
        for (const GridFit &g : fit->grid)
          gridExprs.push_back(fb::CreateGridExpr(fbb, dimExprTable(fbb, g.work), g.per, g.cap));
      std::vector<uint32_t> grid(k->grid.begin(), k->grid.end()), block(k->block.begin(), k->block.end());
      impl = fb::CreateKernelLaunchDirect(fbb, 0, k->function.c_str(), &grid, &block, k->sharedBytes, &args,
                                          dynamic && !dynamic->gridZ.empty() && dynamic->gridZ[li],
                                          fit ? &gridExprs : nullptr, fit && fit->dimsParam)
                 .Union();
      implType = fb::LayerImpl::KernelLaunch;
    } else if (const auto *c = std::get_if<ConvLayer>(&l.impl)) {
      usesLibraries = true;
      ConvTactic tactic;
      tactic.workspaceBytes = options.workspaceBytes;
      if (options.autotuner) {
        INFC_ASSIGN_OR_RETURN(rt::ConvSpec spec, convSpecOf(std::get<ConvLayer>(timedAs.impl)));
        Expected<ConvTactic> tuned = options.autotuner->tuneConv(spec);
        if (!tuned.isOk() && tuned.status().code() == StatusCode::NotFound) {
          untuned.push_back("layer " + l.name + " (" + l.loc.describe() + ")");
        } else if (!tuned.isOk()) {
          return tuned.status().withPrefix(modelPath + ": layer '" + l.name + "'");
        } else if (tuned->engineId == kGeneratedConvEngine) {
          // Timed fastest, but this layer was lowered for cuDNN (an engine form that cannot run
          // infc's own INT8 kernel): cuDNN's heuristic at load time.
          tacticText = "cuDNN heuristic at load time (fastest timed: " + tuned->description + ")";
        } else {
          tactic = *tuned;
          tacticText = tactic.description;
        }
      }
      std::vector<flatbuffers::Offset<fb::ProfileTactic>> profileTactics;
      if (dynamic)
        for (const std::vector<Layer> *at : dynamic->tuneAtProfiles) {
          ConvTactic pt;
          if (options.autotuner) {
            INFC_ASSIGN_OR_RETURN(rt::ConvSpec spec, convSpecOf(std::get<ConvLayer>((*at)[li].impl)));
            Expected<ConvTactic> tuned = options.autotuner->tuneConv(spec);
            if (!tuned.isOk() && tuned.status().code() != StatusCode::NotFound)
              return tuned.status().withPrefix(modelPath + ": layer '" + l.name + "'");
            if (tuned.isOk() && tuned->engineId != kGeneratedConvEngine)
              pt = *tuned;
          }
          profileTactics.push_back(fb::CreateProfileTacticDirect(fbb, pt.engineId, &pt.knobs, nullptr, pt.workspaceBytes));
        }
      impl = fb::CreateCudnnConvDirect(fbb, slotOf[c->x], slotOf[c->w], c->b ? slotOf[c->b] : -1, c->z ? slotOf[c->z] : -1,
                                       slotOf[c->y], static_cast<int32_t>(c->strides.size()), &c->padsBegin, &c->padsEnd,
                                       &c->strides, &c->dilations, 1, c->transpose, c->activation.c_str(),
                                       static_cast<int32_t>(c->y->type().elem()),
                                       static_cast<int32_t>(c->s ? DType::I32 : DType::F32),
                                       tactic.engineId, &tactic.knobs, tactic.workspaceBytes, c->nhwc,
                                       c->s ? slotOf[c->s] : -1, residualDtype(*c), c->postMult,
                                       dynamic && !profileTactics.empty() ? &profileTactics : nullptr)
                 .Union();
      implType = fb::LayerImpl::CudnnConv;
    } else if (const auto *m = std::get_if<MatmulLayer>(&l.impl)) {
      usesLibraries = true;
      // Untimed: no algorithm, and the runtime's heuristic may use up to the limit.
      std::vector<uint8_t> algo;
      uint64_t workspace = options.workspaceBytes;
      if (options.autotuner) {
        Expected<MatmulTactic> tuned = options.autotuner->tuneMatmul(cublasLtProblemOf(std::get<MatmulLayer>(timedAs.impl)));
        if (!tuned.isOk() && tuned.status().code() == StatusCode::NotFound) {
          untuned.push_back("layer " + l.name + " (" + l.loc.describe() + ")");
          tuned = MatmulTactic{{}, options.workspaceBytes, 0, l.tactic};
        } else if (!tuned.isOk()) {
          return tuned.status().withPrefix(modelPath + ": layer '" + l.name + "'");
        }
        algo = tuned->algo;
        workspace = tuned->workspaceBytes;
        matmulWorkspace = std::max(matmulWorkspace, workspace);
        tacticText = tuned->description;
      }
      std::vector<flatbuffers::Offset<fb::ProfileTactic>> profileTactics;
      if (dynamic)
        for (const std::vector<Layer> *at : dynamic->tuneAtProfiles) {
          std::vector<uint8_t> palgo;
          uint64_t pworkspace = options.workspaceBytes;
          if (options.autotuner) {
            Expected<MatmulTactic> tuned = options.autotuner->tuneMatmul(cublasLtProblemOf(std::get<MatmulLayer>((*at)[li].impl)));
            if (!tuned.isOk() && tuned.status().code() != StatusCode::NotFound)
              return tuned.status().withPrefix(modelPath + ": layer '" + l.name + "'");
            if (tuned.isOk()) {
              palgo = tuned->algo;
              pworkspace = tuned->workspaceBytes;
              matmulWorkspace = std::max(matmulWorkspace, pworkspace);
            }
          }
          profileTactics.push_back(fb::CreateProfileTacticDirect(fbb, -1, nullptr, &palgo, pworkspace));
        }
      std::vector<flatbuffers::Offset<fb::DimExpr>> mmDims;
      if (dimFit)
        for (const DimExpr &e : dimFit->matmuls[li])
          mmDims.push_back(dimExprTable(fbb, e));
      impl = fb::CreateCublasLtMatmulDirect(fbb, slotOf[m->a], slotOf[m->b], m->c ? slotOf[m->c] : -1, slotOf[m->d],
                                            m->bias ? slotOf[m->bias] : -1, m->m, m->n, m->k, m->batch, m->lda, m->ldb,
                                            m->ldc, m->strideA, m->strideB, m->strideC, m->transA, m->transB, m->alpha,
                                            m->beta, m->epilogue.c_str(), static_cast<int32_t>(m->d->type().elem()),
                                            static_cast<int32_t>(DType::F32), &algo, workspace,
                                            dynamic && !dynamic->matmulScale.empty() && dynamic->matmulScale[li].first,
                                            dynamic && !dynamic->matmulScale.empty() && dynamic->matmulScale[li].second,
                                            dynamic && !profileTactics.empty() ? &profileTactics : nullptr,
                                            m->abType == DType::Undefined ? 0 : static_cast<int32_t>(m->abType), m->fastAccum,
                                            dimFit ? &mmDims : nullptr)
                 .Union();
      implType = fb::LayerImpl::CublasLtMatmul;
    }
    fbLayers.push_back(fb::CreateLayer(fbb, fbb.CreateString(l.name), implType, impl, fbb.CreateVector(in),
                                       fbb.CreateVector(out), fbb.CreateVector(nodes), fbb.CreateString(tacticText),
                                       fbb.CreateString(l.precision)));
  }
  return fbLayers;
}

namespace {

/// The profiles' tables, for CreateEngineDirect (the engine's bytes as they always were: the same
/// creation order).
std::vector<flatbuffers::Offset<fb::Profile>> profileTable(flatbuffers::FlatBufferBuilder &fbb,
                                                          const std::vector<ProfileRanges> &profiles) {
  std::vector<flatbuffers::Offset<fb::Profile>> fbProfiles;
  for (const ProfileRanges &p : profiles) {
    std::vector<flatbuffers::Offset<fb::ProfileInput>> ranges;
    for (const ProfileRange &r : p)
      ranges.push_back(fb::CreateProfileInputDirect(fbb, r.name.c_str(), &r.min, &r.opt, &r.max));
    fbProfiles.push_back(fb::CreateProfileDirect(fbb, &ranges));
  }
  return fbProfiles;
}

/// The constants a reference IR refers to by name (compiler/EngineReference: those over
/// inlineConstantElements), as weights, in graph order.
Status addReferenceWeights(const Block &block, const EngineBuildOptions &options, rt::EngineWriter &writer,
                           std::vector<flatbuffers::Offset<fb::Tensor>> &tensors,
                           const std::function<bool(const Value *)> &present = {}) {
  flatbuffers::FlatBufferBuilder &fbb = writer.builder();
  for (const auto &op : block.ops()) {
    for (const Value *v : op->results())
      if (const Tensor *c = getConstantValue(v); c && c->numElements() > options.inlineConstantElements && !(present && present(v))) {
        uint64_t offset = writer.addWeight(c->bytes(), c->byteSize());
        std::vector<int64_t> shape = c->shape();
        tensors.push_back(fb::CreateTensorDirect(fbb, v->name().c_str(), static_cast<int32_t>(c->dtype()), &shape,
                                                 fb::TensorKind::Weight, offset, c->byteSize()));
      }
    for (size_t r = 0; r < op->numRegions(); ++r)
      INFC_RETURN_IF_ERROR(addReferenceWeights(op->region(r), options, writer, tensors, present));
  }
  return Status::ok();
}

} // namespace

Expected<EngineBuildResult> emitEngine(const Graph &graph, LoweringContext &ctx, const EngineBuildOptions &options,
                                       const std::string &modelPath, const DynamicSpec *dynamic) {
  auto stage = [&](const char *name) {
    if (options.progress)
      options.progress(name, 0, 0);
  };
  EngineTensors t;
  INFC_RETURN_IF_ERROR(collectTensors(graph, ctx, options, modelPath, t));
  ArenaPlan arena;
  const DimFitSpec *dimFit = dynamic ? dynamic->dimFit : nullptr;
  if (dynamic && dynamic->classes) {
    // Every tensor that grows with the batch is planned at the largest batch of any profile.
    std::vector<uint64_t> itemBytes;
    for (TensorSlot &s : t.slots) {
      itemBytes.push_back(s.bytes);
      if (auto it = dynamic->classes->itemDim0.find(s.value); it != dynamic->classes->itemDim0.end()) {
        s.itemDim0 = it->second;
        s.bytes = dynamic->classes->itemBytes(s.value) * static_cast<uint64_t>(dynamic->maxBatch);
        itemBytes.back() = s.bytes / static_cast<uint64_t>(dynamic->maxBatch);
      }
    }
    arena = planArena(ctx, t);
    for (size_t i = 0; i < t.slots.size(); ++i)
      t.slots[i].bytes = itemBytes[i];
  } else {
    arena = planArena(ctx, t);
  }
  rt::EngineWriter writer;
  packWeights(t, writer);
  stage("compile kernels");
  Expected<CubinResult> compiledOr = compileKernels(ctx, options, modelPath);
  // A dim-fit engine's kernels with a constant turned into an expression where C++ wants a
  // constant (an array size) do not compile: the model then gets no GPU layers, not an error.
  if (dimFit && !compiledOr.isOk() && compiledOr.status().code() == StatusCode::Internal)
    return unsupported(modelPath + ": generated kernels do not compile with their dims as arguments (" +
                       compiledOr.status().message().substr(0, 400) + ")");
  INFC_ASSIGN_OR_RETURN(CubinResult compiled, std::move(compiledOr));
  const std::string &cubin = compiled.cubin;

  flatbuffers::FlatBufferBuilder &fbb = writer.builder();
  std::vector<flatbuffers::Offset<fb::Tensor>> fbTensors;
  for (const TensorSlot &s : t.slots) {
    std::vector<int64_t> shape = s.value->type().staticShape();
    if (s.itemDim0)
      shape[0] = -1;
    std::vector<flatbuffers::Offset<fb::DimExpr>> dims;
    if (dimFit)
      if (auto it = dimFit->shapes.find(s.value); it != dimFit->shapes.end())
        for (size_t d = 0; d < it->second.size(); ++d) {
          dims.push_back(dimExprTable(fbb, it->second[d]));
          if (!it->second[d].isConstant())
            shape[d] = -1;
        }
    fbTensors.push_back(fb::CreateTensorDirect(fbb, s.name.c_str(), static_cast<int32_t>(s.value->type().elem()), &shape,
                                               s.kind, s.offset, s.bytes, s.itemDim0, dims.empty() ? nullptr : &dims));
  }
  if (dynamic) {
    // A reference constant named as a GPU weight is that weight (the caller names it so only
    // when the bytes are the same): stored once. Any other name clash is an infc bug.
    std::unordered_map<std::string, const TensorSlot *> byName;
    for (const TensorSlot &s : t.slots)
      byName[s.name] = &s;
    Status clash = Status::ok();
    auto present = [&](const Value *v) {
      auto it = byName.find(v->name());
      if (it == byName.end())
        return false;
      const Tensor *mine = getConstantValue(v), *theirs = getConstantValue(it->second->value);
      if (it->second->kind != fb::TensorKind::Weight || !theirs || theirs->dtype() != mine->dtype() ||
          theirs->shape() != mine->shape() || std::memcmp(theirs->bytes(), mine->bytes(), mine->byteSize()) != 0)
        clash = internalError(modelPath + ": the reference IR's constant '" + v->name() + "' has a GPU tensor's name");
      return true;
    };
    INFC_RETURN_IF_ERROR(addReferenceWeights(dynamic->reference->body(), options, writer, fbTensors, present));
    INFC_RETURN_IF_ERROR(clash);
  }
  bool usesLibraries = false;
  uint64_t matmulWorkspace = 0;
  std::vector<std::string> untuned;
  INFC_ASSIGN_OR_RETURN(std::vector<flatbuffers::Offset<fb::Layer>> fbLayers,
                        serializeLayers(fbb, ctx, t, options, modelPath, usesLibraries, matmulWorkspace, untuned,
                                        dynamic ? &dynamic->layers : nullptr, dimFit));
  std::vector<flatbuffers::Offset<fb::Module>> modules;
  if (!cubin.empty()) {
    auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t *>(cubin.data()), cubin.size());
    modules.push_back(fb::CreateModule(fbb, fbb.CreateString("infc_kernels"), bytes));
  }
  std::vector<flatbuffers::Offset<fb::Profile>> fbProfiles;
  if (dynamic)
    fbProfiles = profileTable(fbb, *dynamic->profiles);
  std::vector<flatbuffers::Offset<fb::DimAtom>> atoms;
  if (dimFit)
    for (const DimAtom &a : dimFit->atoms)
      atoms.push_back(fb::CreateDimAtomDirect(fbb, a.input, a.axis, a.offset, a.divisor, a.name.c_str()));
  auto info = buildInfo(fbb, options);
  auto root = fb::CreateEngineDirect(fbb, info, &fbTensors, &t.inputs, &t.outputs, &fbLayers, &modules, arena.plan.totalBytes,
                                     usesLibraries ? std::max(options.workspaceBytes, matmulWorkspace) : 0,
                                     writer.weightBytes(), options.referenceIr.c_str(), arena.lowerBound,
                                     dynamic ? &fbProfiles : nullptr, dynamic ? dynamic->maxBatch : 0,
                                     dimFit ? &atoms : nullptr);
  EngineBuildResult result;
  result.numLayers = ctx.layers().size();
  result.arenaBytes = arena.plan.totalBytes;
  result.weightBytes = writer.weightBytes();
  result.nvrtcLog = std::move(compiled.log);
  result.untuned = std::move(untuned);
  result.bytes = writer.finish(root);
  // The reader's own checks on what we are about to hand out: an engine infc writes is one infc
  // loads (sizes that wrap, empty matrices and the like fail here, naming the model).
  if (std::string e = rt::EngineView::verify(result.bytes); !e.empty())
    return internalError(modelPath + ": the engine built fails the engine verifier (" + e + "); nothing was written");
  return result;
}

Expected<EngineBuildResult> buildEngine(const Module &module, const EngineBuildOptions &options, const std::string &modelPath) {
  const Graph *graph = module.mainGraph();
  if (!graph)
    return invalidArgument(modelPath + ": no graph");
  for (const auto &a : graph->body().arguments())
    INFC_RETURN_IF_ERROR(requireStatic(*a, modelPath));
  if (options.progress)
    options.progress("lower", 0, 0);
  LoweringContext ctx(options.lowering);
  INFC_RETURN_IF_ERROR(lowerGraph(*graph, ctx, modelPath));
  return emitEngine(*graph, ctx, options, modelPath, nullptr);
}

LoweringOptions ConvFusionReplay::recording(const LoweringOptions &base) {
  LoweringOptions o = base;
  if (base.acceptConvFusion)
    o.acceptConvFusion = [this, decide = base.acceptConvFusion](const ConvLayer &f, const ConvLayer &b, size_t n) {
      decisions_.push_back(decide(f, b, n));
      return bool(decisions_.back());
    };
  return o;
}

LoweringOptions ConvFusionReplay::replaying(const LoweringOptions &base) const {
  LoweringOptions o = base;
  if (base.acceptConvFusion)
    o.acceptConvFusion = [this, next = size_t(0)](const ConvLayer &, const ConvLayer &, size_t) mutable {
      return next < decisions_.size() && decisions_[next++];
    };
  return o;
}

namespace {

/// Layers of `a` and `b` (the same model lowered at two batches) are the same kernels and calls.
Status sameLayers(const LoweringContext &a, const LoweringContext &b, const std::string &what, const std::string &modelPath) {
  auto differ = [&](const std::string &detail) {
    return unsupported(modelPath + ": the model lowers to other layers at " + what + " than at batch 1 (" + detail +
                       "), so one set of GPU layers cannot serve every batch");
  };
  const auto &la = a.layers(), &lb = b.layers();
  if (la.size() != lb.size())
    return differ(std::to_string(lb.size()) + " layers against " + std::to_string(la.size()));
  for (size_t i = 0; i < la.size(); ++i) {
    const Layer &x = la[i], &y = lb[i];
    bool same = x.impl.index() == y.impl.index() && x.inputs.size() == y.inputs.size() && x.outputs.size() == y.outputs.size();
    // Generated kernels may take another variant at another batch (a reduction over more
    // outputs, say): the batch-1 kernel runs each item whatever the others chose.
    if (same)
      if (const auto *c = std::get_if<ConvLayer>(&x.impl)) {
        const auto &c2 = std::get<ConvLayer>(y.impl);
        same = c->activation == c2.activation && !c->b == !c2.b && !c->z == !c2.z && !c->s == !c2.s && c->nhwc == c2.nhwc &&
               c->inPlace == c2.inPlace;
      }
    if (same)
      if (const auto *m = std::get_if<MatmulLayer>(&x.impl)) {
        const auto &m2 = std::get<MatmulLayer>(y.impl);
        same = m->epilogue == m2.epilogue && !m->bias == !m2.bias && !m->c == !m2.c && m->transA == m2.transA &&
               m->transB == m2.transB;
      }
    if (!same)
      return differ("layer " + std::to_string(i) + ", " + x.name + " against " + y.name);
  }
  return Status::ok();
}

/// Whether matmul field `one` (at batch 1) is one item's (it doubles at batch 2) or fixed;
/// anything else cannot be set from the batch.
Expected<bool> itemField(int64_t one, int64_t two, const char *field, const Layer &l, const std::string &modelPath) {
  if (two == one)
    return false;
  if (two == 2 * one)
    return true;
  return unsupported(modelPath + ": layer " + l.name + " (" + l.loc.describe() + "): its cuBLASLt " + field + " is " +
                     std::to_string(one) + " at batch 1 and " + std::to_string(two) + " at batch 2");
}

} // namespace

Expected<EngineBuildResult> buildBatchLoopEngine(const BatchLoopModules &m, const std::vector<ProfileRanges> &profiles,
                                                 const EngineBuildOptions &options, const std::string &modelPath) {
  const Graph *g1 = m.one->mainGraph(), *g2 = m.two->mainGraph(), *gOpt = m.opt->mainGraph();
  if (!g1 || !g2 || !gOpt || !m.reference || !m.reference->mainGraph())
    return invalidArgument(modelPath + ": no graph");
  if (m.maxBatch > 65535) // grid.z's limit
    return unsupported(modelPath + ": a batch of " + std::to_string(m.maxBatch) + " is more than GPU layers loop over (65535)");
  INFC_ASSIGN_OR_RETURN(BatchClasses classes, classifyBatch(*g1, *g2, modelPath));
  if (options.progress)
    options.progress("lower", 0, 0);
  // Convolution fusions are decided (timed) once, at the batch tactics are timed at, and the same
  // decisions are replayed at batches 1 and 2.
  ConvFusionReplay fusions;
  LoweringContext ctxOpt(fusions.recording(options.lowering));
  INFC_RETURN_IF_ERROR(lowerGraph(*gOpt, ctxOpt, modelPath));
  // Batch 1 and 2 always get contexts of their own (batch 1's kernels are rewritten); a profile's
  // opt batch reuses the lowering of a graph already lowered (the caller optimizes each batch once).
  std::vector<std::unique_ptr<LoweringContext>> at;
  std::unordered_map<const Graph *, const LoweringContext *> loweredAt{{gOpt, &ctxOpt}};
  auto lower = [&](const Graph *g) -> Expected<LoweringContext *> {
    at.push_back(std::make_unique<LoweringContext>(fusions.replaying(options.lowering)));
    INFC_RETURN_IF_ERROR(lowerGraph(*g, *at.back(), modelPath));
    loweredAt.emplace(g, at.back().get());
    return at.back().get();
  };
  INFC_ASSIGN_OR_RETURN(LoweringContext *lowered1, lower(g1));
  INFC_ASSIGN_OR_RETURN(LoweringContext *lowered2, lower(g2));
  LoweringContext &ctx1 = *lowered1, &ctx2 = *lowered2;
  INFC_RETURN_IF_ERROR(sameLayers(ctx1, ctx2, "batch 2", modelPath));
  INFC_RETURN_IF_ERROR(sameLayers(ctx1, ctxOpt, "batch " + std::to_string(m.optBatch), modelPath));
  std::vector<const LoweringContext *> atProfiles;
  for (size_t k = 0; k < m.profileOpts.size(); ++k) {
    const Graph *g = m.profileOpts[k]->mainGraph();
    if (auto it = loweredAt.find(g); it != loweredAt.end()) {
      atProfiles.push_back(it->second);
      continue;
    }
    INFC_ASSIGN_OR_RETURN(LoweringContext *lk, lower(g));
    INFC_RETURN_IF_ERROR(sameLayers(ctx1, *lk, "batch " + std::to_string(m.profileOptBatches[k]), modelPath));
    atProfiles.push_back(lk);
  }
  DynamicSpec spec;
  spec.classes = &classes;
  spec.maxBatch = m.maxBatch;
  spec.profiles = &profiles;
  spec.reference = m.reference->mainGraph();
  spec.layers.tuneAt = &ctxOpt.layers();
  for (const LoweringContext *lk : atProfiles)
    spec.layers.tuneAtProfiles.push_back(&lk->layers());
  for (size_t i = 0; i < ctx1.layers().size(); ++i) {
    Layer &l = ctx1.layers()[i];
    bool gridZ = false;
    std::pair<bool, bool> scale{false, false};
    if (auto *k = std::get_if<KernelLayer>(&l.impl)) {
      std::vector<uint64_t> itemBytes;
      for (const KernelArg &a : k->args)
        itemBytes.push_back(a.kind == KernelArg::Kind::Tensor && classes.scaled(a.value) ? classes.itemBytes(a.value) : 0);
      gridZ = std::any_of(itemBytes.begin(), itemBytes.end(), [](uint64_t b) { return b != 0; });
      if (gridZ)
        INFC_RETURN_IF_ERROR(makeBatchLoopKernel(*k, itemBytes).withPrefix(modelPath + ": layer " + l.name));
    } else if (const auto *mm = std::get_if<MatmulLayer>(&l.impl)) {
      const auto &m2 = std::get<MatmulLayer>(ctx2.layers()[i].impl);
      INFC_ASSIGN_OR_RETURN(scale.first, itemField(mm->m, m2.m, "m", l, modelPath));
      INFC_ASSIGN_OR_RETURN(scale.second, itemField(mm->batch, m2.batch, "batch", l, modelPath));
      for (auto [one, two, field] : {std::tuple{mm->n, m2.n, "n"}, {mm->k, m2.k, "k"}, {mm->lda, m2.lda, "lda"},
                                     {mm->ldb, m2.ldb, "ldb"}, {mm->ldc, m2.ldc, "ldc"}, {mm->strideA, m2.strideA, "stride_a"},
                                     {mm->strideB, m2.strideB, "stride_b"}, {mm->strideC, m2.strideC, "stride_c"}})
        if (one != two)
          return unsupported(modelPath + ": layer " + l.name + " (" + l.loc.describe() + "): its cuBLASLt " + field +
                             " changes with the batch");
      if (scale.first && scale.second)
        return unsupported(modelPath + ": layer " + l.name + ": both its rows and its batch grow with the batch");
    }
    spec.layers.gridZ.push_back(gridZ);
    spec.layers.matmulScale.push_back(scale);
  }
  return emitEngine(*g1, ctx1, options, modelPath, &spec);
}

Expected<EngineBuildResult> buildProfileEngine(const Module &module, const std::vector<ProfileRanges> &profiles,
                                               const EngineBuildOptions &options, const std::string &modelPath) {
  const Graph *graph = module.mainGraph();
  if (!graph)
    return invalidArgument(modelPath + ": no main graph");
  if (profiles.empty())
    return internalError(modelPath + ": buildProfileEngine without profiles");
  rt::EngineWriter writer;
  flatbuffers::FlatBufferBuilder &fbb = writer.builder();
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  std::vector<int32_t> inputs, outputs;
  // Sizes are known when the shapes are set: bytes and offset 0 (EngineReader's check).
  auto addTensor = [&](const std::string &name, const TensorType &type, fb::TensorKind kind) -> Expected<int32_t> {
    if (!type.isRanked())
      return unsupported(modelPath + ": tensor '" + name + "' has no known rank (" + type.str() + ")");
    std::vector<int64_t> shape;
    for (const Dim &d : type.shape())
      shape.push_back(d.isStatic() ? d.value : -1);
    tensors.push_back(fb::CreateTensorDirect(fbb, name.c_str(), static_cast<int32_t>(type.elem()), &shape, kind, 0, 0));
    return static_cast<int32_t>(tensors.size() - 1);
  };
  for (const auto &a : graph->body().arguments()) {
    INFC_ASSIGN_OR_RETURN(int32_t idx, addTensor(a->name(), a->type(), fb::TensorKind::Input));
    inputs.push_back(idx);
  }
  for (const GraphOutput &o : graph->outputs()) {
    INFC_ASSIGN_OR_RETURN(int32_t idx, addTensor(o.name, o.value->type(), fb::TensorKind::Output));
    outputs.push_back(idx);
  }
  INFC_RETURN_IF_ERROR(addReferenceWeights(graph->body(), options, writer, tensors));
  for (const ProfileRanges &p : profiles)
    if (p.size() != inputs.size())
      return internalError(modelPath + ": a profile without a range for every input");
  std::vector<flatbuffers::Offset<fb::Profile>> fbProfiles = profileTable(fbb, profiles);
  std::vector<flatbuffers::Offset<fb::Layer>> layers;
  std::vector<flatbuffers::Offset<fb::Module>> modules;
  auto root = fb::CreateEngineDirect(fbb, buildInfo(fbb, options), &tensors, &inputs, &outputs, &layers, &modules, 0, 0,
                                     writer.weightBytes(), options.referenceIr.c_str(), 0, &fbProfiles);
  EngineBuildResult result;
  result.weightBytes = writer.weightBytes();
  result.bytes = writer.finish(root);
  if (std::string e = rt::EngineView::verify(result.bytes); !e.empty())
    return internalError(modelPath + ": the engine built fails the engine verifier (" + e + "); nothing was written");
  return result;
}

} // namespace infc::codegen
