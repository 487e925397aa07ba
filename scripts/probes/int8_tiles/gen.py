#!/usr/bin/env python3
"""Times every tile of infc's generated INT8 convolution on ResNet-50's memory-bound layers.

Built here (no GPU needed), run on the GPU machine:
  INC=$(grep -o '\\-I[^ ]*' build/compile_commands.json | sort -u | tr '\\n' ' ')
  g++ -std=c++20 -O1 -I. -Ibuild -Ibuild/generated $INC scripts/probes/int8_tiles/dump_kernel.cpp -o scratch/dump_kernel \\
      -Lbuild/lib -linfc_codegen -linfc_compiler -linfc_passes -linfc_ir -linfc_support -linfc_runtime -Wl,-rpath,$PWD/build/lib
  python3 scripts/probes/int8_tiles/gen.py scratch/dump_kernel scratch/int8_tiles.cu [--ablate] [--grids]
  nvcc -O3 -std=c++17 -arch=sm_90 -o scratch/int8_tiles scratch/int8_tiles.cu
  ./scratch/int8_tiles        # there: best of 3 rounds of 20 launches per layer and tile
The kernels are the ones infc generates (one source of truth); inputs are constant bytes (timing
only: infc-gpu-tests checks the same kernels against the reference). The FP16 column is infc's
FP16 engine's time for the same layer (docs/bench-results/2026-12-03o-h200-resnet50-b256-layers.txt).
Each layer also gets a "copy" line: a plain kernel that reads the layer's int8 input and residual
and writes its int8 result (16-byte accesses, every byte once), the floor a convolution with the
same traffic could reach, printed with its TB/s. With --ablate, every tile is also timed in two
cut-down forms (text edits of the generated source, for diagnosis only, their results wrong):
"no-math", whose epilogue stores the accumulator's low byte (no scale, residual, bias or
activation arithmetic; the same loads and stores), and "no-mma", whose main loop loads the tiles
but skips ldmatrix and mma; they print as tile 100 + t and 200 + t. With --grids, every tile is also timed on grids of one and
two whole waves (SMs x blocks per SM, rounded down to a multiple of its channel tiles for the
resident-weight tiles), the same kernel: it deals its output tiles out by gridDim.x.
"""
import re
import subprocess
import sys

LAYERS = [  # name, C, K, HW, R, residual, FP16 engine ms
    ("l1 1x1 64->256 +z", 64, 256, 56, 1, 1, 0.2715),
    ("l1 1x1 256->64", 256, 64, 56, 1, 0, 0.1300),
    ("l1 3x3 64->64", 64, 64, 56, 3, 0, 0.1272),
    ("l2 1x1 128->512 +z", 128, 512, 28, 1, 1, 0.1308),
    ("l2 1x1 256->128 @56", 256, 128, 56, 1, 0, 0.1540),
    ("l2 1x1 512->128", 512, 128, 28, 1, 0, 0.0723),
    ("l3 1x1 256->1024 +z", 256, 1024, 14, 1, 1, 0.0862),
    ("l3 1x1 1024->256", 1024, 256, 14, 1, 0, 0.0474),
    ("l4 1x1 512->2048 +z", 512, 2048, 7, 1, 1, 0.0571),
    ("l2 3x3 128->128", 128, 128, 28, 3, 0, 0.0846),
]

