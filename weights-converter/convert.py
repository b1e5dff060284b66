#!/usr/bin/python3
"""Convert a BagNet, ResNet, VGG or DenseNet PyTorch checkpoint into bagnet4j's safetensors model file.

usage: /usr/bin/python3 weights-converter/convert.py CHECKPOINT OUT.safetensors
           [--arch ARCH] [--strides 2,2,2,1] [--labels FILE]
  ARCH: bagnet9, bagnet17, bagnet33; resnet18, resnet34, resnet50, resnet101, resnet152, wide_resnet50_2,
        wide_resnet101_2; vgg11, vgg13, vgg16, vgg19 and their _bn variants; densenet121, densenet161,
        densenet169, densenet201 (default: inferred from the tensor names and shapes)

Reads the official files (legacy or zip serialization, a plain state_dict or {"state_dict": ...},
with or without a "module." prefix or num_batches_tracked) without executing pickled code: before
torch.load sees the file, checkpoint_guard.py inspects its bytes and refuses TorchScript archives, pickled
globals other than those of tensors and OrderedDicts, compressed zip entries, and sizes the file cannot
back; torch.load (weights_only=True) then reads those same bytes.

Tells the family from the tensor names: a BagNet (a 1x1 conv1, then conv2), or one of torchvision's ResNets
(conv1 7x7, bn1, layer1..layer4, fc: basic blocks or bottlenecks, the wide ones too; not ResNeXt's grouped
convolutions), VGGs (features.N, classifier.0/3/6; with or without batchnorm) or DenseNets (features.conv0,
features.denseblockK.denselayerJ, classifier; the published files' old names norm.1, conv.1, norm.2, conv.2
are renamed as torchvision does). Other families (MobileNet, ViT, ...) are refused. Infers the architecture
from the tensor names and shapes unless --arch is given (a ResNet, VGG or DenseNet is checked against the
model torchvision's own class builds for it, on the meta device), checks it against the Java loader's limits
and every tensor (shape, floating-point dtype, finite values), and writes float32 tensors under their
(torchvision's current) PyTorch names, in the model's state_dict order, with the architecture in
__metadata__ (and, with --labels, the class names: a UTF-8 text file with one name per line, in class-index
order). A torchvision model's metadata names its bagnet4j.family (resnet, vgg or densenet); a BagNet's has
no family. RGB 1000-class models also get ImageNet's evaluation preprocessing in the metadata. On any
problem it prints one line "convert.py: error: ..." and exits with status 2, leaving no output file.
Needs Debian's python3-torch and python3-numpy (and python3-torchvision for ResNets, VGGs and DenseNets):
run it with /usr/bin/python3.
"""
import argparse
import io
import json
import math
import os
import re
import stat
import struct
import sys

try:
    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bagnet_torch import EXPANSION, PRESETS, expected_shapes, preset_config  # noqa: E402
    from checkpoint_guard import CheckpointError, first_line, inspect  # noqa: E402
    import torchvision_families as families  # noqa: E402
    from torchvision_families import ConversionError  # noqa: E402
except ModuleNotFoundError as missing:
    print("convert.py: error: this Python (%s) has no module '%s'; install Debian's python3-torch, python3-numpy "
          "and python3-torchvision (apt-get install python3-torch python3-numpy python3-torchvision) and run "
          "convert.py with /usr/bin/python3, the interpreter that sees them" % (sys.executable, missing.name),
          file=sys.stderr)
    sys.exit(2)

DEFAULT_STRIDES = [2, 2, 2, 1]
# torchvision's ImageNet evaluation transforms, which the official BagNets were evaluated with.
IMAGENET_PREPROCESSING = {"bagnet4j.resize": "256", "bagnet4j.crop": "224", "bagnet4j.pad": "0",
                          "bagnet4j.mean": "0.485,0.456,0.406", "bagnet4j.std": "0.229,0.224,0.225"}
# The Java loader's limits (BagNetConfig), plus a bound on stages (BagNets have 4) that keeps the expected
# model of an inferred config small.
MAX_CHANNELS = 1 << 16
MAX_CLASSES = 1 << 20
MAX_BLOCKS = 1024
MAX_STRIDE = 16
MAX_STAGES = 16
MAX_GRID_STRIDE = 4096
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
BLOCK_NAME = re.compile(r"layer([1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\..+")


