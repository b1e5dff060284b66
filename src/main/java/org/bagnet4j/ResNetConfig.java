package org.bagnet4j;

import java.util.List;
import java.util.Map;

import org.bagnet4j.model.ResNetLayout;

/**
 * torchvision's ResNet ("v1.5": a bottleneck's stride sits on its 3x3 convolution): a 7x7 stride-2 stem with
 * batchnorm, ReLU and a 3x3 stride-2 max pool; four stages of baseWidth x 1, 2, 4, 8 planes (64, 128, 256, 512 in
 * torchvision's models) with strides 1, 2, 2, 2, made of basic blocks (two 3x3 convolutions, output = planes) or
 * bottlenecks (1x1, 3x3, 1x1, output = 4 x planes, inner width = planes x widthPerGroup / 64); global average
 * pooling; a fully connected classifier.
 *
 * @param name a preset name or "custom"
 * @param bottleneck bottleneck blocks (resnet50 and deeper) rather than basic blocks (resnet18, resnet34)
 * @param blocks blocks per stage, four entries
 * @param widthPerGroup 64, or 128 for the wide ResNets
 * @param baseWidth the stem's channels and the first stage's planes: 64 in every preset, less in narrow ResNets
 *     such as the Fashion-MNIST one (not torchvision's internal {@code base_width}, which is widthPerGroup)
 */
public record ResNetConfig(String name, int inChannels, boolean bottleneck, List<Integer> blocks, int widthPerGroup,
        int baseWidth, int numClasses) implements Architecture {
    /** The family's name in model metadata. */
    public static final String FAMILY = "resnet";
    /** torchvision's ImageNet models. */
    public static final List<String> PRESETS = List.of("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
            "wide_resnet50_2", "wide_resnet101_2");
    /** torchvision's base width, and that of files written before the field existed. */
    public static final int DEFAULT_BASE_WIDTH = 64;
    public static final int STAGES = 4;
    private static final int MAX_CHANNELS = 1 << 16;
    private static final int MAX_CLASSES = 1 << 20;
    private static final int MAX_BLOCKS = 1024;
    /** The last stage's planes, 8 x baseWidth, stay within MAX_CHANNELS. */
    private static final int MAX_BASE_WIDTH = MAX_CHANNELS >> (STAGES - 1);

    public ResNetConfig {
        blocks = List.copyOf(blocks);
        if (blocks.size() != STAGES) {
            throw new BagNetException("config " + name + ": a ResNet has " + STAGES + " stages, got " + blocks.size());
        }
        MetadataFields.checkRange(name, "in_channels", inChannels, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "num_classes", numClasses, 1, MAX_CLASSES);
        MetadataFields.checkRange(name, "width_per_group", widthPerGroup, 1, 1024);
        MetadataFields.checkRange(name, "base_width", baseWidth, 1, MAX_BASE_WIDTH);
        for (int s = 0; s < STAGES; s++) {
            MetadataFields.checkRange(name, "blocks[" + s + "]", blocks.get(s), 1, MAX_BLOCKS);
        }
        MetadataFields.checkRange(name, "blocks in all", blocks.stream().mapToInt(Integer::intValue).sum(), 1,
                MAX_BLOCKS);
    }

    /** The preset of that name: see {@link #PRESETS}. */
    public static ResNetConfig preset(String name) {
        return switch (name) {
            case "resnet18" -> imagenet(name, false, List.of(2, 2, 2, 2), 64);
            case "resnet34" -> imagenet(name, false, List.of(3, 4, 6, 3), 64);
            case "resnet50" -> imagenet(name, true, List.of(3, 4, 6, 3), 64);
            case "resnet101" -> imagenet(name, true, List.of(3, 4, 23, 3), 64);
            case "resnet152" -> imagenet(name, true, List.of(3, 8, 36, 3), 64);
            case "wide_resnet50_2" -> imagenet(name, true, List.of(3, 4, 6, 3), 128);
            case "wide_resnet101_2" -> imagenet(name, true, List.of(3, 4, 23, 3), 128);
            default -> throw new BagNetException("unknown ResNet '" + name + "' (known: " + String.join(", ", PRESETS)
                    + ")");
        };
    }

    private static ResNetConfig imagenet(String name, boolean bottleneck, List<Integer> blocks, int widthPerGroup) {
        return new ResNetConfig(name, 3, bottleneck, blocks, widthPerGroup, DEFAULT_BASE_WIDTH, 1000);
    }

    @Override
    public String family() {
        return FAMILY;
    }

    /** Planes of stage s: baseWidth x 1, 2, 4, 8. */
    public int planes(int stage) {
        return baseWidth << stage;
    }

    /** Channels a block of stage s outputs. */
    public int outChannels(int stage) {
        return planes(stage) * (bottleneck ? 4 : 1);
    }

    /** Width of a bottleneck's 3x3 convolution in stage s. */
    public int width(int stage) {
        return (int) ((long) planes(stage) * widthPerGroup / 64);
    }

    /** Channels of the final feature map (the classifier's input). */
    public int featureChannels() {
        return outChannels(STAGES - 1);
    }

    @Override
    public Map<String, int[]> tensorShapes() {
        return ResNetLayout.of(this).tensorShapes();
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = MetadataFields.start(FAMILY, name, inChannels);
        m.put("bagnet4j.block", bottleneck ? "bottleneck" : "basic");
        m.put("bagnet4j.blocks", MetadataFields.join(blocks));
        m.put("bagnet4j.width_per_group", Integer.toString(widthPerGroup));
        m.put("bagnet4j.base_width", Integer.toString(baseWidth));
        m.put("bagnet4j.num_classes", Integer.toString(numClasses));
        return m;
    }

    /** Reads a config written by {@link #toMetadata} (or by weights-converter/convert.py). */
    public static ResNetConfig fromMetadata(Map<String, String> metadata) {
        String block = metadata.get("bagnet4j.block");
        if (!"basic".equals(block) && !"bottleneck".equals(block)) {
            throw new BagNetException("model metadata bagnet4j.block = '" + block + "' is not basic or bottleneck");
        }
        return new ResNetConfig(metadata.getOrDefault("bagnet4j.arch", "custom"),
                MetadataFields.intField(metadata, "bagnet4j.in_channels"), block.equals("bottleneck"),
                MetadataFields.listField(metadata, "bagnet4j.blocks"),
                MetadataFields.intField(metadata, "bagnet4j.width_per_group"),
                metadata.containsKey("bagnet4j.base_width") ? MetadataFields.intField(metadata, "bagnet4j.base_width")
                        : DEFAULT_BASE_WIDTH,
                MetadataFields.intField(metadata, "bagnet4j.num_classes"));
    }
}
