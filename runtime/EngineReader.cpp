#include "runtime/EngineReader.h"

#include "support/FileRead.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace infc::rt {

size_t dtypeBytes(int32_t dtype) {
  switch (dtype) {
  case 1: case 6: case 12: return 4;  // f32, i32, u32
  case 2: case 3: case 9: case 17: case 19: return 1; // u8, i8, bool, f8
  case 4: case 5: case 10: case 16: return 2; // u16, i16, f16, bf16
  case 7: case 11: case 13: return 8; // i64, f64, u64
  default: return 0;
  }
}

static bool inRange(uint64_t off, uint64_t size, uint64_t limit) { return off <= limit && size <= limit - off; }

static std::string checkTensorRef(int32_t idx, const fb::Engine &e, const std::string &what) {
  uint32_t n = e.tensors() ? e.tensors()->size() : 0;
  if (idx < 0 || static_cast<uint32_t>(idx) >= n)
    return what + " refers to tensor " + std::to_string(idx) + ", but the engine has " + std::to_string(n);
  return "";
}

static std::string checkIndexList(const flatbuffers::Vector<int32_t> *v, const fb::Engine &e, const std::string &what) {
  if (!v)
    return "";
  for (int32_t idx : *v)
    if (std::string err = checkTensorRef(idx, e, what); !err.empty())
      return err;
  return "";
}

namespace {

/// FlatBuffers' verifier checks the 4-byte alignment of a vector's length, not the 8-byte
/// alignment of 64-bit elements: a forged buffer can place them where reading one is undefined
/// behaviour (found by tests/fuzz/fuzz_engine_reader). Every [long] the runtime reads is checked.
bool aligned64(const flatbuffers::Vector<int64_t> *v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % alignof(int64_t) == 0;
}

/// The profiles of an engine: one range per engine input, by name, of the input's rank, static
/// dims equal to min, opt and max, dynamic dims with 1 <= min <= opt <= max.
std::string checkProfiles(const fb::Engine &e) {
  for (uint32_t k = 0; k < e.profiles()->size(); ++k) {
    const fb::Profile *p = e.profiles()->Get(k);
    std::string where = "profile " + std::to_string(k);
    if (!p->inputs() || p->inputs()->size() != e.inputs()->size())
      return where + " does not give a range for every input";
    for (uint32_t i = 0; i < p->inputs()->size(); ++i) {
      const fb::ProfileInput *r = p->inputs()->Get(i);
      int32_t idx = e.inputs()->Get(i);
      if (idx < 0 || static_cast<uint32_t>(idx) >= e.tensors()->size())
        return where + ": input index out of range";
      const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
      if (!r->name() || !t->name() || r->name()->str() != t->name()->str())
        return where + ": range " + std::to_string(i) + " is not for input " + std::to_string(i);
      uint32_t rank = t->shape() ? t->shape()->size() : 0;
      for (const auto *v : {r->min(), r->opt(), r->max()})
        if (!v || v->size() != rank || !aligned64(v))
          return where + ": the range of input '" + t->name()->str() + "' is not of its rank";
      for (uint32_t d = 0; d < rank; ++d) {
        int64_t lo = r->min()->Get(d), mid = r->opt()->Get(d), hi = r->max()->Get(d), fixed = t->shape()->Get(d);
        if (fixed >= 0 ? (lo != fixed || mid != fixed || hi != fixed) : !(1 <= lo && lo <= mid && mid <= hi))
          return where + ": input '" + t->name()->str() + "' dim " + std::to_string(d) + " has a bad range";
      }
    }
  }
  return "";
}

/// A dim-fit engine's expression: atoms in range, at most three per term, no negative multiple
/// of a dim (sizes never shrink as a dim grows: the arena planned at the largest shape holds
/// every smaller one).
std::string checkDimExpr(const fb::DimExpr *x, uint32_t numAtoms) {
  if (!x)
    return "a missing dim expression";
  if (x->terms())
    for (const fb::DimTerm *t : *x->terms()) {
      size_t n = t->atoms() ? t->atoms()->size() : 0;
      if (n > 3 || (n > 0 && t->coef() < 0) || t->coef() > (int64_t(1) << 40) || t->coef() < -(int64_t(1) << 40))
        return "a dim expression with a term beyond what infc writes";
      if (t->atoms())
        for (uint8_t a : *t->atoms())
          if (a >= numAtoms)
            return "a dim expression refers to dim " + std::to_string(a) + " of " + std::to_string(numAtoms);
    }
  return "";
}

/// Its value at `atoms` (false when it overflows).
bool evalDimChecked(const fb::DimExpr *x, const std::vector<int64_t> &atoms, int64_t &out) {
  out = 0;
  if (x->terms())
    for (const fb::DimTerm *t : *x->terms()) {
      int64_t v = t->coef();
      if (t->atoms())
        for (uint8_t a : *t->atoms())
          if (__builtin_mul_overflow(v, atoms[a], &v))
            return false;
      if (__builtin_add_overflow(out, v, &out))
        return false;
    }
  return true;
}

/// The dims' values at the largest shape of every profile (atoms are floor((x + offset) /
/// divisor) of an input dim, which never shrinks as x grows), or an error.
std::string largestAtoms(const fb::Engine &e, std::vector<int64_t> &out) {
  for (const fb::DimAtom *a : *e.dim_atoms()) {
    if (a->input() < 0 || static_cast<uint32_t>(a->input()) >= e.inputs()->size() || a->divisor() < 1 ||
        a->divisor() > 1024 || a->offset() < -(int64_t(1) << 20) || a->offset() > (int64_t(1) << 20))
      return "a dim of the engine refers to no input, or divides by " + std::to_string(a->divisor());
    const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(static_cast<uint32_t>(a->input()))));
    if (!t->shape() || a->axis() < 0 || static_cast<uint32_t>(a->axis()) >= t->shape()->size() ||
        t->shape()->Get(static_cast<uint32_t>(a->axis())) != -1)
      return "a dim of the engine refers to no dynamic dim of input '" + (t->name() ? t->name()->str() : "?") + "'";
    int64_t hi = 0;
    for (const fb::Profile *p : *e.profiles())
      hi = std::max(hi, p->inputs()->Get(static_cast<uint32_t>(a->input()))->max()->Get(static_cast<uint32_t>(a->axis())));
    out.push_back(dimAtomValue(*a, hi));
  }
  return "";
}

} // namespace

