// Dim-fit engines: the model lowered at every probe shape, the layers compared, every integer
// that differs fitted to an expression over the engine's dims (codegen/DimFit.h), and the
// largest probe's layers emitted with those expressions.
#include "codegen/EngineEmit.h"

#include <cstring>
#include <functional>
#include <memory>

namespace infc::codegen {

namespace {

/// One probe's lowering and how its values correspond to the largest probe's.
struct Probe {
  const Graph *graph = nullptr;
  std::unique_ptr<LoweringContext> ctx;
  std::unordered_map<const Value *, const Value *> of; ///< base value -> this probe's
};

class Fit {
public:
  Fit(const DimFitModules &m, const std::string &modelPath) : m_(m), path_(modelPath), fitter_(m.dims, m.probeDims, m.dimRanges) {}

  Status run(DimFitSpec &spec, std::vector<Probe> &probes);
  const DimFitter &fitter() const { return fitter_; }

private:
  Status differ(const std::string &what) const {
    return unsupported(path_ + ": " + what + ", so one set of GPU layers cannot serve every shape of the profiles");
  }
  /// Records that base value `b` is `v` at probe p (the same one every time).
  Status pair(size_t p, const Value *b, const Value *v, std::vector<Probe> &probes) {
    if (!b || !v)
      return !b && !v ? Status::ok() : differ("a layer has an operand at one shape and not at another");
    auto [it, fresh] = probes[p].of.emplace(b, v);
    if (!fresh && it->second != v)
      return differ("tensor '" + b->name() + "' corresponds to two tensors at another shape");
    return Status::ok();
  }
  Status pairLayers(std::vector<Probe> &probes);
  /// The expression of values[p] (one per probe), or an error naming `what`.
  Expected<DimExpr> fit(const std::vector<int64_t> &values, const std::string &what) {
    std::optional<DimExpr> e = fitter_.fit(values);
    if (e)
      return *e;
    std::string seen;
    for (size_t p = 0; p < values.size(); ++p)
      seen += (p ? ", " : "") + std::to_string(values[p]);
    return differ(what + " is " + seen + " at the probe shapes, which is no expression over the dims the engine has");
  }
  Status fitShapes(std::vector<Probe> &probes, DimFitSpec &spec);
  Status fitLayers(std::vector<Probe> &probes, DimFitSpec &spec);

