// The INT8 stem kernel: infc.conv's stem form (ConvAttrs, ir/InfcAttrs.h; made by
// quantize-int8-stem) as one kernel. An image network's first convolution reads a float image of
// at most 4 channels, and its result, 64 channels at half the resolution, is the largest tensor
// of the network; the max pool after it reads all of it back. Here each block makes one pooled
// output tile (8 x 8 pixels, all channels) from scratch:
//  1. the input patch under it, quantized as it is read (times 1 / x_scale), one 32-bit word per pixel
//     (its up to 4 channels as 4 bytes), into shared memory; in NHWC, or from the NCHW image
//     itself (x_layout: the layout_cast before it folded in);
//  2. the convolution of the pixels the pool windows cover as a GEMM on mma.sync m16n8k32 (rows:
//     those pixels; columns: output channels; the reduction: one kernel row of up to 8 taps of 4
//     bytes per step), the A fragments read straight from the patch (one word per pixel and tap:
//     no im2col), the B fragments (the weights) held in registers for the block's life;
//  3. the int32 accumulators into shared memory, pixels outside the image at INT_MIN (never a
//     maximum: every window holds one inside);
//  4. the max pool of those, 4 channels per thread, then the epilogue (scale, bias, activation,
//     int8 rounding) once per pooled value, written out in int8. The epilogue is monotone in the
//     accumulator for each channel (its scale is positive), so pooling first gives the same bits
//     as the epilogue of every pixel then the pool, for a fifth of the work on ResNet's stem.
// The convolution's result never reaches memory and the image is read once, in its float type.
// Measured on the H200: docs/int8.md.
#include "codegen/kernels/ConvInt8Stem.h"
#include "codegen/kernels/ConvInt8.h"
#include "codegen/kernels/KernelWriter.h"

#include <sstream>

