package org.bagnet4j.kernels;

import org.bagnet4j.tensor.Tensor;

/** Plain scalar twins of the Vector API kernels, straight from the definitions; for tests only. */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    /** {@link #conv(Tensor, float[], float[], int, int, int, int, int, Tensor, boolean)} valid, without dilation. */
    public static Tensor conv(Tensor in, float[] weight, float[] bias, int outChannels, int kernel, int stride,
            Tensor residual, boolean relu) {
        return conv(in, weight, bias, outChannels, kernel, stride, 0, 1, residual, relu);
    }

    /** {@link #conv(Tensor, float[], float[], int, int, int, int, int, Tensor, boolean)} valid. */
    public static Tensor conv(Tensor in, float[] weight, float[] bias, int outChannels, int kernel, int stride,
            int dilation, Tensor residual, boolean relu) {
        return conv(in, weight, bias, outChannels, kernel, stride, 0, dilation, residual, relu);
    }

    /**
     * Convolution, weights in PyTorch layout [out][in][k][k], {@code padding} zeros around the input, taps
     * {@code dilation} pixels apart, accumulated in double: out = [relu](conv(in) + bias [+ residual's top-left
     * part]).
     */
    public static Tensor conv(Tensor in, float[] weight, float[] bias, int outChannels, int kernel, int stride,
            int padding, int dilation, Tensor residual, boolean relu) {
        int cin = in.channels();
        int span = (kernel - 1) * dilation + 1;
        int oh = (in.height() + 2 * padding - span) / stride + 1;
        int ow = (in.width() + 2 * padding - span) / stride + 1;
        Tensor out = Tensor.zeros(in.batch(), oh, ow, outChannels);
        for (int n = 0; n < in.batch(); n++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int co = 0; co < outChannels; co++) {
                        double sum = bias == null ? 0 : bias[co];
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ky = 0; ky < kernel; ky++) {
                                for (int kx = 0; kx < kernel; kx++) {
                                    int iy = y * stride + ky * dilation - padding;
                                    int ix = x * stride + kx * dilation - padding;
                                    if (iy >= 0 && iy < in.height() && ix >= 0 && ix < in.width()) {
                                        sum += (double) in.get(n, iy, ix, ci)
                                                * weight[((co * cin + ci) * kernel + ky) * kernel + kx];
                                    }
                                }
                            }
                        }
                        if (residual != null) {
                            sum += residual.get(n, y, x, co);
                        }
                        if (relu) {
                            sum = Math.max(0, sum);
                        }
                        out.data()[((n * oh + y) * ow + x) * outChannels + co] = (float) sum;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Mean over all cells of one image, per channel, in {@link GridMean}'s order: each row summed left to right in
     * float, the row sums added top to bottom in double.
     */
    public static float[] gridMean(Tensor in) {
        float[] mean = new float[in.channels()];
        for (int c = 0; c < in.channels(); c++) {
            double total = 0;
            for (int y = 0; y < in.height(); y++) {
                float row = 0f;
                for (int x = 0; x < in.width(); x++) {
                    row += in.get(0, y, x, c);
                }
                total += row;
            }
            mean[c] = (float) (total / (in.height() * in.width()));
        }
        return mean;
    }

    /** Max pooling by the definition, padding read as -infinity. */
    public static Tensor maxPool(Tensor in, int kernel, int stride, int padding) {
        return pool(in, kernel, stride, padding, true);
    }

    /** Average pooling by the definition, summed in double. */
    public static Tensor averagePool(Tensor in, int kernel, int stride) {
        return pool(in, kernel, stride, 0, false);
    }

    private static Tensor pool(Tensor in, int kernel, int stride, int padding, boolean max) {
        int oh = (in.height() + 2 * padding - kernel) / stride + 1;
        int ow = (in.width() + 2 * padding - kernel) / stride + 1;
        Tensor out = Tensor.zeros(in.batch(), oh, ow, in.channels());
        for (int n = 0; n < in.batch(); n++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int c = 0; c < in.channels(); c++) {
                        double value = max ? Double.NEGATIVE_INFINITY : 0;
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                int iy = y * stride + ky - padding;
                                int ix = x * stride + kx - padding;
                                if (iy >= 0 && iy < in.height() && ix >= 0 && ix < in.width()) {
                                    double v = in.get(n, iy, ix, c);
                                    value = max ? Math.max(value, v) : value + v;
                                }
                            }
                        }
                        out.data()[((n * oh + y) * ow + x) * in.channels() + c] =
                                (float) (max ? value : value / (kernel * kernel));
                    }
                }
            }
        }
        return out;
    }

    /** Adaptive average pooling by PyTorch's definition: cell i averages [floor(i n / side), ceil((i + 1) n / side)). */
    public static Tensor adaptiveAveragePool(Tensor in, int side) {
        Tensor out = Tensor.zeros(in.batch(), side, side, in.channels());
        for (int n = 0; n < in.batch(); n++) {
            for (int y = 0; y < side; y++) {
                int y0 = (int) Math.floor((double) y * in.height() / side);
                int y1 = (int) Math.ceil((double) (y + 1) * in.height() / side);
                for (int x = 0; x < side; x++) {
                    int x0 = (int) Math.floor((double) x * in.width() / side);
                    int x1 = (int) Math.ceil((double) (x + 1) * in.width() / side);
                    for (int c = 0; c < in.channels(); c++) {
                        double sum = 0;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                sum += in.get(n, iy, ix, c);
                            }
                        }
                        out.data()[((n * side + y) * side + x) * in.channels() + c] =
                                (float) (sum / ((y1 - y0) * (x1 - x0)));
                    }
                }
            }
        }
        return out;
    }
}
