// infc.attention: fused scaled dot-product attention, one generated kernel, the scores never in
// global memory. f16/bf16 with head size a multiple of 16 up to 128 run a flash-attention-2
// style tensor-core kernel (mma.sync m16n8k16, f32 accumulation, online softmax); other cases a
// warp-per-query kernel in f32 (the FP32 engines). Sizes and strides are kernel arguments; only
// the head size is compiled in.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include <cstdio>
#include <sstream>

namespace infc::codegen {

namespace {

using QkvLayout = AttentionAttrs::QkvLayout;

/// Element offsets and strides of one of q, k, v, y: base + b*sb + h*sh + s*ss + d.
struct View {
  const Value *value = nullptr;
  int64_t offset = 0, sb = 0, sh = 0, ss = 0;
};

/// Views of q, k, v and y in `layout`; dims are the logical B, H, Sq, Sk, D, Dv.
struct Problem {
  int64_t B = 0, H = 0, Sq = 0, Sk = 0, D = 0, Dv = 0;
  View q, k, v, y;
  const Value *mask = nullptr;
  int64_t mb = 0, mh = 0, mi = 0, mj = 0; ///< mask strides over [B, H, Sq, Sk] (0: broadcast)
};

View bhsdView(const Value *t) {
  std::vector<int64_t> s = t->type().staticShape(); // [B, H, S, D]
  return {t, 0, s[1] * s[2] * s[3], s[2] * s[3], s[3]};
}

View bshdView(const Value *t) {
  std::vector<int64_t> s = t->type().staticShape(); // [B, S, H, D]
  return {t, 0, s[1] * s[2] * s[3], s[3], s[2] * s[3]};
}

Expected<Problem> problemOf(const Operation &op, const AttentionAttrs &a) {
  Problem p;
  const Value *x = op.operand(0);
  std::vector<int64_t> xs = x->type().staticShape();
  switch (a.layout) {
  case QkvLayout::BHSD:
    p.q = bhsdView(x);
    p.k = bhsdView(op.operand(1));
    p.v = bhsdView(op.operand(2));
    p.y = bhsdView(op.result());
    p.B = xs[0], p.H = xs[1], p.Sq = xs[2], p.D = xs[3];
    p.Sk = op.operand(1)->type().staticShape()[2];
    p.Dv = op.operand(2)->type().staticShape()[3];
    break;
  case QkvLayout::BSHD:
    p.q = bshdView(x);
    p.k = bshdView(op.operand(1));
    p.v = bshdView(op.operand(2));
    p.y = bshdView(op.result());
    p.B = xs[0], p.Sq = xs[1], p.H = xs[2], p.D = xs[3];
    p.Sk = op.operand(1)->type().staticShape()[1];
    p.Dv = op.operand(2)->type().staticShape()[3];
    break;
  case QkvLayout::BS3HD: {
    // [B, S, 3, H, D]: q, k, v are the three slices of dim 2.
    p.B = xs[0], p.Sq = p.Sk = xs[1], p.H = xs[3], p.D = p.Dv = xs[4];
    int64_t ss = 3 * p.H * p.D;
    for (int64_t i = 0; i < 3; ++i)
      (i == 0 ? p.q : i == 1 ? p.k : p.v) = View{x, i * p.H * p.D, p.Sq * ss, p.D, ss};
    p.y = bshdView(op.result());
    break;
  }
  }
  if (op.hasOperand(3)) {
    p.mask = op.operand(3);
    std::vector<int64_t> ms = p.mask->type().staticShape(), st = rowMajorStrides(ms);
    std::vector<int64_t> full(4, 0);
    // Right-aligned numpy broadcast onto [B, H, Sq, Sk].
    for (size_t i = 0; i < ms.size(); ++i)
      full[4 - ms.size() + i] = ms[i] == 1 ? 0 : st[i];
    p.mb = full[0], p.mh = full[1], p.mi = full[2], p.mj = full[3];
  }
  return p;
}

/// What a quantized attention reads and writes (fuse-attention-quant): q, k, v of `in` (int8 or
/// e4m3 with x_scale, else the float type `ft`), y of `out` (int8 or e4m3 with q_scale).
struct Types {
  DType ft = DType::F16, in = DType::F16, out = DType::F16;
  bool quantized() const { return in != ft || out != ft; }
  /// `v` (float) rounded to ft as a value of that type would hold it.
  std::string roundedFt(const std::string &v) const { return ft == DType::F32 ? v : loadAs(ft, storeAs(ft, v)); }
  /// Storage expression `e` of q, k or v as the float the attention computes with.
  std::string load(const std::string &e) const {
    return in == ft ? "(float)" + loadAs(ft, e) : roundedFt("(" + loadAsFloat(in, e, "float") + " * x_scale)");
  }
  /// Float `v` as y stores it.
  std::string store(const std::string &v) const {
    return out == ft ? storeAs(ft, v) : storeQuantized(out, "(" + roundedFt(v) + " / q_scale)");
  }
};

/// The parameter list both kernels take, in the order lowerAttention passes the arguments:
/// q, k, v, mask, y, the sizes, the views' offsets and strides, the mask's strides, the scale
/// (`scaleName`), then x_scale and q_scale when quantized.
std::string attentionParams(const Types &t, const std::string &scaleName) {
  std::string in = cudaStorageType(t.in), ms = cudaStorageType(t.ft);
  return "(const " + in + "* __restrict__ qp, const " + in + "* __restrict__ kp, const " + in + "* __restrict__ vp, const " +
         ms + "* __restrict__ mp, " + cudaStorageType(t.out) +
         "* __restrict__ yp, int H, int Sq, int Sk, "
         "long long qo, long long qsb, long long qsh, long long qss, long long ko, long long ksb, long long ksh, long long kss, "
         "long long vo, long long vsb, long long vsh, long long vss, long long ysb, long long ysh, long long yss, "
         "long long mb, long long mh, long long mi, long long mj, float " +
         scaleName + (t.quantized() ? ", float x_scale, float q_scale)" : ")");
}

/// Device helpers of the tensor-core kernel (defined once per module).
const char *kMmaHelpers = R"(
#ifndef INFC_ATTENTION_HELPERS
#define INFC_ATTENTION_HELPERS
__device__ __forceinline__ void infc_mma_f16(float *c, const unsigned *a, unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void infc_mma_bf16(float *c, const unsigned *a, unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// Two floats to one register of two halves: lo in bits 0-15 (the lower column).
__device__ __forceinline__ unsigned infc_pack_f16(float lo, float hi) {
  unsigned r; asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo)); return r;
}
__device__ __forceinline__ unsigned infc_pack_bf16(float lo, float hi) {
  unsigned r; asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo)); return r;
}
// Four 8x8 matrices of 16-bit elements from shared memory, transposed: lane i gives the address
// of row i % 8 of matrix i / 8 (16-byte aligned); r[m] holds, for lane l, elements (2 (l % 4),
// l / 4) and (2 (l % 4) + 1, l / 4) of matrix m: an mma B fragment from a row-major [k][n] tile.
__device__ __forceinline__ void infc_ldmatrix_x4_trans(unsigned *r, const unsigned short *p) {
  const unsigned a = (unsigned)__cvta_generic_to_shared(p);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}
