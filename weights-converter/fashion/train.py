#!/usr/bin/python3
"""Train BagNets and two small standard CNNs on Fashion-MNIST (CPU, fixed seeds, Debian packages only).

usage: /usr/bin/python3 weights-converter/fashion/train.py OUT_DIR [--models q5 q9 q13 q33 resnet vgg] [--epochs N]

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): 60,000 training and 10,000
test images, 28x28 grayscale, 10 classes. Inputs are padded by 3 pixels of background to 34x34, so that the
q = 33 network's single unit sees the whole image, and normalized with the training set's mean and std.
The family: stem 1x1 1->8 + 3x3, three stages of bottlenecks (widths 8/16/32, blocks 2/2/3, strides
1/2/2); kernel3 picks the receptive field: q5 [1,0,0], q9 [2,1,0], q13 [2,1,1], q33 [2,2,3].
The standard CNNs, built from torchvision's classes under torchvision's names (convert.py and bagnet4j read
them as family resnet and vgg): resnet, a ResNet-10 of basic blocks [1,1,1,1] with base width 12 (7x7 stride-2
stem, max pool, stages of 12/24/48/96 planes, global average pooling, fc); vgg, a VGG with batchnorm, layers
16,16,M,32,32,M,64,M, adaptive average pool to 7x7, classifier 3136->32->32->10. All are trained alike on
the same inputs (SGD with Nesterov momentum, one-cycle to 0.1, weight decay 5e-4, batch 128, random flips and
2-pixel shifts, seed 0); the CNNs start from torchvision's initialization, VGG without dropout (see build).

For each model it writes OUT_DIR/fashion-<model>.pth (state_dict), fashion-<model>.safetensors (bagnet4j model
with labels and preprocessing in its metadata), fashion-<model>-predictions.txt (PyTorch's test-set
predictions, one digit per image) and appends {"model", "accuracy", "seconds", "epochs", "parameters"} to
OUT_DIR/results.jsonl.
"""
import argparse
import gzip
import json
import os
import sys
import time

# Threads that wait for work sleep instead of spinning (read when torch loads OpenMP): beside other busy
# processes on 2 cores, spinning made an epoch of the ResNet take 80 s instead of 8. Results do not change.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torchvision_families as families  # noqa: E402
from bagnet_torch import BagNet  # noqa: E402
from convert import check, metadata, write_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PAD = 3
KERNEL3 = {5: [1, 0, 0], 9: [2, 1, 0], 13: [2, 1, 1], 33: [2, 2, 3]}
CNNS = {
    "resnet": dict(family="resnet", arch="fashion-resnet", in_channels=1, block="basic", blocks=[1, 1, 1, 1],
                   width_per_group=64, base_width=12, num_classes=10),
    "vgg": dict(family="vgg", arch="fashion-vgg", in_channels=1, layers=[16, 16, "M", 32, 32, "M", 64, "M"],
                batch_norm=True, hidden=32, num_classes=10),
}
MODELS = ["q%d" % q for q in KERNEL3] + list(CNNS)


def config(name):
    if name in CNNS:
        return CNNS[name]
    return dict(arch="fashion-" + name, in_channels=1, stem_channels=8, widths=[8, 16, 32], blocks=[2, 2, 3],
                strides=[1, 2, 2], kernel3=KERNEL3[int(name[1:])], num_classes=10)


def build(cfg):
    """The model for a config; a CNN starts from torchvision's initialization, applied again since
    families.make replaces modules after torchvision's __init__ ran (conv: Kaiming normal, fan-out; batchnorm:
    1, 0; VGG's linear layers: normal(0, 0.01), bias 0; the ResNet's fc keeps PyTorch's default, as there).
    VGG trains without dropout: torchvision's 0.5, meant for 4096 units, silenced half of 32 and held the test
    accuracy at 72.65% after 2 epochs (loss 1.16)."""
    if "family" not in cfg:
        return BagNet(cfg)
    model = families.make(cfg, dropout=0.0)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
        elif isinstance(m, nn.Linear) and cfg["family"] == "vgg":
            nn.init.normal_(m.weight, 0, 0.01)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return model


def describe(name, cfg):
    if name == "resnet":
        return "ResNet (basic blocks %s, base width %d)" % (",".join(map(str, cfg["blocks"])), cfg["base_width"])
    if name == "vgg":
        return "VGG with batchnorm (layers %s, hidden %d)" % (",".join(map(str, cfg["layers"])), cfg["hidden"])
    return "BagNet (q=%s)" % name[1:]


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


def train(name, data, epochs, out_dir, seed=0):
    torch.manual_seed(seed)
    train_x, train_y, test_x, test_y = data
    mean = float(train_x.mean() / 255)
    std = float(train_x.std() / 255)
    xs, ys = prepare(train_x, mean, std), torch.from_numpy(train_y.astype(np.int64))
    xt, yt = prepare(test_x, mean, std), torch.from_numpy(test_y.astype(np.int64))
    cfg = config(name)
    model = build(cfg)
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
        print("%s epoch %d: loss %.4f, test accuracy %.2f%%, %.0f s" % (name, epoch + 1, total / len(xs),
              100 * accuracy, time.time() - start), flush=True)
    seconds = time.time() - start
    predictions = evaluate(model, xt)
    accuracy = float((predictions == yt).float().mean())
    stem = os.path.join(out_dir, "fashion-" + name)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, stem + ".pth")
    meta = families.metadata(cfg) if "family" in cfg else metadata(cfg)
    meta.update({"bagnet4j.labels": "\n".join(LABELS), "bagnet4j.resize": "28", "bagnet4j.crop": "28",
                 "bagnet4j.pad": str(PAD), "bagnet4j.mean": "%.6f" % mean, "bagnet4j.std": "%.6f" % std,
                 "bagnet4j.description": "%s trained on Fashion-MNIST by weights-converter/fashion/train.py"
                                         "; test accuracy %.2f%%" % (describe(name, cfg), 100 * accuracy)})
    write_safetensors(stem + ".safetensors", check(state, cfg), state, meta)
    with open(stem + "-predictions.txt", "w") as f:
        f.write("".join(str(int(p)) for p in predictions) + "\n")
    parameters = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out_dir, "results.jsonl"), "a") as f:
        f.write(json.dumps({"model": name, "accuracy": round(100 * accuracy, 2), "seconds": round(seconds),
                            "epochs": epochs, "parameters": parameters}) + "\n")
    print("%s: %.2f%% test accuracy, %d parameters, %.0f s" % (name, 100 * accuracy, parameters, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS, metavar="MODEL",
                        help="which to train, in this order (default: %s)" % " ".join(MODELS))
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    data = load()
    for name in args.models:
        train(name, data, args.epochs, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