namespace infc::codegen {

namespace {

/// The pooled tile and the shared memory it needs, for the largest tile (from 8 x 8 down) that
/// fits in kStemSharedBytes.
struct StemTile {
  int tph = 8, tpw = 8, ch = 0, cw = 0, ih = 0, iw = 0, m = 0, mt = 0;
  int64_t patchWords = 0, sharedBytes = 0; ///< dynamic: the patch, then the accumulators
};
/// The dynamic shared memory a tile may take: two blocks (register-bound at 128 registers a
/// thread) fit in the H100's and H200's 228 KB per SM.
constexpr int64_t kStemSharedBytes = 100 * 1024;

StemTile stemTile(const ConvAttrs &a, int64_t kh, int64_t kw, int64_t k, int64_t ph, int64_t pw) {
  StemTile t;
  for (int side = 8;; side /= 2) {
    t.tph = static_cast<int>(std::min<int64_t>(side, ph));
    t.tpw = static_cast<int>(std::min<int64_t>(side, pw));
    t.ch = static_cast<int>((t.tph - 1) * a.poolStrides[0] + a.poolKernel[0]);
    t.cw = static_cast<int>((t.tpw - 1) * a.poolStrides[1] + a.poolKernel[1]);
    t.ih = static_cast<int>((t.ch - 1) * a.strides[0] + kh);
    t.iw = static_cast<int>((t.cw - 1) * a.strides[1] + kw);
    t.m = t.ch * t.cw;
    t.mt = (t.m + 15) / 16;
    // 8 words more: the column slots past KW (zero weights) of the last pixel read past the patch.
    t.patchWords = (t.ih * t.iw + 8 + 3) / 4 * 4; // the accumulators 16-byte aligned after it
    t.sharedBytes = 4 * (t.patchWords + static_cast<int64_t>(t.m) * (k + 8));
    if (t.sharedBytes <= kStemSharedBytes || side == 1)
      return t;
  }
}

} // namespace

std::string int8StemRefusal(const Operation &op, const ConvAttrs &a) {
  if (!a.xScale || !a.pooled())
    return "the fused max pool (pool_*) and the quantization of the input as read (x_scale) run only together, in the "
           "INT8 stem kernel";
  const TensorType &xt = op.operand(0)->type(), &wt = op.operand(1)->type(), &yt = op.result()->type();
  if (!xt.isStatic() || !wt.isStatic() || !yt.isStatic())
    return "the INT8 stem kernel needs static shapes";
  if (op.hasOperand(3) || a.layout != Layout::NHWC || a.strides.size() != 2 || a.group != 1 ||
      a.dilations != std::vector<int64_t>{1, 1} || (a.act.kind != Act::None && a.act.kind != Act::Relu))
    return "the INT8 stem kernel runs 2-D NHWC convolutions, ungrouped and undilated, without residual, with relu or no "
           "activation";
  DType t = xt.elem();
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return "the INT8 stem kernel reads f32, f16 or bf16 input, not " + std::string(dtypeName(t));
  std::vector<int64_t> ws = wt.staticShape();
  int64_t c = ws[3], k = ws[0];
  if (a.xNchw && (xt.rank() != 4 || xt.staticShape()[1] > c))
    return "the INT8 stem kernel reads an NCHW input (x_layout) of at most the weights' channels";
  if (c > 4 || ws[1] > 8 || ws[2] > 8 || !(k == 32 || k == 64 || k == 128 || k == 256))
    return "the INT8 stem kernel takes at most 4 input channels, kernels up to 8x8 and 32, 64, 128 or 256 output channels "
           "(here " + std::to_string(c) + ", " + std::to_string(ws[1]) + "x" + std::to_string(ws[2]) + " and " +
           std::to_string(k) + ")";
  return "";
}

Status lowerInt8StemConv(const Operation &op, LoweringContext &ctx, const ConvAttrs &a) {
  if (std::string why = int8StemRefusal(op, a); !why.empty())
    return unsupported(op.describe() + ": " + why);
  const Value *x = op.operand(0), *w = op.operand(1), *b = op.hasOperand(2) ? op.operand(2) : nullptr, *s = op.operand(4),
              *y = op.result();
  std::vector<int64_t> xs = x->type().staticShape(), ws = w->type().staticShape(), ys = y->type().staticShape();
  // c: the weights' channels (the patch word's bytes); cx: x's own (x_layout nchw: maybe fewer).
  int64_t n = xs[0], h = a.xNchw ? xs[2] : xs[1], wd = a.xNchw ? xs[3] : xs[2], cx = a.xNchw ? xs[1] : xs[3], c = ws[3],
          k = ws[0], kh = ws[1], kw = ws[2];
  // The convolution's own output size, before the pool.
  int64_t oh = (h + a.pads[0] + a.pads[2] - kh) / a.strides[0] + 1, ow = (wd + a.pads[1] + a.pads[3] - kw) / a.strides[1] + 1;
  int64_t ph = ys[1], pw = ys[2];
  StemTile t = stemTile(a, kh, kw, k, ph, pw);
  int64_t taps = kh * kw, ks = kh, ng = k / 32, tiles = n * ((ph + t.tph - 1) / t.tph) * ((pw + t.tpw - 1) / t.tpw);
  DType dt = x->type().elem();
  bool vec16 = !a.xNchw && c == 4 && dt != DType::F32; // a pixel's 4 16-bit channels in one 8-byte load
  std::vector<bool> usedChannel(static_cast<size_t>(c), true);
  if (const Tensor *wv = getConstantValue(w))
    for (int64_t e = 0; e < c; ++e) {
      bool zero = true;
      for (int64_t i = e; i < wv->numElements() && zero; i += c)
        zero = wv->getDouble(i) == 0.0;
      usedChannel[static_cast<size_t>(e)] = !zero;
    }
  for (int64_t e = cx; e < c; ++e)
    usedChannel[static_cast<size_t>(e)] = false; // zeros: x_layout nchw's missing channels

  KernelLayer kl;
  kl.function = ctx.kernelName(op, "stem");
  std::ostringstream src;
  src << int8KernelHelpers(); // infc_mma_s8
  // Two blocks per SM (128 registers a thread): NVRTC alone picks 130, and one block per SM
  // then leaves the SM waiting on its barriers (0.54 ms against 0.38 on ResNet-50 b256, H200).
  src << "extern \"C\" __global__ void __launch_bounds__(256, 2) " << kl.function << "(const " << cudaStorageType(dt)
      << "* __restrict__ x, const signed char* __restrict__ w, const float* __restrict__ bias, const float* __restrict__ scale, "
         "signed char* __restrict__ y) {\n";
  src << "  constexpr int H = " << h << ", W = " << wd << ", C = " << c << ", CX = " << cx << ", K = " << k << ", KW = " << kw << ", TAPS = " << taps
      << ", KS = " << ks << ", NG = " << ng << ", MG = " << 8 / ng << ";\n";
  src << "  constexpr int SH = " << a.strides[0] << ", SW = " << a.strides[1] << ", PT = " << a.pads[0] << ", PL = " << a.pads[1]
      << ", OH = " << oh << ", OW = " << ow << ";\n";
  src << "  constexpr int PKH = " << a.poolKernel[0] << ", PKW = " << a.poolKernel[1] << ", PSH = " << a.poolStrides[0]
      << ", PSW = " << a.poolStrides[1] << ", PPT = " << a.poolPads[0] << ", PPL = " << a.poolPads[1] << ", PH = " << ph
      << ", PW = " << pw << ";\n";
  src << "  constexpr int TPH = " << t.tph << ", TPW = " << t.tpw << ", CW = " << t.cw << ", IH = " << t.ih << ", IW = " << t.iw
      << ", M = " << t.m << ", MT = " << t.mt << ", TX = " << (pw + t.tpw - 1) / t.tpw << ", TY = " << (ph + t.tph - 1) / t.tph
      << ", RS = K + 8, PATCH = " << t.patchWords << ";\n"; // RS: the accumulator rows' stride (K + 8 words: no bank conflicts)
  src << "  constexpr long long TILES = " << tiles << "LL;\n";
  src << "  constexpr float PM = " << floatLiteral(a.postMult, false) << ";\n";
  src << R"(  constexpr int LOW = -2147483647 - 1; // outside the image: never a maximum
  extern __shared__ __align__(128) unsigned char smem[]; // declared as every generated kernel declares it
  unsigned *patch = (unsigned *)smem;           // the input patch, one word per pixel
  int *accs = (int *)smem + PATCH;              // the accumulators, M rows of K (RS apart)
  __shared__ __align__(16) float sc[K], bi[K];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, tq = lane & 3;
  const int ng = warp % NG, mg = warp / NG;
  // The reduction: step s is kernel row s, and its 8 slots of 4 bytes are columns tq and tq + 4
  // (columns past KW: zero weights). A lane's taps then sit at one offset from its pixel's window
  // in every step, s * IW + 4 * hf: the A loads need no address arithmetic.
  // B fragments: channel ng * 32 + nt * 8 + g, tap (s, tq + 4 * hf), each tap's C bytes one word.
  unsigned bf[4][KS][2];
  #pragma unroll
  for (int nt = 0; nt < 4; ++nt) {
    const int o = ng * 32 + nt * 8 + g;
    #pragma unroll
    for (int s = 0; s < KS; ++s)
      #pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        const int kx = tq + 4 * hf;
        unsigned v = 0;
        if (kx < KW)
          #pragma unroll
          for (int cc = 0; cc < C; ++cc) v |= (unsigned)(unsigned char)w[(o * TAPS + s * KW + kx) * C + cc] << (8 * cc);
        bf[nt][s][hf] = v;
      }
  }
  // The epilogue's factors (postMult folded in), per output channel.
  for (int o = tid; o < K; o += 256) {
    sc[o] = scale[o] * PM;
    bi[o] = )" << (b ? "bias[o] * PM" : "0.f") << R"(;
  }
  // The words past the patch that the column slots beyond KW read (times zero weights): zeros,
  // so that nothing reads uninitialized shared memory.
  for (int i = IH * IW + tid; i < PATCH; i += 256)
    patch[i] = 0u;
  for (long long tl = blockIdx.x; tl < TILES; tl += gridDim.x) {
    const int tx = (int)(tl % TX), ty = (int)((tl / TX) % TY);
    const long long nb = tl / ((long long)TX * TY);
    const int cy0 = ty * TPH * PSH - PPT, cx0 = tx * TPW * PSW - PPL; // the tile's first conv row and column
    const int iy0 = cy0 * SH - PT, ix0 = cx0 * SW - PL;                // its patch's first input row and column
    __syncthreads(); // the previous tile's pool is done with `accs`, its GEMM with `patch`
    // All of a thread's loads first, then their quantization: the loads are in flight together.
    constexpr int PER = (IH * IW + 255) / 256;
    )" << (vec16 ? "uint2" : cudaStorageType(dt)) << " xv[PER]" << (vec16 ? "" : "[CX]") << R"(;
    #pragma unroll
    for (int j = 0; j < PER; ++j) {
      const int i = tid + j * 256, iy = iy0 + i / IW, ix = ix0 + i % IW;
      const bool in = i < IH * IW && iy >= 0 && iy < H && ix >= 0 && ix < W;
)";
  if (vec16)
    src << "      xv[j] = in ? *(const uint2 *)(x + ((nb * H + iy) * W + ix) * C) : make_uint2(0u, 0u);\n";
  for (int64_t e = 0; e < cx && !vec16; ++e) {
    if (!usedChannel[static_cast<size_t>(e)])
      continue;
    std::string at = a.xNchw ? "((nb * CX + " + std::to_string(e) + ") * H + iy) * W + ix" : "((nb * H + iy) * W + ix) * CX + " + std::to_string(e);
    src << "      xv[j][" << e << "] = in ? x[" << at << "] : (" << cudaStorageType(dt) << ")0;\n";
  }
  src << R"(    }
    #pragma unroll
    for (int j = 0; j < PER; ++j) {
      const int i = tid + j * 256;
      if (i >= IH * IW) break;
)";
  if (vec16)
    src << "      const unsigned short *xe = (const unsigned short *)&xv[j];\n";
  else
    src << "      const " << cudaStorageType(dt) << " *xe = xv[j];\n";
  src << "      unsigned v = 0;\n";
  // x_dtype: the layout_cast's rounding first.
  auto rounded = [&](const std::string &v) {
    return a.xRound == DType::Undefined ? v : loadAs(a.xRound, storeAs(a.xRound, v));
  };
  // Zero stays zero: outside the image the patch holds 0, the quantization of 0. A channel whose
  // weights are all 0 (the one layout_cast's pad_channels adds for cuDNN) is not read at all.
  for (int64_t e = 0; e < c; ++e)
    if (usedChannel[static_cast<size_t>(e)])
      src << "      v |= (unsigned)(unsigned char)"
          << storeQuantized(DType::I8, rounded(loadAs(dt, "xe[" + std::to_string(e) + "]")) + " * " +
                                           floatLiteral(1.0f / *a.xScale, false))
          << " << " << 8 * e << ";\n";
  src << R"(      patch[i] = v;
    }
    __syncthreads();
    for (int mt = mg; mt < MT; mt += MG) {
      const int r0 = mt * 16 + g, r1 = r0 + 8;
      const unsigned *p0 = patch + (r0 < M ? (r0 / CW) * SH * IW + (r0 % CW) * SW : 0) + tq;
      const unsigned *p1 = patch + (r1 < M ? (r1 / CW) * SH * IW + (r1 % CW) * SW : 0) + tq;
      int acc[4][4];
      #pragma unroll
      for (int nt = 0; nt < 4; ++nt) acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0;
      #pragma unroll
      for (int s = 0; s < KS; ++s) {
        const unsigned af[4] = {p0[s * IW], p1[s * IW], p0[s * IW + 4], p1[s * IW + 4]};
        #pragma unroll
        for (int nt = 0; nt < 4; ++nt) infc_mma_s8(acc[nt], af, bf[nt][s][0], bf[nt][s][1]);
      }
      // The accumulators themselves go to shared memory (pixels outside the image: LOW,
      // never a maximum): the pool takes their maxima first, and the epilogue, monotone in the
      // accumulator for each channel (positive scale), then runs once per pooled value.
      #pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        const int r = hf ? r1 : r0;
        if (r >= M) continue;
        const int cy = cy0 + r / CW, cx = cx0 + r % CW;
        const bool inside = cy >= 0 && cy < OH && cx >= 0 && cx < OW;
        int *row = accs + r * RS + ng * 32 + tq * 2;
        #pragma unroll
        for (int nt = 0; nt < 4; ++nt)
          *(int2 *)(row + nt * 8) = inside ? make_int2(acc[nt][2 * hf], acc[nt][2 * hf + 1]) : make_int2(LOW, LOW);
      }
    }
    __syncthreads();
    // Each thread one group of 4 channels (K / 4 divides 256: its scale and bias loaded once) and
    // every PP-th pooled pixel.
    constexpr int Q = K / 4, PP = 256 / Q;
    const int c4 = tid % Q, p0 = tid / Q;
    const float4 s4 = *(const float4 *)(sc + c4 * 4), b4 = *(const float4 *)(bi + c4 * 4);
    #pragma unroll
    for (int j = 0; j < (TPH * TPW + PP - 1) / PP; ++j) {
      const int p = p0 + j * PP, px = p % TPW, py = p / TPW, oy = ty * TPH + py, ox = tx * TPW + px;
      if (p >= TPH * TPW || oy >= PH || ox >= PW) continue;
      const int *a0 = accs + (py * PSH * CW + px * PSW) * RS + c4 * 4;
      int4 m = make_int4(LOW, LOW, LOW, LOW);
      #pragma unroll
      for (int dy = 0; dy < PKH; ++dy)
        #pragma unroll
        for (int dx = 0; dx < PKW; ++dx) {
          const int4 v = *(const int4 *)(a0 + (dy * CW + dx) * RS);
          m.x = max(m.x, v.x); m.y = max(m.y, v.y); m.z = max(m.z, v.z); m.w = max(m.w, v.w);
        }
      float f0 = fmaf((float)m.x, s4.x, b4.x), f1 = fmaf((float)m.y, s4.y, b4.y), f2 = fmaf((float)m.z, s4.z, b4.z),
            f3 = fmaf((float)m.w, s4.w, b4.w);
)";
  // With relu the value is not negative: the rounding needs only the upper bound (the same bits
  // as storeQuantized's, whose lower bound can then never act).
  auto quant = [&](const std::string &f) {
    return a.act.kind == Act::Relu ? "(unsigned)(unsigned char)(int)fminf(rintf(fmaxf(" + f + ", 0.f)), 127.0f)"
                                   : "(unsigned)(unsigned char)" + storeQuantized(DType::I8, f);
  };
  src << "      const unsigned q = " << quant("f0") << " | " << quant("f1") << " << 8 | " << quant("f2") << " << 16 | "
      << quant("f3") << " << 24;\n";
  src << R"(      ((unsigned *)y)[((nb * PH + oy) * PW + ox) * Q + c4] = q;
    }
  }
}
)";
  kl.source = src.str();
  // Blocks walk about eight tiles each, so the weights they hold in registers are loaded once per
  // eight tiles.
  kl.grid = {static_cast<uint32_t>((tiles + 7) / 8), 1, 1};
  kl.block = {256, 1, 1};
  kl.sharedBytes = static_cast<uint32_t>(t.sharedBytes);
  for (const Value *v : {x, w, b ? b : s, s, y})
    kl.args.push_back(KernelArg::tensor(v));
  std::vector<const Value *> ins = {x, w, s};
  if (b)
    ins.push_back(b);
  ctx.addKernel(op, std::move(kl), ins, {y});
  Layer &l = ctx.layers().back();
  l.tactic = "infc INT8 stem kernel, " + std::to_string(t.tph) + "x" + std::to_string(t.tpw) + " pooled pixels per tile";
  l.precision = "int8 nhwc -> i8 (" + std::string(dtypeName(dt)) + " input quantized as read, max pool fused)";
  return Status::ok();
}

} // namespace infc::codegen
