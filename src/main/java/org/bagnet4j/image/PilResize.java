package org.bagnet4j.image;

/**
 * Bilinear resizing exactly as PIL's {@code Image.resize(size, BILINEAR)} computes it on 8-bit images, which is
 * what torchvision's {@code Resize} does to PIL images: a triangle filter widened by the scale factor when
 * shrinking (antialiasing), weights in 22-bit fixed point, a horizontal pass rounded to 8 bits, then a vertical
 * pass.
 */
public final class PilResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResize() {
    }

    /** The filter taps of one output pixel: first input index, and integer weights. */
    private record Taps(int[] first, int[][] weights) {
    }

    public static RgbImage resize(RgbImage in, int width, int height) {
        RgbImage out = in;
        if (width != in.width()) {
            out = pass(out, taps(in.width(), width), true);
        }
        if (height != in.height()) {
            out = pass(out, taps(in.height(), height), false);
        }
        return out;
    }

    private static Taps taps(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double reciprocal = 1.0 / filterScale;
        double support = filterScale; // the bilinear filter's support is 1
        int[] first = new int[outSize];
        int[][] weights = new int[outSize][];
        for (int o = 0; o < outSize; o++) {
            double center = (o + 0.5) * scale;
            int min = Math.max((int) (center - support + 0.5), 0);
            int count = Math.max(Math.min((int) (center + support + 0.5), inSize) - min, 0);
            double[] w = new double[count];
            double sum = 0;
            for (int i = 0; i < count; i++) {
                double t = Math.abs((i + min - center + 0.5) * reciprocal);
                w[i] = t < 1.0 ? 1.0 - t : 0.0;
                sum += w[i];
            }
            int[] fixed = new int[count];
            for (int i = 0; i < count; i++) {
                double k = sum != 0 ? w[i] / sum : w[i];
                fixed[i] = (int) (k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
            }
            first[o] = min;
            weights[o] = fixed;
        }
        return new Taps(first, weights);
    }

    /** One separable pass along x ({@code horizontal}) or y, rounding to 8 bits as PIL does. */
    private static RgbImage pass(RgbImage in, Taps taps, boolean horizontal) {
        int w = horizontal ? taps.first.length : in.width();
        int h = horizontal ? in.height() : taps.first.length;
        int step = horizontal ? 3 : 3 * in.width();
        byte[] src = in.rgb();
        byte[] dst = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int along = horizontal ? x : y;
                int[] k = taps.weights[along];
                int p = horizontal ? (y * in.width() + taps.first[along]) * 3 : (taps.first[along] * in.width() + x) * 3;
                int r = 1 << (PRECISION_BITS - 1), g = r, b = r;
                for (int i = 0; i < k.length; i++, p += step) {
                    r += (src[p] & 0xff) * k[i];
                    g += (src[p + 1] & 0xff) * k[i];
                    b += (src[p + 2] & 0xff) * k[i];
                }
                int o = (y * w + x) * 3;
                dst[o] = (byte) clip8(r);
                dst[o + 1] = (byte) clip8(g);
                dst[o + 2] = (byte) clip8(b);
            }
        }
        return new RgbImage(w, h, dst);
    }

    private static int clip8(int accumulator) {
        int v = accumulator >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }
}
