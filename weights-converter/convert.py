#!/usr/bin/python3
"""Convert a BagNet PyTorch checkpoint into bagnet4j's safetensors model file.

usage: /usr/bin/python3 weights-converter/convert.py CHECKPOINT OUT.safetensors
           [--arch bagnet9|bagnet17|bagnet33] [--strides 2,2,2,1] [--labels FILE]

Reads the official files (legacy or zip serialization, a plain state_dict or {"state_dict": ...},
with or without a "module." prefix or num_batches_tracked) without executing pickled code
(weights_only=True), infers the architecture from the tensor shapes unless --arch is given, checks every
tensor, and writes float32 tensors under their PyTorch names with the architecture in __metadata__
(and, with --labels, the class names: a text file with one name per line, in class-index order). RGB
1000-class models also get ImageNet's evaluation preprocessing in the metadata.
Needs Debian's python3-torch and python3-numpy: run it with /usr/bin/python3.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet_torch import PRESETS, expected_shapes, preset_config  # noqa: E402

DEFAULT_STRIDES = [2, 2, 2, 1]
# torchvision's ImageNet evaluation transforms, which the official BagNets were evaluated with.
IMAGENET_PREPROCESSING = {"bagnet4j.resize": "256", "bagnet4j.crop": "224", "bagnet4j.pad": "0",
                          "bagnet4j.mean": "0.485,0.456,0.406", "bagnet4j.std": "0.229,0.224,0.225"}


class ConversionError(Exception):
    pass


def load_state_dict(path):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ConversionError("checkpoint not found: %s" % path)
    except Exception as e:  # torch raises many kinds; one line is what the user needs
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConversionError("cannot read %s as a PyTorch checkpoint: %s" % (path, first))
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConversionError("%s does not hold a state_dict of tensors" % path)
    state = {}
    for name, tensor in obj.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if name.endswith("num_batches_tracked"):
            continue
        state[name] = tensor
    return state


def infer_config(state, strides):
    for key in ("conv1.weight", "conv2.weight", "fc.weight", "layer1.0.conv1.weight"):
        if key not in state:
            raise ConversionError("not a BagNet checkpoint: no tensor '%s'" % key)
    stem_out, in_channels = state["conv1.weight"].shape[:2]
    stages = 0
    while any(k.startswith("layer%d." % (stages + 1)) for k in state):
        stages += 1
    widths, blocks, kernel3 = [], [], []
    for s in range(1, stages + 1):
        indices = {int(m.group(1)) for k in state for m in [re.match(r"layer%d\.(\d+)\." % s, k)] if m}
        count = max(indices) + 1
        if "layer%d.0.conv1.weight" % s not in state:
            raise ConversionError("not a BagNet checkpoint: no tensor 'layer%d.0.conv1.weight'" % s)
        widths.append(int(state["layer%d.0.conv1.weight" % s].shape[0]))
        blocks.append(count)
        k3 = 0
        while k3 < count and "layer%d.%d.conv2.weight" % (s, k3) in state \
                and state["layer%d.%d.conv2.weight" % (s, k3)].shape[-1] == 3:
            k3 += 1
        kernel3.append(k3)
    if strides is None:
        if stages != len(DEFAULT_STRIDES):
            raise ConversionError("checkpoint has %d stages: give their strides with --strides" % stages)
        strides = DEFAULT_STRIDES
    if len(strides) != stages:
        raise ConversionError("--strides has %d entries but the checkpoint has %d stages" % (len(strides), stages))
    cfg = dict(arch="custom", in_channels=int(in_channels), stem_channels=int(stem_out), widths=widths,
               blocks=blocks, strides=list(strides), kernel3=kernel3, num_classes=int(state["fc.weight"].shape[0]))
    for name in PRESETS:
        if {k: v for k, v in preset_config(name).items() if k != "arch"} == \
                {k: v for k, v in cfg.items() if k != "arch"}:
            cfg["arch"] = name
    return cfg


def check(state, cfg):
    expected = expected_shapes(cfg)
    for name, shape in expected.items():
        if name not in state:
            raise ConversionError("missing tensor '%s' for a %s" % (name, cfg["arch"]))
        if tuple(state[name].shape) != shape:
            raise ConversionError("tensor '%s' has shape %s, a %s needs %s"
                                  % (name, list(state[name].shape), cfg["arch"], list(shape)))
    for name in state:
        if name not in expected:
            raise ConversionError("unexpected tensor '%s' (not part of a %s)" % (name, cfg["arch"]))
    return list(expected)


def metadata(cfg):
    def join(values):
        return ",".join(str(v) for v in values)
    return {
        "bagnet4j.arch": cfg["arch"],
        "bagnet4j.in_channels": str(cfg["in_channels"]),
        "bagnet4j.stem_channels": str(cfg["stem_channels"]),
        "bagnet4j.widths": join(cfg["widths"]),
        "bagnet4j.blocks": join(cfg["blocks"]),
        "bagnet4j.strides": join(cfg["strides"]),
        "bagnet4j.kernel3": join(cfg["kernel3"]),
        "bagnet4j.num_classes": str(cfg["num_classes"]),
    }


def read_labels(path, classes):
    try:
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    except OSError as e:
        raise ConversionError("cannot read labels %s: %s" % (path, e.strerror))
    if len(names) != classes:
        raise ConversionError("%s has %d labels but the model has %d classes" % (path, len(names), classes))
    return names


def write_safetensors(path, names, state, meta):
    header = {"__metadata__": meta}
    arrays, offset = [], 0
    for name in names:
        array = np.ascontiguousarray(state[name].detach().to(torch.float32).numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        arrays.append(array)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for array in arrays:
            f.write(array.tobytes())
    os.replace(tmp, path)


def convert(checkpoint, out, arch=None, strides=None, labels=None):
    state = load_state_dict(checkpoint)
    if arch is not None:
        if arch not in PRESETS:
            raise ConversionError("unknown --arch %s (known: %s)" % (arch, ", ".join(PRESETS)))
        cfg = preset_config(arch)
    else:
        cfg = infer_config(state, strides)
    names = check(state, cfg)
    meta = metadata(cfg)
    if cfg["in_channels"] == 3 and cfg["num_classes"] == 1000:
        meta.update(IMAGENET_PREPROCESSING)
    if labels is not None:
        meta["bagnet4j.labels"] = "\n".join(read_labels(labels, cfg["num_classes"]))
    write_safetensors(out, names, state, meta)
    return cfg


def main(argv=None):
    parser = argparse.ArgumentParser(description="Convert a BagNet PyTorch checkpoint to bagnet4j safetensors.")
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    parser.add_argument("--arch", help="bagnet9, bagnet17 or bagnet33 (default: inferred from the shapes)")
    parser.add_argument("--strides", help="stage strides, comma-separated (default 2,2,2,1)")
    parser.add_argument("--labels", help="class names, one per line in class-index order")
    args = parser.parse_args(argv)
    try:
        strides = None
        if args.strides:
            try:
                strides = [int(s) for s in args.strides.split(",")]
            except ValueError:
                raise ConversionError("--strides needs comma-separated integers, got '%s'" % args.strides)
        cfg = convert(args.checkpoint, args.output, args.arch, strides, args.labels)
    except ConversionError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 2
    print("wrote %s (%s, %d classes)" % (args.output, cfg["arch"], cfg["num_classes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
