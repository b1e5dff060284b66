"""torchvision's ResNet, VGG and DenseNet for convert.py.

Tells a checkpoint's family from its tensor names, infers its configuration from names and shapes, describes
the tensors that configuration has with torchvision's own model classes (built on the meta device: nothing is
allocated, the configuration may come from a hostile file, so it is bounded first), and writes the metadata
bagnet4j reads. What a family's configuration holds:
- resnet: in_channels, block (basic|bottleneck), blocks (4 stages), width_per_group (64; 128 for the wide
  ResNets), base_width (stem channels = layer1's planes, doubling each stage: 64 in torchvision's models,
  which fix it; narrower ones are built from torchvision's classes), num_classes. Strides 1/2/2/2.
- vgg: in_channels, layers (torchvision's cfg list: channels of each 3x3 convolution, "M" for a 2x2 max pool;
  torchvision's VGGs end with a pool, which leaves no tensor, so one "M" is always appended), batch_norm,
  hidden (fc6/fc7 width), num_classes. fc6 reads the 7x7 adaptive average pool, flattened NCHW.
- densenet: in_channels, growth_rate, block_config, init_features, bn_size, num_classes. Published DenseNet
  files name the dense layers' parts norm.1, relu.1, conv.1, norm.2, relu.2, conv.2; rename_densenet_keys maps
  them to torchvision's current names as torchvision's own loader does.
Needs Debian's python3-torchvision only when a model of these families is described.
"""
import re

import torch
from torch import nn
from torch.overrides import TorchFunctionMode


class ConversionError(Exception):
    pass


# The Java loader's limits (ResNetConfig, VggConfig), the same as BagNetConfig's.
MAX_CHANNELS = 1 << 16
MAX_CLASSES = 1 << 20
MAX_BLOCKS = 1024  # ResNet blocks, or DenseNet dense layers, in all
MAX_WIDTH_PER_GROUP = 1024
MAX_BASE_WIDTH = 1 << 13  # layer4's planes, 8 x base_width, stay within MAX_CHANNELS
MAX_STAGES = 16  # DenseNet dense blocks
MAX_VGG_LAYERS = 1024  # entries of a VGG's layers list, pools included
MAX_ARRAY = (1 << 31) - 1 - 16  # elements of one tensor (a Java array)
INDEX = r"(0|[1-9][0-9]{0,8})"
POSITIVE = r"([1-9][0-9]{0,8})"

RESNETS = {  # name: (block, blocks, width_per_group), as torchvision.models.resnet builds them
    "resnet18": ("basic", [2, 2, 2, 2], 64),
    "resnet34": ("basic", [3, 4, 6, 3], 64),
    "resnet50": ("bottleneck", [3, 4, 6, 3], 64),
    "resnet101": ("bottleneck", [3, 4, 23, 3], 64),
    "resnet152": ("bottleneck", [3, 8, 36, 3], 64),
    "wide_resnet50_2": ("bottleneck", [3, 4, 6, 3], 128),
    "wide_resnet101_2": ("bottleneck", [3, 4, 23, 3], 128),
}
VGGS = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}  # torchvision.models.vgg.cfgs keys
DENSENETS = {  # name: (growth_rate, block_config, init_features), bn_size 4
    "densenet121": (32, [6, 12, 24, 16], 64),
    "densenet161": (48, [6, 12, 36, 24], 96),
    "densenet169": (32, [6, 12, 32, 32], 64),
    "densenet201": (32, [6, 12, 48, 32], 64),
}
ARCHS = {**{name: "resnet" for name in RESNETS},
         **{name + suffix: "vgg" for suffix in ("", "_bn") for name in VGGS},
         **{name: "densenet" for name in DENSENETS}}
