#!/usr/bin/python3
"""bagnet4j's four comparison measurements (org.bagnet4j.compare), written again in PyTorch from their javadoc.

usage: /usr/bin/python3 weights-converter/compare_reference.py OUT_DIR --bagnet FILE [--bagnet FILE ...]
           --target FILE [--target FILE ...] [--limit 200] [--seed 0] [--shuffle-seeds 1] [--sides 6] [--gaps 0,4,12,20]
           [--patch 8] [--k 4]

Measures the first --limit Fashion-MNIST test images (Debian's dataset-fashion-mnist) with bagnet4j model files,
in float64 from their float32 weights, and writes OUT_DIR/report.json: the keys and structure of
ComparisonReport.json, plus "files" (each model's file; targets first), "data" (the IDX files), "draws" (the
first images' permutations, pairs and random orders) and "closest" (the closest calls among the decisions and
rankings, relative to their scale: where float32 may decide otherwise). The targets are CNNs (bagnet4j's
shipped Fashion-MNIST ResNet and VGG in the tests); their float64 passes cost most of the run.
The default settings keep the run at about a minute on one core: gaps of 12 and 20 pixels are at least q - 1 for
the q = 13 BagNet, a 4 x 4 grid of 8-pixel squares.

The measurements, as the Java defines them:
- Random draws: SplitMix64 seeded with mix(mix(mix(seed) + stream) + image), mix its finaliser (64-bit wrap-around);
  nextInt(bound) = (next >>> 1) % bound; permutations by Fisher-Yates from the last index down.
- Shuffling: for N = 1, 2, 4, ... while tiles keep 2 pixels a side, floor(H/N) x floor(W/N) tiles over the
  input's centre; tile k of the result is tile perm[k] of the input, perm from stream 100 + N for each seed.
- Interactions: for each side p and gap d that fit, one pair per image from stream 1000000 + 1000 p + d: the
  axis (row or column, drawn only where both fit), then A's row, then A's column; effects are occluded minus
  clean label logits; relative = sum |both - a - b| / sum (|a| + |b|).
- Errors: accuracy, per-class error rates, and per pair of models the Pearson r of those rates, top-1
  agreement, the Jaccard overlap of the images each gets wrong (NaN when neither errs) beside the overlap of
  independent errors at the same rates, and the correlation of all logits.
- Sensitivity: a centred grid of patch x patch squares, ranked by each BagNet's heatmap (the reference method:
  every q x q patch of the zero-padded input through the BagNet by itself, the label's logit at each pixel,
  summed over the square; computed here from shifted grids, checked against the reference method on the first
  image), by the target's occlusion map (clean minus occluded logit), by its class activation map upsampled
  bilinearly to the input (F.interpolate, corners not aligned) and summed over the square, and randomly (stream
  2); ties keep the lower index first. The first k = 1..K squares are occluded together; the area's standard
  error is that of the per-image mean drop over k = 1..K.
Occluding writes 0 into the normalized input (the dataset's mean).
"""
import argparse
import ctypes
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchvision_families as families  # noqa: E402
from bagnet_torch import BagNet  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MASK = (1 << 64) - 1
SHUFFLE_STREAM, INTERACTION_STREAM, RANDOM_STREAM = 100, 1_000_000, 2
BATCH = 64
DRAWN_IMAGES = 3  # images whose draws go into the report


class SeededRandom:
    """SplitMix64, as org.bagnet4j.compare.SeededRandom."""

    def __init__(self, seed):
        self.state = seed & MASK

    @staticmethod
    def of(seed, stream, item):
        mix = SeededRandom.mix
        return SeededRandom(mix((mix((mix(seed & MASK) + stream) & MASK) + item) & MASK))

    @staticmethod
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_long(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        return SeededRandom.mix(self.state)

    def next_int(self, bound):
        return (self.next_long() >> 1) % bound

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next_int(i + 1)
            p[i], p[j] = p[j], p[i]
        return p


# ---------------------------------------------------------------- model files

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    state = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        array = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=8 + n + begin)
        state[name] = torch.from_numpy(array.reshape(t["shape"]).copy())
    return state, meta


def ints(text):
    return [int(v) for v in text.split(",")]


