#!/usr/bin/python3
"""PyTorch + torchvision class scores of image files, the reference for bagnet4j's classify.

usage: /usr/bin/python3 weights-converter/reference_classify.py CHECKPOINT OUT.npy IMAGE...

Builds the BagNet of bagnet_torch.py for the checkpoint's architecture (as convert.py infers it), opens each
image as torchvision's ImageFolder loader does (PIL, convert("RGB"); EXIF orientation applied first), applies
Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean, std), and writes the logits [N, classes]
(computed in float64) as float32 .npy, in the order the images were given.
"""
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageOps
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bagnet_torch import BagNet  # noqa: E402
from convert import infer_config, load_state_dict  # noqa: E402

PIPELINE = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                               transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    state = load_state_dict(sys.argv[1])
    model = BagNet(infer_config(state, None))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    model = model.double().eval()
    batch = torch.stack([PIPELINE(ImageOps.exif_transpose(Image.open(p)).convert("RGB")) for p in sys.argv[3:]])
    with torch.no_grad():
        logits = model(batch.double())
    np.save(sys.argv[2], logits.numpy().astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
