#!/usr/bin/python3
"""The reference method's full-resolution heatmap, computed patch by patch in PyTorch.

usage: /usr/bin/python3 weights-converter/reference_heatmap.py CHECKPOINT IMAGE OUT_PREFIX

Follows the BagNet authors' generate_heatmap_pytorch: the normalized image (torchvision's ImageNet
evaluation transforms) is zero-padded by (q-1)/2, every stride-1 q x q patch is cut out and run through the
network by itself, in batches of 1000, and each pixel gets the logit of its patch for one class: the image's
top class. Writes OUT_PREFIX-input.npy [1, 3, 224, 224], OUT_PREFIX-heatmap.npy [224, 224] and
OUT_PREFIX-class.txt.
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet_torch import BagNet  # noqa: E402
from convert import infer_config, load_state_dict  # noqa: E402
from reference_classify import PIPELINE  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    state = load_state_dict(sys.argv[1])
    cfg = infer_config(state, None)
    model = BagNet(cfg)
    model.load_state_dict(state, strict=False)
    model.eval()
    torch.set_num_threads(os.cpu_count() or 1)
    image = PIPELINE(Image.open(sys.argv[2]).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        cls = int(model(image).argmax())
        q = {(1, 1, 0, 0): 9, (1, 1, 1, 0): 17, (1, 1, 1, 1): 33}[tuple(cfg["kernel3"])]
        half = (q - 1) // 2
        padded = torch.nn.functional.pad(image, (half, half, half, half))
        patches = padded.unfold(2, q, 1).unfold(3, q, 1)  # [1, 3, H, W, q, q]
        h, w = patches.shape[2:4]
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, q, q)
        logits = torch.cat([model(patches[i:i + 1000])[:, cls] for i in range(0, len(patches), 1000)])
    prefix = sys.argv[3]
    np.save(prefix + "-input.npy", image.numpy().astype(np.float32))
    np.save(prefix + "-heatmap.npy", logits.reshape(h, w).numpy().astype(np.float32))
    with open(prefix + "-class.txt", "w") as f:
        f.write("%d\n" % cls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
