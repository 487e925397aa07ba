#!/usr/bin/env python3
"""Train the two digits models and write everything examples/digits/ needs (deterministic).

    pip install scikit-learn torch onnx numpy
    python3 examples/digits/train.py

Data: scikit-learn's bundled digits set (1,797 8x8 grey images, values 0..16; no download),
scaled to x/16 and normalized with mean 0.5 / std 0.5, float32 N x 1 x 8 x 8. Split:
train_test_split(test_size=360, random_state=0, stratify=y) -> 1,437 train / 360 test.

Models (both ONNX opset 17, IR version 8, input `input` [batch,1,8,8] -> `logits` [batch,10]):
  digits_cnn  Conv16-BN-ReLU, Conv32-BN-ReLU, MaxPool2, Conv64-BN-ReLU, Conv64-BN, residual add,
              ReLU, GlobalAveragePool, Flatten, Linear(64->10)
  digits_vit  2x2 patches (Conv 1->64, k2 s2: 16 tokens), learned position embedding, 2 pre-LN
              encoder layers (dim 64, 4 heads, MLP 128 GELU), LayerNorm, mean over tokens,
              Linear(64->10); attention written as MatMul/Softmax/MatMul.
Training: Adam, batch 64, one-cycle learning rate (peak 3e-3 CNN / 2e-3 ViT), a fixed 40 / 60
epochs (the test split is printed for information, never used to pick a model), single thread,
torch.use_deterministic_algorithms(True), seed 0. Export: torch.onnx.export(dynamo=False),
constant folding, then ir_version 8 (Debian 12's libonnx 1.12 reads IR <= 8); the ONNX output is
checked against torch on the test split with onnx.reference (max |diff| <= 1e-4).

Writes (byte-identical on every run with the same torch/onnx/scikit-learn versions; the committed
files came from torch 2.15.0 (run on the CPU), onnx 1.17.0, scikit-learn 1.9.1, numpy 1.26.4):
  digits_cnn.onnx, digits_vit.onnx        the models
  calib/batch0000.npy .. batch0007.npy    first 256 training images, 8 x float32 [32,1,8,8]
  test_input.npy, test_labels.npy         the test split, float32 [360,1,8,8] / int64 [360]
  torch_accuracy.json                     FP32 test accuracy measured in torch
"""
import hashlib
import io
import json
import os
import pathlib
import random
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.reference  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent

SEED = 0
PIXEL_MAX = 16.0  # load_digits() values are 0..16
MEAN = 0.5        # after x / 16
STD = 0.5
TEST_SIZE = 360
SPLIT_SEED = 0
CALIB_BATCH = 32
CALIB_BATCHES = 8
OPSET = 17
IR_VERSION = 8
ONNX_TOLERANCE = 1e-4


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_data():
    d = load_digits()
    x = d.images.astype(np.float64) / PIXEL_MAX
    x = ((x - MEAN) / STD).astype(np.float32).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=y)
    return (np.ascontiguousarray(x_train), np.ascontiguousarray(y_train),
            np.ascontiguousarray(x_test), np.ascontiguousarray(y_test))


# ----------------------------------------------------------------------------- models

class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.bn4 = nn.BatchNorm2d(64)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.pool(x)
        r = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(self.bn4(self.conv4(r)) + r)
        x = torch.flatten(self.gap(x), 1)
        return self.fc(x)


TOKENS = 16   # 4x4 patches of 2x2
DIM = 64
HEADS = 4
HEAD_DIM = DIM // HEADS
MLP = 128


