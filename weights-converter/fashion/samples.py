#!/usr/bin/python3
"""Write one Fashion-MNIST test image per class as the PNG samples bagnet4j ships.

usage: /usr/bin/python3 weights-converter/fashion/samples.py OUT_DIR

Takes the first test image of each class (from Debian's dataset-fashion-mnist), saves it as an 8-bit
grayscale PNG named <class index>-<class name>.png, and lists the names in OUT_DIR/index.txt.
"""
import os
import re
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import LABELS, read_idx  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    images = read_idx("t10k-images-idx3-ubyte.gz")
    labels = read_idx("t10k-labels-idx1-ubyte.gz")
    names = []
    for c, label in enumerate(LABELS):
        first = int(np.argmax(labels == c))
        name = "%d-%s.png" % (c, re.sub(r"[^a-z]+", "-", label.lower()).strip("-"))
        Image.fromarray(images[first], mode="L").save(os.path.join(out_dir, name))
        names.append(name)
    with open(os.path.join(out_dir, "index.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