  const DimFitModules &m_;
  std::string path_;
  DimFitter fitter_;
};

Status Fit::pairLayers(std::vector<Probe> &probes) {
  const Probe &base = probes[m_.maxProbe];
  const auto &bl = base.ctx->layers();
  for (size_t p = 0; p < probes.size(); ++p) {
    const auto &pl = probes[p].ctx->layers();
    if (pl.size() != bl.size())
      return differ("the model lowers to " + std::to_string(pl.size()) + " layers at one shape and " +
                    std::to_string(bl.size()) + " at another");
    const Graph &bg = *base.graph, &pg = *probes[p].graph;
    for (size_t i = 0; i < bg.body().arguments().size(); ++i)
      INFC_RETURN_IF_ERROR(pair(p, bg.body().argument(i), pg.body().argument(i), probes));
    for (size_t i = 0; i < bg.outputs().size(); ++i)
      INFC_RETURN_IF_ERROR(pair(p, bg.outputs()[i].value, pg.outputs()[i].value, probes));
    for (size_t li = 0; li < bl.size(); ++li) {
      const Layer &x = bl[li], &y = pl[li];
      auto layerDiffers = [&](const std::string &what) {
        return differ("layer " + x.name + " (" + x.loc.describe() + ") " + what + " at another shape");
      };
      if (x.name != y.name || x.impl.index() != y.impl.index() || x.inputs.size() != y.inputs.size() ||
          x.outputs.size() != y.outputs.size())
        return layerDiffers("is another layer (" + y.name + ")");
      for (size_t i = 0; i < x.inputs.size(); ++i)
        INFC_RETURN_IF_ERROR(pair(p, x.inputs[i], y.inputs[i], probes));
      for (size_t i = 0; i < x.outputs.size(); ++i)
        INFC_RETURN_IF_ERROR(pair(p, x.outputs[i], y.outputs[i], probes));
      if (const auto *k = std::get_if<KernelLayer>(&x.impl)) {
        const auto &k2 = std::get<KernelLayer>(y.impl);
        if (k->function != k2.function || k->block != k2.block || k->sharedBytes != k2.sharedBytes ||
            k->args.size() != k2.args.size())
          return layerDiffers("launches another kernel");
        for (size_t a = 0; a < k->args.size(); ++a) {
          if (k->args[a].kind != k2.args[a].kind ||
              (k->args[a].kind == KernelArg::Kind::F32 && std::memcmp(&k->args[a].f, &k2.args[a].f, sizeof(float)) != 0))
            return layerDiffers("takes another argument " + std::to_string(a));
          if (k->args[a].kind == KernelArg::Kind::Tensor)
            INFC_RETURN_IF_ERROR(pair(p, k->args[a].value, k2.args[a].value, probes));
        }
      } else if (const auto *c = std::get_if<ConvLayer>(&x.impl)) {
        const auto &c2 = std::get<ConvLayer>(y.impl);
        if (c->activation != c2.activation || c->nhwc != c2.nhwc || c->inPlace != c2.inPlace || c->transpose != c2.transpose ||
            c->padsBegin != c2.padsBegin || c->padsEnd != c2.padsEnd || c->strides != c2.strides ||
            c->dilations != c2.dilations || c->postMult != c2.postMult)
          return layerDiffers("is another convolution");
        for (auto [a, b] : {std::pair{c->x, c2.x}, {c->w, c2.w}, {c->b, c2.b}, {c->z, c2.z}, {c->y, c2.y}, {c->s, c2.s}})
          INFC_RETURN_IF_ERROR(pair(p, a, b, probes));
      } else if (const auto *mm = std::get_if<MatmulLayer>(&x.impl)) {
        const auto &m2 = std::get<MatmulLayer>(y.impl);
        if (mm->epilogue != m2.epilogue || mm->transA != m2.transA || mm->transB != m2.transB || mm->alpha != m2.alpha ||
            mm->beta != m2.beta || mm->abType != m2.abType || mm->fastAccum != m2.fastAccum)
          return layerDiffers("is another matmul");
        for (auto [a, b] : {std::pair{mm->a, m2.a}, {mm->b, m2.b}, {mm->c, m2.c}, {mm->bias, m2.bias}, {mm->d, m2.d}})
          INFC_RETURN_IF_ERROR(pair(p, a, b, probes));
      }
    }
    // Values that share bytes (reshapes, in-place results) share them at every shape.
    for (const auto &[b, v] : probes[p].of) {
      const Value *rb = base.ctx->aliasRoot(b), *rv = probes[p].ctx->aliasRoot(v);
      auto it = probes[p].of.find(rb);
      if ((rb == b) != (rv == v) || (rb != b && (it == probes[p].of.end() || it->second != rv)))
        return differ("tensor '" + b->name() + "' shares its bytes with another tensor at one shape and not at another");
    }
  }
  return Status::ok();
}

Status Fit::fitShapes(std::vector<Probe> &probes, DimFitSpec &spec) {
  const Probe &base = probes[m_.maxProbe];
  // Graph inputs first: their dynamic dims are the base atoms (fitted in that order).
  std::vector<const Value *> order;
  for (const auto &a : base.graph->body().arguments())
    order.push_back(a.get());
  for (const auto &[b, v] : base.of)
    if (b->definingOp() || getConstantValue(b))
      order.push_back(b);
  std::sort(order.begin() + static_cast<std::ptrdiff_t>(base.graph->body().arguments().size()), order.end(),
            [](const Value *a, const Value *b) { return a->name() < b->name(); });
  for (const Value *b : order) {
    std::vector<int64_t> shape = b->type().staticShape();
    std::vector<DimExpr> dims;
    bool dynamic = false;
    for (size_t d = 0; d < shape.size(); ++d) {
      std::vector<int64_t> values;
      for (Probe &p : probes) {
        const TensorType &t = p.of.at(b)->type();
        if (t.rank() != b->type().rank())
          return differ("tensor '" + b->name() + "' has another rank at another shape");
        values.push_back(t.staticShape()[d]);
      }
      INFC_ASSIGN_OR_RETURN(DimExpr e, fit(values, "dim " + std::to_string(d) + " of tensor '" + b->name() + "'"));
      if (!e.monotone())
        return differ("dim " + std::to_string(d) + " of tensor '" + b->name() + "' (" + e.str(fitter_.atoms()) +
                      ") shrinks as a dim grows");
      dynamic = dynamic || !e.isConstant();
      dims.push_back(std::move(e));
    }
    if (dynamic)
      spec.shapes[b] = std::move(dims);
    // A weight that changes with the shape (position embeddings sliced to the sequence length)
    // must be the first bytes of its value at the largest shape, which the engine stores.
    if (const Tensor *bw = getConstantValue(b))
      for (Probe &p : probes) {
        const Tensor *pw = getConstantValue(p.of.at(b));
        if (!pw || pw->byteSize() > bw->byteSize() || std::memcmp(pw->bytes(), bw->bytes(), pw->byteSize()) != 0)
          return differ("constant '" + b->name() + "' changes with the shape in another way than being cut short");
      }
  }
  return Status::ok();
}

Status Fit::fitLayers(std::vector<Probe> &probes, DimFitSpec &spec) {
  Probe &base = probes[m_.maxProbe];
  std::vector<Layer> &layers = base.ctx->layers();
  spec.kernels.assign(layers.size(), std::nullopt);
  spec.matmuls.assign(layers.size(), {});
  for (size_t li = 0; li < layers.size(); ++li) {
    Layer &l = layers[li];
    auto at = [&](size_t p) -> const Layer & { return probes[p].ctx->layers()[li]; };
    std::string where = "layer " + l.name + " (" + l.loc.describe() + ")";
    if (auto *k = std::get_if<KernelLayer>(&l.impl)) {
      DimFitSpec::Kernel kf;
      std::vector<const std::string *> sources;
      for (size_t p = 0; p < probes.size(); ++p)
        sources.push_back(&std::get<KernelLayer>(at(p).impl).source);
      Expected<FittedSource> src = fitKernelSource(sources, m_.maxProbe, k->function, fitter_);
      if (!src.isOk())
        return differ(where + ": " + src.status().message());
      for (size_t axis = 0; axis < 3; ++axis) {
        std::vector<int64_t> values;
        bool fromWork = k->gridWork[axis] != 0;
        for (size_t p = 0; p < probes.size(); ++p) {
          const auto &kp = std::get<KernelLayer>(at(p).impl);
          if ((kp.gridWork[axis] != 0) != fromWork || kp.gridPer[axis] != k->gridPer[axis] || kp.gridCap[axis] != k->gridCap[axis])
            return differ(where + " sizes its launch another way at another shape");
          values.push_back(fromWork ? kp.gridWork[axis] : kp.grid[axis]);
        }
        INFC_ASSIGN_OR_RETURN(kf.grid[axis].work, fit(values, where + ": its launch size " + std::to_string(axis)));
        kf.grid[axis].per = fromWork ? k->gridPer[axis] : 1;
        kf.grid[axis].cap = fromWork ? k->gridCap[axis] : 0;
      }
      for (size_t a = 0; a < k->args.size(); ++a) {
        kf.args.emplace_back();
        if (k->args[a].kind != KernelArg::Kind::I32 && k->args[a].kind != KernelArg::Kind::I64)
          continue;
        std::vector<int64_t> values;
        for (size_t p = 0; p < probes.size(); ++p)
          values.push_back(std::get<KernelLayer>(at(p).impl).args[a].i);
        INFC_ASSIGN_OR_RETURN(DimExpr e, fit(values, where + ": its argument " + std::to_string(a)));
        if (!e.isConstant())
          kf.args.back() = std::move(e);
      }
      k->source = src->source;
      kf.dimsParam = src->usesDims;
      spec.kernels[li] = std::move(kf);
    } else if (std::holds_alternative<MatmulLayer>(l.impl)) {
      using F = int64_t MatmulLayer::*;
      static const std::pair<F, const char *> fields[] = {
          {&MatmulLayer::m, "m"},           {&MatmulLayer::n, "n"},           {&MatmulLayer::k, "k"},
          {&MatmulLayer::batch, "batch"},   {&MatmulLayer::lda, "lda"},       {&MatmulLayer::ldb, "ldb"},
          {&MatmulLayer::ldc, "ldc"},       {&MatmulLayer::strideA, "stride_a"}, {&MatmulLayer::strideB, "stride_b"},
          {&MatmulLayer::strideC, "stride_c"}};
      for (auto [field, name] : fields) {
        std::vector<int64_t> values;
        for (size_t p = 0; p < probes.size(); ++p)
          values.push_back(std::get<MatmulLayer>(at(p).impl).*field);
        INFC_ASSIGN_OR_RETURN(DimExpr e, fit(values, where + ": its cuBLASLt " + name));
        spec.matmuls[li].push_back(std::move(e));
      }
    }
  }
  return Status::ok();
}

Status Fit::run(DimFitSpec &spec, std::vector<Probe> &probes) {
  INFC_RETURN_IF_ERROR(pairLayers(probes));
  INFC_RETURN_IF_ERROR(fitShapes(probes, spec));
  INFC_RETURN_IF_ERROR(fitLayers(probes, spec));
  spec.atoms = fitter_.atoms();
  if (spec.atoms.size() > kMaxDimAtoms)
    return differ("the layers need " + std::to_string(spec.atoms.size()) + " dims, more than " +
                  std::to_string(kMaxDimAtoms));
  return Status::ok();
}

} // namespace

Expected<EngineBuildResult> buildDimFitEngine(const DimFitModules &m, const std::vector<ProfileRanges> &profiles,
                                              const EngineBuildOptions &options, const std::string &modelPath) {
  if (m.probes.size() < 3 || m.probeDims.size() != m.probes.size() || m.maxProbe >= m.probes.size() ||
      m.optProbe >= m.probes.size() || !m.reference || !m.reference->mainGraph() || m.dims.empty() ||
      m.dims.size() > kMaxDimAtoms)
    return internalError(modelPath + ": buildDimFitEngine without its probes");
  if (options.progress)
    options.progress("lower", 0, 0);
  // Convolution fusions and generators' speed heuristics are decided once, at profile 0's opt
  // shape, and replayed at the others.
  ConvFusionReplay fusions;
  std::vector<int64_t> heuristics;
  LoweringOptions generic = options.lowering;
  generic.shapeGeneric = true;
  LoweringOptions atOpt = fusions.recording(generic);
  atOpt.recordHeuristics = &heuristics;
  std::vector<Probe> probes(m.probes.size());
  auto lower = [&](size_t p, const LoweringOptions &lo) -> Status {
    probes[p].graph = m.probes[p]->mainGraph();
    if (!probes[p].graph)
      return invalidArgument(modelPath + ": no graph");
    probes[p].ctx = std::make_unique<LoweringContext>(lo);
    return lowerGraph(*probes[p].graph, *probes[p].ctx, modelPath);
  };
  INFC_RETURN_IF_ERROR(lower(m.optProbe, atOpt));
  for (size_t p = 0; p < probes.size(); ++p) {
    if (p == m.optProbe)
      continue;
    LoweringOptions replay = fusions.replaying(generic);
    replay.replayHeuristics = &heuristics;
    INFC_RETURN_IF_ERROR(lower(p, replay));
  }
  DimFitSpec fitted;
  Fit fit(m, modelPath);
  INFC_RETURN_IF_ERROR(fit.run(fitted, probes));
  if (const std::vector<DimFitter::Question> &open = fit.fitter().questions(); !open.empty()) {
    std::string where;
    for (const DimFitter::Question &q : open) {
      std::vector<int64_t> probe = m.probeDims[m.maxProbe];
      probe[q.base] = q.value;
      if (m.moreProbes)
        m.moreProbes->push_back(probe);
      where += (where.empty() ? "" : ", ") + m.dims[q.base].name + " = " + std::to_string(q.value);
    }
    return unsupported(modelPath + ": the probe shapes leave a size open (a strided layer's rounding); probe at " + where);
  }
  DynamicSpec spec;
  spec.dimFit = &fitted;
  spec.profiles = &profiles;
  spec.reference = m.reference->mainGraph();
  spec.layers.tuneAt = &probes[m.optProbe].ctx->layers();
  for (size_t p : m.profileOptProbes)
    spec.layers.tuneAtProfiles.push_back(&probes[p].ctx->layers());
  return emitEngine(*probes[m.maxProbe].graph, *probes[m.maxProbe].ctx, options, modelPath, &spec);
}

} // namespace infc::codegen
