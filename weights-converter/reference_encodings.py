#!/usr/bin/python3
"""More image encodings for bagnet4j's preprocessing tests, and torchvision's ToTensor + Normalize of every byte.

usage: /usr/bin/python3 weights-converter/reference_encodings.py OUT_DIR PHOTO JPEG_440

Writes into OUT_DIR the encodings of PHOTO that reference_images.py does not make (PNGs of 1, 2 and 4 bits, gray
with alpha, a palette with a transparent entry, 16-bit gray; progressive and 4:2:2 JPEGs; an 8-bit BMP; a GIF of
two frames and one with a transparent entry), copies JPEG_440 (4:4:0 chroma subsampling, which PIL cannot write),
and makes for each file the references reference_images.py makes. Also normalize_imagenet.npy: ToTensor then
Normalize with ImageNet's mean and std of a 1 x 256 RGB image whose pixel i is (i, i, i), [3, 1, 256] float32.
"""
import os
import shutil
import sys

import numpy as np
from PIL import Image
from torchvision import transforms

from reference_images import reference


def encodings(out_dir, photo, jpeg_440):
    base = Image.open(photo).convert("RGB")
    gray = base.convert("L")
    made = []

    def save(name, image, **kw):
        path = os.path.join(out_dir, name)
        image.save(path, **kw)
        made.append(path)
    save("png-1bit.png", base.convert("1"))
    save("png-2bit-palette.png", gray.quantize(4), bits=2)
    save("png-4bit-palette.png", base.convert("P", palette=Image.ADAPTIVE, colors=16), bits=4)
    save("png-gray-alpha.png", Image.merge("LA", (gray, base.getchannel("R"))))
    save("png-palette-transparent.png", base.convert("P", palette=Image.ADAPTIVE, colors=64), transparency=3)
    # High byte: the gray image; low byte: noise, so that dropping it is visible.
    noise = np.random.default_rng(0).integers(0, 256, gray.size[::-1])
    save("png-16bit-gray.png", Image.fromarray((np.asarray(gray).astype(np.uint16) * 256 + noise).astype(np.uint16)))
    save("jpeg-progressive.jpg", base, quality=90, progressive=True)
    save("jpeg-422.jpg", base, quality=90, subsampling="4:2:2")
    save("bmp-palette.bmp", base.convert("P", palette=Image.ADAPTIVE, colors=256))
    save("gif-two-frames.gif", base.convert("P", palette=Image.ADAPTIVE, colors=100), save_all=True,
         append_images=[base.rotate(180).convert("P", palette=Image.ADAPTIVE, colors=100)], duration=100)
    save("gif-transparent.gif", base.convert("P", palette=Image.ADAPTIVE, colors=64), transparency=5)
    made.append(shutil.copy(jpeg_440, os.path.join(out_dir, "jpeg-440.jpg")))
    return made


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir, photo, jpeg_440 = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    for path in encodings(out_dir, photo, jpeg_440):
        reference(path, out_dir)
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    imagenet = transforms.Compose([transforms.ToTensor(),
                                   transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    np.save(os.path.join(out_dir, "normalize_imagenet.npy"), imagenet(Image.fromarray(ramp)).numpy())
    return 0


if __name__ == "__main__":
    sys.exit(main())