#endif
)";

/// The tensor-core kernel. One CTA of 4 warps takes 64 queries of one (batch, head); each warp 16
/// rows. Key/value tiles of 64 rows go through shared memory; scores and probabilities stay in
/// registers (the m16n8 accumulator layout of S is the A-operand layout of P for P*V).
/// Quantized q, k, v (x_scale): loaded as bytes, each pair of elements dequantized into one
/// register of two halves as the tiles are read (infc_deq2); a quantized y is written 2 bytes at
/// a time.
std::string mmaKernel(const std::string &fn, const Types &ty, int64_t D, bool hasMask, bool causal, bool nanToZero) {
  DType dt = ty.ft;
  bool qin = ty.in != dt, qout = ty.out != dt;
  std::string T = dt == DType::F16 ? "f16" : "bf16";
  std::string toF = dt == DType::F16 ? "infc_h2f" : "infc_bf2f";
  std::ostringstream s;
  s << kMmaHelpers;
  if (qin) // two quantized elements (lo byte first) as one register of two dequantized halves
    s << "__device__ __forceinline__ unsigned " << fn << "_deq2(unsigned v, float x_scale) {\n  return infc_pack_" << T
      << "(" << loadAsFloat(ty.in, "(" + cudaStorageType(ty.in) + ")(v & 0xffu)", "float") << " * x_scale, "
      << loadAsFloat(ty.in, "(" + cudaStorageType(ty.in) + ")((v >> 8) & 0xffu)", "float") << " * x_scale);\n}\n";
  s << "extern \"C\" __global__ void __launch_bounds__(128) " << fn
    << attentionParams(ty, "scale_log2") << " {\n";
  s << "  constexpr int HD = " << D << ", BM = 64, BN = 64, LD = HD + 8;\n";
  s << R"(  __shared__ __align__(16) unsigned short Ks[BN * LD];
  __shared__ __align__(16) unsigned short Vs[BN * LD];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int bh = blockIdx.y, b = bh / H, h = bh % H;
  const int m0 = blockIdx.x * BM + warp * 16;
  const auto *q = qp + qo + b * qsb + h * qsh;
  const auto *k = kp + ko + b * ksb + h * ksh;
  const auto *v = vp + vo + b * vsb + h * vsh;
  // Q fragments (A operand, row-major 16 x HD), zero beyond Sq.
  unsigned qa[HD / 16][4];
  #pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) {
    #pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int row = m0 + g + (r & 1) * 8, col = kk * 16 + (r >> 1) * 8 + t * 2;
)";
  if (qin)
    s << "      qa[kk][r] = row < Sq ? " << fn << "_deq2(*(const unsigned short *)(q + (long long)row * qss + col), x_scale) : 0u;\n";
  else
    s << "      qa[kk][r] = row < Sq ? *(const unsigned *)(q + (long long)row * qss + col) : 0u;\n";
  s << R"(    }
  }
  float o[HD / 8][4];
  #pragma unroll
  for (int n = 0; n < HD / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.f, 0.f};
  int tiles = (Sk + BN - 1) / BN;
)";
  if (causal)
    s << "  { const int last = min(Sq, (int)(blockIdx.x + 1) * BM) - 1; tiles = min(tiles, last / BN + 1); }\n";
  s << R"(  for (int tile = 0; tile < tiles; ++tile) {
    const int j0 = tile * BN;
    __syncthreads();
    for (int c = threadIdx.x; c < BN * (HD / 8); c += 128) {
      const int row = c / (HD / 8), col = (c % (HD / 8)) * 8;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (j0 + row < Sk) {
)";
  if (qin)
    s << "        const uint2 k8 = *(const uint2 *)(k + (long long)(j0 + row) * kss + col);\n"
      << "        const uint2 v8 = *(const uint2 *)(v + (long long)(j0 + row) * vss + col);\n"
      << "        kv = make_uint4(" << fn << "_deq2(k8.x, x_scale), " << fn << "_deq2(k8.x >> 16, x_scale), " << fn
      << "_deq2(k8.y, x_scale), " << fn << "_deq2(k8.y >> 16, x_scale));\n"
      << "        vv = make_uint4(" << fn << "_deq2(v8.x, x_scale), " << fn << "_deq2(v8.x >> 16, x_scale), " << fn
      << "_deq2(v8.y, x_scale), " << fn << "_deq2(v8.y >> 16, x_scale));\n";
  else
    s << "        kv = *(const uint4 *)(k + (long long)(j0 + row) * kss + col);\n"
      << "        vv = *(const uint4 *)(v + (long long)(j0 + row) * vss + col);\n";
  s << R"(      }
      *(uint4 *)(Ks + row * LD + col) = kv;
      *(uint4 *)(Vs + row * LD + col) = vv;
    }
    __syncthreads();
    // S = Q K^T for this warp's 16 rows and the tile's 64 keys, in the log2 domain.
    float sc[BN / 8][4];
    #pragma unroll
    for (int n = 0; n < BN / 8; ++n) {
      sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.f;
      #pragma unroll
      for (int kk = 0; kk < HD / 16; ++kk) {
        const unsigned short *kr = Ks + (n * 8 + g) * LD + kk * 16 + t * 2;
        infc_mma_)" << T << R"((sc[n], qa[kk], *(const unsigned *)kr, *(const unsigned *)(kr + 8));
      }
    }
    float tmax[2] = {-INFINITY, -INFINITY};
    #pragma unroll
    for (int n = 0; n < BN / 8; ++n) {
      #pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int i = m0 + g + (e >> 1) * 8, j = j0 + n * 8 + t * 2 + (e & 1);
        float x = sc[n][e] * scale_log2;
)";
  if (hasMask)
    s << "        if (i < Sq && j < Sk) x += " << toF << "(mp[b * mb + h * mh + (long long)i * mi + (long long)j * mj]) * 1.4426950408889634f;\n";
  s << "        if (j >= Sk" << (causal ? " || j > i" : "") << ") x = -INFINITY;\n";
  s << R"(        sc[n][e] = x;
        tmax[e >> 1] = fmaxf(tmax[e >> 1], x);
      }
    }
    float alpha[2], muse[2];
    #pragma unroll
    for (int r = 0; r < 2; ++r) {
      tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 1));
      tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 2));
      const float mnew = fmaxf(mrow[r], tmax[r]);
      // A row with no finite score so far: exponents against 0 keep every term 0, not NaN.
      muse[r] = mnew == -INFINITY ? 0.f : mnew;
      alpha[r] = exp2f(mrow[r] - muse[r]);
      mrow[r] = mnew;
      lrow[r] *= alpha[r];
    }
    #pragma unroll
    for (int n = 0; n < HD / 8; ++n) {
      o[n][0] *= alpha[0]; o[n][1] *= alpha[0]; o[n][2] *= alpha[1]; o[n][3] *= alpha[1];
    }
    unsigned pa[BN / 16][4];
    #pragma unroll
    for (int n = 0; n < BN / 8; ++n) {
      float p0 = exp2f(sc[n][0] - muse[0]), p1 = exp2f(sc[n][1] - muse[0]);
      float p2 = exp2f(sc[n][2] - muse[1]), p3 = exp2f(sc[n][3] - muse[1]);
      lrow[0] += p0 + p1;
      lrow[1] += p2 + p3;
      pa[n >> 1][(n & 1) * 2 + 0] = infc_pack_)" << T << R"((p0, p1);
      pa[n >> 1][(n & 1) * 2 + 1] = infc_pack_)" << T << R"((p2, p3);
    }
    // O += P V: B operands (16 keys x 8 columns of V, two keys per register) for two column
    // blocks at once, by one transposing ldmatrix: matrices 0 and 1 are keys 0-7 and 8-15 of
    // columns n, 2 and 3 of columns n + 1.
    #pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      #pragma unroll
      for (int n = 0; n < HD / 8; n += 2) {
        unsigned vb[4];
        infc_ldmatrix_x4_trans(vb, Vs + (kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * LD + (n + (lane >> 4)) * 8);
        infc_mma_)" << T << R"((o[n], pa[kk], vb[0], vb[1]);
        infc_mma_)" << T << R"((o[n + 1], pa[kk], vb[2], vb[3]);
      }
    }
  }
  #pragma unroll
  for (int r = 0; r < 2; ++r) {
    lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
    lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
  }
  auto *y = yp + b * ysb + h * ysh;
  #pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = m0 + g + r * 8;
    if (i >= Sq) continue;
    const float inv = 1.f / lrow[r];
    #pragma unroll
    for (int n = 0; n < HD / 8; ++n) {
      float y0 = o[n][r * 2] * inv, y1 = o[n][r * 2 + 1] * inv;
)";
  if (nanToZero)
    s << "      if (y0 != y0) y0 = 0.f;\n      if (y1 != y1) y1 = 0.f;\n";
  if (qout)
    s << "      *(unsigned short *)(y + (long long)i * yss + n * 8 + t * 2) = (unsigned short)((unsigned char)"
      << ty.store("y0") << " | ((unsigned)(unsigned char)" << ty.store("y1") << " << 8));\n";
  else
    s << "      *(unsigned *)(y + (long long)i * yss + n * 8 + t * 2) = infc_pack_" << T << "(y0, y1);\n";
  s << "    }\n  }\n}\n";
  return s.str();
}

