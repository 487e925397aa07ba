#!/usr/bin/env python3
"""Real networks on the GPU machine: export with torch (random weights), build infc engines, run
them, and compare with PyTorch FP32 on the same inputs; time infc against PyTorch eager.

    python3 scripts/check_models.py --infc build/bin/infc --out results/ [--models resnet50,mobilenet_v2,bert]

Writes results/models.json and prints one line per model. Accuracy bar (issue 3): FP32 engines
match PyTorch within rtol 1e-3 (we report max abs/rel error and cosine similarity).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch


def export(name, path):
    torch.manual_seed(0)
    if name in ("resnet50", "mobilenet_v2"):
        import torchvision
        model = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.randn(1, 3, 224, 224)
        args, names = (x,), ["input"]
    elif name == "bert":
        from transformers import BertConfig, BertModel

        class Bert(torch.nn.Module):
            # A positional-only wrapper: newer transformers reject extra positional arguments.
            def __init__(self):
                super().__init__()
                self.m = BertModel(BertConfig())

            def forward(self, input_ids):
                return self.m(input_ids=input_ids).last_hidden_state

        model = Bert().eval()
        ids = torch.randint(0, 30522, (1, 128))
        args, names = (ids,), ["input_ids"]
    else:
        raise SystemExit(f"unknown model {name}")
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=names, opset_version=17, do_constant_folding=True, dynamo=False)
        ref = model(*args)
    ref = ref[0] if isinstance(ref, (tuple, list)) else (ref.last_hidden_state if hasattr(ref, "last_hidden_state") else ref)
    return model, args, names, ref.numpy()


def time_torch(model, args, iters=50):
    model = model.cuda()
    args = tuple(a.cuda() for a in args)
    with torch.no_grad():
        for _ in range(10):
            model(*args)
        torch.cuda.synchronize()
        times = []
        for _ in range(iters):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            model(*args)
            e.record()
            torch.cuda.synchronize()
            times.append(s.elapsed_time(e))
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", default="build/bin/infc")
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default="resnet50,mobilenet_v2,bert")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = "/tmp/infc-models"
    os.makedirs(work, exist_ok=True)
    results = {}
    for name in a.models.split(","):
        r = {}
        try:
            onnx_path = f"{work}/{name}.onnx"
            model, args, names, ref = export(name, onnx_path)
            np.save(f"{work}/{name}.in.npy", args[0].numpy())
            for prec in ("fp32", "fp16"):
                plan = f"{work}/{name}.{prec}.plan"
                t0 = time.time()
                b = subprocess.run([a.infc, "build", onnx_path, "-o", plan] + (["--fp16"] if prec == "fp16" else []),
                                   capture_output=True, text=True)
                r[f"{prec}_build_s"] = round(time.time() - t0, 2)
                if b.returncode != 0:
                    r["error"] = b.stderr.strip()[-400:]
                    raise RuntimeError(r["error"])
                outdir = f"{work}/{name}.{prec}.out"
                run = subprocess.run([a.infc, "run", plan, "--input", f"{names[0]}={work}/{name}.in.npy", "--output-dir", outdir,
                                      "--iterations", "100", "--json", f"{work}/{name}.{prec}.json"], capture_output=True, text=True)
                if run.returncode != 0:
                    r["error"] = run.stderr.strip()[-400:]
                    raise RuntimeError(r["error"])
                report = json.load(open(f"{work}/{name}.{prec}.json"))
                outs = sorted(os.listdir(outdir))
                got = np.load(os.path.join(outdir, outs[0])).astype(np.float64)
                want = ref.astype(np.float64).reshape(got.shape)
                diff = np.abs(got - want)
                r[f"{prec}_max_abs_err"] = float(diff.max())
                r[f"{prec}_max_rel_err"] = float((diff / np.maximum(np.abs(want), 1e-6)).max())
                r[f"{prec}_allclose_rtol1e-3_atol1e-4"] = bool(np.allclose(got, want, rtol=1e-3, atol=1e-4))
                r[f"{prec}_cosine"] = float((got * want).sum() / (np.linalg.norm(got) * np.linalg.norm(want) + 1e-300))
                r[f"{prec}_infc_gpu_median_ms"] = report["gpu_compute"]["median_ms"]
            r["torch_eager_fp32_median_ms"] = time_torch(model, args)
        except Exception as e:  # report and continue with the next model
            r.setdefault("error", str(e)[-400:])
        results[name] = r
        print(name, json.dumps(r), flush=True)
    json.dump(results, open(os.path.join(a.out, "models.json"), "w"), indent=2)


if __name__ == "__main__":
    sys.exit(main())
