#!/usr/bin/env python3
"""Prints textual IR of a chain of N Reshapes, each reshaping the previous result to its own Shape
(types unknown until folded): one link per round of const-fold and shape-infer.

    make_shape_chain.py N > chain.ir
"""
import sys


def main():
    n = int(sys.argv[1])
    print('graph @chain(%x: tensor<4x4xf32>) -> ("y": tensor<?x?xf32>) {')
    prev, ty = "%x", "tensor<4x4xf32>"
    for i in range(n):
        print(f"  %s{i} = onnx.Shape({prev}) : ({ty}) -> tensor<2xi64>")
        print(f"  %r{i} = onnx.Reshape({prev}, %s{i}) : ({ty}, tensor<2xi64>) -> tensor<?x?xf32>")
        prev, ty = f"%r{i}", "tensor<?x?xf32>"
    print(f"  return {prev}\n}}")


if __name__ == "__main__":
    main()
