package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Pooling;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;

/**
 * The BagNet forward pass over NHWC tensors, built from PyTorch state_dict parameters with every batchnorm folded
 * and every weight packed once. Immutable: any number of threads may run it at once.
 */
public final class Network {
    private final BagNetConfig config;
    /** The stem's 1x1 and 3x3 convolutions (no nonlinearity between) composed into one 3x3, with bn1 folded. */
    private final PackedConv stem;
    private final List<Bottleneck> blocks;
    /** The same blocks for dense evaluation: no strides, later kernels dilated by the strides dropped before them. */
    private final List<Bottleneck> denseBlocks;
    private final PackedConv classifier;

    /**
     * @param parameters returns the values of a state_dict tensor, by name, in C order; shapes must already have
     *     been checked against {@link BagNetConfig#tensorShapes()}
     */
    public Network(BagNetConfig config, Function<String, float[]> parameters) {
        this.config = config;
        this.stem = stem(config, parameters);
        List<Bottleneck> list = new ArrayList<>();
        for (int s = 0; s < config.stages(); s++) {
            int width = config.widths().get(s);
            int out = BagNetConfig.EXPANSION * width;
            int in = config.stageInputChannels(s);
            for (int b = 0; b < config.blocks().get(s); b++) {
                String p = "layer" + (s + 1) + "." + b + ".";
                int stride = config.stride(s, b);
                list.add(new Bottleneck(
                        convBn(parameters, p + "conv1.weight", p + "bn1", width, in, 1, 1),
                        convBn(parameters, p + "conv2.weight", p + "bn2", width, width, config.kernelSize(s, b), stride),
                        convBn(parameters, p + "conv3.weight", p + "bn3", out, width, 1, 1),
                        b == 0 ? convBn(parameters, p + "downsample.0.weight", p + "downsample.1", out, in, 1, stride)
                                : null));
                in = out;
            }
        }
        this.blocks = List.copyOf(list);
        List<Bottleneck> dense = new ArrayList<>();
        int dilation = 1;
        for (Bottleneck b : blocks) {
            dense.add(new Bottleneck(b.reduce(), b.spatial().withStrideAndDilation(1, dilation), b.expand(),
                    b.downsample() == null ? null : b.downsample().withStrideAndDilation(1, 1)));
            dilation *= b.spatial().stride();
        }
        this.denseBlocks = List.copyOf(dense);
        this.classifier = PackedConv.pack(parameters.apply("fc.weight"), parameters.apply("fc.bias"),
                config.numClasses(), config.featureChannels(), 1, 1);
    }

    /**
     * conv2(conv1(x)) is linear, so W[o][i][ky][kx] = sum_m conv2[o][m][ky][kx] * conv1[m][i]: one 3x3 convolution
     * on the few input channels instead of a 1x1 to 64 channels and a 3x3 over 64 (about 11% of bagnet33's work).
     */
    private static PackedConv stem(BagNetConfig config, Function<String, float[]> parameters) {
        int in = config.inChannels();
        int mid = config.stemChannels();
        float[] pointwise = parameters.apply("conv1.weight"); // [mid][in]
        float[] spatial = parameters.apply("conv2.weight"); // [mid][mid][3][3]
        float[] composed = new float[mid * in * 9];
        for (int o = 0; o < mid; o++) {
            for (int i = 0; i < in; i++) {
                for (int t = 0; t < 9; t++) {
                    double sum = 0;
                    for (int m = 0; m < mid; m++) {
                        sum += (double) spatial[(o * mid + m) * 9 + t] * pointwise[m * in + i];
                    }
                    composed[(o * in + i) * 9 + t] = (float) sum;
                }
            }
        }
        BatchNorm.Folded f = BatchNorm.fold(composed, mid, parameters.apply("bn1.weight"),
                parameters.apply("bn1.bias"), parameters.apply("bn1.running_mean"), parameters.apply("bn1.running_var"));
        return PackedConv.pack(f.weight(), f.bias(), mid, in, 3, 1);
    }

    private static PackedConv convBn(Function<String, float[]> parameters, String conv, String bn, int out, int in,
            int kernel, int stride) {
        BatchNorm.Folded f = BatchNorm.fold(parameters.apply(conv), out, parameters.apply(bn + ".weight"),
                parameters.apply(bn + ".bias"), parameters.apply(bn + ".running_mean"),
                parameters.apply(bn + ".running_var"));
        return PackedConv.pack(f.weight(), f.bias(), out, in, kernel, stride);
    }

    public BagNetConfig config() {
        return config;
    }

    /** The last feature map, [N, gh, gw, featureChannels]: one feature vector per image patch. */
    public Tensor features(Tensor images, Workers workers) {
        return run(blocks, images, workers);
    }

    /**
     * Dense ("a trous") evaluation: the features of every q x q window at stride 1, [N, H - q + 1, W - q + 1,
     * featureChannels]. Cell (y, x) equals {@link #features} of the window at (y, x) alone, and each window is
     * computed once: the strides are dropped and the later kernels dilated instead.
     */
    public Tensor denseFeatures(Tensor images, Workers workers) {
        return run(denseBlocks, images, workers);
    }

    private Tensor run(List<Bottleneck> stack, Tensor images, Workers workers) {
        Tensor x = ConvKernel.apply(stem, images, null, true, workers);
        for (Bottleneck block : stack) {
            x = block.forward(x, workers);
        }
        return x;
    }

    /** Multiply-accumulates of one image's class scores at the given input size (as computed: stem composed). */
    public long macs(int height, int width) {
        long total = 0;
        int h = stem.outputSize(height);
        int w = stem.outputSize(width);
        total += (long) h * w * stem.macsPerPixel();
        for (Bottleneck b : blocks) {
            total += (long) h * w * b.reduce().macsPerPixel();
            int sh = b.spatial().outputSize(h);
            int sw = b.spatial().outputSize(w);
            total += (long) sh * sw * (b.spatial().macsPerPixel() + b.expand().macsPerPixel());
            if (b.downsample() != null) {
                total += (long) b.downsample().outputSize(h) * b.downsample().outputSize(w)
                        * b.downsample().macsPerPixel();
            }
            h = sh;
            w = sw;
        }
        return total + classifier.macsPerPixel();
    }

    /** The classifier restricted to some classes (a 1x1 convolution): evidence for just those classes. */
    public PackedConv classifierFor(int[] classes) {
        return classifier.selectOutputs(classes);
    }

    /** Image-level class scores, [N, 1, 1, classes]: the grid is pooled before the (linear) classifier. */
    public Tensor classScores(Tensor images, Workers workers) {
        return ConvKernel.apply(classifier, Pooling.meanOverGrid(features(images, workers)), null, false, workers);
    }

    /** The patch-logit grid, [N, gh, gw, classes]: the classifier applied at every grid cell. */
    public Tensor patchLogits(Tensor images, Workers workers) {
        return ConvKernel.apply(classifier, features(images, workers), null, false, workers);
    }
}
