#!/usr/bin/python3
"""PyTorch's half of benchmarks/side-by-side.sh: the same model for all three engines, and PyTorch's timings.

usage: /usr/bin/python3 benchmarks/side_by_side.py WORK_DIR THREADS ITERS BATCH PRESET [PRESET ...]

PRESET: bagnet9|17|33, or a torchvision model (resnet50, densenet169, vgg16, ...). For each: seeded random
weights (as the reference tests make them), saved as a checkpoint and converted with weights-converter/convert.py
to WORK_DIR/<preset>.safetensors; exported to ONNX as
WORK_DIR/<preset>.onnx (NCHW, BATCH x 3 x 224 x 224); BATCH input images WORK_DIR/<preset>_input.npy and PyTorch's
class scores WORK_DIR/<preset>_scores.npy (float64 arithmetic). Then times PyTorch with
torch.set_num_threads(THREADS) on the batch: eager, and traced + frozen with channels_last (its fastest
configuration here), ITERS runs each after a warm-up, and writes the medians per image to WORK_DIR/pytorch.json.
"""
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights-converter"))
import make_cnn_reference  # noqa: E402
import torchvision.models as tvm  # noqa: E402
from bagnet_torch import PRESETS, BagNet, preset_config  # noqa: E402
from convert import convert  # noqa: E402
from make_reference import image_like, randomize  # noqa: E402


def median_ms(run, iters):
    # At least 3 runs and 3 seconds of warm-up, as the Java side does (JIT, profiling executor).
    warm_until = time.perf_counter() + 3.0
    done = 0
    while done < 3 or time.perf_counter() < warm_until:
        run()
        done += 1
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def prepare(work, preset, batch):
    x = image_like(torch.Generator().manual_seed(11), batch, 3, 224, 224).float()
    if preset in PRESETS:
        model = randomize(BagNet(preset_config(preset)), seed=7)
    else:
        model = make_cnn_reference.randomize(getattr(tvm, preset)(), 7, [x])
    checkpoint = os.path.join(work, preset + ".pth.tar")
    torch.save(model.state_dict(), checkpoint, _use_new_zipfile_serialization=False)
    convert(checkpoint, os.path.join(work, preset + ".safetensors"), arch=preset)
    os.remove(checkpoint)
    np.save(os.path.join(work, preset + "_input.npy"), x.numpy())
    with torch.no_grad():
        scores = model.double()(x.double()).float()
    np.save(os.path.join(work, preset + "_scores.npy"), scores.numpy())
    model = model.float()
    torch.onnx.export(model, x, os.path.join(work, preset + ".onnx"), opset_version=13,
                      input_names=["images"], output_names=["scores"])
    return model, x


def main(argv):
    work, threads, iters, batch, presets = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), argv[4:]
    torch.set_num_threads(threads)
    results = {}
    for preset in presets:
        model, x = prepare(work, preset, batch)
        with torch.no_grad():
            eager = median_ms(lambda: model(x), iters) / batch
            fast = torch.jit.freeze(torch.jit.trace(model.to(memory_format=torch.channels_last),
                                                    x.to(memory_format=torch.channels_last)))
            xc = x.to(memory_format=torch.channels_last)
            frozen = median_ms(lambda: fast(xc), iters) / batch
        results[preset] = {"eager_ms": eager, "frozen_channels_last_ms": frozen}
        print("%s: PyTorch eager %.1f ms, traced + frozen + channels_last %.1f ms per image"
              % (preset, eager, frozen), file=sys.stderr)
    with open(os.path.join(work, "pytorch.json"), "w") as f:
        json.dump({"torch": torch.__version__, "threads": threads, "batch": batch, "results": results}, f)


if __name__ == "__main__":
    main(sys.argv[1:])
