#!/usr/bin/env python3
"""Benchmark infc engines against PyTorch on the GPU machine, peers measured in the same run.

    python3 scripts/bench.py --infc build/bin/infc --out results/ \\
        [--models resnet50,mobilenet_v2,bert] [--compile] [--compile-timeout 300]
    python3 scripts/bench.py --render results/bench-*.json > docs/benchmarks.md

For each model and batch (1, and 256 for CNNs / 64 for BERT) it exports ONNX with a dynamic batch
dimension, builds FP32 and FP16 engines with `infc build --shapes`, times them with `infc run`
(median GPU compute time for latency; back-to-back enqueues for throughput), and times, on the
same GPU in the same process tree:
  - PyTorch eager FP32 and FP16 (channels_last for CNNs, cudnn.benchmark=True),
  - with --compile, torch.compile(mode="max-autotune") FP16, each compile in a subprocess bounded
    by --compile-timeout (a compile that does not finish is reported as such, not dropped).
FLOPs per sample come from torch.utils.flop_counter; the fraction of peak uses the H100 SXM
dense figures (FP16 tensor core 989 TFLOP/s, FP32 67 TFLOP/s). Results go to
OUT/bench-<models>.json; --render turns one or more such files into docs/benchmarks.md.
INFC_BENCH_TIMING_CACHE=DIR gives each build a timing cache there (DIR/<model>.b<batch>.<prec>.json,
read and extended): a second run with the same kernels then times nothing again (a cache from
before a change to a generated kernel times the old kernel: use a fresh DIR after such changes).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

PEAK = {"fp16": 989e12, "fp32": 67e12}
BATCHES = {"resnet50": [1, 256], "mobilenet_v2": [1, 256], "bert": [1, 64]}
UNIT = {"resnet50": "img/s", "mobilenet_v2": "img/s", "bert": "seq/s"}
TITLE = {"resnet50": "ResNet-50", "mobilenet_v2": "MobileNetV2", "bert": "BERT-base (seq 128)"}


def cuda_time(fn, iters, warmup=10):
    """Median per-call time (ms) and throughput time per call (ms, back to back) with CUDA events."""
    import numpy as np
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(iters):
        fn()
    e.record()
    torch.cuda.synchronize()
    return float(np.median(times)), s.elapsed_time(e) / iters


def torch_peer(name, batch, mode, iters):
    """mode: eager-fp32, eager-fp16, compile-fp16. Returns a result dict."""
    import torch
    from check_models import build_model
    torch.backends.cudnn.benchmark = True
    # infc's FP32 engines do not use TF32; hold PyTorch FP32 to the same arithmetic.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model, args, _, _ = build_model(name, batch, calibrate=False)  # weights do not change speed
    fp16 = mode.endswith("fp16")
    model = model.cuda()
    args = [a.cuda() for a in args]
    if fp16:
        model = model.half()
        args = [a.half() if a.is_floating_point() else a for a in args]
    if name != "bert":
        model = model.to(memory_format=torch.channels_last)
        args = [a.contiguous(memory_format=torch.channels_last) for a in args]
    r = {}
    if mode.startswith("compile"):
        t0 = time.time()
        model = torch.compile(model, mode="max-autotune")
        with torch.no_grad():
            model(*args)
        torch.cuda.synchronize()
        r["compile_s"] = round(time.time() - t0, 1)
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        med, per = cuda_time(lambda: model(*args), iters)
    r["max_memory_allocated"] = torch.cuda.max_memory_allocated()
    r["latency_ms"] = med
    r["throughput"] = batch / per * 1000.0
    return r


def run_peer_subprocess(name, batch, mode, iters, timeout):
    cmd = [sys.executable, __file__, "--peer", f"{name}:{batch}:{mode}:{iters}"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           cwd=os.path.dirname(os.path.abspath(__file__)))
    except subprocess.TimeoutExpired:
        return {"error": f"not finished within {timeout} s"}
    for line in p.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (p.stderr.strip() or p.stdout.strip())[-300:]}


def count_flops(name):
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from check_models import build_model
    model, args, _, _ = build_model(name, 1, calibrate=False)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(*args)
    return fc.get_total_flops()


def calibration_cache(infc, onnx_path, names, name, work):
    """Calibrates `name` (minmax, on the reference interpreter) from two batch-1 samples of the
    bench's own random inputs (images, or token ids for BERT) and returns the calibration cache;
    every batch size and precision (--int8, --fp8) reads it (ranges are per tensor, whatever the
    batch). Random-weight models: this measures speed only."""
    import numpy as np
    cache = f"{work}/{name}.calib.json"
    if os.path.exists(cache):
        return cache  # a cache for another export is refused by infc build (model_sha256)
    cal = f"{work}/{name}.calib"
    os.makedirs(cal, exist_ok=True)
    rng = np.random.default_rng(0)
    # BERT calibrates on one sample: the FP32 reference interpreter takes about 100 s per 1x128
    # sample of BERT-base.
    text = name == "bert"
    for i in range(1 if text else 2):
        x = rng.integers(0, 30522, (1, 128)) if text else rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
        np.save(f"{cal}/b{i}.npy", x)
    shape = f"{names[0]}:1x128" if text else f"{names[0]}:1x3x224x224"
    b = subprocess.run([infc, "build", onnx_path, "-o", f"{work}/{name}.calib.plan", "--shapes", shape,
                        "--fp8" if text else "--int8", "--calib", cal, "--calib-method", "minmax", "--calib-cache", cache,
                        "--no-timing"],
                       capture_output=True, text=True)
    if b.returncode != 0:
        raise RuntimeError("calibration failed: " + b.stderr.strip()[-300:])
    return cache


def infc_engine(infc, onnx_path, names, name, batch, prec, work, iters, opt_level=3):
    shape = f"{names[0]}:{batch}x3x224x224" if name != "bert" else f"{names[0]}:{batch}x128"
    plan = f"{work}/{name}.b{batch}.{prec}.O{opt_level}.plan"
    t0 = time.time()
    flags = {"fp16": ["--fp16"], "fp32": []}.get(prec)
    if prec in ("int8", "fp8"):
        flags = [f"--{prec}", "--calib-cache", calibration_cache(infc, onnx_path, names, name, work)]
    # The build report (stages and their seconds, every layer's tactic) and its log land next to
    # the plan; INFC_BENCH_VERBOSE=1 logs every tactic timed.
    verbose = ["--verbose"] if os.environ.get("INFC_BENCH_VERBOSE") == "1" else []
    if os.environ.get("INFC_BENCH_TIMING_CACHE"):
        tdir = os.environ["INFC_BENCH_TIMING_CACHE"]
        os.makedirs(tdir, exist_ok=True)
        flags = flags + ["--timing-cache", f"{tdir}/{name}.b{batch}.{prec}.json"]
    b = subprocess.run([infc, "build", onnx_path, "-o", plan, "--shapes", shape, "--opt-level", str(opt_level),
                        "--json", f"{plan}.build.json"] + verbose + flags, capture_output=True, text=True)
    with open(f"{plan}.build.log", "w") as f:
        f.write(b.stderr)
    r = {"build_s": round(time.time() - t0, 2)}
    if b.returncode != 0:
        return {"error": b.stderr.strip()[-300:]}
    js = f"{plan}.json"
    run = subprocess.run([infc, "run", plan, "--iterations", str(iters), "--warmup", "10", "--json", js],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return {"error": run.stderr.strip()[-300:]}
    rep = json.load(open(js))
    r["latency_ms"] = rep["gpu_compute"]["median_ms"]
    # Everything infc holds on the device for one context: weights, activations, workspace
    # (compared with torch.cuda.max_memory_allocated(), which counts weights and activations).
    mem = rep.get("device_memory", {})
    if mem:
        r["device_bytes"] = mem["engine_bytes"] + mem["context_bytes"]
    r["throughput"] = rep["throughput_inferences_per_s"]
    ins = subprocess.run([infc, "inspect", plan, "--json"], capture_output=True, text=True)
    if ins.returncode == 0:
        j = json.loads(ins.stdout)
        # One engine layer is one launch of a generated kernel or one cuDNN/cuBLASLt call (which
        # may itself launch more than one kernel).
        r["layers"] = len(j["layers"])
        r["activation_bytes"] = j["memory"]["activation_bytes"]
        r["activation_lower_bound_bytes"] = j["memory"].get("activation_lower_bound_bytes")
        r["weight_bytes"] = j["memory"]["weight_bytes"]
    return r


def bench(a):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_models import build_model, export_onnx
    work = "/tmp/infc-bench"
    os.makedirs(work, exist_ok=True)
    out = {"date": datetime.date.today().isoformat(), "gpu": torch.cuda.get_device_name(0),
           "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "models": {}}
    for name in a.models.split(","):
        model, args, names, weights = build_model(name, 1, calibrate=False)
        onnx_path = f"{work}/{name}.onnx"
        export_onnx(model, args, names, onnx_path, dynamic_batch=True)
        entry = {"weights": weights, "flops_per_sample": count_flops(name), "batches": {}}
        for batch in BATCHES[name]:
            if a.batches == "large" and batch == 1 or a.batches == "1" and batch != 1:
                continue
            iters = 200 if batch == 1 else 100
            res = {}
            wanted = (lambda v: a.variants is None or v in a.variants.split(","))
            for prec in ("fp32", "fp16", "int8", "fp8"):
                if prec == "fp8" and name != "bert":
                    continue  # FP8 applies to matmuls: BERT's
                elif wanted(f"infc-{prec}"):
                    res[f"infc-{prec}"] = infc_engine(a.infc, onnx_path, names, name, batch, prec, work, iters)
                    # Each variant as soon as it is measured: a later one that runs past a
                    # timeout leaves the earlier figures printed.
                    print(name, batch, f"infc-{prec}", json.dumps(res[f"infc-{prec}"]), flush=True)
            if wanted("infc-fp16-O0"):
                res["infc-fp16-O0"] = infc_engine(a.infc, onnx_path, names, name, batch, "fp16", work, iters, opt_level=0)
            compile_here = a.compile and (a.compile_batches == "all" or (a.compile_batches == "large") == (batch > 1))
            for mode in ("eager-fp32", "eager-fp16") + (("compile-fp16",) if compile_here else ()):
                if wanted(mode):
                    res[mode] = run_peer_subprocess(name, batch, mode, iters, a.compile_timeout if "compile" in mode else 600)
            entry["batches"][str(batch)] = res
            print(name, batch, json.dumps(res), flush=True)
        out["models"][name] = entry
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, f"bench-{a.models.replace(',', '_')}{'' if a.batches == 'all' else '-' + a.batches}.json")
    json.dump(out, open(path, "w"), indent=1)
    print("wrote", path)


def fmt(v, digits=2):
    return "—" if v is None else f"{v:,.{digits}f}"


def render(files):
    runs = [json.load(open(f)) for f in files]
    lines = ["# Benchmarks", "",
             "Generated by `python3 scripts/bench.py --render` from the JSON files `scripts/bench.py` wrote on the",
             "GPU machine; every ratio compares figures measured in the same run (same command, same GPU).", ""]
    for run in runs:
        lines += [f"## {', '.join(TITLE[m] for m in run['models'])}: {run['date']}, {run['gpu']}", "",
                  f"PyTorch {run['torch']}, cuDNN {run['cudnn']}. infc: `infc run` median GPU compute time (latency) and",
                  "back-to-back enqueues (throughput). PyTorch: CUDA events, median (latency) and back-to-back calls",
                  "(throughput); CNNs in channels_last with `cudnn.benchmark=True`; FP32 without TF32 on both sides. Ratio = peer time / infc time",
                  "(above 1: infc is faster). Fraction of peak: achieved FLOP/s over 989 TFLOP/s (FP16) or 67 TFLOP/s (FP32).", ""]
        for name, m in run["models"].items():
            lines += [f"### {TITLE[name]}", "",
                      f"Weights: {m['weights']}. {m['flops_per_sample'] / 1e9:.2f} GFLOP per sample (torch flop counter).", ""]
            lines += ["| batch | precision | infc latency | infc throughput | % of peak | build | "
                      "eager latency | eager throughput | infc vs eager | max-autotune throughput | infc vs max-autotune |",
                      "|---|---|---|---|---|---|---|---|---|---|---|"]
            for batch, res in m["batches"].items():
                for prec in ("fp32", "fp16"):
                    i = res.get(f"infc-{prec}", {})
                    e = res.get(f"eager-{prec}", {})
                    c = res.get(f"compile-{prec}", {})
                    if "error" in i:
                        lines.append(f"| {batch} | {prec} | failed: {i['error'][:80]} | | | | | | | | |")
                        continue
                    b = int(batch)
                    thr_i = i.get("throughput")
                    peak = thr_i * m["flops_per_sample"] / PEAK[prec] * 100 if thr_i else None
                    use_thr = b > 1  # batch 1: compare latency; large batch: throughput
                    def ratio(p):
                        if not p or "error" in p:
                            return "—"
                        return f"{thr_i / p['throughput']:.2f}x" if use_thr else f"{p['latency_ms'] / i['latency_ms']:.2f}x"
                    ce = "—"
                    if c:
                        ce = f"not measured ({c['error']})" if "error" in c else f"{fmt(c['throughput'], 0)} {UNIT[name]} ({fmt(c['latency_ms'])} ms; compile {c['compile_s']} s)"
                    lines.append(f"| {batch} | {prec} | {fmt(i['latency_ms'])} ms | {fmt(thr_i, 0)} {UNIT[name]} | {fmt(peak, 1)}% | "
                                 f"{i['build_s']} s | {fmt(e.get('latency_ms'))} ms | {fmt(e.get('throughput'), 0)} | {ratio(e)} | "
                                 f"{ce} | {ratio(c) if c else '—'} |")
            for batch, res in m["batches"].items():
                i, e = res.get("infc-fp16", {}), res.get("eager-fp16", {})
                if i.get("device_bytes") and e.get("max_memory_allocated"):
                    lines.append(f"- Batch {batch}, FP16 device memory: infc {i['device_bytes'] / 1e6:,.1f} MB (weights, activations "
                                 f"{i['activation_bytes'] / 1e6:,.1f} MB, workspace), PyTorch eager peak "
                                 f"{e['max_memory_allocated'] / 1e6:,.1f} MB: {i['device_bytes'] / e['max_memory_allocated']:.2f}x.")
            lines.append("")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", default="build/bin/infc")
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default="resnet50,mobilenet_v2,bert")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(mode='max-autotune') FP16")
    ap.add_argument("--compile-timeout", type=int, default=300)
    ap.add_argument("--compile-batches", choices=["all", "1", "large"], default="all",
                    help="which batch sizes get a torch.compile peer (it takes minutes per model and batch)")
    ap.add_argument("--batches", choices=["all", "1", "large"], default="all")
    ap.add_argument("--variants", help="comma-separated subset of infc-fp32,infc-fp16,infc-int8,infc-fp8 (BERT),infc-fp16-O0,eager-fp32,"
                    "eager-fp16,compile-fp16 (default: all; compile-fp16 also needs --compile)")
    ap.add_argument("--render", nargs="+", help="render these bench JSON files as markdown")
    ap.add_argument("--peer", help=argparse.SUPPRESS)  # internal: NAME:BATCH:MODE:ITERS in a subprocess
    a = ap.parse_args()
    if a.render:
        sys.stdout.write(render(a.render))
    elif a.peer:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        name, batch, mode, iters = a.peer.split(":")
        try:
            print(json.dumps(torch_peer(name, int(batch), mode, int(iters))))
        except Exception as e:  # reported in the table
            print(json.dumps({"error": str(e)[-300:]}))
    else:
        bench(a)


if __name__ == "__main__":
    sys.exit(main())
