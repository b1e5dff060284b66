package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.ResNetConfig;

/**
 * torchvision's ResNet as its convolutions, in state_dict order: the one description from which the file's names
 * and shapes are checked and the network is built.
 *
 * @param stem conv1 7x7 stride 2 with bn1 (then ReLU and a 3x3 stride-2 max pool)
 * @param blocks every residual block, stage after stage
 * @param classifier fc, after global average pooling
 */
public record ResNetLayout(ConvSpec stem, List<Block> blocks, ConvSpec classifier) {
    /** The stem's max pool: 3x3, stride 2, padding 1. */
    public static final int POOL_KERNEL = 3;
    public static final int POOL_STRIDE = 2;
    public static final int POOL_PADDING = 1;

    /**
     * A residual block: relu(path(x) + shortcut(x)), ReLU between the path's convolutions.
     *
     * @param path conv1, conv2 (basic: two 3x3) or conv1, conv2, conv3 (bottleneck: 1x1, 3x3, 1x1); the stride sits
     *     on the first 3x3
     * @param downsample a strided 1x1 convolution when the shortcut changes shape, else null (the identity)
     */
    public record Block(List<ConvSpec> path, ConvSpec downsample) {
        public boolean bottleneck() {
            return path.size() == 3;
        }
    }

    public static ResNetLayout of(ResNetConfig c) {
        ConvSpec stem = ConvSpec.normed("conv1", "bn1", c.inChannels(), c.baseWidth(), 7, 2, 3);
        List<Block> blocks = new ArrayList<>();
        int in = c.baseWidth();
        for (int s = 0; s < ResNetConfig.STAGES; s++) {
            int out = c.outChannels(s);
            int width = c.width(s);
            for (int b = 0; b < c.blocks().get(s); b++) {
                String p = "layer" + (s + 1) + "." + b + ".";
                int stride = s > 0 && b == 0 ? 2 : 1;
                List<ConvSpec> path = c.bottleneck()
                        ? List.of(conv(p, 1, in, width, 1, 1), conv(p, 2, width, width, 3, stride),
                                conv(p, 3, width, out, 1, 1))
                        : List.of(conv(p, 1, in, out, 3, stride), conv(p, 2, out, out, 3, 1));
                ConvSpec downsample = stride != 1 || in != out
                        ? ConvSpec.normed(p + "downsample.0", p + "downsample.1", in, out, 1, stride, 0) : null;
                blocks.add(new Block(path, downsample));
                in = out;
            }
        }
        return new ResNetLayout(stem, List.copyOf(blocks), ConvSpec.linear("fc", in, c.numClasses()));
    }

    private static ConvSpec conv(String prefix, int index, int in, int out, int kernel, int stride) {
        return ConvSpec.normed(prefix + "conv" + index, prefix + "bn" + index, in, out, kernel, stride, kernel / 2);
    }

    public Map<String, int[]> tensorShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        stem.addShapes(shapes);
        for (Block b : blocks) {
            b.path().forEach(conv -> conv.addShapes(shapes));
            if (b.downsample() != null) {
                b.downsample().addShapes(shapes);
            }
        }
        classifier.addShapes(shapes);
        return shapes;
    }
}
