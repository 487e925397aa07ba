#include "codegen/EngineBuilder.h"

#include "codegen/Autotuner.h"
#include "codegen/Nvrtc.h"
#include "passes/MemoryPlanner.h"
#include "runtime/EngineReader.h"
#include "runtime/EngineWriter.h"

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_map>

namespace infc::codegen {

namespace {

struct TensorSlot {
  const Value *value = nullptr;
  std::string name;
  fb::TensorKind kind = fb::TensorKind::Activation;
  uint64_t offset = 0, bytes = 0;
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


/// Lowers every op to layers; constants become weights, not layers. Every op without a GPU
/// kernel is reported, not only the first: one line each, then the count.
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

Expected<std::pair<double, double>> timeInt8Conv(TacticSource &tactics, const Operation &op, const Int8ConvForm &form) {
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
  double quantize = 0;
  if (form.quantizesInput)
    quantize = separateKernelMs(3.0 * static_cast<double>(*op.operand(0)->type().numElements()));
  return std::make_pair(a.ms, b.ms + quantize);
}

void useAutotuner(EngineBuildOptions &options, TacticSource *tuner, std::function<void(const std::string &)> log) {
  options.autotuner = tuner;
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
  return p;
}

} // namespace

/// The engine's layers; tactics are timed here when the autotuner is set. `matmulWorkspace` is
/// the most workspace a timed cuBLASLt algorithm needs.
Expected<std::vector<flatbuffers::Offset<fb::Layer>>> serializeLayers(flatbuffers::FlatBufferBuilder &fbb, LoweringContext &ctx,
                                                                     EngineTensors &t, const EngineBuildOptions &options,
                                                                     const std::string &modelPath, bool &usesLibraries,
                                                                     uint64_t &matmulWorkspace, std::vector<std::string> &untuned) {
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
  for (const Layer &l : ctx.layers()) {
    if (options.progress && !std::holds_alternative<KernelLayer>(l.impl))
      options.progress(stage, ++libraryDone, libraryLayers);
    std::vector<int32_t> in, out;
    for (const Value *v : l.inputs)
      in.push_back(slotOf[v]);
    for (const Value *v : l.outputs)
      out.push_back(slotOf[v]);
    std::vector<flatbuffers::Offset<flatbuffers::String>> nodes;
    for (const NodeRef &n : l.loc.nodes())
      nodes.push_back(fbb.CreateString(n.name.empty() ? "#" + std::to_string(n.index) + " (" + n.opType + ")" : n.name));
    fb::LayerImpl implType = fb::LayerImpl::NONE;
    flatbuffers::Offset<void> impl;
    std::string tacticText = l.tactic;
    if (const auto *k = std::get_if<KernelLayer>(&l.impl)) {
      std::vector<flatbuffers::Offset<fb::KernelArg>> args;
      for (const KernelArg &a : k->args) {
        switch (a.kind) {
        case KernelArg::Kind::Tensor: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::TensorPtr, slotFor(a.value))); break;
        case KernelArg::Kind::I32: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::I32, -1, a.i)); break;
        case KernelArg::Kind::I64: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::I64, -1, a.i)); break;
        case KernelArg::Kind::F32: args.push_back(fb::CreateKernelArg(fbb, fb::ArgKind::F32, -1, 0, a.f)); break;
        }
      }
      std::vector<uint32_t> grid(k->grid.begin(), k->grid.end()), block(k->block.begin(), k->block.end());
      impl = fb::CreateKernelLaunchDirect(fbb, 0, k->function.c_str(), &grid, &block, k->sharedBytes, &args).Union();
      implType = fb::LayerImpl::KernelLaunch;
    } else if (const auto *c = std::get_if<ConvLayer>(&l.impl)) {
      usesLibraries = true;
      ConvTactic tactic;
      tactic.workspaceBytes = options.workspaceBytes;
      if (options.autotuner) {
        INFC_ASSIGN_OR_RETURN(rt::ConvSpec spec, convSpecOf(*c));
        Expected<ConvTactic> tuned = options.autotuner->tuneConv(spec);
        if (!tuned.isOk() && tuned.status().code() == StatusCode::NotFound) {
          untuned.push_back("layer " + l.name + " (" + l.loc.describe() + ")");
        } else if (!tuned.isOk()) {
          return tuned.status().withPrefix(modelPath + ": layer '" + l.name + "'");
        } else {
          tactic = *tuned;
          tacticText = tactic.description;
        }
      }
      impl = fb::CreateCudnnConvDirect(fbb, slotOf[c->x], slotOf[c->w], c->b ? slotOf[c->b] : -1, c->z ? slotOf[c->z] : -1,
                                       slotOf[c->y], static_cast<int32_t>(c->strides.size()), &c->padsBegin, &c->padsEnd,
                                       &c->strides, &c->dilations, 1, c->transpose, c->activation.c_str(),
                                       static_cast<int32_t>(c->y->type().elem()),
                                       static_cast<int32_t>(c->s ? DType::I32 : DType::F32),
                                       tactic.engineId, &tactic.knobs, tactic.workspaceBytes, c->nhwc,
                                       c->s ? slotOf[c->s] : -1, residualDtype(*c), c->postMult)
                 .Union();
      implType = fb::LayerImpl::CudnnConv;
    } else if (const auto *m = std::get_if<MatmulLayer>(&l.impl)) {
      usesLibraries = true;
      // Untimed: no algorithm, and the runtime's heuristic may use up to the limit.
      std::vector<uint8_t> algo;
      uint64_t workspace = options.workspaceBytes;
      if (options.autotuner) {
        Expected<MatmulTactic> tuned = options.autotuner->tuneMatmul(cublasLtProblemOf(*m));
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
      impl = fb::CreateCublasLtMatmulDirect(fbb, slotOf[m->a], slotOf[m->b], m->c ? slotOf[m->c] : -1, slotOf[m->d],
                                            m->bias ? slotOf[m->bias] : -1, m->m, m->n, m->k, m->batch, m->lda, m->ldb,
                                            m->ldc, m->strideA, m->strideB, m->strideC, m->transA, m->transB, m->alpha,
                                            m->beta, m->epilogue.c_str(), static_cast<int32_t>(m->d->type().elem()),
                                            static_cast<int32_t>(DType::F32), &algo, workspace)
                 .Union();
      implType = fb::LayerImpl::CublasLtMatmul;
    }
    fbLayers.push_back(fb::CreateLayer(fbb, fbb.CreateString(l.name), implType, impl, fbb.CreateVector(in),
                                       fbb.CreateVector(out), fbb.CreateVector(nodes), fbb.CreateString(tacticText),
                                       fbb.CreateString(l.precision)));
  }
  return fbLayers;
}