def load_state_dict(path):
    data = read_checkpoint(path)
    try:
        inspect(data)
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except CheckpointError as e:
        raise ConversionError("cannot read %s as a PyTorch checkpoint: %s" % (path, e))
    except Exception as e:  # torch raises many kinds; one line is what the user needs
        raise ConversionError("cannot read %s as a PyTorch checkpoint: %s" % (path, torch_refusal(e)))
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConversionError("%s does not hold a state_dict of tensors" % path)
    state = {}
    for name, tensor in obj.items():
        if not isinstance(name, str):
            raise ConversionError("%s has a tensor under %r, not under a name" % (path, name))
        if name.startswith("module."):
            name = name[len("module."):]
        if name.endswith("num_batches_tracked"):
            continue
        if name in state:
            raise ConversionError("%s holds tensor %r twice (with and without 'module.')" % (path, name))
        state[name] = tensor
    # Tensors sharing a storage could make a small file convert into a huge one.
    if sum(t.numel() * t.element_size() for t in state.values()) > len(data):
        raise ConversionError("%s: its tensors share storage (they take more bytes than the file)" % path)
    return state


def torch_refusal(error):
    """torch.load's complaint in one line. Its safe loader's advice to retry with weights_only=False is never
    repeated: that would run whatever code the file holds."""
    if "weights_only" in str(error) or "Weights only load failed" in str(error):
        return ("PyTorch's safe loader refused it: it holds objects other than tensors and plain containers "
                "(convert.py never loads a file unsafely, which could run code from it)")
    return first_line(error)


def read_checkpoint(path):
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConversionError("checkpoint %s is not a regular file" % path)
            return f.read()
    except FileNotFoundError:
        raise ConversionError("checkpoint not found: %s" % path)
    except OSError as e:
        raise ConversionError("cannot read %s: %s" % (path, e.strerror))


def infer_config(state, strides):
    stem_out, in_channels = weight_shape(state, "conv1.weight", 4)[:2]
    weight_shape(state, "conv2.weight", 4)
    num_classes = weight_shape(state, "fc.weight", 2)[0]
    blocks = block_counts(state)
    stages = len(blocks)
    widths = [weight_shape(state, "layer%d.0.conv1.weight" % s, 4)[0] for s in range(1, stages + 1)]
    kernel3 = [leading_3x3_blocks(state, s, count) for s, count in enumerate(blocks, 1)]
    if strides is None:
        if stages != len(DEFAULT_STRIDES):
            raise ConversionError("checkpoint has %d stages: give their strides with --strides" % stages)
        strides = DEFAULT_STRIDES
    if len(strides) != stages:
        raise ConversionError("--strides has %d entries but the checkpoint has %d stages" % (len(strides), stages))
    cfg = dict(arch="custom", in_channels=in_channels, stem_channels=stem_out, widths=widths,
               blocks=blocks, strides=list(strides), kernel3=kernel3, num_classes=num_classes)
    check_limits(cfg)
    for name in PRESETS:
        if {k: v for k, v in preset_config(name).items() if k != "arch"} == \
                {k: v for k, v in cfg.items() if k != "arch"}:
            cfg["arch"] = name
    return cfg


def weight_shape(state, name, dims):
    if name not in state:
        raise ConversionError("not a BagNet checkpoint: no tensor %r" % name)
    shape = [int(d) for d in state[name].shape]
    if len(shape) != dims:
        raise ConversionError("tensor %r has shape %s, a BagNet needs %d dimensions" % (name, shape, dims))
    return shape


def block_counts(state):
    """Blocks per stage, from the layerS.B.* names: stages 1..S and blocks 0..B-1, without gaps."""
    indices = {}
    for name in state:
        if name.startswith("layer"):
            match = BLOCK_NAME.fullmatch(name)
            if not match:
                raise ConversionError("unexpected tensor %r (not part of a BagNet)" % name)
            indices.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    if not indices:
        raise ConversionError("not a BagNet checkpoint: no tensor 'layer1.0.conv1.weight'")
    if sorted(indices) != list(range(1, len(indices) + 1)) or len(indices) > MAX_STAGES:
        raise ConversionError("stages must be numbered layer1..layerN without gaps, N <= %d: got %d stages up "
                              "to layer%d" % (MAX_STAGES, len(indices), max(indices)))
    counts = []
    for s in range(1, len(indices) + 1):
        if max(indices[s]) != len(indices[s]) - 1:
            raise ConversionError("blocks of layer%d are not numbered 0..N without gaps: %d blocks, the last "
                                  "numbered %d" % (s, len(indices[s]), max(indices[s])))
        counts.append(len(indices[s]))
    return counts


def leading_3x3_blocks(state, stage, count):
    k3 = 0
    while k3 < count and weight_shape(state, "layer%d.%d.conv2.weight" % (stage, k3), 4)[-1] == 3:
        k3 += 1
    return k3


