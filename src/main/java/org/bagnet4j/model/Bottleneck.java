package org.bagnet4j.model;

import org.bagnet4j.BagNetException;
import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.KernelTimes;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A bottleneck: 1x1 -> kxk (the block's stride) -> 1x1, batchnorms folded into the convolutions, plus a shortcut
 * (a strided 1x1 downsample where the shape changes), added and passed through ReLU in the last convolution's
 * epilogue. ResNet's kxk is a padded 3x3. A BagNet's is valid (k = 3) or 1x1: when k = 1 the first 1x1 takes the
 * stride instead, computing only the pixels the second one reads; a valid 3x3 makes the main path smaller than the
 * shortcut, and only the shortcut's top-left part is added (and, for a downsample, computed).
 *
 * @param winograd the spatial convolution by Winograd's method, or null
 * @param winogradMargin with Winograd, how far the spatial convolution's input reaches past the image's last grid
 *     cell (its input for c cells is c + margin wide): what a tile reaching past the image reads of it, see
 *     {@link Winograd#apply(Tensor, int, int, Workers, Workspace)}
 * @param expand the last 1x1 convolution
 * @param downsample null when the shortcut is the block's input itself
 * @param winogradEveryCall whether {@code winograd} runs on every call (a BagNet's, chosen once per layer, so that
 *     tiles of any size give the same bits) or only on the calls where it {@link Winograd#pays} (a ResNet's)
 */
public record Bottleneck(PackedConv reduce, PackedConv spatial, Winograd winograd, int winogradMargin,
        PackedConv expand, PackedConv downsample, boolean winogradEveryCall) implements Layer {
    /** Most weights (floats) of a block that runs band by band: they stay in L2 beside a band's activations. */
    private static final long BANDED_MAX_WEIGHTS = 256 * 1024;
    /** Most pixels per band: a band's activations stay in L2 from the first 1x1 to the residual. */
    private static final int MAX_BAND = 128;
    /** Bands per thread to aim for, so that the threads finish together. */
    private static final int BANDS_PER_THREAD = 8;
    private static final ThreadLocal<float[][]> BAND_BUFFERS = ThreadLocal.withInitial(() -> new float[2][0]);

    /** A BagNet's block: {@code winograd}, if given, runs on every call. */
    public Bottleneck(PackedConv reduce, PackedConv spatial, Winograd winograd, int winogradMargin, PackedConv expand,
            PackedConv downsample) {
        this(reduce, spatial, winograd, winogradMargin, expand, downsample, true);
    }

    /** The whole input read, see {@link #forward(Tensor, int, int, Workers, Workspace)}. */
    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        return forward(x, x.height(), x.width(), workers, workspace);
    }

    /**
     * The block's output, taken from {@code workspace}, or {@code x} itself, overwritten, when the shortcut is the
     * input at its full size (it is read for the last time by the addition that writes the output). Any other
     * {@code x} is left to the caller.
     *
     * @param cellRows the grid rows of {@code x} that lie in the image (a tile may reach past its bottom)
     * @param cellColumns the grid columns of {@code x} that lie in the image
     */
    public Tensor forward(Tensor x, int cellRows, int cellColumns, Workers workers, Workspace workspace) {
        if (runsInBands()) {
            return forwardInBands(x, workers);
        }
        Tensor reduced = ConvKernel.apply(reduce, x, null, true, workers, workspace);
        Tensor mixed = usesWinograd(reduced.batch(), spatial.outputSize(reduced.height()),
                spatial.outputSize(reduced.width()))
                ? winograd.apply(reduced, cellRows + winogradMargin, cellColumns + winogradMargin, workers, workspace)
                : ConvKernel.apply(spatial, reduced, null, true, workers, workspace);
        workspace.give(reduced);
        Tensor out;
        Tensor shortcut = x;
        if (downsample != null) {
            out = workspace.take(x.batch(), mixed.height(), mixed.width(), expand.outChannels());
            shortcut = workspace.take(x.batch(), mixed.height(), mixed.width(), downsample.outChannels());
            ConvKernel.run(downsample, x, shortcut, null, false, workers);
        } else if (outputsInPlace(x.height(), x.width(), mixed.height(), mixed.width())) {
            out = x;
        } else {
            out = workspace.take(x.batch(), mixed.height(), mixed.width(), expand.outChannels());
        }
        ConvKernel.run(expand, mixed, out, shortcut, true, workers);
        workspace.give(mixed);
        if (downsample != null) {
            workspace.give(shortcut);
        }
        return out;
    }

    @Override
    public int outputSize(int inputSize) {
        return spatial.outputSize(reduce.outputSize(inputSize));
    }

    @Override
    public long macs(int height, int width) {
        int rh = reduce.outputSize(height);
        int rw = reduce.outputSize(width);
        int sh = spatial.outputSize(rh);
        int sw = spatial.outputSize(rw);
        long downsampleMacs = downsample == null ? 0 : downsample.macsPerPixel();
        return (long) rh * rw * reduce.macsPerPixel()
                + (long) sh * sw * (spatial.macsPerPixel() + expand.macsPerPixel() + downsampleMacs);
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        if (runsInBands()) {
            return input;
        }
        int rh = reduce.outputSize(input.height());
        int rw = reduce.outputSize(input.width());
        long reduced = buffers.take((long) rh * rw * reduce.outChannels());
        int sh = spatial.outputSize(rh);
        int sw = spatial.outputSize(rw);
        long mixed = usesWinograd(buffers.batch(), sh, sw) ? buffers.winograd(sh, sw, spatial.inChannels(), spatial.outChannels())
                : buffers.take((long) sh * sw * spatial.outChannels());
        buffers.give(reduced, 1);
        if (outputsInPlace(input.height(), input.width(), sh, sw)) {
            buffers.give(mixed, 1);
            return input;
        }
        long out = buffers.take((long) sh * sw * expand.outChannels());
        if (downsample != null) {
            buffers.give(buffers.take((long) sh * sw * downsample.outChannels()), 1);
        }
        buffers.give(mixed, 1);
        return new Plane(sh, sw, out);
    }

    private boolean usesWinograd(int batch, int outHeight, int outWidth) {
        return winograd != null && (winogradEveryCall
                || Winograd.pays(batch, outHeight, outWidth, spatial.inChannels(), spatial.outChannels()));
    }

    /** The block's stride: its spatial convolution's, which a 1x1 one hands to the reduce. */
    public int stride() {
        return reduce.stride() * spatial.stride();
    }

    /**
     * Whether the block runs band by band: all three convolutions pointwise with no stride, an identity shortcut and
     * small weights (the early stages, whose large activations would otherwise travel to memory and back between
     * the convolutions). Such a block takes no buffers and writes its output over its input.
     */
    boolean runsInBands() {
        long weights = (long) reduce.inChannels() * reduce.outChannels()
                + (long) spatial.inChannels() * spatial.outChannels()
                + (long) expand.inChannels() * expand.outChannels();
        return downsample == null && winograd == null && reduce.kernel() == 1 && spatial.kernel() == 1
                && stride() == 1 && weights <= BANDED_MAX_WEIGHTS;
    }

    /** All three convolutions on one band of pixels after another, each band's output written over its input. */
    private Tensor forwardInBands(Tensor x, Workers workers) {
        if (x.channels() != reduce.inChannels()) {
            throw new BagNetException("block expects " + reduce.inChannels() + " input channels, got " + x.channels());
        }
        long timer = KernelTimes.begin();
        try {
            runBands(x, workers);
        } finally {
            if (timer != KernelTimes.OFF) {
                String plane = KernelTimes.plane(x.height(), x.width(), x.channels());
                KernelTimes.end(timer, "bottleneck of 1x1 convs + residual, in bands", plane + " -> " + plane,
                        x.batch() * macs(x.height(), x.width()));
            }
        }
        return x;
    }

    private void runBands(Tensor x, Workers workers) {
        float[] data = x.data();
        int pixels = x.batch() * x.height() * x.width();
        int channels = x.channels();
        int width = reduce.outChannels();
        int perBand = Math.min(MAX_BAND, Math.max(ConvKernel.MR,
                pixels / (BANDS_PER_THREAD * workers.threads()) / ConvKernel.MR * ConvKernel.MR));
        workers.parallelFor((pixels + perBand - 1) / perBand, band -> {
            int start = band * perBand;
            int rows = Math.min(perBand, pixels - start);
            float[][] buffers = BAND_BUFFERS.get();
            if (buffers[0].length < perBand * width) {
                buffers[0] = new float[perBand * width];
                buffers[1] = new float[perBand * width];
            }
            ConvKernel.runRows(reduce, data, start * channels, buffers[0], 0, null, 0, rows, true);
            ConvKernel.runRows(spatial, buffers[0], 0, buffers[1], 0, null, 0, rows, true);
            ConvKernel.runRows(expand, buffers[1], 0, data, start * channels, data, start * channels, rows, true);
        });
    }

    /** Whether the output overwrites the input: an identity shortcut that the spatial convolution did not crop. */
    boolean outputsInPlace(int inHeight, int inWidth, int outHeight, int outWidth) {
        return downsample == null && inHeight == outHeight && inWidth == outWidth;
    }
}
