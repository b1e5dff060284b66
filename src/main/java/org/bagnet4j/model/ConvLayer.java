package org.bagnet4j.model;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A convolution with its batchnorm folded in, optionally followed by ReLU (a stem, VGG's layers).
 *
 * @param winograd the same convolution (with ReLU) by Winograd's method, used on the calls where it is faster
 *     ({@link Winograd#pays}), or null
 */
record ConvLayer(PackedConv conv, Winograd winograd, boolean relu) implements Layer {
    ConvLayer {
        if (winograd != null && !relu) {
            throw new IllegalArgumentException("Winograd layers end in ReLU");
        }
    }

    ConvLayer(PackedConv conv, boolean relu) {
        this(conv, null, relu);
    }

    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        return usesWinograd(x.batch(), outputSize(x.height()), outputSize(x.width()))
                ? winograd.apply(x, workers, workspace)
                : ConvKernel.apply(conv, x, null, relu, workers, workspace);
    }

    private boolean usesWinograd(int batch, int height, int width) {
        return winograd != null && Winograd.pays(batch, height, width, conv.inChannels(), conv.outChannels());
    }

    /**
     * The convolution's Winograd form (weights transformed on first use) where one can {@link Winograd#pays pay} on
     * some calls: a padded 3x3 with stride 1, wide enough. Else null.
     */
    static Winograd winogradWherePays(PackedConv conv) {
        return conv.kernel() == 3 && conv.stride() == 1 && conv.dilation() == 1 && conv.padding() <= 1
                && Winograd.widePays(conv.inChannels(), conv.outChannels()) ? Winograd.of(conv) : null;
    }

    @Override
    public int outputSize(int inputSize) {
        return conv.outputSize(inputSize);
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        int h = outputSize(input.height());
        int w = outputSize(input.width());
        return new Plane(h, w, usesWinograd(buffers.batch(), h, w) ? buffers.winograd(h, w, conv.inChannels(), conv.outChannels())
                : buffers.take((long) h * w * conv.outChannels()));
    }

    @Override
    public long macs(int height, int width) {
        return (long) outputSize(height) * outputSize(width) * conv.macsPerPixel();
    }
}
