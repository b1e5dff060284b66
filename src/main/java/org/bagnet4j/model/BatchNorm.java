package org.bagnet4j.model;

import org.bagnet4j.BagNetException;
import org.bagnet4j.kernels.PreActivation;

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
     * @param convBias the convolution's own bias, or null for none
     * @throws BagNetException when a variance is negative or the folded values overflow float32
     */
    static Folded fold(String name, float[] convWeight, float[] convBias, int outChannels, float[] gamma,
            float[] beta, float[] mean, float[] var) {
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
            double shift = convBias == null ? 0 : convBias[c];
            bias[c] = finite(name, (float) (beta[c] + (shift - mean[c]) * scale));
        }
        return new Folded(weight, bias);
    }

    /** {@link #fold(String, float[], float[], int, float[], float[], float[], float[])} of a convolution without bias. */
    static Folded fold(String name, float[] convWeight, int outChannels, float[] gamma, float[] beta, float[] mean,
            float[] var) {
        return fold(name, convWeight, null, outChannels, gamma, beta, mean, var);
    }

    /**
     * A batchnorm that cannot be folded (it follows a concatenation), with the ReLU after it, as the per-channel
     * scale and shift its next layer applies while reading.
     */
    static PreActivation preActivation(String name, float[] gamma, float[] beta, float[] mean, float[] var) {
        float[] scale = new float[gamma.length];
        float[] shift = new float[gamma.length];
        for (int c = 0; c < gamma.length; c++) {
            if (!(var[c] >= 0)) {
                throw new BagNetException(name + ".running_var[" + c + "] = " + var[c] + " is negative");
            }
            double s = gamma[c] / Math.sqrt(var[c] + EPS);
            scale[c] = finite(name, (float) s);
            shift[c] = finite(name, (float) (beta[c] - mean[c] * s));
        }
        return new PreActivation(scale, shift);
    }

    private static float finite(String name, float value) {
        if (!Float.isFinite(value)) {
            throw new BagNetException(name + " folded into its convolution overflows float32 (huge weight or tiny "
                    + "running_var)");
        }
        return value;
    }
}