std::string checkEngineSemantics(const fb::Engine &e, uint64_t weightsSize) {
  if (!e.info() || !e.info()->gpu_name())
    return "missing build information";
  if (!e.tensors() || !e.layers() || !e.inputs() || !e.outputs())
    return "missing tensor, layer, input or output tables";
  for (const fb::Tensor *t : *e.tensors())
    if (!aligned64(t->shape()))
      return "a tensor's shape is misaligned (corrupted file)";
  for (const fb::Layer *l : *e.layers())
    if (const fb::CudnnConv *c = l->impl_as_CudnnConv())
      for (const auto *v : {c->pads_begin(), c->pads_end(), c->strides(), c->dilations(), c->knobs()})
        if (!aligned64(v))
          return "a convolution's parameters are misaligned (corrupted file)";
  bool profiles = e.profiles() && e.profiles()->size() > 0;
  // Batch-loop engines (profiles whose one dynamic dim is the batch) have GPU layers; other
  // engines with profiles run on the reference executor only.
  bool batchLoop = e.batch_max() != 0;
  if (batchLoop && (!profiles || e.batch_max() < 1 || e.batch_max() > 65535))
    return "a batch-loop engine without profiles or with a largest batch of " + std::to_string(e.batch_max());
  // Dim-fit engines (profiles that vary other dims): layers whose sizes follow Engine.dim_atoms.
  bool dimFit = e.dim_atoms() && e.dim_atoms()->size() > 0;
  if (dimFit && (!profiles || batchLoop || e.dim_atoms()->size() > 16))
    return "a dim-fit engine without profiles, with a batch loop or with more than 16 dims";
  if (profiles && !batchLoop && !dimFit && e.layers()->size() != 0)
    return "an engine with optimization profiles and GPU layers that is neither a batch-loop nor a dim-fit engine "
           "(corrupted or newer file)";
  if ((!profiles && e.layers()->size() == 0) || e.inputs()->size() == 0 || e.outputs()->size() == 0)
    return "an engine needs at least one layer, one input and one output";
  if (profiles)
    if (std::string err = checkProfiles(e); !err.empty())
      return err;
  std::vector<int64_t> atomsAtMax;
  if (dimFit)
    if (std::string err = largestAtoms(e, atomsAtMax); !err.empty())
      return err;
  uint32_t numAtoms = dimFit ? e.dim_atoms()->size() : 0;
  // A dim-fit expression's value at the largest shape (false: bad or overflowing).
  auto atMax = [&](const fb::DimExpr *x, int64_t &v) {
    return dimFit && checkDimExpr(x, numAtoms).empty() && evalDimChecked(x, atomsAtMax, v);
  };
  if (batchLoop)
    for (const fb::Profile *p : *e.profiles())
      for (uint32_t i = 0; i < p->inputs()->size(); ++i) {
        const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(e.inputs()->Get(i)));
        if (t->batch_dim0() != 0 && p->inputs()->Get(i)->max()->Get(0) > e.batch_max())
          return "input '" + t->name()->str() + "' has a profile whose batch passes the engine's largest batch";
      }
  // No GPU holds a terabyte; larger sizes are forged or corrupted (and would wrap in sums).
  constexpr uint64_t kMaxDeviceBytes = uint64_t(1) << 40;
  if (e.arena_bytes() > kMaxDeviceBytes || e.workspace_bytes() > kMaxDeviceBytes)
    return "arena of " + std::to_string(e.arena_bytes()) + " bytes or workspace of " + std::to_string(e.workspace_bytes()) +
           " bytes is more than any GPU holds";
  for (const auto *list : {e.inputs(), e.outputs()})
    for (uint32_t i = 0; i < list->size(); ++i)
      for (uint32_t j = i + 1; j < list->size(); ++j)
        if (list->Get(i) == list->Get(j))
          return "tensor " + std::to_string(list->Get(i)) + " is listed twice as an engine " +
                 (list == e.inputs() ? "input" : "output");
  for (uint32_t i = 0; i < e.tensors()->size(); ++i) {
    const fb::Tensor *t = e.tensors()->Get(i);
    std::string what = "tensor " + std::to_string(i) + (t->name() ? " '" + t->name()->str() + "'" : "");
    size_t esize = dtypeBytes(t->dtype());
    if (esize == 0)
      return what + " has unknown dtype " + std::to_string(t->dtype());
    uint64_t n = 1;
    // The inputs and outputs of an engine with profiles may have dynamic dims (-1); their sizes
    // are known when the shapes are set (bytes and offset 0 here).
    bool sizedAtRun = profiles && !batchLoop && !dimFit &&
                      (t->kind() == fb::TensorKind::Input || t->kind() == fb::TensorKind::Output);
    // A dim-fit tensor whose dims follow the engine's: sized at the largest shape.
    // (A weight may have them: one cut short at smaller shapes, the engine holding the largest.)
    if (t->dims() && (!t->shape() || t->dims()->size() != t->shape()->size()))
      return what + " has dim expressions that do not match its shape";
    // A tensor of a batch-loop engine that grows with the batch: sizes are one item's.
    int64_t itemDim0 = t->batch_dim0();
    if (itemDim0 != 0 && (!batchLoop || itemDim0 < 0 || t->kind() == fb::TensorKind::Weight || !t->shape() ||
                          t->shape()->size() == 0 || t->shape()->Get(0) != -1))
      return what + " says it grows with the batch, and cannot";
    if (t->shape())
      for (uint32_t di = 0; di < t->shape()->size(); ++di) {
        int64_t d = t->shape()->Get(di);
        if (d == -1 && sizedAtRun)
          continue;
        if (di == 0 && itemDim0 > 0)
          d = itemDim0;
        if (t->dims()) {
          int64_t v = 0;
          if (!atMax(t->dims()->Get(di), v) || (d != -1 && v != d))
            return what + " has a bad dim expression for dim " + std::to_string(di);
          d = v;
        }
        if (d < 0)
          return what + " has a negative dimension";
        if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
          return what + " has an element count that overflows";
      }
    uint64_t bytes;
    if (t->dims()) { // planned at the largest shape; bytes may be more (an alias's root)
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(esize), &bytes) || bytes > t->bytes())
        return what + " needs " + std::to_string(n * esize) + " bytes at the largest shape and has " +
               std::to_string(t->bytes());
      if (!inRange(t->offset(), t->bytes(), t->kind() == fb::TensorKind::Weight ? weightsSize : e.arena_bytes()))
        return what + " lies outside the arena";
      continue;
    }
    if (sizedAtRun) {
      if (t->bytes() != 0 || t->offset() != 0)
        return what + " is an input or output of an engine with profiles and yet has a size or an offset";
      continue;
    }
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(esize), &bytes) || bytes != t->bytes())
      return what + " says " + std::to_string(t->bytes()) + " bytes, its shape needs " + std::to_string(n * esize);
    uint64_t limit = t->kind() == fb::TensorKind::Weight ? weightsSize : e.arena_bytes(), span = t->bytes();
    if (itemDim0 > 0 && __builtin_mul_overflow(span, static_cast<uint64_t>(e.batch_max()), &span))
      return what + " at the largest batch overflows";
    if (!inRange(t->offset(), span, limit))
      return what + " lies outside the " + std::string(t->kind() == fb::TensorKind::Weight ? "weight blob" : "arena");
  }
  if (std::string err = checkIndexList(e.inputs(), e, "an engine input"); !err.empty())
    return err;
  if (std::string err = checkIndexList(e.outputs(), e, "an engine output"); !err.empty())
    return err;
  uint32_t numModules = e.modules() ? e.modules()->size() : 0;
  for (uint32_t m = 0; m < numModules; ++m)
    if (!e.modules()->Get(m)->cubin() || e.modules()->Get(m)->cubin()->size() == 0)
      return "module " + std::to_string(m) + " has no code";
  for (uint32_t l = 0; l < e.layers()->size(); ++l) {
    const fb::Layer *layer = e.layers()->Get(l);
    std::string what = "layer " + std::to_string(l) + (layer->name() ? " '" + layer->name()->str() + "'" : "");
    if (std::string err = checkIndexList(layer->inputs(), e, what); !err.empty())
      return err;
    if (std::string err = checkIndexList(layer->outputs(), e, what); !err.empty())
      return err;
    switch (layer->impl_type()) {
    case fb::LayerImpl::KernelLaunch: {
      const fb::KernelLaunch *k = layer->impl_as_KernelLaunch();
      if (k->module_index() >= numModules)
        return what + " refers to module " + std::to_string(k->module_index()) + " of " + std::to_string(numModules);
      if (!k->function() || !k->grid() || !k->block() || k->grid()->size() != 3 || k->block()->size() != 3)
        return what + " has an incomplete kernel launch";
      uint64_t threads = 1;
      for (uint32_t d : *k->block())
        threads *= d;
      for (uint32_t d : *k->grid())
        if (d == 0)
          return what + " has an empty grid";
      if (threads == 0 || threads > 1024)
        return what + " has an invalid block size";
      if (k->batch_grid_z() && (!batchLoop || k->grid()->Get(2) != 1))
        return what + " loops over the batch outside a batch-loop engine or with a grid.z of its own";
      if ((k->grid_exprs() || k->dims_param()) && (!dimFit || !k->grid_exprs() || k->grid_exprs()->size() != 3))
        return what + " sizes its launch from dims outside a dim-fit engine, or not in three dims";
      if (k->grid_exprs())
        for (const fb::GridExpr *g : *k->grid_exprs()) {
          int64_t v = 0;
          if (g->per() < 1 || g->cap() < 0 || !atMax(g->work(), v))
            return what + " has a bad launch size expression";
        }
      if (k->args())
        for (const fb::KernelArg *a : *k->args()) {
          int64_t v = 0;
          if (a->expr() && (a->kind() == fb::ArgKind::TensorPtr || a->kind() == fb::ArgKind::F32 || !atMax(a->expr(), v)))
            return what + " has a bad argument expression";
        }
      if (k->args())
        for (const fb::KernelArg *a : *k->args())
          if (a->kind() == fb::ArgKind::TensorPtr)
            if (std::string err = checkTensorRef(a->tensor(), e, what); !err.empty())
              return err;
      break;
    }
    case fb::LayerImpl::CudnnConv: {
      const fb::CudnnConv *c = layer->impl_as_CudnnConv();
      for (int32_t idx : {c->x(), c->w(), c->y()})
        if (std::string err = checkTensorRef(idx, e, what); !err.empty())
          return err;
      for (int32_t idx : {c->b(), c->z(), c->s()})
        if (idx != -1)
          if (std::string err = checkTensorRef(idx, e, what); !err.empty())
            return err;
      size_t sd = static_cast<size_t>(c->spatial_dims());
      if (sd < 1 || sd > 3 || !c->pads_begin() || !c->pads_end() || !c->strides() || !c->dilations() ||
          c->pads_begin()->size() != sd || c->pads_end()->size() != sd || c->strides()->size() != sd ||
          c->dilations()->size() != sd)
        return what + " has inconsistent convolution parameters";
      if (c->s() != -1 && (c->transpose() || !(c->post_mult() > 0.0f) || !std::isfinite(c->post_mult())))
        return what + " is an INT8 convolution with a transpose or a post multiplier that is not positive and finite";
      if (c->profile_tactics() && (!batchLoop || c->profile_tactics()->size() + 1 != e.profiles()->size()))
        return what + " has per-profile tactics that do not match the engine's profiles";
      if (c->profile_tactics())
        for (const fb::ProfileTactic *t : *c->profile_tactics())
          if (!aligned64(t->knobs()) || (t->knobs() && t->knobs()->size() % 2 != 0))
            return what + " has a profile tactic with misaligned or odd knobs";
      if (c->groups() <= 0 || c->workspace_bytes() > (uint64_t(1) << 40))
        return what + " has " + std::to_string(c->groups()) + " groups or a workspace beyond any GPU";
      for (size_t i = 0; i < sd; ++i)
        if (c->strides()->Get(static_cast<uint32_t>(i)) <= 0 || c->dilations()->Get(static_cast<uint32_t>(i)) <= 0 ||
            c->pads_begin()->Get(static_cast<uint32_t>(i)) < 0 || c->pads_end()->Get(static_cast<uint32_t>(i)) < 0)
          return what + " has a non-positive stride or dilation, or a negative pad";
      break;
    }
    case fb::LayerImpl::CublasLtMatmul: {
      const fb::CublasLtMatmul *m = layer->impl_as_CublasLtMatmul();
      for (int32_t idx : {m->a(), m->b(), m->d()})
        if (std::string err = checkTensorRef(idx, e, what); !err.empty())
          return err;
      for (int32_t idx : {m->c(), m->bias()})
        if (idx != -1)
          if (std::string err = checkTensorRef(idx, e, what); !err.empty())
            return err;
      if (m->m() <= 0 || m->n() <= 0 || m->k() <= 0 || m->batch() <= 0)
        return what + " has non-positive matrix sizes";
      if (m->dims()) {
        // Dim-fit: the recorded sizes are those at the largest shape, where the expressions must
        // give them (the checks below then bound every smaller shape).
        if (!dimFit || m->dims()->size() != 10)
          return what + " has matrix size expressions outside a dim-fit engine, or not ten";
        int64_t rec[] = {m->m(), m->n(), m->k(), m->batch(), m->lda(), m->ldb(), m->ldc(), m->stride_a(), m->stride_b(), m->stride_c()};
        for (uint32_t i = 0; i < 10; ++i) {
          int64_t v = 0;
          if (!atMax(m->dims()->Get(i), v) || v != rec[i])
            return what + " has a matrix size expression that does not give its size at the largest shape";
        }
      }
      // The output holds batch x m x n elements: sizes beyond it are forged (m = n = k = 2^62).
      const fb::Tensor *d = e.tensors()->Get(static_cast<uint32_t>(m->d()));
      size_t esize = dtypeBytes(d->dtype());
      uint64_t mn, bmn;
      if (__builtin_mul_overflow(static_cast<uint64_t>(m->m()), static_cast<uint64_t>(m->n()), &mn) ||
          __builtin_mul_overflow(mn, static_cast<uint64_t>(m->batch()), &bmn) || esize == 0 || bmn > d->bytes() / esize)
        return what + " computes more elements than its output tensor holds";
      auto holds = [&](int32_t idx, int64_t rows, int64_t cols) {
        const fb::Tensor *t = e.tensors()->Get(static_cast<uint32_t>(idx));
        size_t es = dtypeBytes(t->dtype());
        uint64_t need;
        return es != 0 && !__builtin_mul_overflow(static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), &need) &&
               need <= t->bytes() / es;
      };
      if (!holds(m->a(), m->m(), m->k()) || !holds(m->b(), m->k(), m->n()))
        return what + " reads more elements than its operands hold";
      if (m->workspace_bytes() > (uint64_t(1) << 40))
        return what + " asks for a workspace beyond any GPU";
      // FP8: e4m3 A and B (the element size the checks above used), f16 or bf16 C, D and bias.
      // INT8: int8 A, B and D, a float32 bias, no C.
      auto dtypeOf = [&](int32_t idx) { return e.tensors()->Get(static_cast<uint32_t>(idx))->dtype(); };
      if (int32_t ab = m->ab_dtype(); ab == 3 || m->io_dtype() == 3) {
        if (ab != 3 || m->fast_accum() || dtypeOf(m->a()) != 3 || dtypeOf(m->b()) != 3 || m->io_dtype() != 3 ||
            d->dtype() != 3 || m->c() >= 0 || (m->bias() >= 0 && dtypeOf(m->bias()) != 1))
          return what + " is an INT8 matmul whose operand or result types do not match (A, B and D int8, a float32 bias, no C)";
      } else if (ab != 0 || m->fast_accum()) {
        if (ab != 17 || dtypeOf(m->a()) != 17 || dtypeOf(m->b()) != 17 || (m->io_dtype() != 10 && m->io_dtype() != 16) ||
            d->dtype() != m->io_dtype())
          return what + " is an FP8 matmul whose operand or result types do not match (A and B e4m3, D f16 or bf16)";
      }
      if (m->profile_tactics() && (!batchLoop || m->profile_tactics()->size() + 1 != e.profiles()->size()))
        return what + " has per-profile tactics that do not match the engine's profiles";
      if ((m->scale_m() || m->scale_batch()) && (m->scale_m() == m->scale_batch() || d->batch_dim0() <= 0))
        return what + " grows with the batch in a way its tensors do not";
      break;
    }
    default:
      return what + " has no implementation";
    }
  }
  return "";
}

