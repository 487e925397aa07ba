#!/usr/bin/env python3
"""Build times and what tuning buys, on the GPU machine (docs/benchmarks.md):

    python3 scripts/build_times.py --infc build/bin/infc --out $OUT [--models resnet50,bert] [--precision fp16]

For each model at its large batch (ResNet-50 256, BERT-base 64, sequence 128; random weights):
  cold   a timed build with an empty timing cache (every tactic timed here),
  warm   the same build again, reading that cache,
  cross  the same build with no GPU visible (CUDA_VISIBLE_DEVICES=) for --target h200 from that
         cache with --require-complete-cache: its SHA-256 must equal the GPU build's,
  heur   a build with --no-timing (tactics by cuDNN/cuBLASLt heuristics at load time),
then runs the tuned and the heuristic engines (`infc run`, median GPU time of 100 after 10
warm-ups) and prints the build seconds, the ratio heuristic/tuned and whether the bytes match.
Writes OUT/build-times.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

BATCH = {"resnet50": 256, "bert": 64, "mobilenet_v2": 256}


def build(infc, onnx, shape, plan, flags, env=None):
    t0 = time.time()
    p = subprocess.run([infc, "build", onnx, "--shapes", shape, "-o", plan, "--json", plan + ".build.json"] + flags,
                       capture_output=True, text=True, env=env)
    secs = round(time.time() - t0, 2)
    if p.returncode != 0:
        return {"error": p.stderr.strip()[-400:], "wall_s": secs}
    rep = json.load(open(plan + ".build.json"))
    return {"wall_s": secs, "sha256": rep["sha256"], "tactics": rep["tactics"]["summary"],
            "stages": {s["name"]: round(s["seconds"], 2) for s in rep["stages"]}}


def run(infc, plan):
    js = plan + ".run.json"
    p = subprocess.run([infc, "run", plan, "--iterations", "100", "--warmup", "10", "--json", js],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return json.load(open(js))["gpu_compute"]["median_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", required=True)
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--precision", default="fp16", choices=["fp16", "fp32"])
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_models import build_model, export_onnx
    work = "/tmp/infc-build-times"
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    infc = os.path.abspath(a.infc)
    prec = ["--fp16"] if a.precision == "fp16" else []
    out = {}
    for name in a.models.split(","):
        model, args, names, _ = build_model(name, 1, calibrate=False)
        onnx = f"{work}/{name}.onnx"
        export_onnx(model, args, names, onnx, dynamic_batch=True)
        batch = BATCH[name]
        shape = f"{names[0]}:{batch}x3x224x224" if name != "bert" else f"{names[0]}:{batch}x128"
        cache = f"{work}/{name}.cache.json"
        if os.path.exists(cache):
            os.remove(cache)
        base = f"{work}/{name}.b{batch}"
        r = {"batch": batch}
        r["cold"] = build(infc, onnx, shape, base + ".cold.plan", prec + ["--timing-cache", cache])
        r["warm"] = build(infc, onnx, shape, base + ".warm.plan", prec + ["--timing-cache", cache])
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
        r["cross"] = build(infc, onnx, shape, base + ".cross.plan",
                           prec + ["--target", "h200", "--timing-cache", cache, "--require-complete-cache"], env)
        r["heur"] = build(infc, onnx, shape, base + ".heur.plan", prec + ["--no-timing"])
        r["same_bytes_warm"] = r["warm"].get("sha256") == r["cold"].get("sha256")
        r["same_bytes_cross"] = r["cross"].get("sha256") == r["cold"].get("sha256")
        tuned, heur = run(infc, base + ".cold.plan"), run(infc, base + ".heur.plan")
        r["tuned_ms"], r["heuristic_ms"] = tuned, heur
        if tuned and heur:
            r["heuristic_over_tuned"] = round(heur / tuned, 3)
        out[name] = r
        print(f"{name} b{batch} {a.precision}: cold {r['cold'].get('wall_s')} s, warm {r['warm'].get('wall_s')} s, "
              f"cross-build (no GPU) {r['cross'].get('wall_s')} s, heuristics-only build {r['heur'].get('wall_s')} s; "
              f"same bytes warm/cross: {r['same_bytes_warm']}/{r['same_bytes_cross']}; "
              f"GPU time tuned {tuned} ms, heuristics {heur} ms (x{r.get('heuristic_over_tuned')})", flush=True)
        print(json.dumps(r), flush=True)
    json.dump(out, open(os.path.join(a.out, "build-times.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
