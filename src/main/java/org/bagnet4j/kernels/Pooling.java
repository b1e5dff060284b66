package org.bagnet4j.kernels;

import java.util.function.IntConsumer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * Max and average pooling over k x k windows of NHWC tensors, vectorized over channels, one task per output row.
 * Sizes follow PyTorch's floor rule, (in + 2 padding - k) / stride + 1; padding counts as -infinity for the
 * maximum (it is never chosen), and average pooling takes no padding. Adaptive average pooling to a fixed size.
 */
public final class Pooling {
    private Pooling() {
    }

    /** Output size along one axis (0 when the window does not fit). */
    public static int outputSize(int inputSize, int kernel, int stride, int padding) {
        long padded = (long) inputSize + 2L * padding;
        return padded < kernel ? 0 : (int) ((padded - kernel) / stride + 1);
    }

    /** Max pooling into a tensor taken from {@code workspace}; padding below half the kernel, as PyTorch requires. */
    public static Tensor max(Tensor in, int kernel, int stride, int padding, Workers workers, Workspace workspace) {
        checkGeometry(kernel, stride, padding);
        Tensor out = take(in, kernel, stride, padding, workspace);
        max(in, kernel, stride, padding, out, 0, workers);
        return out;
    }

    /**
     * Max pooling into channels [outOffset, outOffset + in.channels()) of each pixel of {@code out} (the front of a
     * DenseNet block's buffer).
     */
    public static void max(Tensor in, int kernel, int stride, int padding, Tensor out, int outOffset,
            Workers workers) {
        checkGeometry(kernel, stride, padding);
        int c = in.channels();
        if (out.batch() != in.batch() || out.height() != outputSize(in.height(), kernel, stride, padding)
                || out.width() != outputSize(in.width(), kernel, stride, padding) || outOffset < 0
                || outOffset + c > out.channels()) {
            throw new BagNetException("pooling output " + out + " (from channel " + outOffset + ") does not fit " + in);
        }
        int stridePerPixel = out.channels();
        forEachRow("max pool", kernel, in, out.height(), out.width(), workers, row -> {
            int n = row / out.height();
            int y = row % out.height();
            int top = y * stride - padding;
            int firstRow = Math.max(0, top);
            int lastRow = Math.min(in.height(), top + kernel);
            for (int x = 0; x < out.width(); x++) {
                int left = x * stride - padding;
                int firstColumn = Math.max(0, left);
                int lastColumn = Math.min(in.width(), left + kernel);
                int to = ((n * out.height() + y) * out.width() + x) * stridePerPixel + outOffset;
                for (int ch = 0; ch < c; ch += ConvKernel.LANES) {
                    VectorMask<Float> mask = ConvKernel.SPECIES.indexInRange(ch, c);
                    FloatVector m = FloatVector.broadcast(ConvKernel.SPECIES, Float.NEGATIVE_INFINITY);
                    for (int iy = firstRow; iy < lastRow; iy++) {
                        for (int ix = firstColumn; ix < lastColumn; ix++) {
                            m = m.max(FloatVector.fromArray(ConvKernel.SPECIES, in.data(),
                                    ((n * in.height() + iy) * in.width() + ix) * c + ch, mask));
                        }
                    }
                    m.intoArray(out.data(), to + ch, mask);
                }
            }
        });
    }

    /** Average pooling without padding into a tensor taken from {@code workspace}: window sums, then / k^2. */
    public static Tensor average(Tensor in, int kernel, int stride, Workers workers, Workspace workspace) {
        return average(in, kernel, stride, null, workers, workspace);
    }

