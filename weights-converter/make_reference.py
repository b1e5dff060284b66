#!/usr/bin/python3
"""Make reference outputs for bagnet4j's tests, with PyTorch as the reference.

usage: /usr/bin/python3 weights-converter/make_reference.py OUT_DIR [ARCH ...]

For each preset (and a tiny custom config), or only the ARCHs named, builds the BagNet of bagnet_torch.py with seeded random
weights and non-trivial batchnorm statistics, saves it as an official-style checkpoint (legacy
serialization, plain state_dict with num_batches_tracked) as OUT_DIR/<arch>.pth.tar, and writes
deterministic inputs and PyTorch's outputs as float32 .npy:
  <arch>_input_batch.npy   [2, C, 224, 224]      <arch>_input_rect.npy  [1, C, 200, 160]
  <arch>_scores_batch.npy  [2, classes]          <arch>_grid_batch.npy  [2, gh, gw, classes]
  <arch>_scores_rect.npy / <arch>_grid_rect.npy
  <arch>_info.json: {"parameters": PyTorch's parameter count, "grid_224": [gh, gw]}
Outputs are computed in float64 from the float32 weights and inputs, so they are the exact values that
bagnet4j's float32 arithmetic approximates. The tiny config also gets the other checkpoint flavours
(zip serialization, {"state_dict"} wrapper, "module." prefix) for the converter's tests.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet_torch import BagNet, PRESETS, preset_config  # noqa: E402

TINY = dict(arch="tiny", in_channels=3, stem_channels=8, widths=[4, 8, 8, 16], blocks=[1, 2, 1, 1],
            strides=[2, 2, 2, 1], kernel3=[1, 1, 0, 1], num_classes=10)


def randomize(model, seed):
    """He-normal convolutions, batchnorms with spread statistics, a small fc: logits of order 1-10."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                last = name.endswith("bn3") or name.endswith("downsample.1")
                # Residual branches start damped so activations stay of order 1 through 16 blocks.
                m.weight.copy_(torch.rand(c, generator=g) * (0.3 if last else 1.0) + (0.1 if last else 0.5))
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, torch.nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (16.0 / m.in_features) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model.eval()


def image_like(g, n, c, h, w):
    """Smooth blobs plus fine noise, different per image, so that images get different class scores."""
    coarse = torch.randn(n, c, 6, 6, generator=g) * 1.5
    smooth = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return smooth + 0.5 * torch.randn(n, c, h, w, generator=g)


def grid_224(model, cfg):
    with torch.no_grad():
        return model.float().features(torch.zeros(1, cfg["in_channels"], 224, 224)).shape[2:]


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def make(cfg, seed, out_dir, flavours=False):
    arch = cfg["arch"]
    model = randomize(BagNet(cfg), seed)
    state = model.state_dict()
    torch.save(state, os.path.join(out_dir, arch + ".pth.tar"), _use_new_zipfile_serialization=False)
    if flavours:
        wrapped = {"state_dict": {"module." + k: v for k, v in state.items()}, "epoch": 90}
        torch.save(wrapped, os.path.join(out_dir, arch + "_wrapped.pth.tar"))
        torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")},
                   os.path.join(out_dir, arch + "_zip.pth.tar"))
    g = torch.Generator().manual_seed(seed + 1)
    inputs = {"batch": image_like(g, 2, cfg["in_channels"], 224, 224),
              "rect": image_like(g, 1, cfg["in_channels"], 200, 160)}
    reference = model.double()
    for key, x in inputs.items():
        with torch.no_grad():
            features = reference.features(x.double())
            scores = reference.fc(features.mean(dim=(2, 3)))
            grid = reference.fc(features.permute(0, 2, 3, 1))
        save_npy(os.path.join(out_dir, "%s_input_%s.npy" % (arch, key)), x.numpy())
        save_npy(os.path.join(out_dir, "%s_scores_%s.npy" % (arch, key)), scores.numpy())
        save_npy(os.path.join(out_dir, "%s_grid_%s.npy" % (arch, key)), grid.numpy())
        print("%s %s: input %s, grid %s, logits in [%.2f, %.2f]" % (arch, key, tuple(x.shape),
              tuple(grid.shape[1:3]), scores.min(), scores.max()))
    parameters = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out_dir, arch + "_info.json"), "w") as f:
        json.dump({"parameters": parameters, "grid_224": list(grid_224(model, cfg))}, f)
    print("%s: %d parameters" % (arch, parameters))

def main():
    known = ["tiny"] + list(PRESETS)
    wanted = sys.argv[2:] or known
    if len(sys.argv) < 2 or any(a not in known for a in wanted):
        print(__doc__.strip().splitlines()[2] + "  (ARCH: %s)" % ", ".join(known), file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    if "tiny" in wanted:
        make(TINY, 1000, out_dir, flavours=True)
    for i, name in enumerate(PRESETS):
        if name in wanted:
            make(preset_config(name), 2000 + i, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
