#!/usr/bin/env python3
"""On the GPU: for each shape, run an engine with profiles (DYNAMIC_PLAN) at that shape on the GPU
and on the reference executor, with the same inputs, and compare; with --static, also build a
static engine of MODEL at that shape and run it on the GPU.

    gpu_profile_sweep.py INFC MODEL DYNAMIC_PLAN WORK_DIR [--tol T] [--int-inputs N] [--static] NAME:SHAPE[;NAME:SHAPE] ...

A shape names every dynamic input (';' between inputs, as `infc run --shapes` takes ','). Inputs
are random (seed per shape): floats in [-1, 1), or integers in [0, N) with --int-inputs N.
Prints one line per shape with the largest difference relative to the largest output magnitude,
and exits 1 when one is over the tolerance (default 1e-4).
"""
import os
import subprocess
import sys

import numpy as np


def run(infc, args, out):
    gpu = [] if "--reference" in args else ["--iterations", "1"]
    r = subprocess.run([infc, "run"] + args + ["--output-dir", out] + gpu, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"infc run {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-1500:]}")
    return {f: np.load(os.path.join(out, f)) for f in sorted(os.listdir(out))}


def worst(a, b):
    if a.keys() != b.keys():
        return float("inf")
    w = 0.0
    for f in a:
        x, y = a[f].astype(np.float64), b[f].astype(np.float64)
        if x.shape != y.shape:
            return float("inf")
        scale = max(np.abs(x).max(), 1e-30)
        w = max(w, float(np.abs(x - y).max() / scale))
    return w


def main():
    argv = sys.argv[1:]
    tol, ints, static = 1e-4, 0, False
    if "--tol" in argv:
        i = argv.index("--tol"); tol = float(argv[i + 1]); del argv[i:i + 2]
    if "--int-inputs" in argv:
        i = argv.index("--int-inputs"); ints = int(argv[i + 1]); del argv[i:i + 2]
    if "--static" in argv:
        argv.remove("--static"); static = True
    infc, model, plan, work = argv[:4]
    os.makedirs(work, exist_ok=True)
    bad = 0
    for n, spec in enumerate(argv[4:]):
        rng = np.random.default_rng(n)
        inputs, shapes = [], []
        for item in spec.split(";"):
            name, dims = item.split(":")
            shape = [int(d) for d in dims.split("x")]
            arr = rng.integers(0, ints, size=shape).astype(np.int64) if ints else rng.uniform(-1, 1, shape).astype(np.float32)
            path = os.path.join(work, f"{n}_{name}.npy")
            np.save(path, arr)
            inputs += ["--input", f"{name}={path}"]
            shapes.append(f"{name}:{dims}")
        tag = ",".join(shapes)
        gpu = run(infc, [plan] + inputs, os.path.join(work, f"{n}_gpu"))
        ref = run(infc, ["--reference", plan] + inputs, os.path.join(work, f"{n}_ref"))
        line = f"{tag}: gpu vs reference {worst(ref, gpu):.2e}"
        ok = worst(ref, gpu) <= tol
        if static:
            sp = os.path.join(work, f"{n}_static.plan")
            subprocess.run([infc, "build", model, "--shapes", tag, "-o", sp, "--quiet"] +
                           [a for a in os.environ.get("SWEEP_BUILD_FLAGS", "").split() if a], check=True, capture_output=True)
            st = run(infc, [sp] + inputs, os.path.join(work, f"{n}_static"))
            line += f", gpu vs static engine {worst(st, gpu):.2e}"
            ok = ok and worst(st, gpu) <= tol
        print(line + ("" if ok else "  OVER TOLERANCE"), flush=True)
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
