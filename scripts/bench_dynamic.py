#!/usr/bin/env python3
"""Engines with a dynamic batch (optimization profiles, batch-loop engines) against static engines
built at the same shapes, on the GPU present: at every batch of a sweep across the profile's range,
the dynamic engine's outputs against the static engine's (same input file), and both engines' GPU
compute time (median of `infc run`'s CUDA-event times, same run). Prints a table per model and
writes dynamic.json to --out.

  python3 scripts/bench_dynamic.py --infc build/bin/infc --out results --models resnet50,bert \
      --profiles 1:8:32 --sweep 1,5,8,32 [--fp16]

--profiles gives each profile's batch range MIN:OPT:MAX, comma-separated (profile k = the k-th).
--dim-range MIN:OPT:MAX makes a second dim dynamic too (BERT's sequence length, a CNN's height and
width, which stay equal) with that range in every profile (a dim-fit engine then); the sweep's
entries are BATCHxDIM (8x128).

The models come from scripts/check_models.py (torchvision / transformers, exported with a dynamic
batch, and the second dim with --dim-range); BERT's sequence length is 128 otherwise."""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ":\n" + r.stderr.strip()[-1500:])
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", required=True)
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--profiles", default="1:8:32")
    ap.add_argument("--sweep", default="1,5,8,32")
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--dim-range", default="")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_models import build_model, export_onnx
    infc = os.path.abspath(a.infc)
    work = "/tmp/infc-bench-dynamic"
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    prec = ["--fp16"] if a.fp16 else []
    results = {}
    for name in a.models.split(","):
        model, args, names, _ = build_model(name, 1, calibrate=False)
        onnx = f"{work}/{name}.onnx"
        axes = None
        if a.dim_range:
            axes = {names[0]: {0: "batch", 1: "seq"} if name == "bert" else {0: "batch", 2: "size", 3: "size"}}
        export_onnx(model, args, names, onnx, dynamic_batch=True, axes=axes)
        inp = names[0]
        def item(d=None):
            if name == "bert":
                return str(d or 128)
            return f"3x{d or 224}x{d or 224}"
        dlo, dmid, dhi = a.dim_range.split(":") if a.dim_range else (None, None, None)
        dyn = f"{work}/{name}.dyn.plan"
        ranges = []
        for p in a.profiles.split(","):
            lo, mid, hi = p.split(":")
            ranges += ["--min-shapes", f"{inp}:{lo}x{item(dlo)}", "--opt-shapes", f"{inp}:{mid}x{item(dmid)}",
                       "--max-shapes", f"{inp}:{hi}x{item(dhi)}"]
        b = run([infc, "build", onnx, "-o", dyn] + ranges + prec)
        for line in b.stderr.strip().splitlines():
            if line.startswith(("warning:", "built")):
                print(f"== {name}: dynamic engine: {line}", flush=True)
        if "for the reference executor" in b.stderr:
            print(f"{name}: the dynamic engine has no GPU layers (the warning above says why)", flush=True)
            continue
        rows = []
        rng = np.random.default_rng(0)
        for entry in a.sweep.split(","):
            batch, dim = (int(v) for v in entry.split("x")) if "x" in entry else (int(entry), None)
            x = f"{work}/{name}.x{entry}.npy"
            if name == "bert":
                np.save(x, rng.integers(0, 30522, size=(batch, dim or 128), dtype=np.int64))
            else:
                np.save(x, rng.standard_normal((batch, 3, dim or 224, dim or 224), dtype=np.float32))
            static = f"{work}/{name}.b{entry}.plan"
            run([infc, "build", onnx, "-o", static, "--shapes", f"{inp}:{batch}x{item(dim)}", "--quiet"] + prec)
            row = {"batch": batch, "shape": f"{batch}x{item(dim)}"}
            outs = {}
            for kind, plan in (("dynamic", dyn), ("static", static)):
                od, js = f"{work}/{name}.{kind}.b{entry}", f"{work}/{name}.{kind}.b{entry}.json"
                run([infc, "run", plan, "--input", f"{inp}={x}", "--output-dir", od, "--iterations", str(a.iterations),
                     "--warmup", "20", "--json", js])
                rep = json.load(open(js))
                row[f"{kind}_ms"] = rep["gpu_compute"]["median_ms"]
                outs[kind] = [np.load(os.path.join(od, f)).astype(np.float64) for f in sorted(os.listdir(od))]
            d, s = outs["dynamic"][0], outs["static"][0]
            row["max_abs_diff"] = float(np.abs(d - s).max())
            row["max_abs_static"] = float(np.abs(s).max())
            row["cosine"] = float((d * s).sum() / (np.linalg.norm(d) * np.linalg.norm(s) + 1e-300))
            row["ratio"] = row["dynamic_ms"] / row["static_ms"]
            rows.append(row)
            print(f"{name} {row['shape']}: dynamic {row['dynamic_ms']:.3f} ms, static {row['static_ms']:.3f} ms "
                  f"(x{row['ratio']:.3f}); outputs: max |diff| {row['max_abs_diff']:.3g} (max |static| "
                  f"{row['max_abs_static']:.3g}), cosine {row['cosine']:.6f}", flush=True)
        results[name] = {"profiles": a.profiles, "dim_range": a.dim_range, "fp16": a.fp16, "rows": rows}
    json.dump(results, open(os.path.join(a.out, "dynamic.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
