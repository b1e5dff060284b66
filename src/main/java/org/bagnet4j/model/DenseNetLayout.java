package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.DenseNetConfig;

/**
 * torchvision's DenseNet as its layers, in state_dict order: the one description from which the file's names and
 * shapes are checked and the network is built. Batchnorms that follow a concatenation (norm1 of each dense layer,
 * each transition's, norm5) are named apart: they stay pre-activations. norm2 follows conv1 directly and is folded.
 *
 * @param stem features.conv0 7x7 stride 2 with norm0 (then ReLU and a 3x3 stride-2 max pool)
 * @param stages each dense block with the transition before it (none before the first)
 * @param finalNorm features.norm5, over {@code features} channels, then ReLU and global average pooling
 */
public record DenseNetLayout(ConvSpec stem, List<Stage> stages, String finalNorm, int features, ConvSpec classifier) {
    /** The stem's max pool, as ResNet's: 3x3, stride 2, padding 1. */
    public static final int POOL_KERNEL = 3;

    /** norm (pre-activation), 2x2 average pooling and conv, a 1x1 halving the channels. */
    public record Transition(String norm, ConvSpec conv) {
    }

    /**
     * norm1 (pre-activation) over the {@code in} channels so far, conv1 (1x1 to bnSize x growth, norm2 folded, ReLU),
     * conv2 (3x3 padding 1 to growth, no bias): its output is the block buffer's next slice.
     */
    public record DenseLayer(String norm1, int in, ConvSpec conv1, ConvSpec conv2) {
    }

    /**
     * A dense block, all of whose layers live in one buffer of {@code channels}: its input in the first
     * {@code inChannels}, then each layer's growth.
     *
     * @param entry the transition that makes the input from the previous block, or null after the stem's max pool
     */
    public record Stage(Transition entry, int inChannels, List<DenseLayer> layers, int channels) {
    }

    public static DenseNetLayout of(DenseNetConfig c) {
        ConvSpec stem = ConvSpec.normed("features.conv0", "features.norm0", c.inChannels(), c.initFeatures(), 7, 2, 3);
        int width = c.bnSize() * c.growthRate();
        List<Stage> stages = new ArrayList<>();
        int channels = c.initFeatures();
        for (int b = 0; b < c.blockConfig().size(); b++) {
            Transition entry = null;
            if (b > 0) {
                String t = "features.transition" + b + ".";
                entry = new Transition(t + "norm", ConvSpec.plain(t + "conv", channels, channels / 2, 1, 0));
                channels /= 2;
            }
            int in = channels;
            List<DenseLayer> layers = new ArrayList<>();
            for (int l = 1; l <= c.blockConfig().get(b); l++) {
                String p = "features.denseblock" + (b + 1) + ".denselayer" + l + ".";
                layers.add(new DenseLayer(p + "norm1", channels,
                        ConvSpec.normed(p + "conv1", p + "norm2", channels, width, 1, 1, 0),
                        ConvSpec.plain(p + "conv2", width, c.growthRate(), 3, 1)));
                channels += c.growthRate();
            }
            stages.add(new Stage(entry, in, List.copyOf(layers), channels));
        }
        return new DenseNetLayout(stem, List.copyOf(stages), "features.norm5", channels,
                ConvSpec.linear("classifier", channels, c.numClasses()));
    }

    public Map<String, int[]> tensorShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        stem.addShapes(shapes);
        for (Stage stage : stages) {
            if (stage.entry() != null) {
                ConvSpec.addNormShapes(shapes, stage.entry().norm(), stage.entry().conv().in());
                stage.entry().conv().addShapes(shapes);
            }
            for (DenseLayer layer : stage.layers()) {
                ConvSpec.addNormShapes(shapes, layer.norm1(), layer.in());
                layer.conv1().addShapes(shapes);
                layer.conv2().addShapes(shapes);
            }
        }
        ConvSpec.addNormShapes(shapes, finalNorm, features);
        classifier.addShapes(shapes);
        return shapes;
    }
}