MAIN = r'''
#include <cstdio>
#include <cuda_runtime.h>
typedef void (*KF)(const signed char *, const signed char *, const float *, const void *, const float *, void *, float);
struct Entry { int layer, tile; KF fn; unsigned blocks, threads, smem, nt; };
static const char *names[] = {NAMES};
static const double f16ms[] = {F16};
static Entry entries[] = {ENTRIES};
static const long long rowsIn[] = {ROWS}, chanIn[] = {CIN}, chanOut[] = {COUT};
static const int hasRes[] = {RES};
// The layer's traffic without its arithmetic: x (rows x cin bytes) and, with a residual, z (rows
// x cout) read, y written, 16 bytes per access, every byte once: y's chunk c of a row takes the
// xor of x's chunks c, c + cout/16, ... of the row.
__global__ void copyFloor(const uint4 *x, const uint4 *z, uint4 *y, long long rows, int cin16, int cout16, int res) {
  const long long total = rows * cout16, stride = (long long)gridDim.x * blockDim.x;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += stride) {
    uint4 v = res ? z[i] : make_uint4(0, 0, 0, 0);
    const long long r = i / cout16;
    for (int c = (int)(i % cout16); c < cin16; c += cout16) {
      const uint4 a = x[r * cin16 + c];
      v.x ^= a.x; v.y ^= a.y; v.z ^= a.z; v.w ^= a.w;
    }
    y[i] = v;
  }
}
int main() {
  size_t big = 256ull * 56 * 56 * 256;
  signed char *x, *w, *z, *y; float *b, *s;
  cudaMalloc(&x, big); cudaMalloc(&w, 4 << 20); cudaMalloc(&z, big); cudaMalloc(&y, big);
  cudaMalloc(&b, 8192); cudaMalloc(&s, 8192);
  cudaMemset(x, 1, big); cudaMemset(w, 1, 4 << 20); cudaMemset(z, 1, big); cudaMemset(b, 0, 8192); cudaMemset(s, 0, 8192);
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  for (auto &e : entries) {
    if (cudaFuncSetAttribute((const void *)e.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, e.smem) != cudaSuccess) continue;
    int occ = 0; cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, (const void *)e.fn, e.threads, e.smem);
    cudaFuncAttributes fa; cudaFuncGetAttributes(&fa, (const void *)e.fn);
    auto time = [&](unsigned grid) {
      for (int i = 0; i < 3; ++i) e.fn<<<grid, e.threads, e.smem>>>(x, w, b, z, s, y, 1.0f);
      float best = 1e9;
      for (int round = 0; round < 3; ++round) {
        cudaEventRecord(e0);
        for (int i = 0; i < 20; ++i) e.fn<<<grid, e.threads, e.smem>>>(x, w, b, z, s, y, 1.0f);
        cudaEventRecord(e1); cudaEventSynchronize(e1);
        float ms; cudaEventElapsedTime(&ms, e0, e1); ms /= 20; if (ms < best) best = ms;
      }
      return best;
    };
    const float best = time(e.blocks);
    cudaError_t err = cudaGetLastError();
    printf("%-22s tile %3d  %8.4f ms  x%.2f vs FP16  regs %3d  blocks/SM %d  grid %u  %s\n", names[e.layer], e.tile, best,
           f16ms[e.layer] / best, fa.numRegs, occ, e.blocks, err == cudaSuccess ? "" : cudaGetErrorString(err));
    if (GRIDS) { // the same kernel on grids of whole waves (a multiple of its channel tiles): the
                 // kernel deals its output tiles out by gridDim.x, so any such grid computes the layer
      int sms = 0; cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
      for (int waves = 1; waves <= 2; ++waves) {
        const unsigned g = (unsigned)(sms * occ * waves) / e.nt * e.nt;
        if (g == 0 || g >= e.blocks) continue;
        const float t = time(g);
        printf("%-22s tile %3d  %8.4f ms  x%.2f vs FP16  grid %u (%d wave%s)  %s\n", names[e.layer], e.tile, t,
               f16ms[e.layer] / t, g, waves, waves > 1 ? "s" : "", cudaGetLastError() == cudaSuccess ? "" : "error");
      }
    }
  }
  for (int l = 0; l < (int)(sizeof rowsIn / sizeof rowsIn[0]); ++l) {
    const int cin16 = (int)(chanIn[l] / 16), cout16 = (int)(chanOut[l] / 16);
    auto run = [&] {
      copyFloor<<<132 * 8, 256>>>((const uint4 *)x, (const uint4 *)z, (uint4 *)y, rowsIn[l], cin16, cout16, hasRes[l]);
    };
    for (int i = 0; i < 3; ++i) run();
    float best = 1e9;
    for (int round = 0; round < 3; ++round) {
      cudaEventRecord(e0);
      for (int i = 0; i < 20; ++i) run();
      cudaEventRecord(e1); cudaEventSynchronize(e1);
      float ms; cudaEventElapsedTime(&ms, e0, e1); ms /= 20; if (ms < best) best = ms;
    }
    const double bytes = (double)rowsIn[l] * (chanIn[l] + (1 + hasRes[l]) * chanOut[l]);
    printf("%-22s copy     %8.4f ms  %.2f TB/s for %.0f MB\n", names[l], best, bytes / best / 1e9, bytes / 1e6);
  }
}
'''


