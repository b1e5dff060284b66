package org.bagnet4j.kernels;

import jdk.incubator.vector.FloatVector;

import org.bagnet4j.tensor.Tensor;

/** Global average pooling: the mean over all grid cells, per image and channel. */
public final class Pooling {
    private Pooling() {
    }

    /** [N, H, W, C] -> [N, 1, 1, C]. */
    public static Tensor meanOverGrid(Tensor in) {
        int c = in.channels();
        int cells = in.height() * in.width();
        Tensor out = Tensor.zeros(in.batch(), 1, 1, c);
        float[] src = in.data();
        float[] dst = out.data();
        int lanes = ConvKernel.LANES;
        int vectorEnd = c - c % lanes;
        float scale = 1f / cells;
        for (int n = 0; n < in.batch(); n++) {
            int base = n * cells * c;
            int o = n * c;
            for (int ch = 0; ch < vectorEnd; ch += lanes) {
                FloatVector sum = FloatVector.zero(ConvKernel.SPECIES);
                for (int cell = 0; cell < cells; cell++) {
                    sum = sum.add(FloatVector.fromArray(ConvKernel.SPECIES, src, base + cell * c + ch));
                }
                sum.mul(scale).intoArray(dst, o + ch);
            }
            for (int ch = vectorEnd; ch < c; ch++) {
                float sum = 0f;
                for (int cell = 0; cell < cells; cell++) {
                    sum += src[base + cell * c + ch];
                }
                dst[o + ch] = sum * scale;
            }
        }
        return out;
    }
}
