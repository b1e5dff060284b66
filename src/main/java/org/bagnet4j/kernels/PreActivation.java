package org.bagnet4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;

/**
 * relu(x * scale + shift) per channel: an inference-mode batchnorm and ReLU that cannot be folded into the
 * convolution before them (DenseNet's, which follow a concatenation), applied where the next layer reads its input.
 */
public record PreActivation(float[] scale, float[] shift) {
    public PreActivation {
        if (scale.length != shift.length) {
            throw new BagNetException("pre-activation scale and shift differ in length");
        }
        scale = padded(scale);
        shift = padded(shift);
    }

    /** Zero-padded to whole vectors, so that masked tails never read past the end. */
    private static float[] padded(float[] values) {
        int lanes = ConvKernel.LANES;
        float[] padded = new float[(values.length + lanes - 1) / lanes * lanes];
        System.arraycopy(values, 0, padded, 0, values.length);
        return padded;
    }

    /** Channels it applies to (at least). */
    public int channels() {
        return scale.length;
    }

    /** Writes the activated first {@code count} channels of {@code src[from ...]} to {@code dst[to ...]}. */
    void apply(float[] src, int from, float[] dst, int to, int count) {
        for (int ch = 0; ch < count; ch += ConvKernel.LANES) {
            VectorMask<Float> mask = ConvKernel.SPECIES.indexInRange(ch, count);
            FloatVector x = FloatVector.fromArray(ConvKernel.SPECIES, src, from + ch, mask);
            x.fma(FloatVector.fromArray(ConvKernel.SPECIES, scale, ch),
                    FloatVector.fromArray(ConvKernel.SPECIES, shift, ch)).max(0f).intoArray(dst, to + ch, mask);
        }
    }

    /** Activates every value of a tensor in place (e.g. DenseNet's final norm5 and ReLU). */
    public void applyInPlace(Tensor x, Workers workers) {
        int c = x.channels();
        if (c > channels()) {
            throw new BagNetException("pre-activation of " + channels() + " channels applied to " + c);
        }
        int pixels = x.batch() * x.height() * x.width();
        workers.parallelFor(pixels, p -> apply(x.data(), p * c, x.data(), p * c, c));
    }
}
