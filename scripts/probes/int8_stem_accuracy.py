"""ResNet-50 (random weights, BatchNorm statistics re-estimated as check_models.py does) INT8 with
and without the INT8 stem against FP32, on the same random images (64; 256 with a timing cache): logits cosine and top-1
agreement (the INT8 stem's accuracy cost, with FP16 as the control). Runs on the GPU machine
(torchvision there). Usage: python3 scripts/probes/int8_stem_accuracy.py build/bin/infc OUTDIR [TIMING_CACHE]

With TIMING_CACHE (a timing cache of ResNet-50's INT8 engine at batch 256, e.g. bench.py's with
INFC_BENCH_TIMING_CACHE), the INT8 engines are built at batch 256 with it, so that they run the
tactics the benchmark timed (infc's own kernels where they won) instead of the untimed defaults,
on 256 images."""
import os, subprocess, sys
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # scripts/check_models.py
import torch
from check_models import build_model

infc, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
model, args, names, weights = build_model("resnet50", 1, calibrate=True)
onnx_path = f"{out}/r50.onnx"
torch.onnx.export(model, args, onnx_path, input_names=["input"], output_names=["logits"], opset_version=17,
                  dynamic_axes={"input": {0: "b"}}, dynamo=False)
rng = np.random.default_rng(0)
cal = f"{out}/cal"
os.makedirs(cal, exist_ok=True)
for i in range(2):
    np.save(f"{cal}/b{i}.npy", rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
cache = sys.argv[3] if len(sys.argv) > 3 else None
batch = 256 if cache else 64
x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
np.save(f"{out}/x.npy", x)
def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print("FAILED", " ".join(cmd), r.stderr[-800:]); sys.exit(1)
    return r.stderr + r.stdout
print(run([infc, "build", onnx_path, "--shapes", "input:1x3x224x224", "--int8", "--calib", cal, "--calib-method", "minmax",
           "--calib-cache", f"{out}/c.json", "--no-timing", "-o", f"{out}/cal.plan"]).strip().splitlines()[-2])
plans = {"fp32": [], "fp16": ["--fp16"], "int8": ["--int8", "--calib-cache", f"{out}/c.json"],
         "int8-stem-fp16": ["--int8", "--calib-cache", f"{out}/c.json", "--layer-precision", "/conv1/Conv:fp16"]}
res = {}
for k, flags in plans.items():
    timing = ["--timing-cache", cache] if cache and k.startswith("int8") else ["--no-timing"]
    run([infc, "build", onnx_path, "--shapes", f"input:{batch}x3x224x224", "-o", f"{out}/{k}.plan"] + timing + flags)
    run([infc, "run", f"{out}/{k}.plan", "--input", f"input={out}/x.npy", "--output-dir", f"{out}/o-{k}", "--iterations", "1"])
    res[k] = np.load(f"{out}/o-{k}/logits.npy").astype(np.float64)
ref = res["fp32"]
for k in ["fp16", "int8", "int8-stem-fp16"]:
    y = res[k]
    cos = np.mean(np.sum(y * ref, 1) / np.linalg.norm(y, axis=1) / np.linalg.norm(ref, axis=1))
    top1 = np.mean(np.argmax(y, 1) == np.argmax(ref, 1))
    print(f"{k}: mean logits cosine to FP32 {cos:.6f}, top-1 agreement {top1:.4f} ({weights})")
with torch.no_grad():
    t = model.float()(torch.from_numpy(x[:16])).numpy()
print("torch fp32 vs infc fp32 max |diff| (16 images):", float(np.abs(t - ref[:16]).max()))