    /**
     * Average pooling of {@code pre}'s activation of the input (if not null), without padding: window sums, then
     * / k^2. DenseNet's transitions pool relu(bn(x)) this way before their 1x1 convolution (the two commute).
     */
    public static Tensor average(Tensor in, int kernel, int stride, PreActivation pre, Workers workers,
            Workspace workspace) {
        checkGeometry(kernel, stride, 0);
        int c = in.channels();
        if (pre != null && pre.channels() < c) {
            throw new BagNetException("pre-activation of " + pre.channels() + " channels applied to " + c);
        }
        Tensor out = take(in, kernel, stride, 0, workspace);
        float divisor = kernel * kernel;
        forEachRow(pre == null ? "average pool" : "average pool (bn-relu input)", kernel, in, out.height(),
                out.width(), workers, row -> {
            int n = row / out.height();
            int y = row % out.height();
            for (int x = 0; x < out.width(); x++) {
                int to = ((n * out.height() + y) * out.width() + x) * c;
                for (int ch = 0; ch < c; ch += ConvKernel.LANES) {
                    VectorMask<Float> mask = ConvKernel.SPECIES.indexInRange(ch, c);
                    FloatVector scale = pre == null ? null : FloatVector.fromArray(ConvKernel.SPECIES, pre.scale(), ch);
                    FloatVector shift = pre == null ? null : FloatVector.fromArray(ConvKernel.SPECIES, pre.shift(), ch);
                    FloatVector sum = FloatVector.zero(ConvKernel.SPECIES);
                    for (int iy = y * stride; iy < y * stride + kernel; iy++) {
                        for (int ix = x * stride; ix < x * stride + kernel; ix++) {
                            FloatVector v = FloatVector.fromArray(ConvKernel.SPECIES, in.data(),
                                    ((n * in.height() + iy) * in.width() + ix) * c + ch, mask);
                            sum = sum.add(pre == null ? v : v.fma(scale, shift).max(0f));
                        }
                    }
                    sum.div(divisor).intoArray(out.data(), to + ch, mask);
                }
            }
        });
        return out;
    }

    /**
     * Adaptive average pooling to {@code side} x {@code side}, PyTorch's rule: output cell i of an axis of size n
     * averages input cells [floor(i n / side), ceil((i + 1) n / side)), so windows may overlap or repeat.
     */
    public static Tensor adaptiveAverage(Tensor in, int side, Workers workers, Workspace workspace) {
        if (side < 1) {
            throw new BagNetException("adaptive pooling to " + side + "x" + side);
        }
        Tensor out = workspace.take(in.batch(), side, side, in.channels());
        int c = in.channels();
        forEachRow("adaptive average pool", 0, in, side, side, workers, row -> {
            int n = row / side;
            int y = row % side;
            int top = binStart(y, in.height(), side);
            int bottom = binStart(y + 1, in.height(), side, true);
            for (int x = 0; x < side; x++) {
                int left = binStart(x, in.width(), side);
                int right = binStart(x + 1, in.width(), side, true);
                float divisor = (bottom - top) * (right - left);
                int to = ((n * side + y) * side + x) * c;
                for (int ch = 0; ch < c; ch += ConvKernel.LANES) {
                    VectorMask<Float> mask = ConvKernel.SPECIES.indexInRange(ch, c);
                    FloatVector sum = FloatVector.zero(ConvKernel.SPECIES);
                    for (int iy = top; iy < bottom; iy++) {
                        for (int ix = left; ix < right; ix++) {
                            sum = sum.add(FloatVector.fromArray(ConvKernel.SPECIES, in.data(),
                                    ((n * in.height() + iy) * in.width() + ix) * c + ch, mask));
                        }
                    }
                    sum.div(divisor).intoArray(out.data(), to + ch, mask);
                }
            }
        });
        return out;
    }

    /**
     * Runs {@code body} for each output row of the batch, timed as one kernel ({@link KernelTimes}) of this kind and
     * window (0: adaptive).
     */
    private static void forEachRow(String kind, int kernel, Tensor in, int outHeight, int outWidth, Workers workers,
            IntConsumer body) {
        long timer = KernelTimes.begin();
        try {
            workers.parallelFor(in.batch() * outHeight, body);
        } finally {
            if (timer != KernelTimes.OFF) {
                KernelTimes.end(timer, kernel > 0 ? kind + " " + kernel + "x" + kernel : kind, KernelTimes.plane(in.height(), in.width(), in.channels()) + " -> "
                        + KernelTimes.plane(outHeight, outWidth, in.channels()), 0);
            }
        }
    }

    private static int binStart(int i, int size, int bins) {
        return binStart(i, size, bins, false);
    }

    /** floor(i * size / bins), or with {@code ceil} the ceiling. */
    private static int binStart(int i, int size, int bins, boolean ceil) {
        long product = (long) i * size;
        return (int) (ceil ? (product + bins - 1) / bins : product / bins);
    }

    private static void checkGeometry(int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new BagNetException("bad pooling geometry: kernel " + kernel + ", stride " + stride + ", padding "
                    + padding);
        }
    }

    private static Tensor take(Tensor in, int kernel, int stride, int padding, Workspace workspace) {
        int h = outputSize(in.height(), kernel, stride, padding);
        int w = outputSize(in.width(), kernel, stride, padding);
        if (h < 1 || w < 1) {
            throw new BagNetException("input " + in.height() + "x" + in.width() + " is smaller than the " + kernel
                    + "x" + kernel + " pooling window");
        }
        return workspace.take(in.batch(), h, w, in.channels());
    }
}
