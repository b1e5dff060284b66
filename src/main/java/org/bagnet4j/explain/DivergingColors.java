package org.bagnet4j.explain;

/**
 * A symmetric diverging colour scale, blue (against) through white (0) to red (for): the stops of ColorBrewer's
 * RdBu scheme, which the reference heatmaps use (matplotlib's RdBu_r).
 */
final class DivergingColors {
    private static final int[][] STOPS = {
        {5, 48, 97}, {33, 102, 172}, {67, 147, 195}, {146, 197, 222}, {209, 229, 240}, {247, 247, 247},
        {253, 219, 199}, {244, 165, 130}, {214, 96, 77}, {178, 24, 43}, {103, 0, 31}};

    private DivergingColors() {
    }

    /** RGB of a value scaled to [-1, 1] (clipped). */
    static int rgb(double scaled) {
        double t = (Math.max(-1, Math.min(1, scaled)) + 1) / 2 * (STOPS.length - 1);
        int i = Math.min((int) t, STOPS.length - 2);
        double f = t - i;
        int r = (int) Math.round(STOPS[i][0] + f * (STOPS[i + 1][0] - STOPS[i][0]));
        int g = (int) Math.round(STOPS[i][1] + f * (STOPS[i + 1][1] - STOPS[i][1]));
        int b = (int) Math.round(STOPS[i][2] + f * (STOPS[i + 1][2] - STOPS[i][2]));
        return (r << 16) | (g << 8) | b;
    }
}
