#!/usr/bin/env python3
"""Writes small twins of the transformer networks the benchmarks use: the same HF modules and
the same torch.onnx.export call (opset 17, TorchScript exporter) as scripts/check_models.py, with a
config shrunk to hidden 32 / 2 layers / vocab 97, so the ONNX graphs carry exactly the patterns of
BERT-base, DistilBERT and GPT-2 (attention, LayerNorm, GELU, mask arithmetic) in ~100 KB each.
The pattern-recognition and attention-fusion tests read them (tests/models/*.onnx).

Needs torch and transformers (the GPU machine has both):
    python3 scripts/export_tiny_transformers.py tests/models
"""
import os
import sys

import torch
import transformers


def tiny(name):
    common = dict(vocab_size=97)
    if name == "bert":
        cfg = transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=64, max_position_embeddings=64, **common)
        return transformers.BertModel(cfg)
    if name == "distilbert":
        cfg = transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                                            max_position_embeddings=64, **common)
        return transformers.DistilBertModel(cfg)
    if name == "gpt2":
        cfg = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=64, **common)
        return transformers.GPT2Model(cfg)
    raise SystemExit(f"unknown model {name}")


class Encoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        return self.m(input_ids=input_ids).last_hidden_state


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/models"
    os.makedirs(out, exist_ok=True)
    for name in ("bert", "distilbert", "gpt2"):
        torch.manual_seed(0)
        model = Encoder(tiny(name)).eval()
        ids = torch.randint(0, 97, (2, 16))
        path = os.path.join(out, f"tiny_{name}.onnx")
        with torch.no_grad():
            torch.onnx.export(model, (ids,), path, input_names=["input_ids"], opset_version=17,
                              do_constant_folding=True, dynamo=False,
                              dynamic_axes={"input_ids": {0: "batch", 1: "seq"}})
        print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