/// The general kernel: one warp per (batch, head, query); any float dtype, any head sizes.
/// Pass 1: each lane's running max and sum over its keys, combined across the warp. Pass 2: 32
/// keys at a time, lanes own output columns and read each key's probability by shuffle.
std::string warpKernel(const std::string &fn, const Types &ty, int64_t D, int64_t Dv, bool hasMask, bool causal, bool nanToZero) {
  auto ld = [&](const std::string &e) { return ty.load(e); };
  int64_t perLane = (Dv + 31) / 32;
  std::ostringstream s;
  s << "extern \"C\" __global__ void " << fn << attentionParams(ty, "scale") << " {\n";
  s << "  constexpr int D = " << D << ", DV = " << Dv << ", PL = " << perLane << ";\n";
  s << R"(  const int lane = threadIdx.x & 31;
  const long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const long long total = (long long)Sq * H;
  const int b = blockIdx.y;
  if (row >= total) return;
  const int h = (int)(row / Sq), i = (int)(row % Sq);
  const auto *q = qp + qo + b * qsb + h * qsh + (long long)i * qss;
  const auto *k = kp + ko + b * ksb + h * ksh;
  const auto *v = vp + vo + b * vsb + h * vsh;
  auto score = [&](int j) -> float {
    float x = 0.f;
    for (int d = 0; d < D; ++d) x += (float))" << ld("q[d]") << " * (float)" << ld("k[(long long)j * kss + d]") << R"(;
    x *= scale;
)";
  if (hasMask)
    s << "    x += (float)" << loadAs(ty.ft, "mp[b * mb + h * mh + (long long)i * mi + (long long)j * mj]") << ";\n";
  if (causal)
    s << "    if (j > i) x = -INFINITY;\n";
  s << R"(    return x;
  };
  float m = -INFINITY, l = 0.f;
  for (int j = lane; j < Sk; j += 32) {
    const float x = score(j), mn = fmaxf(m, x), mu = mn == -INFINITY ? 0.f : mn;
    l = l * expf(m - mu) + expf(x - mu);
    m = mn;
  }
  for (int off = 16; off > 0; off >>= 1) {
    const float mo = __shfl_xor_sync(0xffffffffu, m, off), lo = __shfl_xor_sync(0xffffffffu, l, off);
    const float mn = fmaxf(m, mo), mu = mn == -INFINITY ? 0.f : mn;
    l = l * expf(m - mu) + lo * expf(mo - mu);
    m = mn;
  }
  const float mu = m == -INFINITY ? 0.f : m;
  float acc[PL];
  for (int c = 0; c < PL; ++c) acc[c] = 0.f;
  for (int j0 = 0; j0 < Sk; j0 += 32) {
    const int j = j0 + lane;
    const float p = j < Sk ? expf(score(j) - mu) / l : 0.f;
    const int n = min(32, Sk - j0);
    for (int jj = 0; jj < n; ++jj) {
      const float pj = __shfl_sync(0xffffffffu, p, jj);
      for (int c = 0; c < PL; ++c) {
        const int d = lane + 32 * c;
        if (d < DV) acc[c] += pj * (float))" << ld("v[(long long)(j0 + jj) * vss + d]") << R"(;
      }
    }
  }
  auto *y = yp + b * ysb + h * ysh + (long long)i * yss;
  for (int c = 0; c < PL; ++c) {
    const int d = lane + 32 * c;
    float r = acc[c];
)";
  if (nanToZero)
    s << "    if (r != r) r = 0.f;\n";
  s << "    if (d < DV) y[d] = " << ty.store("r") << ";\n  }\n}\n";
  return s.str();
}

