#!/usr/bin/env python3
"""For each shape: build a static engine of MODEL at that shape (--shapes), run it and the engine
with profiles at that shape on the reference executor, and compare the outputs byte for byte.

    profile_sweep.py INFC MODEL DYNAMIC_PLAN WORK_DIR INPUT SHAPE [SHAPE...]

Prints "SHAPE: profile K, identical" per shape when the bytes are the same; "equal within 1e-05"
(with the largest difference) when a fusion the static build made at that shape (attention, say)
rounds differently but every output is within 1e-5 of the largest magnitude; otherwise
"DIFFERENT", and exits 1.
"""
import os
import re
import subprocess
import sys

import numpy as np


def main():
    infc, model, plan, work, name = sys.argv[1:6]
    bad = 0
    for shape in sys.argv[6:]:
        static = os.path.join(work, f"static_{shape}.plan")
        subprocess.run([infc, "build", model, "--target", "sm_90", "--shapes", f"{name}:{shape}", "-o", static, "--quiet"],
                       check=True, capture_output=True)
        outs = {}
        for kind, args in (("static", [static]), ("dynamic", [plan, "--shapes", f"{name}:{shape}"])):
            d = os.path.join(work, f"{kind}_{shape}")
            r = subprocess.run([infc, "run", "--reference", "--output-dir", d] + args, check=True, capture_output=True, text=True)
            if kind == "dynamic":
                profile = re.search(r"\(profile (\d+):", r.stdout).group(1)
            outs[kind] = {f: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}
        keys = outs["static"].keys() == outs["dynamic"].keys()
        shapes = keys and all(a.shape == outs["dynamic"][f].shape for f, a in outs["static"].items())
        same = shapes and all(a.tobytes() == outs["dynamic"][f].tobytes() for f, a in outs["static"].items())
        worst = 0.0
        if shapes and not same:
            for f, a in outs["static"].items():
                ref = a.astype(np.float64)
                diff = np.abs(ref - outs["dynamic"][f].astype(np.float64)).max() if a.size else 0.0
                worst = max(worst, diff / max(np.abs(ref).max() if a.size else 0.0, 1e-30))
        if same:
            verdict = "identical"
        elif shapes and worst <= 1e-5:
            verdict = f"equal within 1e-05 (largest difference {worst:.1e} of the largest magnitude)"
        else:
            verdict = "DIFFERENT"
        print(f"{shape}: profile {profile}, {verdict}")
        bad += verdict == "DIFFERENT"
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