FAMILY_NAMES = {"resnet": "ResNet", "vgg": "VGG", "densenet": "DenseNet"}
NOT_SUPPORTED = "not a BagNet, ResNet, VGG or DenseNet checkpoint"
# Other torchvision families, told by a name only they use; checked before the supported families.
LOOKALIKES = [
    ("a Vision Transformer (ViT)", re.compile(r"class_token|conv_proj\.weight|encoder\.layers\..*")),
    ("a MaxViT", re.compile(r".*\.(window|grid)_attention\..*")),
    ("a Swin Transformer", re.compile(r".*relative_position_bias_table")),
    ("a ConvNeXt", re.compile(r".*layer_scale")),
    ("a RegNet", re.compile(r"trunk_output\..*")),
    ("an EfficientNet", re.compile(r"features\.[0-9]+\.[0-9]+\.block\..*")),
    ("a MobileNet", re.compile(r"features\.[0-9]+\.(conv|block)\..*")),
    ("an MNASNet", re.compile(r"layers\.[0-9]+\..*")),
    ("a ShuffleNet", re.compile(r"stage[2-4]\..*")),
    ("an Inception v3", re.compile(r"Mixed_[5-7][a-e]\..*")),
    ("a GoogLeNet", re.compile(r"inception[345][a-e]\..*")),
    ("a SqueezeNet", re.compile(r"features\.[0-9]+\.squeeze\..*")),
    ("an AlexNet", re.compile(r"classifier\.[14]\.weight")),
]
# torchvision's densenet._load_state_dict pattern, as it is there.
OLD_DENSE_LAYER = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def family_of_arch(arch):
    return ARCHS.get(arch)


def describe(cfg):
    """The model's name in messages: its arch, or e.g. "custom ResNet"."""
    return cfg["arch"] if cfg["arch"] != "custom" else "custom " + FAMILY_NAMES[cfg["family"]]


def detect(state):
    """"bagnet", "resnet", "vgg" or "densenet" from the tensor names; otherwise a one-line refusal."""
    conv1 = state.get("conv1.weight")
    for family, pattern in LOOKALIKES:
        if any(pattern.fullmatch(name) for name in state):
            raise ConversionError("%s: it looks like %s, which bagnet4j does not run" % (NOT_SUPPORTED, family))
    if "conv2.weight" in state or (conv1 is not None and conv1.dim() == 4 and tuple(conv1.shape[2:]) == (1, 1)):
        return "bagnet"  # a BagNet's stem: a 1x1 conv1, then conv2
    if conv1 is not None:
        if conv1.dim() != 4:
            raise ConversionError("tensor 'conv1.weight' has shape %s, a ResNet or BagNet needs 4 dimensions"
                                  % list(conv1.shape))
        return "resnet"
    if "features.conv0.weight" in state:
        return "densenet"
    if "classifier.0.weight" in state and any(re.fullmatch(r"features\.%s\.weight" % INDEX, n) for n in state):
        return "vgg"
    raise ConversionError("%s (no tensor 'conv1.weight', 'features.conv0.weight' or 'features.0.weight' with "
                          "'classifier.0.weight')" % NOT_SUPPORTED)


def rename_densenet_keys(state):
    """torchvision's _load_state_dict renaming: denselayerJ.norm.1.weight -> denselayerJ.norm1.weight etc."""
    renamed = {}
    for name, tensor in state.items():
        match = OLD_DENSE_LAYER.match(name)
        new = match.group(1) + match.group(2) if match else name
        if new in renamed:
            raise ConversionError("tensor %r is in the checkpoint under its old and its new name" % new)
        renamed[new] = tensor
    return renamed


def named_config(arch):
    family = ARCHS[arch]
    if family == "resnet":
        block, blocks, width_per_group = RESNETS[arch]
        return dict(family=family, arch=arch, in_channels=3, block=block, blocks=list(blocks),
                    width_per_group=width_per_group, base_width=64, num_classes=1000)
    if family == "vgg":
        name, _, bn = arch.partition("_")
        return dict(family=family, arch=arch, in_channels=3, layers=list(models().vgg.cfgs[VGGS[name]]),
                    batch_norm=bn == "bn", hidden=4096, num_classes=1000)
    growth_rate, block_config, init_features = DENSENETS[arch]
    return dict(family=family, arch=arch, in_channels=3, growth_rate=growth_rate, block_config=list(block_config),
                init_features=init_features, bn_size=4, num_classes=1000)


def infer_config(family, state):
    cfg = {"resnet": infer_resnet, "vgg": infer_vgg, "densenet": infer_densenet}[family](state)
    check_limits(cfg)
    for name in (n for n, f in ARCHS.items() if f == family):
        if {k: v for k, v in named_config(name).items() if k != "arch"} == \
                {k: v for k, v in cfg.items() if k != "arch"}:
            cfg["arch"] = name
    return cfg


