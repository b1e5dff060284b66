package org.bagnet4j.kernels;

import org.bagnet4j.BagNetException;

/**
 * Convolution weights packed once, at load time, into the layout {@link ConvKernel}'s micro-kernel streams:
 * output channels in panels of {@link ConvKernel#NR} columns; within a panel, one row of NR weights for every
 * (ky, kx, input channel) in that order, so the reduction walks memory contiguously. The last panel is padded
 * with zero columns, so the kernel never needs a scalar path for the weights.
 */
public final class PackedConv {
    final int inChannels;
    final int outChannels;
    final int kernel;
    final int stride;
    /** Zero pixels read around the input on every side (never stored: the kernel reads them as zeros). */
    final int padding;
    /** Spacing of the kernel taps in input pixels (1: a plain convolution). */
    final int dilation;
    final int panelCount;
    /** [panel][ky][kx][inChannel][NR]. */
    final float[] weights;
    /** [panelCount * NR], zero-padded. */
    final float[] bias;

    private PackedConv(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation,
            float[] weights, float[] bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.panelCount = weights.length / (kernel * kernel * inChannels * ConvKernel.NR);
        this.weights = weights;
        this.bias = bias;
    }

    /** A valid (unpadded) convolution: see {@link #pack(float[], float[], int, int, int, int, int)}. */
    public static PackedConv pack(float[] weight, float[] bias, int outChannels, int inChannels, int kernel,
            int stride) {
        return pack(weight, bias, outChannels, inChannels, kernel, stride, 0);
    }

    /**
     * Packs weights given in PyTorch's layout [out][in][k][k].
     *
     * @param bias per output channel, or null for none
     * @param padding zeros around the input on every side, less than the kernel
     */
    public static PackedConv pack(float[] weight, float[] bias, int outChannels, int inChannels, int kernel,
            int stride, int padding) {
        if (outChannels < 1 || inChannels < 1 || kernel < 1 || stride < 1 || padding < 0 || padding >= kernel) {
            throw new BagNetException("bad convolution geometry: out " + outChannels + ", in " + inChannels
                    + ", kernel " + kernel + ", stride " + stride + ", padding " + padding);
        }
        int reduction = kernel * kernel * inChannels;
        if (weight.length != (long) outChannels * reduction) {
            throw new BagNetException("convolution weight has " + weight.length + " values, expected "
                    + outChannels + "x" + inChannels + "x" + kernel + "x" + kernel);
        }
        if (bias != null && bias.length != outChannels) {
            throw new BagNetException("convolution bias has " + bias.length + " values, expected " + outChannels);
        }
        int nr = ConvKernel.NR;
        int panels = (outChannels + nr - 1) / nr;
        float[] packed = new float[panels * reduction * nr];
        for (int co = 0; co < outChannels; co++) {
            int panelBase = (co / nr) * reduction * nr + co % nr;
            for (int ci = 0; ci < inChannels; ci++) {
                for (int ky = 0; ky < kernel; ky++) {
                    for (int kx = 0; kx < kernel; kx++) {
                        int k = (ky * kernel + kx) * inChannels + ci;
                        packed[panelBase + k * nr] = weight[((co * inChannels + ci) * kernel + ky) * kernel + kx];
                    }
                }
            }
        }
        float[] paddedBias = new float[panels * nr];
        if (bias != null) {
            System.arraycopy(bias, 0, paddedBias, 0, outChannels);
        }
        return new PackedConv(inChannels, outChannels, kernel, stride, padding, 1, packed, paddedBias);
    }

    /** The weight of output channel {@code out}, input channel {@code in}, kernel tap {@code tap} = ky * kernel + kx. */
    float weight(int out, int in, int tap) {
        int reduction = kernel * kernel * inChannels;
        return weights[(out / ConvKernel.NR) * reduction * ConvKernel.NR + (tap * inChannels + in) * ConvKernel.NR
                + out % ConvKernel.NR];
    }

    /**
     * The same weights (shared, not copied) applied with another stride and dilation: dense evaluation replaces
     * every stride by a dilation of the later kernels.
     */
    public PackedConv withStrideAndDilation(int newStride, int newDilation) {
        if (newStride < 1 || newDilation < 1) {
            throw new BagNetException("stride and dilation must be at least 1, got " + newStride + " and " + newDilation);
        }
        if (padding > 0 && newDilation > 1) {
            throw new BagNetException("a padded convolution cannot be dilated");
        }
        return new PackedConv(inChannels, outChannels, kernel, newStride, padding, newDilation, weights, bias);
    }

    /** A layer computing only the given output channels of this one, in that order (e.g. a few classes). */
    public PackedConv selectOutputs(int[] channels) {
        int reduction = kernel * kernel * inChannels;
        int nr = ConvKernel.NR;
        int panels = (channels.length + nr - 1) / nr;
        float[] packed = new float[panels * reduction * nr];
        float[] selectedBias = new float[panels * nr];
        for (int i = 0; i < channels.length; i++) {
            int co = channels[i];
            if (co < 0 || co >= outChannels) {
                throw new BagNetException("output channel " + co + " is outside [0, " + outChannels + ")");
            }
            int from = (co / nr) * reduction * nr + co % nr;
            int to = (i / nr) * reduction * nr + i % nr;
            for (int k = 0; k < reduction; k++) {
                packed[to + k * nr] = weights[from + k * nr];
            }
            selectedBias[i] = bias[co];
        }
        return new PackedConv(inChannels, channels.length, kernel, stride, padding, dilation, packed, selectedBias);
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    public int dilation() {
        return dilation;
    }

    /** Input pixels one kernel spans along an axis: (kernel - 1) * dilation + 1. */
    public int span() {
        return (kernel - 1) * dilation + 1;
    }

    /** Output size along one axis for an input of the given size (0 when the kernel does not fit). */
    public int outputSize(int inputSize) {
        long padded = (long) inputSize + 2L * padding;
        return padded < span() ? 0 : (int) ((padded - span()) / stride + 1);
    }

    /** Multiply-accumulates for one output pixel. */
    public long macsPerPixel() {
        return (long) kernel * kernel * inChannels * outChannels;
    }
}