Status lowerAttention(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(AttentionAttrs a, AttentionAttrs::read(op));
  bool quantized = a.xScale || a.qScale;
  DType dt = a.floatType;
  if (dt != DType::F32 && dt != DType::F16 && dt != DType::BF16)
    return unsupported(op.describe() + ": attention on " + std::string(dtypeName(dt)) + " has no GPU kernel yet");
  Types ty{dt, op.operand(0)->type().elem(), op.result()->type().elem()};
  INFC_ASSIGN_OR_RETURN(Problem p, problemOf(op, a));
  bool tensorCores = dt != DType::F32 && p.D == p.Dv && p.D % 16 == 0 && p.D <= 128 && ctx.options().smMajor >= 8;
  KernelLayer k;
  k.function = ctx.kernelName(op);
  const Value *mask = p.mask ? p.mask : p.y.value; // an unused pointer when there is no mask
  for (const Value *v : {p.q.value, p.k.value, p.v.value, mask, p.y.value})
    k.args.push_back(KernelArg::tensor(v));
  for (int64_t i : {p.H, p.Sq, p.Sk})
    k.args.push_back(KernelArg::i32(i));
  for (const View *vw : {&p.q, &p.k, &p.v})
    for (int64_t i : {vw->offset, vw->sb, vw->sh, vw->ss})
      k.args.push_back(KernelArg::i64(i));
  for (int64_t i : {p.y.sb, p.y.sh, p.y.ss, p.mb, p.mh, p.mi, p.mj})
    k.args.push_back(KernelArg::i64(i));
  if (tensorCores) {
    k.args.push_back(KernelArg::f32(static_cast<float>(a.scale * 1.4426950408889634)));
    k.source = mmaKernel(k.function, ty, p.D, p.mask != nullptr, a.causal, a.nanToZero);
    k.grid = {static_cast<uint32_t>((p.Sq + 63) / 64), static_cast<uint32_t>(p.B * p.H), 1};
    k.gridFrom(0, p.Sq, 64);
    k.block = {128, 1, 1};
  } else {
    k.args.push_back(KernelArg::f32(a.scale));
    k.source = warpKernel(k.function, ty, p.D, p.Dv, p.mask != nullptr, a.causal, a.nanToZero);
    k.grid = {static_cast<uint32_t>((p.Sq * p.H * 32 + 127) / 128), static_cast<uint32_t>(p.B), 1};
    k.gridFrom(0, p.Sq * p.H * 32, 128);
    k.block = {128, 1, 1};
  }
  if (quantized)
    for (std::optional<float> f : {a.xScale, a.qScale})
      k.args.push_back(KernelArg::f32(f.value_or(1.0f)));
  std::vector<const Value *> ins = {op.operand(0)};
  for (size_t i = 1; i < 4; ++i)
    if (op.hasOperand(i))
      ins.push_back(op.operand(i));
  ctx.addKernel(op, std::move(k), ins, {op.result()});
  if (quantized) { // inspect: "f16; q, k, v int8 by 0.00363; y int8 by 0.00133"
    std::string p(dtypeName(dt));
    char buf[96];
    if (a.xScale) {
      std::snprintf(buf, sizeof buf, "; q, k, v %s by %g", std::string(dtypeName(ty.in)).c_str(), static_cast<double>(*a.xScale));
      p += buf;
    }
    if (a.qScale) {
      std::snprintf(buf, sizeof buf, "; y %s by %g", std::string(dtypeName(ty.out)).c_str(), static_cast<double>(*a.qScale));
      p += buf;
    }
    ctx.layers().back().precision = p;
  }
  return Status::ok();
}

} // namespace

void registerAttentionLowerings(LoweringTable &t) { t[static_cast<size_t>(OpKind::InfcAttention)] = &lowerAttention; }

} // namespace infc::codegen
