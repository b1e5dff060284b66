package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.GridMean;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

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
    /** See {@link #tileAlignment()}. */
    private final int tileAlignment;

    /**
     * @param values returns the values of a state_dict tensor, by name, in C order; shapes must already have
     *     been checked against {@link BagNetConfig#tensorShapes()}; values must be finite (checked here)
     */
    public Network(BagNetConfig config, Function<String, float[]> values) {
        Function<String, float[]> parameters = Parameters.finiteOnly(values);
        this.config = config;
        this.stem = stem(config, parameters);
        int[] margins = winogradMargins(config);
        List<Bottleneck> list = new ArrayList<>();
        for (int s = 0, index = 0; s < config.stages(); s++) {
            int width = config.widths().get(s);
            int out = BagNetConfig.EXPANSION * width;
            int in = config.stageInputChannels(s);
            for (int b = 0; b < config.blocks().get(s); b++, index++) {
                String p = "layer" + (s + 1) + "." + b + ".";
                int stride = config.stride(s, b);
                int kernel = config.kernelSize(s, b);
                BatchNorm.Folded spatial = fold(parameters, p + "conv2.weight", p + "bn2", width);
                // A strided 1x1 spatial convolution reads every stride-th pixel only, so the (pointwise) reduce
                // before it takes the stride and computes just those.
                int reduceStride = kernel == 1 ? stride : 1;
                list.add(new Bottleneck(
                        convBn(parameters, p + "conv1.weight", p + "bn1", width, in, 1, reduceStride),
                        PackedConv.pack(spatial.weight(), spatial.bias(), width, width, kernel, stride / reduceStride),
                        margins[index] >= 0 && Winograd.suits(kernel, stride, width, width)
                                ? Winograd.of(spatial.weight(), spatial.bias(), width, width) : null,
                        Math.max(margins[index], 0),
                        convBn(parameters, p + "conv3.weight", p + "bn3", out, width, 1, 1),
                        b == 0 ? convBn(parameters, p + "downsample.0.weight", p + "downsample.1", out, in, 1, stride)
                                : null));
                in = out;
            }
        }
        this.blocks = List.copyOf(list);
        this.tileAlignment = blocks.stream().anyMatch(b -> b.winograd() != null) ? Winograd.BLOCK : 1;
        // Dense passes run in bands of rows cut anywhere, so Winograd's blocks would fall differently from band to
        // band: direct convolutions only.
        List<Bottleneck> dense = new ArrayList<>();
        int dilation = 1;
        for (Bottleneck b : blocks) {
            dense.add(new Bottleneck(b.reduce().withStrideAndDilation(1, 1),
                    b.spatial().withStrideAndDilation(1, dilation), null, 0, b.expand(),
                    b.downsample() == null ? null : b.downsample().withStrideAndDilation(1, 1)));
            dilation *= b.stride();
        }
        this.denseBlocks = List.copyOf(dense);
        this.classifier = PackedConv.pack(parameters.apply("fc.weight"), parameters.apply("fc.bias"),
                config.numClasses(), config.featureChannels(), 1, 1);
    }

    /**
     * Per block (in order), how far its spatial convolution's input reaches past the image's last grid cell, where
     * Winograd may serve it: a tile's 4x4 output blocks must fall on the same cells as the whole image's, so no stride
     * may follow the block and the later 3x3 convolutions must shrink its output by a multiple of 4 (tiles then
     * start on multiples of 4 cells); -1 where that does not hold.
     */
    private static int[] winogradMargins(BagNetConfig config) {
        int count = config.blocks().stream().mapToInt(Integer::intValue).sum();
        int[] margins = new int[count];
        int shrinkAfter = 0;
        boolean strideAfter = false;
        int index = count;
        for (int s = config.stages() - 1; s >= 0; s--) {
            for (int b = config.blocks().get(s) - 1; b >= 0; b--) {
                int kernel = config.kernelSize(s, b);
                margins[--index] = !strideAfter && shrinkAfter % Winograd.BLOCK == 0 ? shrinkAfter + kernel - 1 : -1;
                shrinkAfter += kernel - 1;
                strideAfter |= config.stride(s, b) > 1;
            }
        }
        return margins;
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
        BatchNorm.Folded f = BatchNorm.fold("bn1", composed, mid, parameters.apply("bn1.weight"),
                parameters.apply("bn1.bias"), parameters.apply("bn1.running_mean"),
                parameters.apply("bn1.running_var"));
        return PackedConv.pack(f.weight(), f.bias(), mid, in, 3, 1);
    }

    private static PackedConv convBn(Function<String, float[]> parameters, String conv, String bn, int out, int in,
            int kernel, int stride) {
        BatchNorm.Folded f = fold(parameters, conv, bn, out);
        return PackedConv.pack(f.weight(), f.bias(), out, in, kernel, stride);
    }

    private static BatchNorm.Folded fold(Function<String, float[]> parameters, String conv, String bn, int out) {
        return BatchNorm.fold(bn, parameters.apply(conv), out, parameters.apply(bn + ".weight"),
                parameters.apply(bn + ".bias"), parameters.apply(bn + ".running_mean"),
                parameters.apply(bn + ".running_var"));
    }

    public BagNetConfig config() {
        return config;
    }

    /** Grid cells the side of a streamed tile must be a multiple of for tiles to give the whole image's bits. */
    public int tileAlignment() {
        return tileAlignment;
    }

    /**
     * The last feature map, [N, gh, gw, featureChannels] (one feature vector per image patch), in a tensor of
     * {@code workspace}'s that the caller gives back. Dense ("a trous") evaluation gives the features of every q x q
     * window at stride 1, [N, H - q + 1, W - q + 1, featureChannels]: cell (y, x) equals the features of the window
     * at (y, x) alone, and each window is computed once, the strides dropped and the later kernels dilated instead.
     *
     * @param cellRows the grid rows that lie in the image: all of them, unless {@code images} is a tile reaching past
     *     the image's bottom (cells past it are computed from the zeros there, and read as zeros by Winograd)
     * @param cellColumns the grid columns that lie in the image
     */
    private Tensor features(Tensor images, int cellRows, int cellColumns, boolean dense, Workers workers,
            Workspace workspace) {
        workspace.reset(List.of(dense, images.batch(), images.height(), images.width(), images.channels()));
        Tensor x = ConvKernel.apply(stem, images, null, true, workers, workspace);
        for (Bottleneck block : dense ? denseBlocks : blocks) {
            Tensor next = block.forward(x, cellRows, cellColumns, workers, workspace);
            if (next != x) {
                workspace.give(x);
            }
            x = next;
        }
        return x;
    }

    /** {@link #features} of whole images. */
    private Tensor features(Tensor images, boolean dense, Workers workers, Workspace workspace) {
        return features(images, config.gridSize(images.height()), config.gridSize(images.width()), dense, workers,
                workspace);
    }

    /**
     * Multiply-accumulates of one image's class scores at the given input size, as computed (stem composed, only
     * the part of a downsample that is added), except that Winograd layers count as their direct convolution.
     */
    public long macs(int height, int width) {
        return macs(height, width, false, config.numClasses());
    }

    /**
     * Multiply-accumulates of a pass at the given input size: image scores (the grid pooled before the classifier),
     * or with {@code dense} the evidence for {@code classes} classes at every stride-1 window.
     */
    public long macs(int height, int width, boolean dense, int classes) {
        int h = stem.outputSize(height);
        int w = stem.outputSize(width);
        long total = (long) h * w * stem.macsPerPixel();
        for (Bottleneck b : dense ? denseBlocks : blocks) {
            total += b.macs(h, w);
            h = b.outputSize(h);
            w = b.outputSize(w);
        }
        return total + (dense ? (long) h * w : 1) * classes * classifier.inChannels();
    }

    /**
     * Bytes of activations one image of this size keeps in a {@link Workspace}: the take/give sequence of a pass
     * replayed on sizes alone (the workspace keeps, per size, as many buffers as were ever live at once), or
     * Long.MAX_VALUE when one buffer would exceed a Java array. What a streamed pass sizes its tiles by.
     */
    public long activationBytes(int height, int width) {
        BufferCount buffers = new BufferCount(1);
        Layer.Plane x = new Layer.Plane(stem.outputSize(height), stem.outputSize(width), stem.outChannels());
        buffers.take(x.buffer());
        for (Bottleneck b : blocks) {
            Layer.Plane next = b.replay(x, buffers);
            if (next != x) {
                buffers.give(x.buffer(), 1);
            }
            x = next;
        }
        return buffers.keptBytes();
    }

    /** The classifier restricted to some classes (a 1x1 convolution): evidence for just those classes. */
    public PackedConv classifierFor(int[] classes) {
        return classifier.selectOutputs(classes);
    }

    /**
     * One tile of a streamed pass over one image: adds the features of grid cells [0, rows) x [0, cols) to open rows
     * [0, rows) of {@code mean} (cells beyond lie past the image's edge) and returns {@code head}'s logits at every
     * cell of the tile's grid, [1, gh, gw, head outputs], or null when there is no head.
     */
    public Tensor tile(Tensor image, int rows, int cols, GridMean mean, PackedConv head, Workers workers,
            Workspace workspace) {
        Tensor features = features(image, rows, cols, false, workers, workspace);
        int rowLength = features.width() * features.channels();
        for (int y = 0; y < rows; y++) {
            mean.add(features.data(), y * rowLength, cols, y);
        }
        Tensor logits = head == null ? null : ConvKernel.apply(head, features, null, false, workers);
        workspace.give(features);
        return logits;
    }

    /** Class scores from the mean feature vector of a grid (taken, not copied): the classifier, [classes]. */
    public float[] classify(float[] meanFeatures, Workers workers) {
        return ConvKernel.apply(classifier, Tensor.wrap(meanFeatures, 1, 1, 1, meanFeatures.length), null, false,
                workers).data();
    }

    /**
     * Image-level class scores, [N, 1, 1, classes]: the grid is pooled before the (linear) classifier, in
     * {@link GridMean}'s order, the one a streamed pass uses too.
     */
    public Tensor classScores(Tensor images, Workers workers, Workspace workspace) {
        Tensor features = features(images, false, workers, workspace);
        int c = features.channels();
        float[] pooled = GridMean.ofEach(features);
        workspace.give(features);
        return ConvKernel.apply(classifier, Tensor.wrap(pooled, images.batch(), 1, 1, c), null, false, workers);
    }

    /**
     * Class evidence per patch: the classifier applied at every cell of the grid, [N, gh, gw, classes], or with
     * {@code dense} at every stride-1 window, [N, H - q + 1, W - q + 1, classes].
     *
     * @param classes the classes wanted, in that order, or null for all
     */
    public Tensor patchLogits(Tensor images, int[] classes, boolean dense, Workers workers, Workspace workspace) {
        PackedConv head = classes == null ? classifier : classifier.selectOutputs(classes);
        Tensor features = features(images, dense, workers, workspace);
        Tensor logits = ConvKernel.apply(head, features, null, false, workers);
        workspace.give(features);
        return logits;
    }
}
