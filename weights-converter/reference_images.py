#!/usr/bin/python3
"""Make image-preprocessing references for bagnet4j's tests, with PIL + torchvision as the reference.

usage: /usr/bin/python3 weights-converter/reference_images.py OUT_DIR PHOTO...

Writes into OUT_DIR variants of the first photo in other encodings (16-bit RGB PNG, palette PNG, GIF,
BMP, grayscale JPEG, CMYK JPEG, JPEGs with EXIF orientations 3, 6 and 8), then for every photo and
variant <name>.<ext> the torchvision evaluation input before normalization, [3, H, W] float32 in [0, 1]:
  <name>.npy           Resize(256), CenterCrop(224), ToTensor
  <name>_160_128.npy   Resize(160), CenterCrop(128), ToTensor
  <name>_none.npy      ToTensor only (the whole image)
  <name>_gray.npy      convert("L"), Resize(256), CenterCrop(224), ToTensor: [1, 224, 224]
Images are opened as torchvision's loader does (PIL, convert("RGB")), after ImageOps.exif_transpose.
"""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps
from torchvision import transforms


def write_png16(path, rgb8):
    """A 16-bit RGB PNG whose samples are v * 257 + noise in the low byte (PIL cannot write one)."""
    h, w, _ = rgb8.shape
    rng = np.random.default_rng(0)
    rgb16 = rgb8.astype(">u2") * 256 + rng.integers(0, 256, rgb8.shape).astype(">u2")
    raw = b"".join(b"\x00" + rgb16[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def variants(out_dir, photo):
    base = Image.open(photo).convert("RGB")
    made = []

    def save(name, image, **kw):
        path = os.path.join(out_dir, name)
        image.save(path, **kw)
        made.append(path)
    write_png16(os.path.join(out_dir, "variant-16bit.png"), np.asarray(base))
    made.append(os.path.join(out_dir, "variant-16bit.png"))
    save("variant-palette.png", base.convert("P", palette=Image.ADAPTIVE, colors=200))
    save("variant-gif.gif", base.convert("P", palette=Image.ADAPTIVE, colors=128))
    save("variant-bmp.bmp", base)
    save("variant-gray.jpg", base.convert("L"), quality=92)
    save("variant-cmyk.jpg", base.convert("CMYK"), quality=92)
    for orientation in (3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        save("variant-exif%d.jpg" % orientation, base, quality=92, exif=exif.tobytes())
    return made


def reference(path, out_dir):
    name = os.path.splitext(os.path.basename(path))[0]
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    settings = {"": [transforms.Resize(256), transforms.CenterCrop(224)],
                "_160_128": [transforms.Resize(160), transforms.CenterCrop(128)],
                "_none": []}
    for suffix, steps in settings.items():
        tensor = transforms.Compose(steps + [transforms.ToTensor()])(image)
        np.save(os.path.join(out_dir, name + suffix + ".npy"), tensor.numpy().astype(np.float32))
    gray = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])(
        image.convert("L"))
    np.save(os.path.join(out_dir, name + "_gray.npy"), gray.numpy().astype(np.float32))


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    photos = sys.argv[2:]
    for path in photos + variants(out_dir, photos[0]):
        reference(path, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
