#!/usr/bin/python3
"""PyTorch checkpoints, and the tensors a reader must find in them, for bagnet4j's own checkpoint reader.

usage: /usr/bin/python3 weights-converter/reference_checkpoints.py OUT_DIR

Writes into OUT_DIR, for each serialization S of torch.save (zip: the default; legacy:
_use_new_zipfile_serialization=False), the files README.txt (also written there) describes. For each file
X.pth that is not hostile, X.expected/ holds one float32 little-endian C-order .npy per tensor (its name plus
".npy", its values as tensor.float()) and index.tsv: one line "name<TAB>dtype<TAB>shape" per tensor, in the
pickle's order (dtype as torch prints it, e.g. torch.float16; shape comma-separated, empty for a 0-d tensor).
A tensor's name is its key, prefixed with the keys of the dicts it lies in, joined by "." (e.g.
"state_dict.conv.weight"); a tensor stored under two keys is listed under both.
The hostile files (S-system.pth, S-eval.pth) hold a pickle that, loaded by Python, creates X.marker in OUT_DIR;
they are only written and disassembled here, never loaded.
"""
import io
import os
import pickletools
import shlex
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch

SERIALIZATIONS = {"zip": True, "legacy": False}  # name -> _use_new_zipfile_serialization
DESCRIPTIONS = {
    "state_dict": "model.state_dict() of Conv2d+BatchNorm2d+Linear: OrderedDict with _metadata (BUILD), an int64 "
                  "num_batches_tracked",
    "dtypes": "float32 [3,5], float16 [7], bfloat16 [2,3,4,1], float64 [5,3], a 0-d float32, int64 [5], an "
              "empty float32 [0,3], float32 [300,220] (sizes as BININT2, BININT)",
    "views": "views of one storage: whole, row slice (offset), block (offset, rows strided), transpose "
             "(strides not C order), every 2nd element (stride 2, offset 1), a second name for the same tensor "
             "(pickle memo) and a second tensor object over the same storage",
    "cuda": "float32 tensors whose storages say location 'cuda:0' (load with map_location='cpu')",
    "wrapped-state_dict": '{"state_dict": state_dict, "epoch": 7}: the state_dict one level down, beside a '
                          'non-tensor',
    "wrapped-model": '{"model": state_dict}',
    "module-prefix": "nn.DataParallel(model).state_dict(): every key (and _metadata key) prefixed with 'module.'",
    "system": "HOSTILE: GLOBAL 'posix system' + REDUCE, touches X.marker when loaded by Python",
    "eval": "HOSTILE: GLOBAL '__builtin__ eval' (protocol 2's name for builtins.eval) + REDUCE, creates "
            "X.marker when loaded by Python",
}
HOSTILE = {"system", "eval"}


def model():
    torch.manual_seed(15)
    net = torch.nn.Sequential(OrderedDict(
        conv=torch.nn.Conv2d(3, 4, 3, bias=True), bn=torch.nn.BatchNorm2d(4), flatten=torch.nn.Flatten(),
        fc=torch.nn.Linear(4 * 2 * 2, 3)))
    # A few training steps give the batchnorm statistics other than 0 and 1, and num_batches_tracked other than 0.
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(2, 3, 4, 4) * 2 + 1)
    net.eval()
    return net


def dtypes():
    g = torch.Generator().manual_seed(16)
    return OrderedDict([
        ("f32", torch.randn(3, 5, generator=g)),
        ("f16", (torch.randn(7, generator=g) * 100).half()),
        ("bf16", torch.randn(2, 3, 4, 1, generator=g).bfloat16()),
        ("f64", torch.randn(5, 3, generator=g, dtype=torch.float64)),
        ("scalar", torch.tensor(-3.25)),
        # Exact in float32, so the expected values need no rounding rule.
        ("i64", torch.tensor([-3, 0, 7, 1 << 40, -(1 << 33)])),
        ("empty", torch.zeros(0, 3)),
        # Above 255 and 65535: the pickle writes its sizes with BININT2 and BININT, not BININT1.
        ("big", torch.randn(300, 220, generator=g)),
    ])


def views():
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10) / 4
    flat = base.view(60)
    return OrderedDict([
        ("base", base),
        ("rows", base[2:4]),
        ("block", base[1:5, 3:7]),
        ("transposed", base.t()),
        ("every_2nd", flat[1::2]),
        ("alias", base),
        ("flat", flat),
    ])


