package org.bagnet4j.kernels;

import java.util.Arrays;
import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A 3x3 stride-1 convolution (valid, or padded by 1) with bias and ReLU by Winograd's minimal filtering F(4x4, 3x3)
 * (Lavin and Gray, 2016, interpolation points 0, 1, -1, 2, -2, infinity): every 4x4 block of outputs comes from a
 * 6x6 input tile with 36 products per (input, output) channel pair instead of 144. Inputs and weights are
 * transformed to the 36 "frequencies" (weights once: at load, or on first use), each frequency is one GEMM of
 * tiles x inChannels by inChannels x outChannels run by {@link ConvKernel}, and the results are transformed back.
 * Pays for wide layers only: the transforms cost about as much as a GEMM with a few dozen input channels.
 */
public final class Winograd {
    private static final int TILE = 6;
    /** Side of the square block of outputs computed together. */
    public static final int BLOCK = 4;
    private static final int FREQUENCIES = TILE * TILE;
    /** Narrower layers stay with the direct convolution. */
    private static final int MIN_CHANNELS = 64;
    /** Input transform B^T. */
    private static final float[][] BT = {
        {4, 0, -5, 0, 1, 0},
        {0, -4, -4, 1, 1, 0},
        {0, 4, -4, -1, 1, 0},
        {0, -2, -1, 2, 1, 0},
        {0, 2, -1, -2, 1, 0},
        {0, 4, 0, -5, 0, 1}};
    /** Weight transform G. */
    private static final double[][] G = {
        {1 / 4.0, 0, 0},
        {-1 / 6.0, -1 / 6.0, -1 / 6.0},
        {-1 / 6.0, 1 / 6.0, -1 / 6.0},
        {1 / 24.0, 1 / 12.0, 1 / 6.0},
        {1 / 24.0, -1 / 12.0, 1 / 6.0},
        {0, 0, 1}};
    /** Output transform A^T. */
    private static final float[][] AT = {
        {1, 1, 1, 1, 1, 0},
        {0, 1, -1, 2, -2, 0},
        {0, 1, 1, 4, 4, 0},
        {0, 1, -1, 8, -8, 1}};
    /** Tiles per task of the transforms. */
    private static final int TILES_PER_TASK = 4;
    /** Most tiles per task of a frequency's GEMM (a large map's GEMMs split into bands of tiles). */
    private static final int GEMM_ROWS = 512;
    /** Each thread's buffers for transforming one tile. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final int inChannels;
    private final int outChannels;
    /** Zeros around the input on every side: 0 or 1. */
    private final int padding;
    private final float[] bias;
    /** The direct convolution whose weights {@link #gemms} are made from on first use, or null once made. */
    private PackedConv source;
    /** One 1x1 layer (a GEMM) per frequency: the transformed weights G g G^T; null until first use. */
    private volatile PackedConv[] gemms;