std::string checkDeviceMatch(const fb::BuildInfo &info, int major, int minor, const std::string &gpuName) {
  if (info.sm_major() == major && info.sm_minor() == minor)
    return "";
  return "engine built for sm_" + std::to_string(info.sm_major()) + std::to_string(info.sm_minor()) + " (" +
         (info.gpu_name() ? info.gpu_name()->str() : std::string("?")) + "), this GPU is sm_" + std::to_string(major) +
         std::to_string(minor) + " (" + gpuName + "): rebuild it";
}

namespace {

/// Every check of a well-formed engine: header, both checksums, the FlatBuffers verifier, then
/// the semantic cross-references. Sets `header` and `engine` on success.
std::string checkEngineBytes(const std::string &b, EngineHeader &header, const fb::Engine *&engine) {
  if (std::string error = checkHeader(b.data(), b.size(), &header); !error.empty())
    return error;
  const EngineHeader &h = header;
  if (crc32c(b.data() + h.fbOffset, h.fbSize) != h.fbCrc)
    return "checksum mismatch in the engine description (corrupted file)";
  if (crc32c(b.data() + h.weightsOffset, h.weightsSize) != h.weightsCrc)
    return "checksum mismatch in the weight blob (corrupted file)";
  const auto *fbData = reinterpret_cast<const uint8_t *>(b.data() + h.fbOffset);
  flatbuffers::Verifier verifier(fbData, h.fbSize);
  if (!fb::VerifyEngineBuffer(verifier))
    return "the engine description fails FlatBuffers verification (corrupted or foreign file)";
  engine = fb::GetEngine(fbData);
  return checkEngineSemantics(*engine, h.weightsSize);
}

} // namespace

std::string EngineView::verify(const std::string &bytes) {
  EngineHeader header;
  const fb::Engine *engine = nullptr;
  return checkEngineBytes(bytes, header, engine);
}

std::unique_ptr<EngineView> EngineView::fromBytes(std::string bytes, std::string &error) {
  auto view = std::unique_ptr<EngineView>(new EngineView());
  view->bytes_ = std::move(bytes);
  error = checkEngineBytes(view->bytes_, view->header_, view->engine_);
  if (!error.empty())
    return nullptr;
  return view;
}

std::unique_ptr<EngineView> EngineView::fromFile(const std::string &path, std::string &error) {
  std::string data;
  // Weights live outside the FlatBuffer and may pass 2 GiB; 64 GiB bounds what a forged or
  // mistaken path (a huge file) can make us read.
  if (!support::readRegularFile(path, uint64_t(64) << 30, data, error))
    return nullptr;
  auto view = fromBytes(std::move(data), error);
  if (!view)
    error = path + ": " + error;
  return view;
}

} // namespace infc::rt
