package org.bagnet4j.explain;

import java.util.Arrays;

/**
 * Class evidence over an image: value (x, y) is the logit a class gets from one square patch of the model's
 * input, the patch whose box is {@link #box(int, int)}. A patch grid has the model's grid stride s (8 for the
 * ImageNet presets) and offset 0 (cell (x, y) sees the q x q window starting at (s x, s y)); a full-resolution
 * map has stride 1 and offset -(q-1)/2 (pixel (x, y) gets the window centred on it, which reaches past the image
 * edges by up to (q-1)/2).
 *
 * @param classIndex the class whose evidence this is
 * @param label its name
 * @param width columns of the map
 * @param height rows of the map
 * @param values row-major, height x width
 * @param patch side of each patch in input pixels (the receptive field q)
 * @param stride input pixels between neighbouring map positions
 * @param offset input coordinate of the first patch's top-left corner, on both axes
 * @param left input column of map column 0's box, relative to offset (non-zero for a region)
 * @param top input row of map row 0's box, relative to offset (non-zero for a region)
 */
public record EvidenceMap(int classIndex, String label, int width, int height, float[] values, int patch,
        int stride, int offset, int left, int top) {
    public EvidenceMap {
        if (values.length != width * height) {
            throw new IllegalArgumentException("map " + width + "x" + height + " needs " + width * height
                    + " values, got " + values.length);
        }
    }

    /** A patch's place in the model's input: [x0, x1) x [y0, y1) in pixels (may reach outside the image). */
    public record Box(int x0, int y0, int x1, int y1) {
    }

    public float value(int x, int y) {
        return values[y * width + x];
    }

    public Box box(int x, int y) {
        int x0 = offset + left + x * stride;
        int y0 = offset + top + y * stride;
        return new Box(x0, y0, x0 + patch, y0 + patch);
    }

    /** The p-th percentile (0..100) of |value|, the scale the pictures use (the reference plots the 99th). */
    public float absPercentile(double p) {
        float[] abs = new float[values.length];
        for (int i = 0; i < abs.length; i++) {
            abs[i] = Math.abs(values[i]);
        }
        Arrays.sort(abs);
        int index = (int) Math.ceil(p / 100 * abs.length) - 1;
        return abs[Math.max(0, Math.min(abs.length - 1, index))];
    }

    /** The mean value: for a patch grid, the class's image-level logit. */
    public double mean() {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** The map less its mean: which cells stand out from the image's mean cell, even where all have one sign. */
    public EvidenceMap relativeToMean() {
        double mean = mean();
        float[] shifted = new float[values.length];
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] = (float) (values[i] - mean);
        }
        return new EvidenceMap(classIndex, label, width, height, shifted, patch, stride, offset, left, top);
    }
}
