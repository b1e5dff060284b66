#!/usr/bin/python3
"""Make reference outputs of torchvision's ResNets, VGGs and DenseNets for bagnet4j's tests.

usage: /usr/bin/python3 weights-converter/make_cnn_reference.py OUT_DIR [ARCH ...]

For each ARCH (default: all of resnet18, resnet50, resnet152, wide_resnet50_2, vgg16, vgg16_bn, densenet121,
densenet169) builds torchvision's model (weights=None: nothing is downloaded) with seeded random weights and
non-trivial batchnorms, saves its state_dict as the checkpoint OUT_DIR/<arch>.pth and writes deterministic
inputs and PyTorch's outputs as float32 .npy (C order):
  <arch>_input_batch.npy   [2, 3, 224, 224]      <arch>_input_rect.npy   [1, 3, 200, 160]
  <arch>_scores_batch.npy  [2, 1000]             <arch>_scores_rect.npy  [1, 1000]
  ResNets and DenseNets also: <arch>_cam_batch.npy [2, h, w, 1000] and <arch>_cam_rect.npy: the class
  activation map, the classifier at every cell of the last feature map (a DenseNet's after norm5 and ReLU),
  whose mean over the cells is the scores.
  <arch>_info.json: {"parameters": PyTorch's parameter count, "family": resnet|vgg|densenet,
                     "macs_224": multiply-accumulates of the convolutions and linear layers at 224x224}
Outputs are computed in float64 (model.double()) from the float32 weights and inputs. Checkpoint flavours, for
the converter: resnet18 and densenet121 use the legacy serialization, the others zip; the DenseNets carry the
published files' old dense-layer names (norm.1, conv.1, norm.2, conv.2; no num_batches_tracked).
Batchnorm statistics are set from the model's own activations on the reference inputs (their centre
200x160), then spread (means shifted, variances scaled; random gamma and beta), each residual branch's last
batchnorm is damped, and the classifier is scaled to logits of standard deviation 3 on those inputs, so that
logits stay of order 1-10 through resnet152's 50 blocks and a DenseNet's concatenations.
"""
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torchvision.models as tvm

ARCHS = ["resnet18", "resnet50", "resnet152", "wide_resnet50_2", "vgg16", "vgg16_bn", "densenet121", "densenet169"]
LEGACY = {"resnet18", "densenet121"}
OLD_DENSE_NAMES = {"densenet121", "densenet169"}
NEW_DENSE_NAME = re.compile(r"(.*denselayer[0-9]+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)")


def family(arch):
    return "densenet" if arch.startswith("densenet") else "vgg" if arch.startswith("vgg") else "resnet"


def image_like(g, n, c, h, w):
    """Smooth blobs plus fine noise, different per image, so that images get different class scores."""
    coarse = torch.randn(n, c, 6, 6, generator=g) * 1.5
    smooth = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return smooth + 0.5 * torch.randn(n, c, h, w, generator=g)


def randomize(model, seed, inputs):
    """He-normal convolutions and hidden linear layers, small biases; batchnorms with random gamma and beta (damped
    at the end of each residual branch) and statistics from calibrate(); a classifier whose logits on the inputs
    have a standard deviation of 3."""
    g = torch.Generator().manual_seed(seed)
    basic = isinstance(getattr(model, "layer1", [None])[0], tvm.resnet.BasicBlock)
    # The residual branches' last batchnorms (not the shortcuts': a stage starts at full scale).
    last_bn = re.compile(r"layer\d+\.\d+\.%s" % ("bn2" if basic else "bn3"))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, torch.nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.in_features) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        batchnorms = [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for name, m in batchnorms:
            c = m.num_features
            damped = last_bn.fullmatch(name) is not None
            m.weight.copy_(torch.rand(c, generator=g) * (0.3 if damped else 1.0) + (0.1 if damped else 0.5))
            m.bias.copy_(torch.randn(c, generator=g) * 0.1)
            m.num_batches_tracked.fill_(1000)
        # Every input's centre 200x160, so that the statistics are those of all the images.
        calibrate(model.eval(), batchnorms, g, torch.cat([center(x, 200, 160) for x in inputs]))
        scale_classifier(model, inputs)
    return model


def calibrate(model, batchnorms, g, x):
    """Sets each batchnorm's running statistics near those of its input on x (in forward order, so that each sees
    the earlier ones set), then spreads them: mean +- 0.3 std, variance x 0.5-2. Deep random networks amplify
    differences between images (a DenseNet's logits can differ 3x between images calibrated on others), so x
    holds the reference inputs themselves."""
    def set_statistics(m, inputs):
        x = inputs[0]
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3))
        c = m.num_features
        m.running_mean.copy_(mean + 0.3 * var.sqrt() * torch.randn(c, generator=g))
        m.running_var.copy_((var + 1e-3) * (0.5 + 1.5 * torch.rand(c, generator=g)))
    hooks = [m.register_forward_pre_hook(set_statistics) for _, m in batchnorms]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()