class Attention(nn.Module):
    """Multi-head self-attention as plain MatMul / Softmax / MatMul (the shape infc's
    fuse-attention recognizes: q, v as [B,H,S,D], k^T as [B,H,D,S] transposes of [B,S,H,D])."""

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(DIM, DIM)
        self.k = nn.Linear(DIM, DIM)
        self.v = nn.Linear(DIM, DIM)
        self.proj = nn.Linear(DIM, DIM)
        self.scale = HEAD_DIM ** -0.5

    def forward(self, x):
        # -1 for the batch keeps the reshape targets constant in the exported graph.
        q = self.q(x).reshape(-1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3)
        k = self.k(x).reshape(-1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 3, 1)
        v = self.v(x).reshape(-1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3)
        a = torch.softmax(torch.matmul(q, k) * self.scale, dim=-1)
        o = torch.matmul(a, v).permute(0, 2, 1, 3).reshape(-1, TOKENS, DIM)
        return self.proj(o)


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(DIM)
        self.attn = Attention()
        self.ln2 = nn.LayerNorm(DIM)
        self.fc1 = nn.Linear(DIM, MLP)
        self.fc2 = nn.Linear(MLP, DIM)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class DigitsViT(nn.Module):
    def __init__(self, layers=2):
        super().__init__()
        self.patch = nn.Conv2d(1, DIM, kernel_size=2, stride=2)
        self.pos = nn.Parameter(torch.randn(1, TOKENS, DIM) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(layers))
        self.ln = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, 10)

    def forward(self, x):
        x = self.patch(x)                                         # [B, 64, 4, 4]
        x = x.reshape(-1, DIM, TOKENS).permute(0, 2, 1) + self.pos  # [B, 16, 64]
        for layer in self.layers:
            x = layer(x)
        x = self.ln(x).mean(dim=1)
        return self.head(x)


# ----------------------------------------------------------------------------- training

def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
    return float((logits.argmax(1).numpy() == y).mean()), logits.numpy()


def train(name, model, x_train, y_train, x_test, y_test, epochs, lr, batch=64):
    seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x_train) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            acc, _ = accuracy(model, x_test, y_test)
            print(f"{name}: epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}  test acc {acc:.4f}", flush=True)
    model.eval()
    return model


# ----------------------------------------------------------------------------- export

def export_onnx(name, model, x_test, ref_logits):
    model.eval()
    buf = io.BytesIO()
    # The TorchScript exporter (dynamo=False) writes plain opset-17 ops with constant reshape
    # targets; torch >= 2.9 warns that it is deprecated.
    warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.from_numpy(x_test[:2]),), buf,
            dynamo=False,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    m = onnx.load_from_string(buf.getvalue())
    m.ir_version = IR_VERSION
    m.producer_name = "infc-examples-digits"
    m.producer_version = "1"
    m.doc_string = f"{name}: scikit-learn digits classifier, trained by examples/digits/train.py"
    onnx.checker.check_model(m, full_check=True)
    data = m.SerializeToString(deterministic=True)
    path = HERE / f"{name}.onnx"
    path.write_bytes(data)

    # The ONNX graph (reference evaluator) must agree with torch on the whole test split.
    sess = onnx.reference.ReferenceEvaluator(onnx.load_from_string(data))
    (out,) = sess.run(None, {"input": x_test})
    err = float(np.abs(out - ref_logits).max())
    print(f"{name}: {path.name} {len(data)} bytes, ops "
          f"{sorted({n.op_type for n in m.graph.node})}, max |onnx - torch| = {err:.2e}", flush=True)
    if not err <= ONNX_TOLERANCE:
        raise SystemExit(f"{name}: ONNX output differs from torch by {err} > {ONNX_TOLERANCE}")
    if (out.argmax(1) != ref_logits.argmax(1)).any():
        raise SystemExit(f"{name}: ONNX and torch disagree on a predicted class")


def save_npy(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)


def main():
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, y_train, x_test, y_test = load_data()
    print(f"train {x_train.shape}, test {x_test.shape}", flush=True)

    calib = HERE / "calib"
    for i in range(CALIB_BATCHES):
        save_npy(calib / f"batch{i:04d}.npy", x_train[i * CALIB_BATCH:(i + 1) * CALIB_BATCH])
    save_npy(HERE / "test_input.npy", x_test)
    save_npy(HERE / "test_labels.npy", y_test)

    specs = [
        ("digits_cnn", DigitsCNN, dict(epochs=40, lr=3e-3)),
        ("digits_vit", DigitsViT, dict(epochs=60, lr=2e-3)),
    ]
    results = {}
    for name, cls, hp in specs:
        seed_everything(SEED)
        model = train(name, cls(), x_train, y_train, x_test, y_test, **hp)
        acc, logits = accuracy(model, x_test, y_test)
        results[name] = {"fp32_test_accuracy": round(acc, 6), "test_images": int(len(y_test)),
                         "correct": int(round(acc * len(y_test)))}
        export_onnx(name, model, x_test, logits)

    (HERE / "torch_accuracy.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    for p in sorted(HERE.glob("*.onnx")) + sorted(HERE.glob("*.npy")) + sorted(calib.glob("*.npy")) + \
            [HERE / "torch_accuracy.json"]:
        print(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(HERE)}")


if __name__ == "__main__":
    main()
