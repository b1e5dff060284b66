#!/usr/bin/python3
"""Train BagNets on Fashion-MNIST at several receptive fields (CPU, fixed seeds, Debian packages only).

usage: /usr/bin/python3 weights-converter/fashion/train.py OUT_DIR [--q 5 9 13 33] [--epochs N] [--ship Q]

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): 60,000 training and 10,000
test images, 28x28 grayscale, 10 classes. Inputs are padded by 3 pixels of background to 34x34, so that the
q = 33 network's single unit sees the whole image, and normalized with the training set's mean and std.
The family: stem 1x1 1->8 + 3x3, three stages of bottlenecks (widths 8/16/32, blocks 2/2/3, strides
1/2/2); kernel3 picks the receptive field: q5 [1,0,0], q9 [2,1,0], q13 [2,1,1], q33 [2,2,3].

For each q it writes OUT_DIR/fashion-q<q>.pth (state_dict), fashion-q<q>.safetensors (bagnet4j model with
labels and preprocessing in its metadata), fashion-q<q>-predictions.txt (PyTorch's test-set predictions,
one digit per image) and appends {"q", "accuracy", "seconds", "parameters"} to OUT_DIR/results.jsonl.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bagnet_torch import BagNet  # noqa: E402
from convert import check, metadata, write_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PAD = 3
KERNEL3 = {5: [1, 0, 0], 9: [2, 1, 0], 13: [2, 1, 1], 33: [2, 2, 3]}


def config(q):
    return dict(arch="fashion-q%d" % q, in_channels=1, stem_channels=8, widths=[8, 16, 32], blocks=[2, 2, 3],
                strides=[1, 2, 2], kernel3=KERNEL3[q], num_classes=10)


def read_idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load():
    return (read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz"),
            read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz"))


def prepare(images, mean, std):
    """uint8 [N, 28, 28] -> normalized float [N, 1, 34, 34] (ToTensor, Pad(3) with black, Normalize)."""
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)
    return (F.pad(x, (PAD, PAD, PAD, PAD)) - mean) / std


def augment(x, generator, background):
    """Random horizontal flips and shifts of up to 2 pixels (the border refilled with background)."""
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=generator))
    x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    if dy > 0:
        x[:, :, :dy, :] = background
    elif dy < 0:
        x[:, :, dy:, :] = background
    if dx > 0:
        x[:, :, :, :dx] = background
    elif dx < 0:
        x[:, :, :, dx:] = background
    return x


def evaluate(model, x, batch=1000):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def train(q, data, epochs, out_dir, seed=0):
    torch.manual_seed(seed)
    train_x, train_y, test_x, test_y = data
    mean = float(train_x.mean() / 255)
    std = float(train_x.std() / 255)
    xs, ys = prepare(train_x, mean, std), torch.from_numpy(train_y.astype(np.int64))
    xt, yt = prepare(test_x, mean, std), torch.from_numpy(test_y.astype(np.int64))
    cfg = config(q)
    model = BagNet(cfg)
    steps_per_epoch = (len(xs) + 127) // 128
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    background = (0 - mean) / std
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(xs), generator=generator)
        total = 0.0
        for i in range(0, len(xs), 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(model(augment(xs[idx], generator, background)), ys[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss) * len(idx)
        accuracy = float((evaluate(model, xt) == yt).float().mean())
        print("q%d epoch %d: loss %.4f, test accuracy %.2f%%, %.0f s" % (q, epoch + 1, total / len(xs),
              100 * accuracy, time.time() - start), flush=True)
    seconds = time.time() - start
    predictions = evaluate(model, xt)
    accuracy = float((predictions == yt).float().mean())
    stem = os.path.join(out_dir, "fashion-q%d" % q)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, stem + ".pth")
    meta = metadata(cfg)
    meta.update({"bagnet4j.labels": "\n".join(LABELS), "bagnet4j.resize": "28", "bagnet4j.crop": "28",
                 "bagnet4j.pad": str(PAD), "bagnet4j.mean": "%.6f" % mean, "bagnet4j.std": "%.6f" % std,
                 "bagnet4j.description": "BagNet (q=%d) trained on Fashion-MNIST by weights-converter/fashion/train.py"
                                         "; test accuracy %.2f%%" % (q, 100 * accuracy)})
    write_safetensors(stem + ".safetensors", check(state, cfg), state, meta)
    with open(stem + "-predictions.txt", "w") as f:
        f.write("".join(str(int(p)) for p in predictions) + "\n")
    parameters = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out_dir, "results.jsonl"), "a") as f:
        f.write(json.dumps({"q": q, "accuracy": round(100 * accuracy, 2), "seconds": round(seconds),
                            "epochs": epochs, "parameters": parameters}) + "\n")
    print("q%d: %.2f%% test accuracy, %d parameters, %.0f s" % (q, 100 * accuracy, parameters, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--q", type=int, nargs="+", default=[5, 9, 13, 33], choices=sorted(KERNEL3))
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    data = load()
    for q in args.q:
        train(q, data, args.epochs, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