/// Emission in stages: lower to layers, collect the engine's tensors, plan the arena, pack the
/// weights, compile the generated kernels, serialize (timing tactics on the way).
Expected<EngineBuildResult> buildEngine(const Module &module, const EngineBuildOptions &options, const std::string &modelPath) {
  const Graph *graph = module.mainGraph();
  if (!graph)
    return invalidArgument(modelPath + ": no graph");
  for (const auto &a : graph->body().arguments())
    INFC_RETURN_IF_ERROR(requireStatic(*a, modelPath));
  auto stage = [&](const char *name) {
    if (options.progress)
      options.progress(name, 0, 0);
  };
  stage("lower");
  LoweringContext ctx(options.lowering);
  INFC_RETURN_IF_ERROR(lowerGraph(*graph, ctx, modelPath));
  EngineTensors t;
  INFC_RETURN_IF_ERROR(collectTensors(*graph, ctx, options, modelPath, t));
  ArenaPlan arena = planArena(ctx, t);
  rt::EngineWriter writer;
  packWeights(t, writer);
  stage("compile kernels");
  INFC_ASSIGN_OR_RETURN(CubinResult compiled, compileKernels(ctx, options, modelPath));
  const std::string &cubin = compiled.cubin;

  flatbuffers::FlatBufferBuilder &fbb = writer.builder();
  auto &slots = t.slots;
  auto &inputs = t.inputs;
  auto &outputs = t.outputs;
  std::vector<flatbuffers::Offset<fb::Tensor>> fbTensors;
  for (const TensorSlot &s : slots) {
    std::vector<int64_t> shape = s.value->type().staticShape();
    fbTensors.push_back(fb::CreateTensorDirect(fbb, s.name.c_str(), static_cast<int32_t>(s.value->type().elem()), &shape,
                                               s.kind, s.offset, s.bytes));
  }
  bool usesLibraries = false;
  uint64_t matmulWorkspace = 0;
  std::vector<std::string> untuned;
  INFC_ASSIGN_OR_RETURN(std::vector<flatbuffers::Offset<fb::Layer>> fbLayers,
                        serializeLayers(fbb, ctx, t, options, modelPath, usesLibraries, matmulWorkspace, untuned));
  std::vector<flatbuffers::Offset<fb::Module>> modules;
  if (!cubin.empty()) {
    auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t *>(cubin.data()), cubin.size());
    modules.push_back(fb::CreateModule(fbb, fbb.CreateString("infc_kernels"), bytes));
  }
  auto info = buildInfo(fbb, options);
  auto root = fb::CreateEngineDirect(fbb, info, &fbTensors, &inputs, &outputs, &fbLayers, &modules, arena.plan.totalBytes,
                                     usesLibraries ? std::max(options.workspaceBytes, matmulWorkspace) : 0,
                                     writer.weightBytes(),
                                     options.referenceIr.c_str(), arena.lowerBound);
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
  // The constants the reference IR refers to by name (compiler/EngineReference: those over
  // inlineConstantElements), as weights, in graph order.
  std::function<Status(const Block &)> addWeights = [&](const Block &block) -> Status {
    for (const auto &op : block.ops()) {
      for (const Value *v : op->results())
        if (const Tensor *c = getConstantValue(v); c && c->numElements() > options.inlineConstantElements) {
          uint64_t offset = writer.addWeight(c->bytes(), c->byteSize());
          std::vector<int64_t> shape = c->shape();
          tensors.push_back(fb::CreateTensorDirect(fbb, v->name().c_str(), static_cast<int32_t>(c->dtype()), &shape,
                                                   fb::TensorKind::Weight, offset, c->byteSize()));
        }
      for (size_t r = 0; r < op->numRegions(); ++r)
        INFC_RETURN_IF_ERROR(addWeights(op->region(r)));
    }
    return Status::ok();
  };
  INFC_RETURN_IF_ERROR(addWeights(graph->body()));
  std::vector<flatbuffers::Offset<fb::Profile>> fbProfiles;
  for (const ProfileRanges &p : profiles) {
    if (p.size() != inputs.size())
      return internalError(modelPath + ": a profile without a range for every input");
    std::vector<flatbuffers::Offset<fb::ProfileInput>> ranges;
    for (const ProfileRange &r : p)
      ranges.push_back(fb::CreateProfileInputDirect(fbb, r.name.c_str(), &r.min, &r.opt, &r.max));
    fbProfiles.push_back(fb::CreateProfileDirect(fbb, &ranges));
  }
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
