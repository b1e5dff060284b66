package org.bagnet4j.kernels;

import org.bagnet4j.tensor.Tensor;

/** Plain scalar twins of the Vector API kernels, straight from the definitions; for tests only. */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    /** {@link #conv(Tensor, float[], float[], int, int, int, int, Tensor, boolean)} without dilation. */
    public static Tensor conv(Tensor in, float[] weight, float[] bias, int outChannels, int kernel, int stride,
            Tensor residual, boolean relu) {
        return conv(in, weight, bias, outChannels, kernel, stride, 1, residual, relu);
    }

    /**
     * Valid convolution, weights in PyTorch layout [out][in][k][k], taps {@code dilation} pixels apart, accumulated
     * in double: out = [relu](conv(in) + bias [+ residual's top-left part]).
     */
    public static Tensor conv(Tensor in, float[] weight, float[] bias, int outChannels, int kernel, int stride,
            int dilation, Tensor residual, boolean relu) {
        int cin = in.channels();
        int span = (kernel - 1) * dilation + 1;
        int oh = (in.height() - span) / stride + 1;
        int ow = (in.width() - span) / stride + 1;
        Tensor out = Tensor.zeros(in.batch(), oh, ow, outChannels);
        for (int n = 0; n < in.batch(); n++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int co = 0; co < outChannels; co++) {
                        double sum = bias == null ? 0 : bias[co];
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ky = 0; ky < kernel; ky++) {
                                for (int kx = 0; kx < kernel; kx++) {
                                    sum += (double) in.get(n, y * stride + ky * dilation, x * stride + kx * dilation, ci)
                                            * weight[((co * cin + ci) * kernel + ky) * kernel + kx];
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
}
