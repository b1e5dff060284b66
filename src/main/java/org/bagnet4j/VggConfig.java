package org.bagnet4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bagnet4j.model.VggLayout;

/**
 * torchvision's VGG: 3x3 convolutions with padding 1 (each with a bias, and with a batchnorm in the _bn variants)
 * and ReLU, 2x2 stride-2 max pools between stages, an adaptive average pool to 7x7, then the classifier fc6 (7 x 7 x
 * last channels to {@code hidden}), ReLU, fc7 (hidden to hidden), ReLU, fc8 (to the classes); dropout is the
 * identity at inference.
 *
 * @param name a preset name or "custom"
 * @param layers the feature layers in order: output channels of a convolution, or {@link #POOL} for a max pool
 *     (torchvision's "M")
 * @param batchNorm whether each convolution is followed by a batchnorm
 * @param hidden the width of fc6 and fc7
 */
public record VggConfig(String name, int inChannels, List<Integer> layers, boolean batchNorm, int hidden,
        int numClasses) implements Architecture {
    /** The family's name in model metadata. */
    public static final String FAMILY = "vgg";
    /** A 2x2 stride-2 max pool among {@link #layers}. */
    public static final int POOL = 0;
    /** The side of the map the classifier reads (adaptive average pooling gives it at any input size). */
    public static final int POOLED_SIDE = 7;
    public static final List<String> PRESETS = List.of("vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn",
            "vgg16_bn", "vgg19_bn");
    private static final int MAX_CHANNELS = 1 << 16;
    private static final int MAX_LAYERS = 1024;

    public VggConfig {
        layers = List.copyOf(layers);
        MetadataFields.checkRange(name, "in_channels", inChannels, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "num_classes", numClasses, 1, 1 << 20);
        MetadataFields.checkRange(name, "hidden", hidden, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "layers", layers.size(), 1, MAX_LAYERS);
        for (int i = 0; i < layers.size(); i++) {
            MetadataFields.checkRange(name, "layers[" + i + "]", layers.get(i), POOL, MAX_CHANNELS);
        }
        if (layers.stream().filter(l -> l != POOL).count() == 0) {
            throw new BagNetException("config " + name + ": a VGG needs at least one convolution");
        }
        long fc6 = (long) POOLED_SIDE * POOLED_SIDE * lastChannels(inChannels, layers) * hidden;
        if (fc6 > Integer.MAX_VALUE - 16) {
            throw new BagNetException("config " + name + ": fc6 would have " + fc6 + " weights, more than an array holds");
        }
    }

    /** The preset of that name: see {@link #PRESETS}. */
    public static VggConfig preset(String name) {
        boolean bn = name.endsWith("_bn");
        List<Integer> convs = switch (bn ? name.substring(0, name.length() - 3) : name) {
            case "vgg11" -> List.of(1, 1, 2, 2, 2);
            case "vgg13" -> List.of(2, 2, 2, 2, 2);
            case "vgg16" -> List.of(2, 2, 3, 3, 3);
            case "vgg19" -> List.of(2, 2, 4, 4, 4);
            default -> throw new BagNetException("unknown VGG '" + name + "' (known: " + String.join(", ", PRESETS)
                    + ")");
        };
        List<Integer> layers = new ArrayList<>();
        for (int stage = 0; stage < convs.size(); stage++) {
            for (int i = 0; i < convs.get(stage); i++) {
                layers.add(Math.min(512, 64 << stage));
            }
            layers.add(POOL);
        }
        return new VggConfig(name, 3, layers, bn, 4096, 1000);
    }

    @Override
    public String family() {
        return FAMILY;
    }

    /** Channels of the last feature map. */
    public int featureChannels() {
        return lastChannels(inChannels, layers);
    }

    private static int lastChannels(int inChannels, List<Integer> layers) {
        int channels = inChannels;
        for (int l : layers) {
            channels = l == POOL ? channels : l;
        }
        return channels;
    }

    @Override
    public Map<String, int[]> tensorShapes() {
        return VggLayout.of(this).tensorShapes();
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = MetadataFields.start(FAMILY, name, inChannels);
        m.put("bagnet4j.layers", String.join(",", layers.stream().map(l -> l == POOL ? "M" : l.toString()).toList()));
        m.put("bagnet4j.batch_norm", Boolean.toString(batchNorm));
        m.put("bagnet4j.hidden", Integer.toString(hidden));
        m.put("bagnet4j.num_classes", Integer.toString(numClasses));
        return m;
    }

    /** Reads a config written by {@link #toMetadata} (or by weights-converter/convert.py). */
    public static VggConfig fromMetadata(Map<String, String> metadata) {
        String text = metadata.get("bagnet4j.layers");
        if (text == null) {
            throw new BagNetException("model metadata lacks bagnet4j.layers");
        }
        List<Integer> layers = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.trim();
            try {
                layers.add(p.equals("M") ? POOL : Integer.parseInt(p));
            } catch (NumberFormatException e) {
                throw new BagNetException("model metadata bagnet4j.layers = '" + text + "' is not a list of channel "
                        + "counts and M");
            }
            if (layers.getLast() < POOL || layers.size() > MAX_LAYERS) {
                throw new BagNetException("model metadata bagnet4j.layers = '" + text + "' is out of range");
            }
        }
        String batchNorm = metadata.get("bagnet4j.batch_norm");
        if (!"true".equals(batchNorm) && !"false".equals(batchNorm)) {
            throw new BagNetException("model metadata bagnet4j.batch_norm = '" + batchNorm + "' is not true or false");
        }
        return new VggConfig(metadata.getOrDefault("bagnet4j.arch", "custom"),
                MetadataFields.intField(metadata, "bagnet4j.in_channels"), layers, batchNorm.equals("true"),
                MetadataFields.intField(metadata, "bagnet4j.hidden"),
                MetadataFields.intField(metadata, "bagnet4j.num_classes"));
    }
}
