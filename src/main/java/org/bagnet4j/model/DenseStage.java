package org.bagnet4j.model;

import java.util.List;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Pooling;
import org.bagnet4j.kernels.PreActivation;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A DenseNet dense block with whatever makes its input: the stem's 3x3 stride-2 max pool, or the transition from the
 * previous block (its batchnorm and ReLU, the 2x2 average pool, then its 1x1 convolution: pooling first is exact,
 * the two being linear, and costs a quarter of the multiplications). Everything is written into one buffer of the
 * block's final channel count: the input into its first channels, each layer's growth into the next slice, so the
 * concatenations copy nothing.
 *
 * @param transitionNorm the transition's pre-activation, or null for the stem's max pool
 * @param transitionConv the transition's 1x1 convolution, or null for the stem's max pool
 */
record DenseStage(PreActivation transitionNorm, PackedConv transitionConv, int inChannels, List<DenseLayer> layers,
        int channels) implements Layer {
    /** Reads its pre-activated input channels, writes its growth into the block buffer. */
    record DenseLayer(PreActivation norm1, PackedConv conv1, PackedConv conv2) {
    }

    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        int h = outputSize(x.height());
        int w = outputSize(x.width());
        Tensor block = workspace.take(x.batch(), h, w, channels);
        if (transitionConv == null) {
            Pooling.max(x, DenseNetLayout.POOL_KERNEL, 2, 1, block, 0, workers);
        } else {
            Tensor pooled = Pooling.average(x, 2, 2, transitionNorm, workers, workspace);
            ConvKernel.runSlices(transitionConv, pooled, null, block, 0, false, workers);
            workspace.give(pooled);
        }
        int filled = inChannels;
        for (DenseLayer layer : layers) {
            Tensor bottleneck = workspace.take(x.batch(), h, w, layer.conv1().outChannels());
            ConvKernel.runSlices(layer.conv1(), block, layer.norm1(), bottleneck, 0, true, workers);
            ConvKernel.runSlices(layer.conv2(), bottleneck, null, block, filled, false, workers);
            workspace.give(bottleneck);
            filled += layer.conv2().outChannels();
        }
        return block;
    }

    @Override
    public int outputSize(int inputSize) {
        return transitionConv == null ? Pooling.outputSize(inputSize, DenseNetLayout.POOL_KERNEL, 2, 1)
                : Pooling.outputSize(inputSize, 2, 2, 0);
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        int h = outputSize(input.height());
        int w = outputSize(input.width());
        long block = buffers.take((long) h * w * channels);
        if (transitionConv != null) {
            buffers.give(buffers.take((long) h * w * transitionConv.inChannels()), 1);
        }
        for (DenseLayer layer : layers) {
            buffers.give(buffers.take((long) h * w * layer.conv1().outChannels()), 1);
        }
        return new Plane(h, w, block);
    }

    @Override
    public long macs(int height, int width) {
        long pixels = (long) outputSize(height) * outputSize(width);
        long total = transitionConv == null ? 0 : transitionConv.macsPerPixel();
        for (DenseLayer layer : layers) {
            total += layer.conv1().macsPerPixel() + layer.conv2().macsPerPixel();
        }
        return pixels * total;
    }
}