def center(x, height, width):
    top, left = (x.shape[2] - height) // 2, (x.shape[3] - width) // 2
    return x[:, :, top:top + height, left:left + width]


def scale_classifier(model, inputs):
    """Scales the last linear layer's weight so that its output, bias aside, has a standard deviation of 3."""
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    outputs = []
    hook = last.register_forward_hook(lambda m, i, out: outputs.append((out - m.bias).flatten()))
    try:
        for x in inputs:
            model(x)
    finally:
        hook.remove()
    last.weight.mul_(3.0 / torch.cat(outputs).std())


def old_dense_names(state):
    """The published DenseNet files' names: denselayerJ.norm.1.weight for norm1.weight; no num_batches_tracked."""
    renamed = type(state)()
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        match = NEW_DENSE_NAME.fullmatch(name)
        renamed["%s.%s.%s" % match.groups() if match else name] = tensor
    return renamed


def keep_features(model, arch):
    """Hooks keeping the last feature map the classifier reads at every cell (ResNet: layer4's output; DenseNet:
    after norm5 and the ReLU torchvision's forward applies) in kept[0]; returns kept, the classifier, the hook."""
    kept = [None]
    if family(arch) == "densenet":
        hook = model.features.register_forward_hook(lambda m, i, out: kept.__setitem__(0, torch.relu(out)))
        return kept, model.classifier, hook
    hook = model.layer4.register_forward_hook(lambda m, i, out: kept.__setitem__(0, out.clone()))
    return kept, model.fc, hook


def count_macs(model):
    """Hooks adding each convolution's and linear layer's multiply-accumulates per image to counter[0]."""
    counter = [0]

    def conv(m, inputs, out):
        counter[0] += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, inputs, out):
        counter[0] += m.in_features * m.out_features * (out[0].numel() // m.out_features)
    hooks = [m.register_forward_hook(conv if isinstance(m, torch.nn.Conv2d) else linear)
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    return counter, hooks


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def make(arch, seed, out_dir):
    start = time.monotonic()
    g = torch.Generator().manual_seed(seed + 1)
    inputs = {"batch": image_like(g, 2, 3, 224, 224), "rect": image_like(g, 1, 3, 200, 160)}
    torch.manual_seed(seed)  # torchvision's own init, overwritten by randomize
    model = randomize(getattr(tvm, arch)(weights=None), seed, list(inputs.values()))
    state = model.state_dict()
    if arch in OLD_DENSE_NAMES:
        state = old_dense_names(state)
    torch.save(state, os.path.join(out_dir, arch + ".pth"), _use_new_zipfile_serialization=arch not in LEGACY)
    reference = model.double()
    counter, hooks = count_macs(reference)
    if family(arch) != "vgg":
        kept, fc, feature_hook = keep_features(reference, arch)
    macs = None
    for key, x in inputs.items():
        with torch.no_grad():
            counter[0] = 0
            scores = reference(x.double())
            if key == "batch":
                macs = counter[0]  # the hooks count the first image only
                for h in hooks:
                    h.remove()
            save_npy(os.path.join(out_dir, "%s_input_%s.npy" % (arch, key)), x.numpy())
            save_npy(os.path.join(out_dir, "%s_scores_%s.npy" % (arch, key)), scores.numpy())
            cam_shape = ""
            if family(arch) != "vgg":
                cam = fc(kept[0].permute(0, 2, 3, 1))
                gap = cam.mean(dim=(1, 2))
                if not torch.allclose(gap, scores, rtol=0, atol=1e-9 * max(1.0, scores.abs().max().item())):
                    raise AssertionError("%s: the CAM's mean is not the scores (%g)"
                                         % (arch, (gap - scores).abs().max()))
                save_npy(os.path.join(out_dir, "%s_cam_%s.npy" % (arch, key)), cam.numpy())
                cam_shape = ", cam %s" % (tuple(cam.shape[1:3]),)
        print("%s %s: input %s%s, logits in [%.2f, %.2f], std per image %s" % (arch, key, tuple(x.shape), cam_shape,
              scores.min(), scores.max(), ", ".join("%.2f" % s for s in scores.std(dim=1))))
    if family(arch) != "vgg":
        feature_hook.remove()
    parameters = sum(p.numel() for p in model.parameters())
    with open(os.path.join(out_dir, arch + "_info.json"), "w") as f:
        json.dump({"parameters": parameters, "family": family(arch), "macs_224": macs}, f)
    print("%s: %d parameters, %.3f G MACs at 224, %.1f s" % (arch, parameters, macs / 1e9, time.monotonic() - start))


def main():
    wanted = sys.argv[2:] or ARCHS
    if len(sys.argv) < 2 or any(a not in ARCHS for a in wanted):
        print(__doc__.strip().splitlines()[2] + "  (ARCH: %s)" % ", ".join(ARCHS), file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    for i, arch in enumerate(ARCHS):
        if arch in wanted:
            make(arch, 3000 + 10 * i, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
