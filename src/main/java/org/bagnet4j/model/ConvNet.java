package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.bagnet4j.BagNetException;
import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.GridMean;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * The forward pass of a standard CNN over NHWC tensors, with every batchnorm folded and every weight packed once:
 * layers, then either global average pooling and a linear classifier (ResNet, DenseNet) or layers that end in the
 * class scores themselves (VGG's fully connected classifier). Immutable: any number of threads may run it at once.
 */
public final class ConvNet {
    /** Most input pixels per side a network is asked to accept. */
    private static final int MAX_SIDE = 1 << 16;
    private final List<Layer> layers;
    /** The classifier after global average pooling, or null when the layers end in the scores, [N, 1, 1, classes]. */
    private final PackedConv classifier;
    private final int numClasses;
    private final int inChannels;
    private final int minInputSize;

    private ConvNet(List<Layer> layers, PackedConv classifier, int inChannels, int numClasses) {
        this.layers = List.copyOf(layers);
        this.classifier = classifier;
        this.numClasses = numClasses;
        this.inChannels = inChannels;
        int size = 1;
        while (size < MAX_SIDE && featureSize(size) < 1) {
            size++;
        }
        this.minInputSize = size;
    }

    /**
     * torchvision's ResNet from its state_dict parameters.
     *
     * @param values returns a tensor's values by name, C order; shapes already checked against the layout's
     */
    public static ConvNet resnet(ResNetLayout layout, Function<String, float[]> values) {
        Function<String, float[]> parameters = Parameters.finiteOnly(values);
        List<Layer> layers = new ArrayList<>();
        layers.add(new ConvLayer(layout.stem().pack(parameters), true));
        layers.add(new MaxPoolLayer(ResNetLayout.POOL_KERNEL, ResNetLayout.POOL_STRIDE, ResNetLayout.POOL_PADDING,
                layout.stem().out()));
        for (ResNetLayout.Block b : layout.blocks()) {
            List<ConvSpec> path = b.path();
            PackedConv downsample = b.downsample() == null ? null : b.downsample().pack(parameters);
            if (b.bottleneck()) {
                PackedConv spatial = path.get(1).pack(parameters);
                layers.add(new Bottleneck(path.get(0).pack(parameters), spatial, ConvLayer.winogradWherePays(spatial),
                        0, path.get(2).pack(parameters), downsample, false));
            } else {
                PackedConv first = path.get(0).pack(parameters);
                layers.add(new BasicBlock(first, ConvLayer.winogradWherePays(first), path.get(1).pack(parameters),
                        downsample));
            }
        }
        ConvSpec fc = layout.classifier();
        return new ConvNet(layers, fc.pack(parameters), layout.stem().in(), fc.out());
    }

    /** torchvision's DenseNet from its state_dict parameters (shapes already checked against the layout's). */
    public static ConvNet densenet(DenseNetLayout layout, Function<String, float[]> values) {
        Function<String, float[]> parameters = Parameters.finiteOnly(values);
        List<Layer> layers = new ArrayList<>();
        layers.add(new ConvLayer(layout.stem().pack(parameters), true));
        for (DenseNetLayout.Stage stage : layout.stages()) {
            List<DenseStage.DenseLayer> dense = new ArrayList<>();
            for (DenseNetLayout.DenseLayer l : stage.layers()) {
                dense.add(new DenseStage.DenseLayer(ConvSpec.preActivation(parameters, l.norm1()),
                        l.conv1().pack(parameters), l.conv2().pack(parameters)));
            }
            DenseNetLayout.Transition t = stage.entry();
            layers.add(new DenseStage(t == null ? null : ConvSpec.preActivation(parameters, t.norm()),
                    t == null ? null : t.conv().pack(parameters), stage.inChannels(), List.copyOf(dense),
                    stage.channels()));
        }
        layers.add(new PreActivationLayer(ConvSpec.preActivation(parameters, layout.finalNorm())));
        ConvSpec fc = layout.classifier();
        return new ConvNet(layers, fc.pack(parameters), layout.stem().in(), fc.out());
    }

    /** torchvision's VGG from its state_dict parameters (shapes already checked against the layout's). */
    public static ConvNet vgg(VggLayout layout, Function<String, float[]> values) {
        Function<String, float[]> parameters = Parameters.finiteOnly(values);
        List<Layer> layers = new ArrayList<>();
        int channels = 0;
        for (ConvSpec conv : layout.features()) {
            if (conv == null) {
                layers.add(new MaxPoolLayer(2, 2, 0, channels));
            } else {
                PackedConv packed = conv.pack(parameters);
                layers.add(new ConvLayer(packed, ConvLayer.winogradWherePays(packed), true));
                channels = conv.out();
            }
        }
        int side = org.bagnet4j.VggConfig.POOLED_SIDE;
        layers.add(new AdaptiveAveragePoolLayer(side, channels));
        List<ConvSpec> fc = layout.classifier();
        layers.add(new ConvLayer(fc.get(0).packAsConvolution(parameters, channels, side), true));
        layers.add(new ConvLayer(fc.get(1).pack(parameters), true));
        layers.add(new ConvLayer(fc.get(2).pack(parameters), false));
        int inChannels = layout.features().stream().filter(c -> c != null).findFirst().orElseThrow().in();
        return new ConvNet(layers, null, inChannels, fc.get(2).out());
    }

    public int inChannels() {
        return inChannels;
    }

    public int numClasses() {
        return numClasses;
    }

    /** Whether the network ends in global average pooling and a linear classifier, and so has a class activation map. */
    public boolean hasClassActivationMap() {
        return classifier != null;
    }

    /** The smallest input side the network takes (every layer's output at least 1x1). */
    public int minInputSize() {
        return minInputSize;
    }

    /** Cells of the last feature map along an input axis of this size (0 when the input is too small). */
    public int featureSize(int inputSize) {
        int size = inputSize;
        for (Layer layer : layers) {
            size = layer.outputSize(size);
        }
        return size;
    }

    /** The last feature map, [N, fh, fw, features], in a tensor of {@code workspace}'s that the caller gives back. */
    private Tensor features(Tensor images, Workers workers, Workspace workspace) {
        if (images.height() < minInputSize || images.width() < minInputSize) {
            throw new BagNetException("input " + images.height() + "x" + images.width() + " is smaller than the "
                    + minInputSize + "x" + minInputSize + " this network takes");
        }
        workspace.reset(List.of(images.batch(), images.height(), images.width(), images.channels()));
        Tensor x = images;
        for (Layer layer : layers) {
            Tensor next = layer.forward(x, workers, workspace);
            if (next != x && x != images) {
                workspace.give(x);
            }
            x = next;
        }
        if (x == images) {
            throw new BagNetException("a network without layers has no features");
        }
        return x;
    }

    /**
     * Image-level class scores, [N, 1, 1, classes]: the feature map averaged (in {@link GridMean}'s order), then the
     * classifier.
     */
    public Tensor classScores(Tensor images, Workers workers, Workspace workspace) {
        Tensor features = features(images, workers, workspace);
        if (classifier == null) {
            Tensor scores = Tensor.wrap(features.data().clone(), images.batch(), 1, 1, numClasses);
            workspace.give(features);
            return scores;
        }
        float[] pooled = GridMean.ofEach(features);
        int c = features.channels();
        workspace.give(features);
        return ConvKernel.apply(classifier, Tensor.wrap(pooled, images.batch(), 1, 1, c), null, false, workers);
    }

    /**
     * The class activation map: the classifier at every cell of the last feature map, [N, fh, fw, classes]; its
     * mean over the cells is the image's class scores (the classifier is linear).
     *
     * @param classes the classes wanted, in that order, or null for all
     */
    public Tensor classActivationMap(Tensor images, int[] classes, Workers workers, Workspace workspace) {
        if (classifier == null) {
            throw new BagNetException("this network does not end in global average pooling: it has no class "
                    + "activation map");
        }
        PackedConv head = classes == null ? classifier : classifier.selectOutputs(classes);
        Tensor features = features(images, workers, workspace);
        Tensor map = ConvKernel.apply(head, features, null, false, workers);
        workspace.give(features);
        return map;
    }

    /** Multiply-accumulates of one image's class scores at this input size (Winograd layers as direct ones). */
    public long macs(int height, int width) {
        long total = 0;
        int h = height;
        int w = width;
        for (Layer layer : layers) {
            total += layer.macs(h, w);
            h = layer.outputSize(h);
            w = layer.outputSize(w);
        }
        return total + (classifier == null ? 0 : classifier.macsPerPixel());
    }

    /**
     * Bytes of activations a batch of images of this size keeps in a {@link Workspace} (the pass replayed on sizes
     * alone; the batch decides where Winograd's method runs), or Long.MAX_VALUE when one buffer would exceed a Java
     * array.
     */
    public long activationBytes(int batch, int height, int width) {
        BufferCount buffers = new BufferCount(batch);
        Layer.Plane x = new Layer.Plane(height, width, 0L);
        for (Layer layer : layers) {
            Layer.Plane next = layer.replay(x, buffers);
            if (next != x && x.buffer() != 0) {
                buffers.give(x.buffer(), 1);
            }
            x = next;
        }
        return buffers.keptBytes();
    }
}