def check_limits(cfg):
    """Checked before a model of this config is even described: it may come from a hostile file."""
    limits = [("in_channels", cfg["in_channels"], MAX_CHANNELS),
              ("stem_channels", cfg["stem_channels"], MAX_CHANNELS),
              ("num_classes", cfg["num_classes"], MAX_CLASSES)]
    for s in range(len(cfg["widths"])):
        limits += [("widths[%d]" % s, cfg["widths"][s], MAX_CHANNELS // EXPANSION),
                   ("blocks[%d]" % s, cfg["blocks"][s], MAX_BLOCKS),
                   ("strides[%d]" % s, cfg["strides"][s], MAX_STRIDE)]
    limits += [("blocks in all", sum(cfg["blocks"]), MAX_BLOCKS),
               ("the strides' product", math.prod(cfg["strides"]), MAX_GRID_STRIDE)]
    for field, value, top in limits:
        if not 1 <= value <= top:
            raise ConversionError("%s = %d is outside [1, %d]" % (field, value, top))


def check(state, cfg):
    """The names of the config's tensors in model order, once the state has exactly those, with their shapes."""
    if "family" in cfg:
        expected, model = families.expected_shapes(cfg), families.describe(cfg)
    else:
        expected, model = expected_shapes(cfg), cfg["arch"]
    for name, shape in expected.items():
        if name not in state:
            raise ConversionError("missing tensor %r for a %s" % (name, model))
        if tuple(state[name].shape) != shape:
            raise ConversionError("tensor %r has shape %s, a %s needs %s"
                                  % (name, list(state[name].shape), model, list(shape)))
    for name in state:
        if name not in expected:
            raise ConversionError("unexpected tensor %r (not part of a %s)" % (name, model))
    return list(expected)


def check_values(state, names):
    for name in names:
        if state[name].dtype not in FLOAT_DTYPES:
            raise ConversionError("tensor %r has dtype %s, not floating point" % (name, state[name].dtype))
        if not torch.isfinite(state[name]).all():
            raise ConversionError("tensor %r has non-finite values" % name)


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
    except UnicodeDecodeError:
        raise ConversionError("labels %s are not UTF-8 text" % path)
    if len(names) != classes:
        raise ConversionError("%s has %d labels but the model has %d classes" % (path, len(names), classes))
    return names


def check_output(path):
    """Fails before the conversion's work, not after it."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise ConversionError("output %s is a folder" % path)
    if not os.path.isdir(folder):
        raise ConversionError("output folder %s does not exist" % folder)


def write_safetensors(path, names, state, meta):
    """Writes PATH.tmp next to PATH and renames it to PATH; on any failure removes it."""
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
    try:
        f = open(tmp, "wb")
    except OSError as e:
        raise ConversionError("cannot write %s: %s" % (tmp, e.strerror))
    try:
        with f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for array in arrays:
                f.write(array.tobytes())
        os.replace(tmp, path)
    except BaseException as e:  # KeyboardInterrupt too: no partial file may stay behind
        os.remove(tmp)
        if isinstance(e, OSError):
            raise ConversionError("cannot write %s: %s" % (path, e.strerror)) from None
        raise


def convert(checkpoint, out, arch=None, strides=None, labels=None):
    check_output(out)
    state = load_state_dict(checkpoint)
    if arch is not None:
        if arch not in PRESETS and families.family_of_arch(arch) is None:
            raise ConversionError("unknown --arch %s (known: %s)" % (arch, ", ".join([*PRESETS, *families.ARCHS])))
        family = "bagnet" if arch in PRESETS else families.family_of_arch(arch)
    else:
        family = families.detect(state)
    if family == "bagnet":
        cfg = preset_config(arch) if arch is not None else infer_config(state, strides)
    else:
        if strides is not None:
            raise ConversionError("--strides applies to BagNets only, this is a %s" % families.FAMILY_NAMES[family])
        if family == "densenet":
            state = families.rename_densenet_keys(state)
        cfg = families.named_config(arch) if arch is not None else families.infer_config(family, state)
    names = check(state, cfg)
    check_values(state, names)
    meta = families.metadata(cfg) if family != "bagnet" else metadata(cfg)
    if cfg["in_channels"] == 3 and cfg["num_classes"] == 1000:
        meta.update(IMAGENET_PREPROCESSING)
    if labels is not None:
        meta["bagnet4j.labels"] = "\n".join(read_labels(labels, cfg["num_classes"]))
    write_safetensors(out, names, state, meta)
    return cfg


def main(argv=None):
    parser = argparse.ArgumentParser(description="Convert a BagNet, or a torchvision ResNet, VGG or DenseNet, PyTorch "
                                     "checkpoint to bagnet4j safetensors.")
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    parser.add_argument("--arch", help="bagnet9, bagnet17, bagnet33, resnet18, resnet34, resnet50, resnet101, "
                        "resnet152, wide_resnet50_2, wide_resnet101_2, vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, "
                        "vgg16_bn, vgg19_bn, densenet121, densenet161, densenet169 or densenet201 (default: inferred "
                        "from the tensor names and shapes)")
    parser.add_argument("--strides", help="a BagNet's stage strides, comma-separated (default 2,2,2,1)")
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
    model = families.describe(cfg) if "family" in cfg else cfg["arch"]
    print("wrote %s (%s, %d classes)" % (args.output, model, cfg["num_classes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
