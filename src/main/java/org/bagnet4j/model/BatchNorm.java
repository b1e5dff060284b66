package org.bagnet4j.model;

/**
 * Folds an inference-mode batchnorm into the convolution before it: with s = gamma / sqrt(var + eps), the pair
 * computes s * conv(x) + (beta - s * mean), i.e. a convolution with weights scaled by s per output channel and
 * that bias. Done once at load time.
 */
final class BatchNorm {
    /** PyTorch's BatchNorm2d default, which the BagNet reference uses. */
    static final double EPS = 1e-5;

    /** Folded weights (same layout as given, [out][...]) and bias. */
    record Folded(float[] weight, float[] bias) {
    }

    private BatchNorm() {
    }

    static Folded fold(float[] convWeight, int outChannels, float[] gamma, float[] beta, float[] mean, float[] var) {
        int perChannel = convWeight.length / outChannels;
        float[] weight = new float[convWeight.length];
        float[] bias = new float[outChannels];
        for (int c = 0; c < outChannels; c++) {
            double scale = gamma[c] / Math.sqrt(var[c] + EPS);
            for (int i = c * perChannel; i < (c + 1) * perChannel; i++) {
                weight[i] = (float) (convWeight[i] * scale);
            }
            bias[c] = (float) (beta[c] - mean[c] * scale);
        }
        return new Folded(weight, bias);
    }
}
