package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;

/** Comparisons of float arrays: error relative to the reference's largest magnitude, rankings. */
public final class Compare {
    private Compare() {
    }

    public static float maxAbs(float[] values) {
        float max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    /** max |actual - expected| / max |expected|. */
    public static double relativeError(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
        }
        double scale = maxAbs(expected);
        return scale == 0 ? worst : worst / scale;
    }

    public static void assertClose(String what, float[] actual, float[] expected, double tolerance) {
        double error = relativeError(actual, expected);
        assertThat(error).as("%s: max |diff| / max |ref| = %.3g", what, error).isLessThanOrEqualTo(tolerance);
    }

    /** Indices of the k largest values, largest first. */
    public static int[] topK(float[] values, int k) {
        return java.util.stream.IntStream.range(0, values.length).boxed()
                .sorted((a, b) -> Float.compare(values[b], values[a])).limit(k).mapToInt(Integer::intValue).toArray();
    }
}
