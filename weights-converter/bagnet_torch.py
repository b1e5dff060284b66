"""BagNet in PyTorch, written from the architecture description in bagnet4j's README.

Parameter names match the official checkpoints (conv1, conv2, bn1, layerS.B.{conv,bn}{1,2,3},
layerS.0.downsample.{0,1}, fc), so state_dicts load either way. Used to make reference outputs and
to infer/validate architectures; inference itself is bagnet4j's job.
"""
import torch
from torch import nn

EXPANSION = 4

PRESETS = {
    "bagnet9": dict(kernel3=[1, 1, 0, 0]),
    "bagnet17": dict(kernel3=[1, 1, 1, 0]),
    "bagnet33": dict(kernel3=[1, 1, 1, 1]),
}


def preset_config(name):
    """Full architecture config of an ImageNet preset."""
    return dict(arch=name, in_channels=3, stem_channels=64, widths=[64, 128, 256, 512],
                blocks=[3, 4, 6, 3], strides=[2, 2, 2, 1], num_classes=1000, **PRESETS[name])


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, kernel, stride, downsample, device=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False, device=device)
        self.bn1 = nn.BatchNorm2d(planes, device=device)
        self.conv2 = nn.Conv2d(planes, planes, kernel, stride=stride, padding=0, bias=False, device=device)
        self.bn2 = nn.BatchNorm2d(planes, device=device)
        self.conv3 = nn.Conv2d(planes, planes * EXPANSION, 1, bias=False, device=device)
        self.bn3 = nn.BatchNorm2d(planes * EXPANSION, device=device)
        self.downsample = downsample

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        # The valid kxk conv shrinks the main path: keep the shortcut's top-left part.
        shortcut = shortcut[:, :, :out.shape[2], :out.shape[3]]
        return torch.relu(out + shortcut)


class BagNet(nn.Module):
    def __init__(self, cfg, device=None):
        super().__init__()
        stem = cfg["stem_channels"]
        self.conv1 = nn.Conv2d(cfg["in_channels"], stem, 1, bias=False, device=device)
        self.conv2 = nn.Conv2d(stem, stem, 3, padding=0, bias=False, device=device)
        self.bn1 = nn.BatchNorm2d(stem, device=device)
        inplanes = stem
        for s, (width, blocks, stride, k3) in enumerate(
                zip(cfg["widths"], cfg["blocks"], cfg["strides"], cfg["kernel3"])):
            layers = []
            for b in range(blocks):
                downsample = None
                if b == 0:
                    downsample = nn.Sequential(
                        nn.Conv2d(inplanes, width * EXPANSION, 1, stride=stride, bias=False, device=device),
                        nn.BatchNorm2d(width * EXPANSION, device=device))
                layers.append(Bottleneck(inplanes, width, 3 if b < k3 else 1,
                                         stride if b == 0 else 1, downsample, device))
                inplanes = width * EXPANSION
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.stages = len(cfg["widths"])
        self.fc = nn.Linear(inplanes, cfg["num_classes"], device=device)

    def features(self, x):
        x = torch.relu(self.bn1(self.conv2(self.conv1(x))))
        for s in range(self.stages):
            x = getattr(self, "layer%d" % (s + 1))(x)
        return x

    def forward(self, x, grid=False):
        """Class scores [N, classes], or with grid=True the patch-logit grid [N, gh, gw, classes]."""
        f = self.features(x)
        if grid:
            return self.fc(f.permute(0, 2, 3, 1))
        return self.fc(f.mean(dim=(2, 3)))


def expected_shapes(cfg):
    """state_dict name -> shape for a config (without num_batches_tracked), in model order."""
    shapes = {}
    # On the meta device nothing is allocated: the config may come from an untrusted checkpoint.
    for name, tensor in BagNet(cfg, device="meta").state_dict().items():
        if not name.endswith("num_batches_tracked"):
            shapes[name] = tuple(tensor.shape)
    return shapes
