package org.bagnet4j.kernels;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * k x k convolution with stride, padding or dilation on NHWC tensors, computed as an implicit GEMM: every output
 * pixel is a row whose reduction runs over contiguous segments of the input (k rows of k * inChannels floats, or
 * with dilation k * k pixels of inChannels floats), so no im2col copy is made; a 1x1 convolution (and so the fully
 * connected layer) is the case k = 1, a plain GEMM. Padding is implicit: the few tiles whose windows cross the
 * input's edge copy their windows, zeros included, into a per-thread buffer first; all others read the input.
 *
 * <p>The micro-kernel keeps an {@link #MR} x {@link #NR} tile of outputs in registers ({@code MR x 2} vectors),
 * broadcasts one input value per row and multiplies it with two weight vectors of a packed panel: an outer
 * product with no horizontal reductions, starting from the bias (folded batchnorm). A task's sums go to a
 * per-thread buffer; then, row by row, an optional residual (read through its own strides, which is BagNet's
 * top-left crop of a larger shortcut) is added and an optional ReLU applied on the way to the output.
 */
public final class ConvKernel {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    /** Output rows (pixels) per micro-tile. */
    public static final int MR = 8;
    /** Output channels per micro-tile and per packed panel: two vectors. */
    public static final int NR = 2 * LANES;
    /** Output rows per task: a task reuses each weight panel for this many rows. */
    private static final int ROWS_PER_TASK = 16 * MR;
    private static final ThreadLocal<TaskScratch> TASK_SCRATCH = ThreadLocal.withInitial(TaskScratch::new);
    /** Tasks per thread to aim for, so that uneven ones balance out. */
    private static final int TASKS_PER_THREAD = 8;
    /**
     * A tile with this few rows runs row by row instead: a full tile would compute its last row again for each
     * missing one (a fully connected layer at batch 1, the one-row tail of a 7x7 map's 49 pixels).
     */
    private static final int SINGLE_ROWS = 2;
    /** The segments of a gathered window: one, the whole reduction. */
    private static final int[] WHOLE_WINDOW = {0};

    private ConvKernel() {
    }

    /** Output shape of {@code layer} applied to {@code input}, as {batch, height, width, channels}. */
    public static int[] outputShape(PackedConv layer, Tensor input) {
        if (input.channels() != layer.inChannels) {
            throw new BagNetException("convolution expects " + layer.inChannels + " input channels, got "
                    + input.channels());
        }
        int h = layer.outputSize(input.height());
        int w = layer.outputSize(input.width());
        if (h < 1 || w < 1) {
            throw new BagNetException("input " + input.height() + "x" + input.width() + " is smaller than the "
                    + layer.span() + "x" + layer.span() + " kernel");
        }
        return new int[] {input.batch(), h, w, layer.outChannels};
    }

    /** Allocates the output and runs {@link #run}. */
    public static Tensor apply(PackedConv layer, Tensor input, Tensor residual, boolean relu, Workers workers) {
        int[] s = outputShape(layer, input);
        Tensor out = Tensor.zeros(s[0], s[1], s[2], s[3]);
        run(layer, input, out, residual, relu, workers);
        return out;
    }

    /** Runs {@link #run} into an output taken from {@code workspace} (to be given back by the caller). */
    public static Tensor apply(PackedConv layer, Tensor input, Tensor residual, boolean relu, Workers workers,
            Workspace workspace) {
        int[] s = outputShape(layer, input);
        Tensor out = workspace.take(s[0], s[1], s[2], s[3]);
        run(layer, input, out, residual, relu, workers);
        return out;
    }

    /**
     * out = [relu](conv(input) + bias [+ residual cropped to out's height and width]). An output smaller than the
     * convolution's gets its top-left part, and only that part is computed.
     *
     * @param residual null, or a tensor with out's batch and channels and at least its height and width; it may be
     *     {@code out} itself when it has exactly out's height and width (an in-place block)
     */
    public static void run(PackedConv layer, Tensor input, Tensor out, Tensor residual, boolean relu,
            Workers workers) {
        int[] s = outputShape(layer, input);
        if (out.batch() != s[0] || out.height() > s[1] || out.width() > s[2] || out.channels() != s[3]) {
            throw new BagNetException("convolution output " + out + " does not fit in its output shape "
                    + Arrays.toString(s));
        }
        if (residual != null && (residual.batch() != out.batch() || residual.channels() != out.channels()
                || residual.height() < out.height() || residual.width() < out.width())) {
            throw new BagNetException("residual " + residual + " cannot be added to " + out);
        }
        execute(layer, new Geometry(layer, input, out, residual), input, null, out, residual, relu, workers);
    }

    private static void execute(PackedConv layer, Geometry g, Tensor input, PreActivation pre, Tensor out,
            Tensor residual, boolean relu, Workers workers) {
        long timer = KernelTimes.begin();
        try {
            runTasks(layer, g, input, pre, out, residual, relu, workers);
        } finally {
            if (timer != KernelTimes.OFF) {
                KernelTimes.end(timer, kind(layer, out, residual != null, pre != null),
                        KernelTimes.plane(input.height(), input.width(), input.channels()) + " -> "
                                + KernelTimes.plane(out.height(), out.width(), layer.outChannels),
                        (long) out.batch() * out.height() * out.width() * layer.macsPerPixel());
            }
        }
    }

    /** A layer's kind in a profile: "conv 3x3 stride 2", "conv 1x1 + residual", "fully connected" ... */
    private static String kind(PackedConv layer, Tensor out, boolean residual, boolean preActivated) {
        if (layer.kernel == 1 && out.height() == 1 && out.width() == 1 && !residual) {
            return "fully connected";
        }
        return "conv " + layer.kernel + "x" + layer.kernel + (layer.stride > 1 ? " stride " + layer.stride : "")
                + (layer.dilation > 1 ? " dilated" : "") + (residual ? " + residual" : "")
                + (preActivated ? " (bn-relu input)" : "");
    }

    private static void runTasks(PackedConv layer, Geometry g, Tensor input, PreActivation pre, Tensor out,
            Tensor residual, boolean relu, Workers workers) {
        int rows = out.batch() * out.height() * out.width();
        int rowTasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        // Few row tasks (late stages, the fully connected layer): split the output channels too, so that there are
        // enough tasks for the threads to finish together.
        int wanted = TASKS_PER_THREAD * workers.threads();
        int panelGroups = Math.min(layer.panelCount, Math.max(1, (wanted + rowTasks - 1) / rowTasks));
        int panelsPerGroup = (layer.panelCount + panelGroups - 1) / panelGroups;
        workers.parallelFor(rowTasks * panelGroups, task -> {
            int rowStart = (task / panelGroups) * ROWS_PER_TASK;
            int rowEnd = Math.min(rows, rowStart + ROWS_PER_TASK);
            int panelStart = (task % panelGroups) * panelsPerGroup;
            int panelEnd = Math.min(layer.panelCount, panelStart + panelsPerGroup);
            runTask(layer, g, input.data(), pre, out.data(), residual == null ? null : residual.data(), relu,
                    rowStart, rowEnd, panelStart, panelEnd);
        });
    }

    /**
     * A layer between channel slices: writes channels [outOffset, outOffset + outChannels) of each output pixel, with
     * bias and optional ReLU and no residual. A 1x1 layer may read just the first {@code layer.inChannels()}
     * channels of each input pixel, and activate them with {@code pre} (if not null) on the way. A DenseNet layer
     * reads the front of its block's buffer and writes its growth into the buffer's next slice: the concatenation
     * costs no copy.
     */
    public static void runSlices(PackedConv layer, Tensor input, PreActivation pre, Tensor out, int outOffset,
            boolean relu, Workers workers) {
        boolean pointwise = layer.kernel == 1 && layer.padding == 0;
        if (input.channels() != layer.inChannels && !(pointwise && input.channels() > layer.inChannels)) {
            throw new BagNetException("convolution reads " + layer.inChannels + " channels of an input with "
                    + input.channels());
        }
        if (pre != null && (!pointwise || pre.channels() < layer.inChannels)) {
            throw new BagNetException("a pre-activation takes a 1x1 convolution without padding");
        }
        int h = layer.outputSize(input.height());
        int w = layer.outputSize(input.width());
        if (h < 1 || w < 1) {
            throw new BagNetException("input " + input.height() + "x" + input.width() + " is smaller than the "
                    + layer.span() + "x" + layer.span() + " kernel");
        }
        if (out.batch() != input.batch() || out.height() != h || out.width() != w || outOffset < 0
                || outOffset + layer.outChannels > out.channels()) {
            throw new BagNetException("convolution output slice [" + outOffset + ", " + (outOffset
                    + layer.outChannels) + ") of " + out + " does not fit the output of " + input);
        }
        execute(layer, new Geometry(layer, input, out, null).withOutputOffset(outOffset), input, pre, out, null, relu,
                workers);
    }

    /**
     * A pointwise (1x1, stride 1) layer on {@code rows} consecutive pixels, on this thread: row i reads
     * {@code in[inAt + i * inChannels ...]}, adds {@code res[resAt + i * outChannels ...]} if res is not null, and
     * writes {@code out[outAt + i * outChannels ...]}. For running a block's layers one band of pixels at a time.
     */
    public static void runRows(PackedConv layer, float[] in, int inAt, float[] out, int outAt, float[] res, int resAt,
            int rows, boolean relu) {
        if (layer.kernel != 1 || layer.stride != 1) {
            throw new BagNetException("runRows takes a 1x1 convolution with stride 1");
        }
        Geometry g = new Geometry(1, rows, 1, rows, layer.inChannels, 1, 0, 1, layer.outChannels, 1, rows,
                new int[] {0}, inAt, resAt, outAt);
        for (int start = 0; start < rows; start += ROWS_PER_TASK) {
            runTask(layer, g, in, null, out, res, relu, start, Math.min(rows, start + ROWS_PER_TASK), 0,
                    layer.panelCount);
        }
    }

    /**
     * Maps output rows (pixels) to the offsets of their input windows, their residual pixels and themselves, each
     * from a base offset into its array. A padded window's offset may lie outside its image (even below 0): only
     * the parts inside are read.
     */
    private record Geometry(int outHeight, int outWidth, int inHeight, int inWidth, int inChannels, int stride,
            int padding, int span, int outChannels, int resHeight, int resWidth, int[] segments, int inBase,
            int resBase, int outBase) {
        Geometry(PackedConv layer, Tensor in, Tensor out, Tensor res) {
            this(out.height(), out.width(), in.height(), in.width(), in.channels(), layer.stride, layer.padding,
                    layer.span(), out.channels(), res == null ? 0 : res.height(), res == null ? 0 : res.width(),
                    segmentOffsets(layer, in.width()), 0, 0, 0);
        }

        /** The same rows written from channel {@code offset} of each output pixel on. */
        Geometry withOutputOffset(int offset) {
            return new Geometry(outHeight, outWidth, inHeight, inWidth, inChannels, stride, padding, span, outChannels,
                    resHeight, resWidth, segments, inBase, resBase, outBase + offset);
        }

        /**
         * Input-window and residual offsets of rows [start, end), walking the pixels in order so that only the
         * first row needs divisions (they would cost as much as a whole tile's arithmetic for small layers). With
         * padding, also each window's top-left input pixel and whether the window crosses the input's edge.
         */
        void offsets(int start, int end, TaskScratch t) {
            int pixels = outHeight * outWidth;
            int n = start / pixels;
            int y = (start % pixels) / outWidth;
            int x = start % outWidth;
            for (int i = 0; i < end - start; i++) {
                int top = y * stride - padding;
                int left = x * stride - padding;
                t.inRows[i] = inBase + ((n * inHeight + top) * inWidth + left) * inChannels;
                t.resRows[i] = resBase + ((n * resHeight + y) * resWidth + x) * outChannels;
                if (padding > 0) {
                    t.top[i] = top;
                    t.left[i] = left;
                    t.crossesEdge[i] = top < 0 || left < 0 || top + span > inHeight || left + span > inWidth;
                }
                if (++x == outWidth) {
                    x = 0;
                    if (++y == outHeight) {
                        y = 0;
                        n++;
                    }
                }
            }
        }

        /**
         * Copies the window of a row that crosses the input's edge to {@code window[at ...]}, in the packed
         * weights' (ky, kx, channel) order, zeros where it lies outside.
         */
        void gather(float[] in, TaskScratch t, int row, int kernel, float[] window, int at) {
            int top = t.top[row];
            int left = t.left[row];
            int firstColumn = Math.max(0, -left);
            int lastColumn = Math.min(kernel, inWidth - left);
            for (int ky = 0; ky < kernel; ky++) {
                int dst = at + ky * kernel * inChannels;
                if (top + ky < 0 || top + ky >= inHeight || firstColumn >= lastColumn) {
                    Arrays.fill(window, dst, dst + kernel * inChannels, 0f);
                    continue;
                }
                Arrays.fill(window, dst, dst + firstColumn * inChannels, 0f);
                System.arraycopy(in, t.inRows[row] + (ky * inWidth + firstColumn) * inChannels, window,
                        dst + firstColumn * inChannels, (lastColumn - firstColumn) * inChannels);
                Arrays.fill(window, dst + lastColumn * inChannels, dst + kernel * inChannels, 0f);
            }
        }
    }

    /**
     * Where the reduction of one output pixel reads, relative to its window's first input value: one segment per
     * kernel row when the taps of a row are adjacent (no dilation), else one per tap.
     */
    private static int[] segmentOffsets(PackedConv layer, int inWidth) {
        int k = layer.kernel;
        int c = layer.inChannels;
        if (layer.dilation == 1) {
            int[] offsets = new int[k];
            for (int ky = 0; ky < k; ky++) {
                offsets[ky] = ky * inWidth * c;
            }
            return offsets;
        }
        int[] offsets = new int[k * k];
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                offsets[ky * k + kx] = (ky * inWidth + kx) * layer.dilation * c;
            }
        }
        return offsets;
    }

    private static void runTask(PackedConv layer, Geometry g, float[] input, PreActivation pre, float[] out,
            float[] res, boolean relu, int rowStart, int rowEnd, int panelStart, int panelEnd) {
        int[] segments = g.segments();
        int segmentLength = layer.kernel * layer.kernel * layer.inChannels / segments.length;
        TaskScratch t = TASK_SCRATCH.get();
        g.offsets(rowStart, rowEnd, t);
        float[] in = input;
        if (pre != null) {
            // A 1x1 layer's rows, activated once into cache for all of the task's panels.
            in = t.activated((rowEnd - rowStart) * layer.inChannels);
            for (int i = 0; i < rowEnd - rowStart; i++) {
                pre.apply(input, t.inRows[i], in, i * layer.inChannels, layer.inChannels);
                t.inRows[i] = i * layer.inChannels;
            }
        }
        int[] inOff = t.inOff;
        int[] tileOff = t.tileOff;
        int reduction = layer.kernel * layer.kernel * layer.inChannels;
        int stride = (panelEnd - panelStart) * NR;
        float[] sums = t.sums(ROWS_PER_TASK * stride);
        for (int panel = panelStart; panel < panelEnd; panel++) {
            for (int m = rowStart; m < rowEnd; m += MR) {
                int rows = Math.min(MR, rowEnd - m);
                boolean crossesEdge = false;
                for (int r = 0; r < MR; r++) {
                    // Rows past the end repeat the last row; their results are not kept.
                    int row = m + Math.min(r, rows - 1) - rowStart;
                    inOff[r] = t.inRows[row];
                    tileOff[r] = (m - rowStart + r) * stride + (panel - panelStart) * NR;
                    crossesEdge |= layer.padding > 0 && t.crossesEdge[row];
                }
                if (rows <= SINGLE_ROWS && !crossesEdge) {
                    for (int r = 0; r < rows; r++) {
                        row(in, inOff[r], segments, segmentLength, layer.weights, panel * reduction * NR, layer.bias,
                                panel * NR, sums, tileOff[r]);
                    }
                } else if (crossesEdge) {
                    float[] window = t.window(MR * reduction);
                    for (int r = 0; r < MR; r++) {
                        inOff[r] = Math.min(r, rows - 1) * reduction;
                        if (r < rows) {
                            g.gather(in, t, m + r - rowStart, layer.kernel, window, inOff[r]);
                        }
                    }
                    tile(window, inOff, WHOLE_WINDOW, reduction, layer.weights, panel * reduction * NR, layer.bias,
                            panel * NR, sums, tileOff);
                } else {
                    tile(in, inOff, segments, segmentLength, layer.weights, panel * reduction * NR, layer.bias,
                            panel * NR, sums, tileOff);
                }
            }
        }
        int colStart = panelStart * NR;
        int cols = Math.min(panelEnd * NR, layer.outChannels) - colStart;
        for (int row = rowStart; row < rowEnd; row++) {
            finishRow(sums, (row - rowStart) * stride, out, g.outBase() + row * g.outChannels() + colStart, cols,
                    res, t.resRows[row - rowStart] + colStart, relu);
        }
    }

    /**
     * Writes one row of a task's sums to the output, adding the residual and applying ReLU on the way. Done row by
     * row after the task's tiles, so that the residual and the output are read and written as sequential runs that
     * the hardware prefetches (a tile's eight rows lie a whole output row apart); each residual value is read before
     * the output value at its place is written, so they may share storage (an in-place block).
     */
    private static void finishRow(float[] sums, int from, float[] out, int to, int cols, float[] res, int resAt,
            boolean relu) {
        for (int j = 0; j < cols; j += LANES) {
            VectorMask<Float> mask = SPECIES.indexInRange(j, cols);
            FloatVector v = FloatVector.fromArray(SPECIES, sums, from + j);
            if (res != null) {
                v = v.add(FloatVector.fromArray(SPECIES, res, resAt + j, mask));
            }
            if (relu) {
                v = v.max(0f);
            }
            v.intoArray(out, to + j, mask);
        }
    }

    /**
     * One MR x NR tile of bias + convolution, stored unmasked to eight row offsets of {@code dst}: the hot loop, an
     * outer product per reduction step (16 accumulators, 2 weight vectors, a broadcast). No vector crosses a
     * method boundary, so none is ever boxed.
     */
    private static void tile(float[] in, int[] inOff, int[] segments, int segmentLength, float[] w, int wOff,
            float[] bias, int col, float[] dst, int[] dOff) {
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, col);
        FloatVector b1 = FloatVector.fromArray(SPECIES, bias, col + LANES);
        FloatVector c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        FloatVector c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        int wp = wOff;
        for (int shift : segments) {
            int p0 = inOff[0] + shift, p1 = inOff[1] + shift, p2 = inOff[2] + shift, p3 = inOff[3] + shift;
            int p4 = inOff[4] + shift, p5 = inOff[5] + shift, p6 = inOff[6] + shift, p7 = inOff[7] + shift;
            for (int k = 0; k < segmentLength; k++, wp += NR) {
                FloatVector w0 = FloatVector.fromArray(SPECIES, w, wp);
                FloatVector w1 = FloatVector.fromArray(SPECIES, w, wp + LANES);
                FloatVector a = FloatVector.broadcast(SPECIES, in[p0 + k]);
                c00 = a.fma(w0, c00); c01 = a.fma(w1, c01);
                a = FloatVector.broadcast(SPECIES, in[p1 + k]);
                c10 = a.fma(w0, c10); c11 = a.fma(w1, c11);
                a = FloatVector.broadcast(SPECIES, in[p2 + k]);
                c20 = a.fma(w0, c20); c21 = a.fma(w1, c21);
                a = FloatVector.broadcast(SPECIES, in[p3 + k]);
                c30 = a.fma(w0, c30); c31 = a.fma(w1, c31);
                a = FloatVector.broadcast(SPECIES, in[p4 + k]);
                c40 = a.fma(w0, c40); c41 = a.fma(w1, c41);
                a = FloatVector.broadcast(SPECIES, in[p5 + k]);
                c50 = a.fma(w0, c50); c51 = a.fma(w1, c51);
                a = FloatVector.broadcast(SPECIES, in[p6 + k]);
                c60 = a.fma(w0, c60); c61 = a.fma(w1, c61);
                a = FloatVector.broadcast(SPECIES, in[p7 + k]);
                c70 = a.fma(w0, c70); c71 = a.fma(w1, c71);
            }
        }
        c00.intoArray(dst, dOff[0]); c01.intoArray(dst, dOff[0] + LANES);
        c10.intoArray(dst, dOff[1]); c11.intoArray(dst, dOff[1] + LANES);
        c20.intoArray(dst, dOff[2]); c21.intoArray(dst, dOff[2] + LANES);
        c30.intoArray(dst, dOff[3]); c31.intoArray(dst, dOff[3] + LANES);
        c40.intoArray(dst, dOff[4]); c41.intoArray(dst, dOff[4] + LANES);
        c50.intoArray(dst, dOff[5]); c51.intoArray(dst, dOff[5] + LANES);
        c60.intoArray(dst, dOff[6]); c61.intoArray(dst, dOff[6] + LANES);
        c70.intoArray(dst, dOff[7]); c71.intoArray(dst, dOff[7] + LANES);
    }

    /** One row of a tile: the same outer product with a single broadcast (a GEMV step). */
    private static void row(float[] in, int inOff, int[] segments, int segmentLength, float[] w, int wOff,
            float[] bias, int col, float[] dst, int dOff) {
        FloatVector c0 = FloatVector.fromArray(SPECIES, bias, col);
        FloatVector c1 = FloatVector.fromArray(SPECIES, bias, col + LANES);
        int wp = wOff;
        for (int shift : segments) {
            int p = inOff + shift;
            for (int k = 0; k < segmentLength; k++, wp += NR) {
                FloatVector a = FloatVector.broadcast(SPECIES, in[p + k]);
                c0 = a.fma(FloatVector.fromArray(SPECIES, w, wp), c0);
                c1 = a.fma(FloatVector.fromArray(SPECIES, w, wp + LANES), c1);
            }
        }
        c0.intoArray(dst, dOff);
        c1.intoArray(dst, dOff + LANES);
    }

    /** A thread's row offsets and a task's sums, so that a task allocates nothing. */
    private static final class TaskScratch {
        final int[] inRows = new int[ROWS_PER_TASK];
        final int[] resRows = new int[ROWS_PER_TASK];
        /** With padding: each row's window origin (its top-left input pixel) and whether it crosses the edge. */
        final int[] top = new int[ROWS_PER_TASK];
        final int[] left = new int[ROWS_PER_TASK];
        final boolean[] crossesEdge = new boolean[ROWS_PER_TASK];
        final int[] inOff = new int[MR];
        final int[] tileOff = new int[MR];
        private float[] sums = new float[0];
        private float[] window = new float[0];
        private float[] activated = new float[0];

        /**
         * The task's bias + convolution sums, [row][its output channels], before the residual and ReLU: at most
         * 128 rows by the layer's output channels (1 MB for BagNet's widest layers, 2048 channels).
         */
        float[] sums(int size) {
            if (sums.length < size) {
                sums = new float[size];
            }
            return sums;
        }

        /** A task's input rows after a {@link PreActivation}, [row][inChannels]. */
        float[] activated(int size) {
            if (activated.length < size) {
                activated = new float[size];
            }
            return activated;
        }

        /** A tile's gathered windows, [MR][reduction]: 147 KB for a 3x3 convolution over 512 channels. */
        float[] window(int size) {
            if (window.length < size) {
                window = new float[size];
            }
            return window;
        }
    }
}
