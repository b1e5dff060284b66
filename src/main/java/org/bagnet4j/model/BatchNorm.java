package org.bagnet4j.model;

import org.bagnet4j.BagNetException;

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

    /**
     * @param name the batchnorm's state_dict prefix, for messages
     * @throws BagNetException when a variance is negative or the folded values overflow float32
     */
    static Folded fold(String name, float[] convWeight, int outChannels, float[] gamma, float[] beta, float[] mean,
            float[] var) {
        int perChannel = convWeight.length / outChannels;
        float[] weight = new float[convWeight.length];
        float[] bias = new float[outChannels];
        for (int c = 0; c < outChannels; c++) {
            if (!(var[c] >= 0)) {
                throw new BagNetException(name + ".running_var[" + c + "] = " + var[c] + " is negative");
            }
            double scale = gamma[c] / Math.sqrt(var[c] + EPS);
            for (int i = c * perChannel; i < (c + 1) * perChannel; i++) {
                weight[i] = finite(name, (float) (convWeight[i] * scale));
            }
            bias[c] = finite(name, (float) (beta[c] - mean[c] * scale));
        }
        return new Folded(weight, bias);
    }

    private static float finite(String name, float value) {
        if (!Float.isFinite(value)) {
            throw new BagNetException(name + " folded into its convolution overflows float32 (huge weight or tiny "
                    + "running_var)");
        }
        return value;
    }
}