def config(meta):
    """The architecture a bagnet4j file's metadata describes; a BagNet's has no bagnet4j.family."""
    family = meta.get("bagnet4j.family", "bagnet")
    cfg = dict(family=family, arch=meta.get("bagnet4j.arch", "custom"),
               in_channels=int(meta["bagnet4j.in_channels"]), num_classes=int(meta["bagnet4j.num_classes"]))
    if family == "bagnet":
        cfg.update(stem_channels=int(meta["bagnet4j.stem_channels"]), widths=ints(meta["bagnet4j.widths"]),
                   blocks=ints(meta["bagnet4j.blocks"]), strides=ints(meta["bagnet4j.strides"]),
                   kernel3=ints(meta["bagnet4j.kernel3"]))
    elif family == "resnet":
        cfg.update(block=meta["bagnet4j.block"], blocks=ints(meta["bagnet4j.blocks"]),
                   width_per_group=int(meta["bagnet4j.width_per_group"]),
                   base_width=int(meta.get("bagnet4j.base_width", "64")))
    elif family == "vgg":
        cfg.update(layers=[v if v == "M" else int(v) for v in meta["bagnet4j.layers"].split(",")],
                   batch_norm=meta["bagnet4j.batch_norm"] == "true", hidden=int(meta["bagnet4j.hidden"]))
    else:
        cfg.update(growth_rate=int(meta["bagnet4j.growth_rate"]), block_config=ints(meta["bagnet4j.block_config"]),
                   init_features=int(meta["bagnet4j.init_features"]), bn_size=int(meta["bagnet4j.bn_size"]))
    return cfg


def receptive_field(cfg):
    """A BagNet's q: 1x1 conv1, 3x3 conv2, then each block's kxk convolution at the stride reached so far."""
    q, jump = 3, 1
    for stride, blocks, k3 in zip(cfg["strides"], cfg["blocks"], cfg["kernel3"]):
        for b in range(blocks):
            q += (2 if b < k3 else 0) * jump
            jump *= stride if b == 0 else 1
    return q


def module(cfg):
    """An empty torch module for a config (BagNet, or torchvision's class via torchvision_families)."""
    if cfg["family"] == "bagnet":
        return BagNet(cfg)
    return families.build(cfg).to_empty(device="cpu")


def load(path):
    state, meta = read_safetensors(path)
    cfg = config(meta)
    model = module(cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not name.endswith("num_batches_tracked") for name in missing):
        raise SystemExit("%s: tensors do not match its architecture (%s)" % (path, missing + unexpected))
    return model.double().eval(), cfg, meta


# ---------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def preprocess(images, meta):
    """Preprocessing.java on a grayscale image: Resize and CenterCrop to its own 28x28 change nothing; Pad with
    black; then (v / 255f - mean) / std in float32, rounded as Java rounds it."""
    if meta["bagnet4j.in_channels"] != "1" or images.shape[1:] != (int(meta["bagnet4j.crop"]),) * 2 \
            or meta["bagnet4j.resize"] != meta["bagnet4j.crop"]:
        raise SystemExit("this reference knows grayscale models reading the images at their own size only")
    pad = int(meta["bagnet4j.pad"])
    v = np.pad(images, ((0, 0), (pad, pad), (pad, pad))).astype(np.float32)
    x = (v / np.float32(255) - np.float32(meta["bagnet4j.mean"])) / np.float32(meta["bagnet4j.std"])
    return torch.from_numpy(x).unsqueeze(1).double()


# ---------------------------------------------------------------- measurements