    private Winograd(int inChannels, int outChannels, int padding, float[] bias, PackedConv source,
            PackedConv[] gemms) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.padding = padding;
        this.bias = bias;
        this.source = source;
        this.gemms = gemms;
    }

    /** The weights of one output and input channel, tap t = ky * 3 + kx. */
    private interface Taps {
        float weight(int out, int in, int tap);
    }

    /**
     * Whether a padded layer is computed faster this way on this many images of this output size (the standard
     * CNNs, which decide per call). The transforms cost per multiplication saved about 1/channels, and the 36 GEMMs
     * read 4x the direct convolution's weights once per call, so Winograd's method wins with 128 or more channels and
     * enough tiles to share those weights. Measured here on one call, 2 threads, ResNet's and VGG's 3x3 layers
     * (direct time over Winograd's): one image 28x28x128 1.5-2.1x, 14x14x256 1.7x, 7x7x512 0.9-1.0x (its 38 MB of
     * weights for 4 tiles), 56x56x64 0.7x; eight images 28x28x128 1.8x, 14x14x256 2.1x, 7x7x512 2.25x, 56x56x64 1.0x;
     * VGG at 224x224 (one image) 56x56x256 1.8x, 112x112x128 1.15x, 224x224x64 0.7x.
     */
    public static boolean pays(int batch, int outHeight, int outWidth, int inChannels, int outChannels) {
        long tiles = (long) batch * ((outHeight + BLOCK - 1) / BLOCK) * ((outWidth + BLOCK - 1) / BLOCK);
        return widePays(inChannels, outChannels) && tiles * Math.min(inChannels, outChannels) >= 4096;
    }

    /** Whether a layer of these widths is ever computed faster this way: {@link #pays} on enough tiles. */
    public static boolean widePays(int inChannels, int outChannels) {
        return Math.min(inChannels, outChannels) >= 2 * MIN_CHANNELS;
    }

    /** Whether a convolution of this geometry is computed faster this way (a BagNet's, decided once per layer). */
    public static boolean suits(int kernel, int stride, int inChannels, int outChannels) {
        return kernel == 3 && stride == 1 && inChannels >= MIN_CHANNELS && outChannels >= MIN_CHANNELS;
    }

    /** A valid convolution: see {@link #of(float[], float[], int, int, int)}. */
    public static Winograd of(float[] weight, float[] bias, int outChannels, int inChannels) {
        return of(weight, bias, outChannels, inChannels, 0);
    }

    /**
     * Transforms weights given in PyTorch's layout [out][in][3][3] at once.
     *
     * @param bias per output channel
     * @param padding 0 (valid) or 1 (same size)
     */
    public static Winograd of(float[] weight, float[] bias, int outChannels, int inChannels, int padding) {
        checkPadding(padding);
        if (weight.length != (long) outChannels * inChannels * 9 || bias.length != outChannels) {
            throw new BagNetException("Winograd convolution needs " + outChannels + "x" + inChannels
                    + "x3x3 weights and " + outChannels + " biases");
        }
        PackedConv[] gemms = transform(outChannels, inChannels, (o, i, t) -> weight[(o * inChannels + i) * 9 + t]);
        return new Winograd(inChannels, outChannels, padding, bias.clone(), null, gemms);
    }

    /**
     * The same convolution as a packed 3x3 stride-1 layer (its bias included, ReLU added), its weights transformed
     * on first use: for layers that run this way only on the calls where it {@link #pays}.
     */
    public static Winograd of(PackedConv conv) {
        if (conv.kernel != 3 || conv.stride != 1 || conv.dilation != 1) {
            throw new BagNetException("Winograd convolution takes a 3x3 kernel with stride 1");
        }
        checkPadding(conv.padding);
        return new Winograd(conv.inChannels, conv.outChannels, conv.padding,
                Arrays.copyOf(conv.bias, conv.outChannels), conv, null);
    }

    private static void checkPadding(int padding) {
        if (padding < 0 || padding > 1) {
            throw new BagNetException("Winograd convolution takes padding 0 or 1, got " + padding);
        }
    }

    /** The 36 GEMMs' weights, G g G^T for every pair of channels, computed in double. */
    private static PackedConv[] transform(int outChannels, int inChannels, Taps taps) {
        float[][] transformed = new float[FREQUENCIES][outChannels * inChannels];
        double[] g = new double[9];
        for (int o = 0; o < outChannels; o++) {
            for (int i = 0; i < inChannels; i++) {
                for (int t = 0; t < 9; t++) {
                    g[t] = taps.weight(o, i, t);
                }
                for (int a = 0; a < TILE; a++) {
                    for (int b = 0; b < TILE; b++) {
                        double sum = 0;
                        for (int y = 0; y < 3; y++) {
                            for (int x = 0; x < 3; x++) {
                                sum += G[a][y] * g[y * 3 + x] * G[b][x];
                            }
                        }
                        transformed[a * TILE + b][o * inChannels + i] = (float) sum;
                    }
                }
            }
        }
        PackedConv[] gemms = new PackedConv[FREQUENCIES];
        for (int e = 0; e < FREQUENCIES; e++) {
            gemms[e] = PackedConv.pack(transformed[e], null, outChannels, inChannels, 1, 1);
        }
        return gemms;
    }

    /** The GEMMs' weights, transformed now if this is their first use (by one thread; others wait for it). */
    private PackedConv[] gemms() {
        PackedConv[] made = gemms;
        if (made == null) {
            synchronized (this) {
                made = gemms;
                if (made == null) {
                    PackedConv conv = source;
                    made = transform(outChannels, inChannels, conv::weight);
                    gemms = made;
                    source = null;
                }
            }
        }
        return made;
    }

    /** relu(conv3x3(input) + bias), stride 1, in a tensor taken from {@code workspace}. */
    public Tensor apply(Tensor input, Workers workers, Workspace workspace) {
        return apply(input, input.height(), input.width(), workers, workspace);
    }

    /**
     * As {@link #apply(Tensor, Workers, Workspace)}, reading the input's rows from {@code readHeight} and columns from
     * {@code readWidth} on as zeros, as if the input ended there. A block of outputs that reaches past that edge is
     * then computed from the same values wherever the input ends, so that a tile reaching past an image's edge gives
     * the bits of the whole image, whose blocks at the edge read zeros.
     */
    public Tensor apply(Tensor input, int readHeight, int readWidth, Workers workers, Workspace workspace) {
        if (input.channels() != inChannels) {
            throw new BagNetException("convolution expects " + inChannels + " input channels, got "
                    + input.channels());
        }
        int outHeight = input.height() + 2 * padding - 2;
        int outWidth = input.width() + 2 * padding - 2;
        if (outHeight < 1 || outWidth < 1) {
            throw new BagNetException("input " + input.height() + "x" + input.width()
                    + " is smaller than the 3x3 kernel");
        }
        long timer = KernelTimes.begin();
        try {
            return transform(input, readHeight, readWidth, outHeight, outWidth, workers, workspace);
        } finally {
            if (timer != KernelTimes.OFF) {
                KernelTimes.end(timer, "conv 3x3 Winograd", KernelTimes.plane(input.height(), input.width(),
                        inChannels) + " -> " + KernelTimes.plane(outHeight, outWidth, outChannels),
                        (long) input.batch() * outHeight * outWidth * inChannels * outChannels * 9);
            }
        }
    }

    private Tensor transform(Tensor input, int readHeight, int readWidth, int outHeight, int outWidth,
            Workers workers, Workspace workspace) {
        Tiling tiling = new Tiling(input.batch(), input.height(), input.width(), Math.min(readHeight, input.height()),
                Math.min(readWidth, input.width()), padding, outHeight, outWidth);
        Tensor[] spectra = new Tensor[FREQUENCIES];
        Tensor[] products = new Tensor[FREQUENCIES];
        for (int e = 0; e < FREQUENCIES; e++) {
            spectra[e] = workspace.take(1, 1, tiling.count(), inChannels);
            products[e] = workspace.take(1, 1, tiling.count(), outChannels);
        }
        PackedConv[] weights = gemms();
        forEachTile(tiling, workers, t -> transformInput(input, tiling, t, spectra));
        // The 36 GEMMs in one parallel loop: on small maps each is too short to be worth a loop of its own.
        int tiles = tiling.count();
        int bands = (tiles + GEMM_ROWS - 1) / GEMM_ROWS;
        workers.parallelFor(FREQUENCIES * bands, task -> {
            int e = task / bands;
            int first = task % bands * GEMM_ROWS;
            int rows = Math.min(GEMM_ROWS, tiles - first);
            ConvKernel.runRows(weights[e], spectra[e].data(), first * inChannels, products[e].data(),
                    first * outChannels, null, 0, rows, false);
        });
        for (Tensor spectrum : spectra) {
            workspace.give(spectrum);
        }
        Tensor out = workspace.take(input.batch(), outHeight, outWidth, outChannels);
        forEachTile(tiling, workers, t -> transformOutput(products, tiling, t, out));
        for (Tensor p : products) {
            workspace.give(p);
        }
        return out;
    }

    /** Runs {@code body} for every tile, a few tiles per task. */
    private static void forEachTile(Tiling tiling, Workers workers, IntConsumer body) {
        int tasks = (tiling.count() + TILES_PER_TASK - 1) / TILES_PER_TASK;
        workers.parallelFor(tasks, task -> {
            for (int t = task * TILES_PER_TASK; t < Math.min(tiling.count(), (task + 1) * TILES_PER_TASK); t++) {
                body.accept(t);
            }
        });
    }

    /**
     * The 4x4 output blocks of a batch; tile t's input starts at (4 i - padding, 4 j - padding) of image n and is
     * read from 0 up to {@code readHeight} x {@code readWidth}, zeros outside.
     */
    private record Tiling(int batch, int inHeight, int inWidth, int readHeight, int readWidth, int padding,
            int outHeight, int outWidth, int rows, int cols) {
        Tiling(int batch, int inHeight, int inWidth, int readHeight, int readWidth, int padding, int outHeight,
                int outWidth) {
            this(batch, inHeight, inWidth, readHeight, readWidth, padding, outHeight, outWidth,
                    (outHeight + BLOCK - 1) / BLOCK, (outWidth + BLOCK - 1) / BLOCK);
        }

        int count() {
            return batch * rows * cols;
        }

        /** The image of tile t. */
        int image(int t) {
            return t / (rows * cols);
        }

        /** The first output row of tile t. */
        int top(int t) {
            return t / cols % rows * BLOCK;
        }

        /** The first output column of tile t. */
        int left(int t) {
            return t % cols * BLOCK;
        }
    }

    /** Copies tile t (zeros outside what is read) and writes its 36 transformed values per channel, B^T d B. */
    private void transformInput(Tensor input, Tiling tiling, int t, Tensor[] spectra) {
        int c = inChannels;
        Scratch s = SCRATCH.get().ensure(c);
        int n = tiling.image(t);
        int y0 = tiling.top(t) - tiling.padding();
        int x0 = tiling.left(t) - tiling.padding();
        for (int y = 0; y < TILE; y++) {
            for (int x = 0; x < TILE; x++) {
                int dst = (y * TILE + x) * c;
                if (y0 + y >= 0 && y0 + y < tiling.readHeight() && x0 + x >= 0 && x0 + x < tiling.readWidth()) {
                    System.arraycopy(input.data(), ((n * tiling.inHeight() + y0 + y) * tiling.inWidth() + x0 + x) * c,
                            s.tile, dst, c);
                } else {
                    Arrays.fill(s.tile, dst, dst + c, 0f);
                }
            }
        }
        // Columns: half[i][x] = sum_k BT[i][k] tile[k][x]; then rows: spectrum[i][j] = sum_k half[i][k] BT[j][k].
        for (int x = 0; x < TILE; x++) {
            for (int k = 0; k < TILE; k++) {
                s.from(k, s.tile, (k * TILE + x) * c);
            }
            for (int i = 0; i < TILE; i++) {
                s.to(i, s.half, (i * TILE + x) * c);
            }
            s.combine(BT, c);
        }
        for (int i = 0; i < TILE; i++) {
            for (int k = 0; k < TILE; k++) {
                s.from(k, s.half, (i * TILE + k) * c);
            }
            for (int j = 0; j < TILE; j++) {
                s.to(j, spectra[i * TILE + j].data(), t * c);
            }
            s.combine(BT, c);
        }
    }

    /** Transforms tile t's 36 products back to its 4x4 outputs, A^T m A, adds the bias and applies ReLU. */
    private void transformOutput(Tensor[] products, Tiling tiling, int t, Tensor out) {
        int c = outChannels;
        Scratch s = SCRATCH.get().ensure(c);
        // Columns: half[i][j] = sum_k AT[i][k] m[k][j]; then rows: block[i][x] = sum_k half[i][k] AT[x][k].
        for (int j = 0; j < TILE; j++) {
            for (int k = 0; k < TILE; k++) {
                s.from(k, products[k * TILE + j].data(), t * c);
            }
            for (int i = 0; i < BLOCK; i++) {
                s.to(i, s.half, (i * TILE + j) * c);
            }
            s.combine(AT, c);
        }
        for (int i = 0; i < BLOCK; i++) {
            for (int k = 0; k < TILE; k++) {
                s.from(k, s.half, (i * TILE + k) * c);
            }
            for (int x = 0; x < BLOCK; x++) {
                s.to(x, s.tile, (i * BLOCK + x) * c);
            }
            s.combine(AT, c);
        }
        int n = tiling.image(t);
        int y0 = tiling.top(t);
        int x0 = tiling.left(t);
        float[] dst = out.data();
        int vectorEnd = ConvKernel.SPECIES.loopBound(c);
        for (int y = 0; y < BLOCK && y0 + y < tiling.outHeight(); y++) {
            for (int x = 0; x < BLOCK && x0 + x < tiling.outWidth(); x++) {
                int src = (y * BLOCK + x) * c;
                int o = ((n * tiling.outHeight() + y0 + y) * tiling.outWidth() + x0 + x) * c;
                int ch = 0;
                for (; ch < vectorEnd; ch += ConvKernel.LANES) {
                    FloatVector.fromArray(ConvKernel.SPECIES, s.tile, src + ch)
                            .add(FloatVector.fromArray(ConvKernel.SPECIES, bias, ch)).max(0f).intoArray(dst, o + ch);
                }
                for (; ch < c; ch++) {
                    dst[o + ch] = Math.max(0f, s.tile[src + ch] + bias[ch]);
                }
            }
        }
    }

    /** A thread's buffers for one tile: the tile itself, its half transform, and six sources and destinations. */
    private static final class Scratch {
        float[] tile = new float[0];
        float[] half = new float[0];
        final float[][] fromArray = new float[TILE][];
        final int[] fromOffset = new int[TILE];
        final float[][] toArray = new float[TILE][];
        final int[] toOffset = new int[TILE];

        Scratch ensure(int channels) {
            if (tile.length < FREQUENCIES * channels) {
                tile = new float[FREQUENCIES * channels];
                half = new float[FREQUENCIES * channels];
            }
            return this;
        }

        void from(int k, float[] array, int offset) {
            fromArray[k] = array;
            fromOffset[k] = offset;
        }

        void to(int i, float[] array, int offset) {
            toArray[i] = array;
            toOffset[i] = offset;
        }

        /** to[i][ch] = sum_k m[i][k] from[k][ch] for every row i of m and channel ch < c. */
        void combine(float[][] m, int c) {
            float[] a0 = fromArray[0], a1 = fromArray[1], a2 = fromArray[2];
            float[] a3 = fromArray[3], a4 = fromArray[4], a5 = fromArray[5];
            int f0 = fromOffset[0], f1 = fromOffset[1], f2 = fromOffset[2];
            int f3 = fromOffset[3], f4 = fromOffset[4], f5 = fromOffset[5];
            int vectorEnd = ConvKernel.SPECIES.loopBound(c);
            for (int ch = 0; ch < vectorEnd; ch += ConvKernel.LANES) {
                FloatVector v0 = FloatVector.fromArray(ConvKernel.SPECIES, a0, f0 + ch);
                FloatVector v1 = FloatVector.fromArray(ConvKernel.SPECIES, a1, f1 + ch);
                FloatVector v2 = FloatVector.fromArray(ConvKernel.SPECIES, a2, f2 + ch);
                FloatVector v3 = FloatVector.fromArray(ConvKernel.SPECIES, a3, f3 + ch);
                FloatVector v4 = FloatVector.fromArray(ConvKernel.SPECIES, a4, f4 + ch);
                FloatVector v5 = FloatVector.fromArray(ConvKernel.SPECIES, a5, f5 + ch);
                for (int i = 0; i < m.length; i++) {
                    float[] r = m[i];
                    v0.mul(r[0]).add(v1.mul(r[1])).add(v2.mul(r[2])).add(v3.mul(r[3])).add(v4.mul(r[4]))
                            .add(v5.mul(r[5])).intoArray(toArray[i], toOffset[i] + ch);
                }
            }
            for (int ch = vectorEnd; ch < c; ch++) {
                for (int i = 0; i < m.length; i++) {
                    float[] r = m[i];
                    toArray[i][toOffset[i] + ch] = r[0] * a0[f0 + ch] + r[1] * a1[f1 + ch] + r[2] * a2[f2 + ch]
                            + r[3] * a3[f3 + ch] + r[4] * a4[f4 + ch] + r[5] * a5[f5 + ch];
                }
            }
        }
    }
}
