#!/usr/bin/env python3
"""Build infc engines for the digits models and measure their test accuracy.

    python3 examples/digits/evaluate.py --infc build/bin/infc
    python3 examples/digits/evaluate.py --infc build/bin/infc --variants fp32,fp16 --reference --target sm_90

For each model and variant: `infc build` an engine for input BATCHx1x8x8, run the 360 test images
through it with `infc run` (BATCH at a time), and compare with the labels and with the fp32
engine's logits. Prints a markdown table and writes it as JSON to OUT/digits_accuracy.json.

Variants: fp32, fp16 (--fp16), int8 (--int8 --calib: the default calibration), int8-entropy,
int8-percentile, int8-minmax (--int8 --calib with that --calib-method, cache in
OUT/MODEL.METHOD.calib.json), fp8 (--fp8 --calib: E4M3 matmuls with
minmax ranges; sm_89 or later, so --target sm_90 on the reference executor). Calibration uses the 256 training
images of calib/ (8 batches of 32). An engine's input shape is fixed and infc requires every
calibration batch to have exactly that shape, so with --batch other than 32 the same images are
re-batched into a temporary folder of floor(256 / BATCH) batches of BATCH (the remainder is left
out: 16 images at the default BATCH 40). The fp32 variant is the baseline for the "vs fp32"
columns and is always run. The last test batch is zero-padded when BATCH does not divide 360; the
padded rows are dropped.

Any failed infc command stops that variant: the command and its stderr are printed, the variant
is marked failed (no numbers), the others still run, and the script exits with status 1.
"""
import argparse
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
MODELS = ("digits_cnn", "digits_vit")
VARIANTS = ("fp32", "fp16", "bf16", "int8", "int8-entropy", "int8-percentile", "int8-minmax", "int8-qdq", "fp8")
# int8-qdq: the model's explicitly quantized copy (MODEL_qdq.onnx, from quantize_qdq.py), built
# with no calibration data; only models that have one.
CALIB_DIR = HERE / "calib"


class InfcError(Exception):
    pass