def shape_of(state, name, dims, family):
    if name not in state:
        raise ConversionError("missing tensor %r for a %s" % (name, FAMILY_NAMES[family]))
    shape = [int(d) for d in state[name].shape]
    if len(shape) != dims:
        raise ConversionError("tensor %r has shape %s, a %s needs %d dimensions"
                              % (name, shape, FAMILY_NAMES[family], dims))
    return shape


def numbered(state, pattern, what, first):
    """Counts per group from the names matching pattern (groups: outer, inner index), each index numbered from its
    first value (a pair) without gaps: e.g. layerS.B -> blocks per stage. what: the outer parts (plural), the
    inner parts of one outer (a format for its index)."""
    indices = {}
    for name in state:
        match = pattern.fullmatch(name)
        if match:
            indices.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    (outer_what, inner_what), (outer_first, inner_first) = what, first
    if not indices:
        return []
    if sorted(indices) != list(range(outer_first, outer_first + len(indices))) or len(indices) > MAX_STAGES:
        raise ConversionError("%s must be numbered %d..N without gaps, at most %d of them: got %d, the last numbered "
                              "%d" % (outer_what, outer_first, MAX_STAGES, len(indices), max(indices)))
    counts = []
    for s in range(outer_first, outer_first + len(indices)):
        if max(indices[s]) != inner_first + len(indices[s]) - 1:
            raise ConversionError("%s are not numbered %d..N without gaps: %d of them, the last numbered %d"
                                  % (inner_what % s, inner_first, len(indices[s]), max(indices[s])))
        counts.append(len(indices[s]))
    return counts


