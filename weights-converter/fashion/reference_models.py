#!/usr/bin/python3
"""PyTorch's float64 class scores and predictions of the shipped Fashion-MNIST models (for bagnet4j's tests).

usage: /usr/bin/python3 weights-converter/fashion/reference_models.py OUT_DIR COUNT MODEL.safetensors...

Each model is rebuilt from its file alone: the architecture inferred from its tensors as convert.py infers it (a
BagNet with the strides its metadata names, or torchvision's ResNet or VGG classes), its float32 weights loaded,
then run on the test images of Debian's dataset-fashion-mnist, prepared as its metadata says: ToTensor, padding
with black, Normalize with its mean and std, in float32 as torchvision computes them. Writes, for each file,
OUT_DIR/<its name without .safetensors>.npy, the float64 scores [COUNT, classes] of the first COUNT images
(stored as float32), and <name>-predictions.txt, the classes predicted in float32, as in training, for all
10,000 images (one digit each; float64 would take minutes).
"""
import ctypes
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import convert  # noqa: E402
import torchvision_families as families  # noqa: E402
from bagnet_torch import BagNet  # noqa: E402
from train import read_idx  # noqa: E402


def read_safetensors(path):
    """(metadata, {name: float32 tensor}) of a safetensors file as bagnet4j writes them (F32 only)."""
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    meta = header.pop("__metadata__")
    state = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        values = np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=8 + length + start)
        state[name] = torch.from_numpy(values.copy()).reshape(entry["shape"])
    return meta, state


def model_of(meta, state):
    family = families.detect(state)
    if family == "bagnet":
        cfg = convert.infer_config(state, [int(s) for s in meta["bagnet4j.strides"].split(",")])
        model = BagNet(cfg)
    else:
        cfg = families.infer_config(family, state)
        model = families.make(cfg)
    convert.check(state, cfg)  # exactly the config's names and shapes
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or not all(name.endswith("num_batches_tracked") for name in missing):
        raise AssertionError("%s does not load: missing %s, unexpected %s" % (cfg["arch"], missing, unexpected))
    return model.eval()


def inputs(meta, images):
    pad = int(meta["bagnet4j.pad"])
    mean, std = (torch.tensor(float(meta[k]), dtype=torch.float32) for k in ("bagnet4j.mean", "bagnet4j.std"))
    x = torch.from_numpy(images.copy()).float().div(255).unsqueeze(1)
    return (F.pad(x, (pad, pad, pad, pad)) - mean) / std


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir, count = sys.argv[1], int(sys.argv[2])
    # Batches of activations come and go; glibc would return their pages and fault them in again each time, which
    # costs more than the arithmetic (M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1).
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 1 << 30)
    libc.mallopt(-1, 1 << 30)
    os.makedirs(out_dir, exist_ok=True)
    images = read_idx("t10k-images-idx3-ubyte.gz")
    for path in sys.argv[3:]:
        meta, state = read_safetensors(path)
        model = model_of(meta, state)
        with torch.no_grad():
            predictions = torch.cat([model(inputs(meta, images[i:i + 1000])).argmax(1)
                                     for i in range(0, len(images), 1000)])
            scores = model.double()(inputs(meta, images[:count]).double())
        name = os.path.join(out_dir, os.path.basename(path)[:-len(".safetensors")])
        np.save(name + ".npy", scores.numpy().astype(np.float32))
        with open(name + "-predictions.txt", "w") as f:
            f.write("".join(str(int(p)) for p in predictions) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