# Cut-down forms for --ablate: (label, tile number printed, [(pattern, replacement)]).
ABLATIONS = [
    ("no-math", 100, [(r"float v = __fmaf_rn\(.*\);", "float v = (float)(acc[mi][ni][half * 2 + e] & 0x3f);"),
                      (r"o\[e\] = fmaxf\(v, 0\.0f\);", "o[e] = v;")]),
    ("no-mma", 200, [(r"infc_ldsm_x4\(af\[mi\], [^;]*;", ""), (r"infc_ldsm_x4\(bf\[nj\], [^;]*;", ""),
                     (r"infc_mma_s8\(acc\[mi\]\[ni\], [^;]*;", "acc[mi][ni][0] += ks;"),
                     (r"infc_mma_s8_from\(acc\[mi\]\[ni\], [^;]*;", "acc[mi][ni][0] = ks;")]),
]


def ablate(body, edits):
    for pattern, repl in edits:
        body, n = re.subn(pattern, repl, body)
        assert n > 0, pattern  # the generated source changed: update the pattern
    return body


def main():
    dump, out = sys.argv[1], sys.argv[2]
    ablations = ABLATIONS if "--ablate" in sys.argv[3:] else []
    grids = "--grids" in sys.argv[3:]
    src, table = "", []
    for li, (name, c, k, hw, r, res, _) in enumerate(LAYERS):
        for t in range(64):
            p = subprocess.run([dump, str(c), str(k), str(hw), str(r), str(t), str(res)], capture_output=True, text=True)
            if p.returncode:
                continue  # the tile does not fit the layer (or there is no such tile)
            blocks, threads, smem = re.search(r"blocks (\d+) threads (\d+) smem (\d+)", p.stderr).groups()
            forms = [(t, [])] + [(t + number, edits) for _, number, edits in ablations]
            for number, edits in forms:
                fn = f"k_{li}_{number}"
                body = ablate(p.stdout.replace(" kern(", f" {fn}("), edits)
                if src:  # the prelude once
                    body = body[body.index("#ifndef INFC_IGEMM_HELPERS"):]
                src += body + "\n"
                bn = re.search(r"BN = (\d+)", body)  # (the halo kernel has all 64 channels per block)
                nt = k // int(bn.group(1)) if bn and "wres" in body else 1  # resident weights: one channel tile
                table.append(f"{{{li}, {number}, (KF){fn}, {blocks}u, {threads}u, {smem}u, {nt}u}}")
    main_src = (MAIN.replace("NAMES", ", ".join(f'"{l[0]}"' for l in LAYERS))
                .replace("F16", ", ".join(str(l[6]) for l in LAYERS)).replace("ENTRIES", ", ".join(table))
                .replace("ROWS", ", ".join(str(256 * l[3] * l[3]) for l in LAYERS))
                .replace("CIN", ", ".join(str(l[1]) for l in LAYERS))
                .replace("COUT", ", ".join(str(l[2]) for l in LAYERS))
                .replace("RES", ", ".join(str(l[5]) for l in LAYERS))
                .replace("GRIDS", "true" if grids else "false"))
    with open(out, "w") as f:
        f.write(src + main_src)
    print(len(table), "kernels in", out)


if __name__ == "__main__":
    main()