def infer_resnet(state):
    in_channels, base_width = shape_of(state, "conv1.weight", 4, "resnet")[1::-1]
    num_classes = shape_of(state, "fc.weight", 2, "resnet")[0]
    blocks = numbered(state, re.compile(r"layer%s\.%s\..+" % (POSITIVE, INDEX)),
                      ("stages layerN", "the blocks of layer%d"), (1, 0))
    if len(blocks) != 4:
        raise ConversionError("a ResNet has 4 stages layer1..layer4, the checkpoint has %d" % len(blocks))
    bottleneck = "layer1.0.conv3.weight" in state
    conv1 = shape_of(state, "layer1.0.conv1.weight", 4, "resnet")
    conv2 = shape_of(state, "layer1.0.conv2.weight", 4, "resnet")
    if conv2[1] != conv2[0]:
        groups = "%d" % (conv2[0] // conv2[1]) if conv2[1] and conv2[0] % conv2[1] == 0 else "?"
        raise ConversionError("a ResNeXt (grouped convolutions: layer1.0.conv2.weight has shape %s, groups = %s) is "
                              "not supported" % (conv2, groups))
    width_per_group = 64
    if bottleneck and base_width >= 1:  # layer1.0.conv1 has base_width * width_per_group / 64 output channels
        if conv1[0] * 64 % base_width:
            raise ConversionError("width_per_group = 64 x %d / %d (layer1.0.conv1's over conv1's output channels) is "
                                  "not a whole number" % (conv1[0], base_width))
        width_per_group = conv1[0] * 64 // base_width
    return dict(family="resnet", arch="custom", in_channels=in_channels,
                block="bottleneck" if bottleneck else "basic", blocks=blocks, width_per_group=width_per_group,
                base_width=base_width, num_classes=num_classes)


def infer_vgg(state):
    """The cfg list from where the convolutions sit in features: conv(, BN), ReLU, with one index per pool."""
    convs = {}
    for name, tensor in state.items():
        match = re.fullmatch(r"features\.%s\.weight" % INDEX, name)
        if match and tensor.dim() == 4:
            convs[int(match.group(1))] = [int(d) for d in tensor.shape]
    if not convs:
        raise ConversionError("a VGG needs convolutions: no 4-dimensional tensor features.N.weight")
    first = min(convs)
    batch_norm = "features.%d.running_var" % (first + 1) in state
    step = 3 if batch_norm else 2
    if max(convs) > 4 * MAX_VGG_LAYERS:
        raise ConversionError("features.%d is past a VGG of at most %d layers" % (max(convs), MAX_VGG_LAYERS))
    layers, position = [], 0
    for index in sorted(convs):
        if index < position:
            raise ConversionError("features.%d follows features.%d too closely for a VGG convolution%s and ReLU"
                                  % (index, position - step, " + batchnorm" if batch_norm else ""))
        layers += ["M"] * (index - position) + [convs[index][0]]
        position = index + step
    layers.append("M")
    return dict(family="vgg", arch="custom", in_channels=convs[first][1], layers=layers, batch_norm=batch_norm,
                hidden=shape_of(state, "classifier.0.weight", 2, "vgg")[0],
                num_classes=shape_of(state, "classifier.6.weight", 2, "vgg")[0])


def infer_densenet(state):
    conv0 = shape_of(state, "features.conv0.weight", 4, "densenet")
    num_classes = shape_of(state, "classifier.weight", 2, "densenet")[0]
    block_config = numbered(state, re.compile(r"features\.denseblock%s\.denselayer%s\..+" % (POSITIVE, POSITIVE)),
                            ("dense blocks features.denseblockN", "the dense layers of features.denseblock%d"), (1, 1))
    if not block_config:
        raise ConversionError("missing tensor 'features.denseblock1.denselayer1.conv1.weight' for a DenseNet")
    growth_rate = shape_of(state, "features.denseblock1.denselayer1.conv2.weight", 4, "densenet")[0]
    bottleneck = shape_of(state, "features.denseblock1.denselayer1.conv1.weight", 4, "densenet")[0]
    if growth_rate < 1 or bottleneck % growth_rate:
        raise ConversionError("features.denseblock1.denselayer1: conv1 has %d output channels, not a multiple of "
                              "the growth rate %d (conv2's)" % (bottleneck, growth_rate))
    return dict(family="densenet", arch="custom", in_channels=conv0[1], growth_rate=growth_rate,
                block_config=block_config, init_features=conv0[0], bn_size=bottleneck // growth_rate,
                num_classes=num_classes)


def check_limits(cfg):
    """Checked before a model of this config is even described: it may come from a hostile file."""
    limits = [("in_channels", cfg["in_channels"], MAX_CHANNELS), ("num_classes", cfg["num_classes"], MAX_CLASSES)]
    if cfg["family"] == "resnet":
        limits += [("width_per_group", cfg["width_per_group"], MAX_WIDTH_PER_GROUP),
                   ("base_width", cfg["base_width"], MAX_BASE_WIDTH),
                   ("blocks in all", sum(cfg["blocks"]), MAX_BLOCKS)]
        limits += [("blocks[%d]" % s, b, MAX_BLOCKS) for s, b in enumerate(cfg["blocks"])]
    elif cfg["family"] == "vgg":
        limits += [("layers", len(cfg["layers"]), MAX_VGG_LAYERS), ("hidden", cfg["hidden"], MAX_CHANNELS)]
        limits += [("layers[%d]" % i, v, MAX_CHANNELS) for i, v in enumerate(cfg["layers"]) if v != "M"]
        last = [v for v in cfg["layers"] if v != "M"][-1]
        limits += [("fc6's weights", 49 * last * cfg["hidden"], MAX_ARRAY)]
    else:
        limits += [("growth_rate", cfg["growth_rate"], MAX_CHANNELS), ("bn_size", cfg["bn_size"], MAX_CHANNELS),
                   ("bn_size * growth_rate", cfg["bn_size"] * cfg["growth_rate"], MAX_CHANNELS),
                   ("init_features", cfg["init_features"], MAX_CHANNELS),
                   ("dense layers in all", sum(cfg["block_config"]), MAX_BLOCKS)]
        channels = cfg["init_features"]
        for k, layers in enumerate(cfg["block_config"]):
            channels += layers * cfg["growth_rate"]
            limits.append(("channels after dense block %d" % (k + 1), channels, MAX_CHANNELS))
            if k != len(cfg["block_config"]) - 1:
                channels //= 2
                limits.append(("channels after transition %d" % (k + 1), channels, MAX_CHANNELS))
    for field, value, top in limits:
        if not 1 <= value <= top:
            raise ConversionError("%s = %d is outside [1, %d]" % (field, value, top))


def models():
    try:
        import torchvision.models
    except ImportError:
        raise ConversionError("ResNet, VGG and DenseNet checkpoints need torchvision (Debian's python3-torchvision)")
    return torchvision.models


class MetaDevice(TorchFunctionMode):
    """Puts the tensors that factory functions make without a device on the meta device (torch 1.13 has no
    `with torch.device("meta")`): torchvision's model classes take no device argument."""
    FACTORIES = {torch.empty, torch.zeros, torch.ones, torch.full, torch.tensor, torch.rand, torch.randn}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in self.FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def build(cfg):
    """torchvision's model for a config, on the meta device: see make."""
    with MetaDevice():
        return make(cfg)


def make(cfg, dropout=0.5):
    """torchvision's model for a config; classes are torchvision's, only the first convolution (for in_channels
    != 3), a narrow ResNet's stem, stages and fc (base_width != 64; torchvision's own _make_layer builds the
    stages) and VGG's classifier (other widths) are replaced by their like. dropout: VGG's, for training."""
    tv = models()
    if cfg["family"] == "resnet":
        block = tv.resnet.Bottleneck if cfg["block"] == "bottleneck" else tv.resnet.BasicBlock
        model = tv.resnet.ResNet(block, cfg["blocks"], num_classes=cfg["num_classes"],
                                 width_per_group=cfg["width_per_group"])
        width = cfg["base_width"]
        if cfg["in_channels"] != 3 or width != 64:
            model.conv1 = nn.Conv2d(cfg["in_channels"], width, kernel_size=7, stride=2, padding=3, bias=False)
        if width != 64:
            model.bn1 = nn.BatchNorm2d(width)
            model.inplanes = width
            for s, blocks in enumerate(cfg["blocks"]):
                setattr(model, "layer%d" % (s + 1), model._make_layer(block, width << s, blocks, stride=min(s, 1) + 1))
            model.fc = nn.Linear((width << 3) * block.expansion, cfg["num_classes"])
    elif cfg["family"] == "vgg":
        model = tv.vgg.VGG(tv.vgg.make_layers(cfg["layers"], batch_norm=cfg["batch_norm"]),
                           num_classes=cfg["num_classes"], init_weights=False, dropout=dropout)
        first = next(i for i, m in enumerate(model.features) if isinstance(m, nn.Conv2d))
        if cfg["in_channels"] != 3:
            model.features[first] = nn.Conv2d(cfg["in_channels"], model.features[first].out_channels,
                                              kernel_size=3, padding=1)
        last = [v for v in cfg["layers"] if v != "M"][-1]
        if last != 512 or cfg["hidden"] != 4096:
            model.classifier[0] = nn.Linear(last * 7 * 7, cfg["hidden"])
            model.classifier[3] = nn.Linear(cfg["hidden"], cfg["hidden"])
            model.classifier[6] = nn.Linear(cfg["hidden"], cfg["num_classes"])
    else:
        model = tv.densenet.DenseNet(cfg["growth_rate"], tuple(cfg["block_config"]), cfg["init_features"],
                                     bn_size=cfg["bn_size"], num_classes=cfg["num_classes"])
        if cfg["in_channels"] != 3:
            model.features.conv0 = nn.Conv2d(cfg["in_channels"], cfg["init_features"], kernel_size=7, stride=2,
                                             padding=3, bias=False)
    return model


def expected_shapes(cfg):
    """state_dict name -> shape for a config (without num_batches_tracked), in model order."""
    shapes = {}
    for name, tensor in build(cfg).state_dict().items():
        if not tensor.is_meta:
            raise AssertionError("%s was allocated: the meta device did not take" % name)
        if not name.endswith("num_batches_tracked"):
            shapes[name] = tuple(tensor.shape)
    return shapes


def metadata(cfg):
    def join(values):
        return ",".join(str(v) for v in values)
    meta = {"bagnet4j.family": cfg["family"], "bagnet4j.arch": cfg["arch"],
            "bagnet4j.in_channels": str(cfg["in_channels"])}
    if cfg["family"] == "resnet":
        meta.update({"bagnet4j.block": cfg["block"], "bagnet4j.blocks": join(cfg["blocks"]),
                     "bagnet4j.width_per_group": str(cfg["width_per_group"]),
                     "bagnet4j.base_width": str(cfg["base_width"])})
    elif cfg["family"] == "vgg":
        meta.update({"bagnet4j.layers": join(cfg["layers"]),
                     "bagnet4j.batch_norm": "true" if cfg["batch_norm"] else "false",
                     "bagnet4j.hidden": str(cfg["hidden"])})
    else:
        meta.update({"bagnet4j.growth_rate": str(cfg["growth_rate"]),
                     "bagnet4j.block_config": join(cfg["block_config"]),
                     "bagnet4j.init_features": str(cfg["init_features"]), "bagnet4j.bn_size": str(cfg["bn_size"])})
    meta["bagnet4j.num_classes"] = str(cfg["num_classes"])
    return meta
