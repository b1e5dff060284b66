package org.bagnet4j;

import java.util.List;
import java.util.Map;

import org.bagnet4j.model.DenseNetLayout;

/**
 * torchvision's DenseNet: a 7x7 stride-2 stem with batchnorm and ReLU and a 3x3 stride-2 max pool; dense blocks of
 * layers (batchnorm, ReLU, 1x1 convolution to bnSize x growthRate, batchnorm, ReLU, 3x3 convolution to growthRate)
 * whose outputs are concatenated to their block's input; between blocks a transition (batchnorm, ReLU, 1x1
 * convolution halving the channels, 2x2 average pool); a final batchnorm and ReLU, global average pooling and a
 * linear classifier.
 *
 * @param name a preset name or "custom"
 * @param blockConfig layers per dense block
 * @param initFeatures channels of the stem
 */
public record DenseNetConfig(String name, int inChannels, int growthRate, List<Integer> blockConfig,
        int initFeatures, int bnSize, int numClasses) implements Architecture {
    /** The family's name in model metadata. */
    public static final String FAMILY = "densenet";
    public static final List<String> PRESETS = List.of("densenet121", "densenet161", "densenet169", "densenet201");
    private static final int MAX_CHANNELS = 1 << 16;

    public DenseNetConfig {
        blockConfig = List.copyOf(blockConfig);
        MetadataFields.checkRange(name, "in_channels", inChannels, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "growth_rate", growthRate, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "init_features", initFeatures, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "bn_size", bnSize, 1, 64);
        MetadataFields.checkRange(name, "num_classes", numClasses, 1, 1 << 20);
        MetadataFields.checkRange(name, "blocks", blockConfig.size(), 1, 16);
        long channels = initFeatures;
        for (int b = 0; b < blockConfig.size(); b++) {
            MetadataFields.checkRange(name, "block_config[" + b + "]", blockConfig.get(b), 1, 1024);
            channels += (long) blockConfig.get(b) * growthRate;
            if (channels > MAX_CHANNELS || (long) bnSize * growthRate > MAX_CHANNELS) {
                throw new BagNetException("config " + name + ": dense block " + (b + 1) + " would have more than "
                        + MAX_CHANNELS + " channels");
            }
            channels /= b < blockConfig.size() - 1 ? 2 : 1;
        }
    }

    /** The preset of that name: see {@link #PRESETS}. */
    public static DenseNetConfig preset(String name) {
        return switch (name) {
            case "densenet121" -> new DenseNetConfig(name, 3, 32, List.of(6, 12, 24, 16), 64, 4, 1000);
            case "densenet161" -> new DenseNetConfig(name, 3, 48, List.of(6, 12, 36, 24), 96, 4, 1000);
            case "densenet169" -> new DenseNetConfig(name, 3, 32, List.of(6, 12, 32, 32), 64, 4, 1000);
            case "densenet201" -> new DenseNetConfig(name, 3, 32, List.of(6, 12, 48, 32), 64, 4, 1000);
            default -> throw new BagNetException("unknown DenseNet '" + name + "' (known: " + String.join(", ", PRESETS)
                    + ")");
        };
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public Map<String, int[]> tensorShapes() {
        return DenseNetLayout.of(this).tensorShapes();
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = MetadataFields.start(FAMILY, name, inChannels);
        m.put("bagnet4j.growth_rate", Integer.toString(growthRate));
        m.put("bagnet4j.block_config", MetadataFields.join(blockConfig));
        m.put("bagnet4j.init_features", Integer.toString(initFeatures));
        m.put("bagnet4j.bn_size", Integer.toString(bnSize));
        m.put("bagnet4j.num_classes", Integer.toString(numClasses));
        return m;
    }

    /** Reads a config written by {@link #toMetadata} (or by weights-converter/convert.py). */
    public static DenseNetConfig fromMetadata(Map<String, String> metadata) {
        return new DenseNetConfig(metadata.getOrDefault("bagnet4j.arch", "custom"),
                MetadataFields.intField(metadata, "bagnet4j.in_channels"),
                MetadataFields.intField(metadata, "bagnet4j.growth_rate"),
                MetadataFields.listField(metadata, "bagnet4j.block_config"),
                MetadataFields.intField(metadata, "bagnet4j.init_features"),
                MetadataFields.intField(metadata, "bagnet4j.bn_size"),
                MetadataFields.intField(metadata, "bagnet4j.num_classes"));
    }
}
