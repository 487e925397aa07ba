#!/usr/bin/env python3
"""Multi-stream throughput of infc engines on the GPU machine (issue: contexts sharing one engine).

    python3 scripts/bench_streams.py --infc build/bin/infc --out results/ [--models resnet50,bert]
        [--streams 1,2,4,8] [--iterations 300]

For each model it exports ONNX (check_models.build_model, trained weights), builds one FP16
engine (ResNet-50 at batch 8, BERT-base at batch 1, sequence 128) and runs it with
`infc run --streams N` for each N: N host threads, each with its own execution context, stream
and pinned buffers, every iteration copying the inputs in, running, and copying the outputs out.
It prints, per N, the end-to-end throughput (copies included) and its ratio to 1 stream, the
latency median and 99th percentile over all iterations, the throughput without copies
(back-to-back enqueues) and the overlap (the streams' busy time summed, over wall time).
Results go to OUT/streams.json.
"""
import argparse
import json
import os
import subprocess
import sys

BATCH = {"resnet50": 8, "mobilenet_v2": 8, "bert": 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", required=True)
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default="resnet50,bert")
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--sm-share", action="store_true",
                    help="also run every N > 1 with --sm-share (each context's library kernels on 1/N of the SMs)")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_models import build_model, export_onnx
    work = "/tmp/infc-bench-streams"
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    infc = os.path.abspath(a.infc)
    results = {}
    for name in a.models.split(","):
        model, args, names, _ = build_model(name, 1, calibrate=False)
        onnx = f"{work}/{name}.onnx"
        export_onnx(model, args, names, onnx, dynamic_batch=True)
        batch = BATCH[name]
        shape = f"{names[0]}:{batch}x3x224x224" if name != "bert" else f"{names[0]}:{batch}x128"
        plan = f"{work}/{name}.b{batch}.plan"
        b = subprocess.run([infc, "build", onnx, "-o", plan, "--shapes", shape, "--fp16", "--quiet"],
                           capture_output=True, text=True)
        if b.returncode != 0:
            print(f"{name}: build failed: {b.stderr.strip()[-400:]}", flush=True)
            continue
        rows = []
        runs = [(int(s), False) for s in a.streams.split(",")]
        if a.sm_share:
            runs += [(n, True) for n, _ in runs if n > 1]
        for n, share in runs:
            js = f"{plan}.s{n}{'.share' if share else ''}.json"
            r = subprocess.run([infc, "run", plan, "--streams", str(n), "--iterations", str(a.iterations),
                                "--warmup", "20", "--json", js] + (["--sm-share"] if share else []),
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name} streams {n}: run failed: {r.stderr.strip()[-400:]}", flush=True)
                continue
            rep = json.load(open(js))
            e2e = rep["end_to_end"]
            rows.append({"streams": n, "sm_share": share, "sm_count_per_stream": rep.get("sm_count_per_stream", 0),
                         "inferences_per_s": e2e["throughput_inferences_per_s"],
                         "latency_median_ms": rep["latency"]["median_ms"],
                         "latency_p99_ms": rep["latency"]["p99_ms"],
                         "compute_median_ms": rep["gpu_compute"]["median_ms"],
                         "no_copy_inferences_per_s": rep["throughput_inferences_per_s"],
                         "overlap": e2e["busy_ms"] / e2e["wall_ms"],
                         "per_stream_qps": [s["throughput_qps"] for s in e2e["per_stream"]]})
        base = rows[0]["inferences_per_s"] if rows and rows[0]["streams"] == 1 else None
        print(f"== {name}, batch {batch}, FP16, {a.iterations} iterations per stream (infc run --streams N)", flush=True)
        print("| streams | throughput (copies included) | vs 1 stream | latency median | latency p99 | "
              "GPU compute median | throughput without copies | overlap |")
        print("|---|---|---|---|---|---|---|---|")
        for row in rows:
            ratio = f"{row['inferences_per_s'] / base:.2f}x" if base else "-"
            label = f"{row['streams']}" + (f" (--sm-share, {row['sm_count_per_stream']} SMs each)" if row["sm_share"] else "")
            print(f"| {label} | {row['inferences_per_s']:.0f}/s | {ratio} | {row['latency_median_ms']:.3f} ms | "
                  f"{row['latency_p99_ms']:.3f} ms | {row['compute_median_ms']:.3f} ms | "
                  f"{row['no_copy_inferences_per_s']:.0f}/s | {row['overlap']:.2f}x |", flush=True)
        results[name] = {"batch": batch, "rows": rows}
    json.dump(results, open(os.path.join(a.out, "streams.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