def run_infc(cmd, echo=True):
    """Runs one infc command; raises InfcError (after printing the command and its stderr) on failure."""
    if echo:
        print("$ " + shlex.join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        msg = (f"FAILED (exit status {p.returncode}): {shlex.join(cmd)}\n"
               f"--- stderr ---\n{p.stderr.rstrip()}\n"
               + (f"--- stdout ---\n{p.stdout.rstrip()}\n" if p.stdout.strip() else ""))
        print(msg, file=sys.stderr, flush=True)
        last = [line for line in p.stderr.strip().splitlines() if line.strip()]
        raise InfcError(last[-1] if last else f"exit status {p.returncode}")
    return p


def split_list(text, known, what):
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise SystemExit(f"error: --{what} is empty")
    for s in items:
        if s not in known:
            raise SystemExit(f"error: unknown {what[:-1]} '{s}' (known: {', '.join(known)})")
    return list(dict.fromkeys(items))


def calibration_dir(batch, tmp):
    """calib/ itself when its batches match the engine's, else a re-batched copy of its images."""
    files = sorted(CALIB_DIR.glob("*.npy"))
    if not files:
        raise SystemExit(f"error: no calibration batches in {CALIB_DIR} (run train.py)")
    first = np.load(files[0])
    if first.shape[0] == batch:
        return CALIB_DIR, len(files) * batch
    images = np.concatenate([np.load(f) for f in files])
    n = len(images) // batch
    if n == 0:
        raise SystemExit(f"error: --batch {batch} is larger than the {len(images)} calibration images")
    out = pathlib.Path(tmp) / f"calib{batch}"
    out.mkdir()
    for i in range(n):
        np.save(out / f"batch{i:04d}.npy", np.ascontiguousarray(images[i * batch:(i + 1) * batch]))
    print(f"note: calibration re-batched to {n} x {batch} of the {len(images)} images in {CALIB_DIR} "
          f"({len(images) - n * batch} left out), in {out}", file=sys.stderr)
    return out, n * batch


def build_cmd(args, model, variant, plan, calib):
    onnx_file = HERE / (f"{model}_qdq.onnx" if variant == "int8-qdq" else f"{model}.onnx")
    cmd = [args.infc, "build", str(onnx_file), "-o", str(plan),
           "--shapes", f"input:{args.batch}x1x8x8"]
    if args.target:
        cmd += ["--target", args.target]
    if args.no_timing:
        cmd += ["--no-timing"]
    if variant == "fp16":
        cmd += ["--fp16"]
    elif variant == "bf16":
        cmd += ["--bf16"]
    elif variant == "int8-qdq":
        pass
    elif variant == "int8":  # the default calibration (entropy; matmul inputs over their max |x|)
        cmd += ["--int8", "--calib", str(calib)]
    elif variant.startswith("int8-"):
        method = variant[len("int8-"):]
        cmd += ["--int8", "--calib", str(calib), "--calib-method", method,
                "--calib-cache", str(pathlib.Path(args.out) / f"{model}.{method}.calib.json")]
    elif variant == "fp8":
        cmd += ["--fp8", "--calib", str(calib)]
    elif variant != "fp32":
        raise SystemExit(f"error: unknown variant '{variant}'")
    return cmd


def run_engine(args, plan, x, tmp):
    """All of x through the engine, args.batch at a time; the logits [len(x), 10]."""
    b = args.batch
    logits = []
    for i in range(0, len(x), b):
        chunk = x[i:i + b]
        n = len(chunk)
        if n < b:
            chunk = np.concatenate([chunk, np.zeros((b - n,) + chunk.shape[1:], chunk.dtype)])
        inp = pathlib.Path(tmp) / f"input{i // b:04d}.npy"
        outdir = pathlib.Path(tmp) / f"out{i // b:04d}"
        np.save(inp, np.ascontiguousarray(chunk))
        cmd = [args.infc, "run", str(plan), "--input", f"input={inp}", "--output-dir", str(outdir)]
        # The reference interpreter runs the graph exactly once and refuses --iterations/--warmup.
        cmd += ["--reference"] if args.reference else ["--iterations", "1", "--warmup", "0"]
        run_infc(cmd, echo=i == 0)
        out_file = outdir / "logits.npy"
        if not out_file.is_file():
            raise InfcError(f"{shlex.join(cmd)} wrote no {out_file}")
        y = np.load(out_file)
        if y.shape != (b, 10) or y.dtype != np.float32:
            raise InfcError(f"{out_file}: expected float32 [{b}, 10], got {y.dtype} {list(y.shape)}")
        if not np.isfinite(y).all():
            raise InfcError(f"{out_file}: non-finite logits")
        logits.append(y[:n])
    return np.concatenate(logits)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--infc", required=True, help="path of the infc CLI")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of: " + ", ".join(MODELS))
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of: " + ", ".join(VARIANTS))
    ap.add_argument("--reference", action="store_true", help="run engines with `infc run --reference` (CPU)")
    ap.add_argument("--target", help="pass --target to infc build (e.g. sm_90 on a machine without a GPU)")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "infc-digits"),
                    help="folder for engines, calibration caches and digits_accuracy.json (default: %(default)s)")
    ap.add_argument("--no-timing", action="store_true",
                    help="pass --no-timing to infc build (tactics by heuristics at load time: faster builds on the GPU)")
    ap.add_argument("--batch", type=int, default=40, help="engine batch size (default: %(default)s)")
    args = ap.parse_args()

    models = split_list(args.models, MODELS, "models")
    variants = split_list(args.variants, VARIANTS, "variants")
    if "fp32" not in variants:
        variants.insert(0, "fp32")
        print("note: fp32 added (the baseline of the 'vs fp32' columns)", file=sys.stderr)
    if args.batch < 1:
        raise SystemExit("error: --batch must be positive")
    infc = pathlib.Path(args.infc)
    if not (infc.is_file() and os.access(infc, os.X_OK)):
        raise SystemExit(f"error: --infc {args.infc}: not an executable file")
    args.infc = str(infc.resolve())
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    x = np.load(HERE / "test_input.npy")
    labels = np.load(HERE / "test_labels.npy")
    torch_acc = json.loads((HERE / "torch_accuracy.json").read_text())

    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="infc-digits-") as tmp:
        calib, calib_images = (None, 0)
        if any((v.startswith("int8") and v != "int8-qdq") or v == "fp8" for v in variants):
            calib, calib_images = calibration_dir(args.batch, tmp)
        for model in models:
            base = None
            for variant in variants:
                if variant == "int8-qdq" and not (HERE / f"{model}_qdq.onnx").exists():
                    continue  # no explicitly quantized copy of this model
                plan = out / f"{model}.{variant}.plan"
                row = {"model": model, "variant": variant, "engine": str(plan)}
                try:
                    run_infc(build_cmd(args, model, variant, plan, calib))
                    with tempfile.TemporaryDirectory(dir=tmp) as rtmp:
                        logits = run_engine(args, plan, x, rtmp)
                except InfcError as e:
                    failed = True
                    row.update(status="failed", error=str(e))
                    rows.append(row)
                    continue
                acc = float((logits.argmax(1) == labels).mean())
                row.update(status="ok", test_accuracy=acc, correct=int((logits.argmax(1) == labels).sum()))
                if variant == "fp32":
                    base = (acc, logits)
                if base is not None:
                    row["change_vs_fp32_points"] = 100.0 * (acc - base[0])
                    row["max_abs_logit_diff_vs_fp32"] = float(np.abs(logits - base[1]).max())
                rows.append(row)

    lines = ["| model | variant | test accuracy (%) | vs fp32 (points) | max abs logit diff vs fp32 |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['model']} | {r['variant']} | FAILED: {r['error']} | | |")
            continue
        d = r.get("change_vs_fp32_points")
        m = r.get("max_abs_logit_diff_vs_fp32")
        lines.append(f"| {r['model']} | {r['variant']} | {100 * r['test_accuracy']:.2f} | "
                     f"{'n/a' if d is None else f'{d:+.2f}'} | {'n/a' if m is None else f'{m:.3g}'} |")
    print("\n".join(lines))
    print("\ntorch FP32: " + ", ".join(
        f"{m} {100 * torch_acc[m]['fp32_test_accuracy']:.2f}%" for m in models if m in torch_acc)
        + f"; {len(labels)} test images, batch {args.batch}"
        + (", CPU reference interpreter" if args.reference else ""))

    result = {
        "ok": not failed,
        "test_images": int(len(labels)),
        "batch": args.batch,
        "reference": args.reference,
        "target": args.target,
        "infc": args.infc,
        "calibration_images": calib_images,
        "torch_fp32_test_accuracy": {m: torch_acc[m]["fp32_test_accuracy"] for m in models if m in torch_acc},
        "results": rows,
    }
    (out / "digits_accuracy.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out / 'digits_accuracy.json'}", file=sys.stderr)
    if failed:
        print("error: some infc commands failed (see above); their variants have no results", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
