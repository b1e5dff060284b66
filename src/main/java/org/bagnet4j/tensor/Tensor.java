package org.bagnet4j.tensor;

import java.util.Arrays;
import java.util.List;

import org.bagnet4j.BagNetException;

/**
 * A float32 tensor of rank 4 in NHWC layout: batch, height, width, channels, with channels innermost so that a
 * 1x1 convolution is a matrix product over contiguous rows. The data array is owned by the tensor.
 */
public final class Tensor {
    /** The most elements a tensor holds: what a Java array can. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 16;

    private final int batch;
    private final int height;
    private final int width;
    private final int channels;
    private final float[] data;

    private Tensor(int batch, int height, int width, int channels, float[] data) {
        this.batch = batch;
        this.height = height;
        this.width = width;
        this.channels = channels;
        this.data = data;
    }

    /** A zero-filled tensor of the given NHWC shape. */
    public static Tensor zeros(int batch, int height, int width, int channels) {
        return new Tensor(batch, height, width, channels, new float[checkedSize(batch, height, width, channels)]);
    }

    /** Wraps NHWC data without copying; the array length must equal the shape's element count. */
    public static Tensor wrap(float[] data, int batch, int height, int width, int channels) {
        int size = checkedSize(batch, height, width, channels);
        if (data.length != size) {
            throw new BagNetException("tensor data has " + data.length + " values but shape "
                    + shapeString(batch, height, width, channels) + " needs " + size);
        }
        return new Tensor(batch, height, width, channels, data);
    }

    /** Converts NCHW data (PyTorch's layout) to an NHWC tensor. */
    public static Tensor fromNchw(float[] nchw, int batch, int channels, int height, int width) {
        Tensor t = zeros(batch, height, width, channels);
        if (nchw.length != t.data.length) {
            throw new BagNetException("NCHW data has " + nchw.length + " values but shape ["
                    + batch + ", " + channels + ", " + height + ", " + width + "] needs " + t.data.length);
        }
        int plane = height * width;
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int src = (n * channels + c) * plane;
                for (int p = 0; p < plane; p++) {
                    t.data[(n * plane + p) * channels + c] = nchw[src + p];
                }
            }
        }
        return t;
    }

    /** Joins tensors of equal height, width and channels along the batch axis. */
    public static Tensor concat(List<Tensor> parts) {
        Tensor first = parts.getFirst();
        int batch = 0;
        for (Tensor t : parts) {
            if (t.height != first.height || t.width != first.width || t.channels != first.channels) {
                throw new BagNetException("cannot batch " + t + " with " + first);
            }
            batch += t.batch;
        }
        Tensor out = zeros(batch, first.height, first.width, first.channels);
        int offset = 0;
        for (Tensor t : parts) {
            System.arraycopy(t.data, 0, out.data, offset, t.data.length);
            offset += t.data.length;
        }
        return out;
    }

    static int checkedSize(int batch, int height, int width, int channels) {
        if (batch <= 0 || height <= 0 || width <= 0 || channels <= 0) {
            throw new BagNetException("tensor shape " + shapeString(batch, height, width, channels)
                    + " must have positive dimensions");
        }
        long size = (long) batch * height * width * channels;
        if (size > MAX_ELEMENTS) {
            throw new BagNetException("tensor shape " + shapeString(batch, height, width, channels)
                    + " has " + size + " elements, more than a Java array holds");
        }
        return (int) size;
    }

    private static String shapeString(int n, int h, int w, int c) {
        return "[" + n + ", " + h + ", " + w + ", " + c + "] (NHWC)";
    }

    public int batch() {
        return batch;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int channels() {
        return channels;
    }

    /** The backing NHWC array (not a copy). */
    public float[] data() {
        return data;
    }

    /** Number of float values. */
    public int size() {
        return data.length;
    }

    public float get(int n, int y, int x, int c) {
        return data[((n * height + y) * width + x) * channels + c];
    }

    /** The shape as {batch, height, width, channels}. */
    public int[] shape() {
        return new int[] {batch, height, width, channels};
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape()) + " NHWC";
    }
}