def scores(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def occluded(x, squares, side):
    """x [1, H, W] with a side x side square of zeros at each (top, left)."""
    v = x.clone()
    for top, left in squares:
        v[:, top:top + side, left:left + side] = 0
    return v


def shuffle_grids(h, w):
    grids, n = [], 1
    while h // n >= 2 and w // n >= 2:
        grids.append(n)
        n *= 2
    return grids


def shuffled(x, n, perm):
    h, w = x.shape[1:]
    th, tw = h // n, w // n
    y0, x0 = (h - n * th) // 2, (w - n * tw) // 2
    v = x.clone()
    for k, src in enumerate(perm):
        sy, sx = y0 + src // n * th, x0 + src % n * tw
        dy, dx = y0 + k // n * th, x0 + k % n * tw
        v[:, dy:dy + th, dx:dx + tw] = x[:, sy:sy + th, sx:sx + tw]
    return v


def fits_on_row(h, w, side, gap):
    return 2 * side + gap <= w and side <= h


def draw_pair(seed, h, w, side, gap, image):
    """(ya, xa, yb, xb), as Interactions.draw."""
    r = SeededRandom.of(seed, INTERACTION_STREAM + side * 1000 + gap, image)
    span = 2 * side + gap
    row, column = fits_on_row(h, w, side, gap), fits_on_row(w, h, side, gap)
    on_row = r.next_int(2) == 0 if row and column else row
    ya = r.next_int((h - side if on_row else h - span) + 1)
    xa = r.next_int((w - span if on_row else w - side) + 1)
    return (ya, xa, ya, xa + side + gap) if on_row else (ya, xa, ya + side + gap, xa)


def patch_grid(h, w, side):
    """Top-left corners of the sensitivity squares, row-major, centred as Sensitivity.Grid."""
    rows, columns = h // side, w // side
    y0, x0 = (h - rows * side) // 2, (w - columns * side) // 2
    return [(y0 + r * side, x0 + c * side) for r in range(rows) for c in range(columns)]


def heatmap_per_patch(bagnet, q, x, label):
    """The reference method: every q x q patch of the zero-padded input by itself; [H, W] label logits."""
    half = (q - 1) // 2
    h, w = x.shape[1:]
    patches = F.pad(x, (half, half, half, half)).unfold(1, q, 1).unfold(2, q, 1)  # [1, H, W, q, q]
    return scores(bagnet, patches.reshape(h * w, 1, q, q))[:, label].reshape(h, w)


def heatmaps(bagnet, cfg, x, labels):
    """What heatmap_per_patch gives, [N, H, W], at a tenth of its cost here. A BagNet's grid cell sees one q x q
    window, and cells lie as many pixels apart as the strides multiply to: a stage of stride s run on its input
    shifted by 0..s-1 cells down and right gives the cells in between, so the grids of all shifts hold the window
    at every offset of the padded input, and the window at offset (y, x) is the patch centred on pixel (y, x)."""
    n, _, h, w = x.shape
    half = (receptive_field(cfg) - 1) // 2
    stride = int(np.prod(cfg["strides"]))
    # More padding than the last window needs at the bottom and right: each strided stage drops what it cannot
    # fill, and every shift's grid must still reach the last pixel (copy_ below fails if one does not).
    extra = half + stride
    padded = F.pad(x, (half, extra, half, extra))
    with torch.no_grad():
        # offset of its first cell -> grid; the stem keeps cells 1 pixel apart
        grids = {(0, 0): torch.relu(bagnet.bn1(bagnet.conv2(bagnet.conv1(padded))))}
        jump = 1
        for s in range(bagnet.stages):
            stage, step = getattr(bagnet, "layer%d" % (s + 1)), cfg["strides"][s]
            grids = {(oy + dy * jump, ox + dx * jump): stage(g[:, :, dy:, dx:])
                     for (oy, ox), g in grids.items() for dy in range(step) for dx in range(step)}
            jump *= step
        out = torch.zeros(n, h, w, dtype=x.dtype)
        rows = torch.arange(n)
        for (oy, ox), g in grids.items():
            logits = bagnet.fc(g.permute(0, 2, 3, 1))[rows, :, :, torch.as_tensor(labels)]
            part = out[:, oy::stride, ox::stride]
            part.copy_(logits[:, :part.shape[1], :part.shape[2]])
    return out


def independent_overlap(ea, eb):
    """The Jaccard overlap of two models' mistakes if they erred independently at these rates."""
    return float(ea * eb / (ea + eb - ea * eb)) if ea + eb else math.nan


def class_activation_maps(model, cfg, x):
    """The classifier at every cell of the last feature map (a ResNet's layer4, a DenseNet's features after their
    ReLU), [N, fh, fw, classes]."""
    def maps(batch):
        if cfg["family"] == "resnet":
            for part in (model.conv1, model.bn1, model.relu, model.maxpool, model.layer1, model.layer2, model.layer3,
                         model.layer4):
                batch = part(batch)
            return model.fc(batch.permute(0, 2, 3, 1))
        return model.classifier(torch.relu(model.features(batch)).permute(0, 2, 3, 1))
    with torch.no_grad():
        return torch.cat([maps(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def order(importance):
    """Most important first; the stable sort keeps ties in index order."""
    return np.argsort(-importance, kind="stable").tolist()


def pearson(x, y):
    """Over the indices where both are numbers; NaN where either is constant."""
    keep = ~(np.isnan(x) | np.isnan(y))
    a, b = x[keep] - x[keep].mean(), y[keep] - y[keep].mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def closest_decision(logits):
    """The smallest gap between the two largest logits of any row, relative to the row's largest magnitude."""
    logits = logits.reshape(-1, logits.shape[-1])
    top = np.sort(logits, axis=1)[:, -2:]
    return float(((top[:, 1] - top[:, 0]) / np.abs(logits).max(1)).min())


def closest_ranking(importance, k):
    """The smallest gap between neighbours among each row's k + 1 most important squares, relative to the row's
    largest magnitude; exact ties (squares in one CAM cell) are left out: both sides break them by index."""
    ranked = -np.sort(-importance, axis=1)[:, :k + 1]
    gaps = (ranked[:, :-1] - ranked[:, 1:]) / np.abs(importance).max(1, keepdims=True)
    return float(gaps[gaps > 0].min()) if (gaps > 0).any() else float("nan")


class Run:
    """One comparison: the models (targets first), the inputs [N, 1, H, W], labels and settings."""

    def __init__(self, models, targets, x, labels, settings):
        self.models, self.targets, self.x, self.labels, self.s = models, targets, x, labels, settings
        self.n, self.h, self.w = len(x), x.shape[2], x.shape[3]
        self.clean = {m: scores(models[m]["model"], x).numpy() for m in models}
        self.top = {m: c.argmax(1) for m, c in self.clean.items()}
        self.draws = {}
        self.closest = {"top1_margin": min(closest_decision(c) for c in self.clean.values()),
                        "ranking_gap": float("inf")}

    def label_logits(self, logits):
        """logits [N, ..., classes] -> the label's logit, [N, ...]."""
        return np.take_along_axis(logits, self.labels.reshape((-1,) + (1,) * (logits.ndim - 1)), -1)[..., 0]

    def variant_scores(self, model, variants):
        logits = scores(self.models[model]["model"], torch.stack(variants)).numpy()
        return logits.reshape(self.n, -1, logits.shape[-1])

    def errors(self):
        labels, classes = self.labels, next(iter(self.clean.values())).shape[1]
        images = np.bincount(labels, minlength=classes)
        wrong = {m: self.top[m] != labels for m in self.models}
        rates = {m: np.where(images > 0, np.bincount(labels[wrong[m]], minlength=classes) / np.maximum(images, 1),
                             np.nan) for m in self.models}
        report = {"models": {m: {"accuracy": float((~wrong[m]).mean()), "class_error_rate": rates[m].tolist()}
                             for m in self.models}, "pairs": []}
        names = list(self.models)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                either = (wrong[a] | wrong[b]).sum()
                report["pairs"].append({
                    "a": a, "b": b, "class_error_correlation": pearson(rates[a], rates[b]),
                    "top1_agreement": float((self.top[a] == self.top[b]).mean()),
                    "error_jaccard": float((wrong[a] & wrong[b]).sum() / either) if either else math.nan,
                    "error_jaccard_if_independent": independent_overlap(wrong[a].mean(), wrong[b].mean()),
                    "logit_correlation": pearson(self.clean[a].ravel(), self.clean[b].ravel())})
        return report

    def shuffling(self):
        grids, seeds = shuffle_grids(self.h, self.w), range(self.s.seed, self.s.seed + self.s.shuffle_seeds)
        perms = [[SeededRandom.of(seed, SHUFFLE_STREAM + g, i).permutation(g * g) for g in grids for seed in seeds]
                 for i in range(self.n)]
        self.draws["shuffling"] = [{"image": i, "grid": g, "seed": seed, "permutation": perms[i][j]}
                                   for i in range(DRAWN_IMAGES)
                                   for j, (g, seed) in enumerate((g, seed) for g in grids for seed in seeds)]
        variants = [shuffled(self.x[i], g, perms[i][j]) for i in range(self.n)
                    for j, g in enumerate(g for g in grids for _ in seeds)]
        report = {}
        for m in self.models:
            logits = self.variant_scores(m, variants)
            self.closest["top1_margin"] = min(self.closest["top1_margin"], closest_decision(logits))
            tops = logits.argmax(2).reshape(self.n, len(grids), len(seeds))
            report[m] = {"grids": grids,
                         "accuracy": (tops == self.labels[:, None, None]).mean((0, 2)).tolist(),
                         "agreement": (tops == self.top[m][:, None, None]).mean((0, 2)).tolist()}
        return report

    def interactions(self):
        s, h, w = self.s, self.h, self.w
        cells = [(p, d) for p in s.sides for d in s.gaps if fits_on_row(h, w, p, d) or fits_on_row(w, h, p, d)]
        pairs = [[draw_pair(s.seed, h, w, p, d, i) for p, d in cells] for i in range(self.n)]
        self.draws["interactions"] = [{"image": i, "side": p, "gap": d, "pair": list(pairs[i][c])}
                                      for i in range(DRAWN_IMAGES) for c, (p, d) in enumerate(cells)]
        # A alone, B alone, both, for each pair of each image.
        variants = [occluded(self.x[i], squares, p) for i in range(self.n) for c, (p, d) in enumerate(cells)
                    for squares in ([pairs[i][c][:2]], [pairs[i][c][2:]], [pairs[i][c][:2], pairs[i][c][2:]])]
        report = {}
        for m in self.models:
            effects = self.label_logits(self.variant_scores(m, variants)).reshape(self.n, len(cells), 3) \
                - self.label_logits(self.clean[m])[:, None, None]
            interaction = effects[:, :, 2] - effects[:, :, 0] - effects[:, :, 1]
            single = np.abs(effects[:, :, 0]) + np.abs(effects[:, :, 1])
            relative = np.full((len(s.sides), len(s.gaps)), np.nan)
            mean = relative.copy()
            count = np.zeros(relative.shape, dtype=int)
            for c, (p, d) in enumerate(cells):
                at = s.sides.index(p), s.gaps.index(d)
                relative[at] = np.abs(interaction[:, c]).sum() / single[:, c].sum()
                mean[at] = interaction[:, c].mean()
                count[at] = self.n
            report[m] = {"sides": s.sides, "gaps": s.gaps, "relative": relative.tolist(),
                         "mean_interaction": mean.tolist(), "pairs": count.tolist()}
        return report

    def sensitivity(self):
        s, x = self.s, self.x
        squares = patch_grid(self.h, self.w, s.patch)
        bagnets = [m for m in self.models if m not in self.targets]

        def summed(maps):
            return np.stack([maps[:, t:t + s.patch, l:l + s.patch].sum((1, 2)) for t, l in squares], axis=1)
        heat = {}
        for b in bagnets:
            model, cfg = self.models[b]["model"], self.models[b]["cfg"]
            maps = torch.cat([heatmaps(model, cfg, x[i:i + BATCH], self.labels[i:i + BATCH])
                              for i in range(0, self.n, BATCH)])
            check = heatmap_per_patch(model, receptive_field(cfg), x[0], self.labels[0])
            if not torch.allclose(maps[0], check, rtol=0, atol=1e-9 * check.abs().max().item()):
                raise AssertionError("%s: the shifted grids differ from the reference method by %g"
                                     % (b, (maps[0] - check).abs().max()))
            heat["bagnet " + b] = summed(maps.numpy())
        randoms = [SeededRandom.of(s.seed, RANDOM_STREAM, i).permutation(len(squares)) for i in range(self.n)]
        self.draws["random"] = [{"image": i, "order": randoms[i]} for i in range(DRAWN_IMAGES)]
        report = {}
        for t in self.targets:
            model, cfg = self.models[t]["model"], self.models[t]["cfg"]
            occlusions = self.variant_scores(t, [occluded(x[i], [sq], s.patch) for i in range(self.n)
                                                 for sq in squares])
            importance = dict(heat)
            importance["occlusion"] = self.label_logits(self.clean[t])[:, None] - self.label_logits(occlusions)
            if cfg["family"] in ("resnet", "densenet"):  # those ending in global average pooling
                cam = torch.from_numpy(self.label_logits(class_activation_maps(model, cfg, x).numpy()))
                upsampled = F.interpolate(cam[:, None], size=(self.h, self.w), mode="bilinear", align_corners=False)
                importance["cam"] = summed(upsampled[:, 0].numpy())
            orders = {m: [order(row) for row in v] for m, v in importance.items()}
            orders["random"] = randoms
            for v in importance.values():
                self.closest["ranking_gap"] = min(self.closest["ranking_gap"], closest_ranking(v, s.k))
            variants = [occluded(x[i], [squares[p] for p in ranked[i][:k]], s.patch) for ranked in orders.values()
                        for i in range(self.n) for k in range(1, s.k + 1)]
            curves = scores(model, torch.stack(variants)).numpy().reshape(len(orders), self.n, s.k, -1)
            self.closest["top1_margin"] = min(self.closest["top1_margin"], closest_decision(curves))
            report[t] = {}
            for method, curve in zip(orders, curves):
                drop = self.label_logits(self.clean[t])[:, None] - self.label_logits(curve)
                mean_drop = [0.0] + drop.mean(0).tolist()
                areas = drop.mean(1)
                report[t][method] = {"mean_drop": mean_drop,
                                     "accuracy": [float((self.top[t] == self.labels).mean())]
                                     + (curve.argmax(2) == self.labels[:, None]).mean(0).tolist(),
                                     "area": float(np.mean(mean_drop[1:])),
                                     "area_error": float(areas.std(ddof=1) / math.sqrt(self.n))}
        return report


def finite(value):
    """NaN (and infinity) as null, as ComparisonReport writes NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--bagnet", action="append", required=True)
    parser.add_argument("--target", action="append", required=True)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shuffle-seeds", type=int, default=1)
    parser.add_argument("--sides", type=ints, default=[6])
    parser.add_argument("--gaps", type=ints, default=[0, 4, 12, 20])
    parser.add_argument("--patch", type=int, default=8)
    parser.add_argument("--k", type=int, default=4)
    s = parser.parse_args()
    began = time.monotonic()
    # Large tensors come and go; glibc would hand their pages back and fault them in again each time, which
    # costs more than the float64 arithmetic (M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1).
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 1 << 30)
    libc.mallopt(-1, 1 << 30)
    # One thread: layers this small gain little from a second, and lose much when its core is busy elsewhere.
    torch.set_num_threads(1)
    os.makedirs(s.out_dir, exist_ok=True)
    data = {"images": os.path.join(DATA, "t10k-images-idx3-ubyte.gz"),
            "labels": os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")}
    images = read_idx(data["images"])[:s.limit]
    labels = read_idx(data["labels"])[:s.limit].astype(np.int64)
    bagnet_meta = read_safetensors(s.bagnet[0])[1]
    x = preprocess(images, bagnet_meta)
    target_files = s.target
    files = {os.path.basename(f).removesuffix(".safetensors"): f for f in target_files + s.bagnet}
    models = {}
    for name, path in files.items():
        model, cfg, meta = load(path)
        if not torch.equal(preprocess(images, meta), x):
            raise SystemExit("%s prepares the images differently from %s" % (path, s.bagnet[0]))
        models[name] = {"model": model, "cfg": cfg}
    targets = [os.path.basename(f).removesuffix(".safetensors") for f in target_files]
    seconds, sections = {}, {}
    start = time.monotonic()
    run = Run(models, targets, x, labels, s)
    for name in ("errors", "shuffling", "interactions", "sensitivity"):
        sections[name] = getattr(run, name)()
        seconds[name] = time.monotonic() - start
        start = time.monotonic()
    out = {"models": list(files), "targets": targets, "input": {"height": run.h, "width": run.w},
           "settings": {"seed": s.seed, "shuffle_seeds": s.shuffle_seeds, "sides": s.sides, "gaps": s.gaps,
                        "patch": s.patch, "k": s.k,
                        "occlusion_value": "0 after normalization (the dataset mean)"},
           "images": run.n, "skipped": 0, "skipped_reasons": [], "resumed_at": 0, "seconds": seconds, **sections,
           "files": files, "data": data, "draws": run.draws, "closest": run.closest}
    with open(os.path.join(s.out_dir, "report.json"), "w") as f:
        json.dump(finite(out), f, indent=1)
    print("compare_reference.py: %d images, %d models, %.1f s (%s); closest calls: %s" % (
        run.n, len(files), time.monotonic() - began, ", ".join("%s %.1f s" % kv for kv in seconds.items()),
        run.closest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