class Payload:
    """Pickles as a call of function(argument): the way a hostile checkpoint runs code in torch.load."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def hostile(kind, marker):
    payload = (Payload(os.system, "touch " + shlex.quote(marker)) if kind == "system"
               else Payload(eval, "open(%r, 'w').close()" % marker))
    return OrderedDict([("weight", torch.ones(2)), ("marker", payload)])


def contents(sd, dp_sd):
    return {
        "state_dict": sd,
        "dtypes": dtypes(),
        "views": views(),
        "cuda": OrderedDict([("a", torch.linspace(-1, 1, 6).reshape(2, 3)), ("b", torch.full((4,), 0.5))]),
        "wrapped-state_dict": {"state_dict": sd, "epoch": 7},
        "wrapped-model": {"model": sd},
        "module-prefix": dp_sd,
    }


def save(obj, path, zip_format, location=None):
    if location is None:
        torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
        return
    # torch.save names each storage's device with torch.serialization.location_tag: a GPU's file, without a GPU.
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: location
    try:
        torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    finally:
        torch.serialization.location_tag = original


def object_pickle(path):
    """The pickle of the saved object: data.pkl in a zip, the 4th pickle of a legacy file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, sys_info
        for _ in pickletools.genops(stream):
            pass
    start = stream.tell()
    for _ in pickletools.genops(stream):
        pass
    return data[start:stream.tell()]


def globals_of(pickle_bytes):
    return [arg for op, arg, _ in pickletools.genops(pickle_bytes) if op.name == "GLOBAL"]


def tensors(obj, prefix=""):
    """(name, tensor) for each tensor in obj, dicts walked in order (the pickle's)."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from tensors(value, prefix + "." + str(key) if prefix else str(key))


def write_expected(obj, directory):
    os.makedirs(directory, exist_ok=True)
    lines = []
    for name, tensor in tensors(obj):
        np.save(os.path.join(directory, name + ".npy"), tensor.float().contiguous().numpy().astype("<f4"))
        lines.append("%s\t%s\t%s\n" % (name, tensor.dtype, ",".join(str(d) for d in tensor.shape)))
    with open(os.path.join(directory, "index.tsv"), "w") as f:
        f.writelines(lines)
    return len(lines)


def check_loads_the_same(obj, path):
    """torch.load reads back the names, dtypes, shapes and values written as expected."""
    loaded = list(tensors(torch.load(path, map_location="cpu")))
    saved = list(tensors(obj))
    assert [n for n, _ in loaded] == [n for n, _ in saved], path
    for (name, a), (_, b) in zip(loaded, saved):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), (path, name)
        # Views stay views: a reader must apply the offsets and strides the pickle gives.
        assert a.stride() == b.stride() and a.storage_offset() == b.storage_offset(), (path, name)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir = os.path.abspath(sys.argv[1])
    os.makedirs(out_dir, exist_ok=True)
    net = model()
    sd = net.state_dict()
    assert hasattr(sd, "_metadata") and sd["bn.num_batches_tracked"].dtype == torch.int64
    dp_sd = torch.nn.DataParallel(net).state_dict()
    assert all(k.startswith("module.") for k in dp_sd)
    readme = []
    for serialization, zip_format in SERIALIZATIONS.items():
        for kind, obj in contents(sd, dp_sd).items():
            name = "%s-%s" % (serialization, kind)
            path = os.path.join(out_dir, name + ".pth")
            save(obj, path, zip_format, "cuda:0" if kind == "cuda" else None)
            if kind == "cuda":
                assert b"cuda:0" in object_pickle(path) and b"cpu" not in object_pickle(path), path
            check_loads_the_same(obj, path)
            assert write_expected(obj, os.path.join(out_dir, name + ".expected")) > 0
            readme.append("%s.pth\t%s\n" % (name, DESCRIPTIONS[kind]))
        for kind in sorted(HOSTILE):
            name = "%s-%s" % (serialization, kind)
            path = os.path.join(out_dir, name + ".pth")
            marker = os.path.join(out_dir, name + ".marker")
            if os.path.exists(marker):
                os.remove(marker)
            save(hostile(kind, marker), path, zip_format)
            wanted = "posix system" if kind == "system" else "__builtin__ eval"
            assert wanted in globals_of(object_pickle(path)), (path, globals_of(object_pickle(path)))
            assert not os.path.exists(marker), marker
            readme.append("%s.pth\t%s\n" % (name, DESCRIPTIONS[kind]))
    with open(os.path.join(out_dir, "README.txt"), "w") as f:
        f.write("Made by weights-converter/reference_checkpoints.py (torch %s); X.expected/ holds what a reader "
                "must find in X.pth.\n" % torch.__version__)
        f.writelines(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
