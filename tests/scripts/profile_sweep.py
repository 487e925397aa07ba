#!/usr/bin/env python3
"""For each shape: build a static engine of MODEL at that shape (--shapes), run it and the engine
with profiles at that shape on the reference executor, and compare the outputs byte for byte.

    profile_sweep.py INFC MODEL DYNAMIC_PLAN WORK_DIR INPUT SHAPE [SHAPE...]

Prints "SHAPE: profile K, identical" per shape, or what differs; exits 1 on any difference.
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
        same = outs["static"].keys() == outs["dynamic"].keys() and all(
            a.shape == outs["dynamic"][f].shape and a.tobytes() == outs["dynamic"][f].tobytes()
            for f, a in outs["static"].items())
        print(f"{shape}: profile {profile}, {'identical' if same else 'DIFFERENT'}")
        bad += not same
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
