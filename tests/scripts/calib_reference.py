#!/usr/bin/env python3
"""An independent numpy implementation of infc's calibration methods, for tests: the amax of
|x| over the given .npy files by entropy (Migacz, GTC 2017; see compiler/Calibrator.h for the
exact variant), percentile or minmax, with the same 2048-bin histogram over [0, max |x|].

    calib_reference.py METHOD [--percentile P] FILE.npy... -> prints amax (repr)
    calib_reference.py --check CACHE.json TENSOR METHOD [--percentile P] FILE.npy...
"""
import argparse
import json
import sys

import numpy as np

BINS, LEVELS = 2048, 128


def histogram(x, amax):
    b = np.floor(np.abs(x) / amax * BINS)
    b = np.minimum(b, BINS - 1).astype(np.int64)
    return np.bincount(b, minlength=BINS).astype(np.float64)


def entropy_amax(hist, width):
    total = hist.sum()
    best, best_i = np.inf, len(hist) - 1
    for i in range(LEVELS, len(hist) + 1):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        p /= total
        q = np.zeros(i)
        merged = i // LEVELS
        for g in range(LEVELS):
            start = g * merged
            stop = i if g == LEVELS - 1 else start + merged
            seg = hist[start:stop]
            nonzero = np.count_nonzero(seg)
            if nonzero:
                q[start:stop] = np.where(seg != 0, seg.sum() / nonzero, 0.0)
        q /= q.sum()
        mask = p > 0
        if np.any(q[mask] == 0):
            continue
        kl = float(np.sum(p[mask] * np.log(p[mask] / q[mask])))
        if kl < best:
            best, best_i = kl, i
    return len(hist) * width if best_i == len(hist) else (best_i + 0.5) * width


def reference_amax(method, files, percentile):
    x = np.concatenate([np.load(f).astype(np.float64).ravel() for f in files])
    amax = float(np.abs(x).max())
    if method == "minmax" or amax == 0:
        return amax
    hist = histogram(x, amax)
    width = amax / BINS
    if method == "percentile":
        cdf = np.cumsum(hist)
        k = int(np.argmax(cdf >= percentile / 100.0 * hist.sum()))
        return (k + 1) * width
    return entropy_amax(hist, width)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", nargs=2, metavar=("CACHE", "TENSOR"))
    ap.add_argument("--percentile", type=float, default=99.99)
    ap.add_argument("method", choices=["entropy", "percentile", "minmax"])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    want = reference_amax(a.method, a.files, a.percentile)
    if not a.check:
        print(repr(want))
        return
    cache = json.load(open(a.check[0]))
    got = cache["tensors"][a.check[1]]
    ok = abs(got["amax"] - want) <= 1e-9 * max(1.0, want) and abs(got["scale"] - want / 127) <= 1e-9 * max(1.0, want)
    # What the INT8 matmul accuracy rule reads: the largest |x| and the root mean square, whatever the method.
    x = np.concatenate([np.load(f).astype(np.float64).ravel() for f in a.files])
    mx, rms = float(np.abs(x).max()), float(np.sqrt(np.mean(x * x)))
    ok = ok and abs(got["max"] - mx) <= 1e-9 * max(1.0, mx) and abs(got["rms"] - rms) <= 1e-9 * max(1.0, rms)
    # What the threshold cuts off (histogram methods): the rms of |x| - amax beyond it, from the
    # histogram's bin centres, as infc computes it.
    if a.method != "minmax" and mx > 0:
        hist = histogram(x, mx)
        centres = (np.arange(BINS) + 0.5) * (mx / BINS)
        clip = float(np.sqrt(np.sum(hist * np.maximum(0.0, centres - want) ** 2) / hist.sum()))
        ok = ok and abs(got.get("clip_rms", -1.0) - clip) <= 1e-9 * max(1.0, clip)
    print(f"{a.check[1]} {a.method}: infc {got['amax']!r} numpy {want!r}, max {got['max']!r} {mx!r}, rms {got['rms']!r} "
          f"{rms!r} {'match' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
