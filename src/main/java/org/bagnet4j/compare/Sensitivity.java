package org.bagnet4j.compare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import org.bagnet4j.BagNet;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.tensor.Tensor;

/**
 * Signature 4: CNNs are sensitive to the image parts a BagNet finds most evidence in. The input is cut into a grid of
 * side x side patches (over its centre, as {@link Shuffling} lays tiles); the patches are ranked by a method, and
 * the k highest are occluded together (k = 1..K) while the target model's true-class logit and decision are
 * recorded. Methods: each BagNet's exact full-resolution heatmap for the true class (summed over the patch), the
 * target's own occlusion map (the logit drop when the patch alone is occluded: the strongest reference), the
 * target's class activation map where it has one (the value of the cell holding the patch's centre), and a random
 * order. Ties rank the lower patch index first.
 */
public final class Sensitivity {
    /** Random orders come from this stream of {@link SeededRandom#of}. */
    static final long STREAM = 2;
    public static final String OCCLUSION = "occlusion";
    public static final String CAM = "cam";
    public static final String RANDOM = "random";

    private Sensitivity() {
    }

    /** The patch grid on an input: rows x columns patches of one side, from (y0, x0). */
    public record Grid(int side, int rows, int columns, int y0, int x0) {
        public static Grid of(int height, int width, int side) {
            int rows = height / side;
            int columns = width / side;
            return new Grid(side, rows, columns, (height - rows * side) / 2, (width - columns * side) / 2);
        }

        public int patches() {
            return rows * columns;
        }

        int top(int patch) {
            return y0 + patch / columns * side;
        }

        int left(int patch) {
            return x0 + patch % columns * side;
        }
    }

    /** The methods measured for a target, in report order. */
    public static List<String> methods(List<String> bagnetNames, Model target) {
        List<String> methods = new ArrayList<>();
        bagnetNames.forEach(b -> methods.add("bagnet " + b));
        methods.add(OCCLUSION);
        if (target instanceof Cnn cnn && cnn.hasClassActivationMap()) {
            methods.add(CAM);
        }
        methods.add(RANDOM);
        return methods;
    }

    /** A BagNet heatmap's importance of every patch: the sum of the exact full-resolution map over the patch. */
    static double[] heatmapImportance(BagNet bagnet, Tensor input, int label, Grid grid) {
        float[] map = Explainer.fullResolution(bagnet, input, label, null, null).values();
        double[] values = new double[map.length];
        for (int i = 0; i < map.length; i++) {
            values[i] = map[i];
        }
        return summedOverPatches(values, input.width(), grid);
    }

    /**
     * The target's occlusion map: its label logit's drop when each patch alone is occluded, from the clean logit as
     * the same arithmetic gives it.
     */
    static double[] occlusionImportance(Model target, Tensor input, int label, Grid grid) {
        Variants.Occluders[] variants = new Variants.Occluders[grid.patches() + 1];
        for (int p = 0; p < grid.patches(); p++) {
            variants[p] = new Variants.Occluders(grid.side(), new int[] {grid.top(p)}, new int[] {grid.left(p)});
        }
        variants[grid.patches()] = new Variants.Occluders(grid.side(), new int[0], new int[0]);
        float[][] scores = Variants.occluded(target, input, variants);
        double clean = scores[grid.patches()][label];
        double[] importance = new double[grid.patches()];
        for (int p = 0; p < importance.length; p++) {
            importance[p] = clean - scores[p][label];
        }
        return importance;
    }

    /**
     * The class activation map of the label, upsampled to the input bilinearly (as PyTorch's interpolate does,
     * without aligned corners), summed over each patch: as a heatmap is, so that the coarse map's cells do not
     * leave most patches tied.
     */
    static double[] camImportance(Cnn target, Tensor input, int label, Grid grid) {
        Tensor cam = target.classActivationMap(input, label);
        int h = input.height();
        int w = input.width();
        double[] map = new double[h * w];
        for (int y = 0; y < h; y++) {
            double sy = Math.max(0, (y + 0.5) * cam.height() / h - 0.5);
            int y0 = (int) sy;
            int y1 = Math.min(y0 + 1, cam.height() - 1);
            double ly = sy - y0;
            for (int x = 0; x < w; x++) {
                double sx = Math.max(0, (x + 0.5) * cam.width() / w - 0.5);
                int x0 = (int) sx;
                int x1 = Math.min(x0 + 1, cam.width() - 1);
                double lx = sx - x0;
                map[y * w + x] = (1 - ly) * ((1 - lx) * cam.get(0, y0, x0, 0) + lx * cam.get(0, y0, x1, 0))
                        + ly * ((1 - lx) * cam.get(0, y1, x0, 0) + lx * cam.get(0, y1, x1, 0));
            }
        }
        return summedOverPatches(map, w, grid);
    }

    private static double[] summedOverPatches(double[] map, int width, Grid grid) {
        double[] sums = new double[grid.patches()];
        for (int p = 0; p < sums.length; p++) {
            for (int y = grid.top(p); y < grid.top(p) + grid.side(); y++) {
                for (int x = grid.left(p); x < grid.left(p) + grid.side(); x++) {
                    sums[p] += map[y * width + x];
                }
            }
        }
        return sums;
    }

    /** Patch indices from the most important down; ties (0.0 and -0.0 too) keep the lower index first. */
    static int[] order(double[] importance) {
        // + 0.0 turns -0.0 into 0.0: Double.compare, unlike ==, ranks the two apart.
        return IntStream.range(0, importance.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(p -> -importance[p] + 0.0).thenComparingInt(p -> p))
                .mapToInt(Integer::intValue).toArray();
    }

    /** The random order for one image. */
    static int[] randomOrder(long seed, int patches, long image) {
        return SeededRandom.of(seed, STREAM, image).permutation(patches);
    }

    /**
     * A target's label logit and whether its top-1 is the label, on the clean input (index 0, as the same arithmetic
     * gives it) and with the first k = 1..K patches of a ranking occluded.
     */
    record Curve(float[] logits, boolean[] right) {
    }

    static Curve curve(Model target, Tensor input, int label, Grid grid, int[] order, int k) {
        Variants.Occluders[] variants = new Variants.Occluders[k + 1];
        for (int i = 0; i <= k; i++) {
            int[] first = Arrays.copyOf(order, i);
            variants[i] = new Variants.Occluders(grid.side(), Arrays.stream(first).map(grid::top).toArray(),
                    Arrays.stream(first).map(grid::left).toArray());
        }
        float[][] scores = Variants.occluded(target, input, variants);
        float[] logits = new float[k + 1];
        boolean[] right = new boolean[k + 1];
        for (int i = 0; i <= k; i++) {
            logits[i] = scores[i][label];
            right[i] = Scores.argmax(scores[i]) == label;
        }
        return new Curve(logits, right);
    }

    /**
     * One target's curves: for each method, the mean drop of the label logit (clean minus occluded) and the accuracy
     * after k = 0..K occluded patches (index 0: none), the area (the mean drop over k = 1..K) and its standard error
     * over images.
     */
    public record Result(String target, List<String> methods, double[][] meanDrop, double[][] accuracy,
            double[] area, double[] areaError) {
    }

    /** Sums one target's curves in image order. */
    static final class Tally {
        private final String target;
        private final List<String> methods;
        private final double[][] drop;
        private final long[][] right;
        private final double[] areaSquares;
        private long images;

        Tally(String target, List<String> methods, int k) {
            this.target = target;
            this.methods = List.copyOf(methods);
            drop = new double[methods.size()][k + 1];
            right = new long[methods.size()][k + 1];
            areaSquares = new double[methods.size()];
        }

        /** One image: each method's curve. */
        void add(Curve[] curves) {
            images++;
            for (int m = 0; m < curves.length; m++) {
                float[] logits = curves[m].logits();
                double area = 0;
                for (int k = 0; k < logits.length; k++) {
                    double d = (double) logits[0] - logits[k];
                    drop[m][k] += d;
                    area += d;
                    right[m][k] += curves[m].right()[k] ? 1 : 0;
                }
                area /= logits.length - 1;
                areaSquares[m] += area * area;
            }
        }

        void visit(Sums sums) {
            sums.doubles(drop);
            sums.longs(right);
            sums.doubles(areaSquares);
            images = sums.count(images);
        }

        Result result() {
            int methodCount = methods.size();
            double[][] meanDrop = new double[methodCount][];
            double[][] accuracy = new double[methodCount][];
            double[] area = new double[methodCount];
            double[] areaError = new double[methodCount];
            for (int m = 0; m < methodCount; m++) {
                meanDrop[m] = Arrays.stream(drop[m]).map(d -> d / images).toArray();
                accuracy[m] = Arrays.stream(right[m]).mapToDouble(r -> (double) r / images).toArray();
                area[m] = Arrays.stream(meanDrop[m]).skip(1).average().orElse(Double.NaN);
                // areaSquares / images - area^2 is the variance over images; over images - 1 more, its standard error
                double variance = Math.max(0, areaSquares[m] / images - area[m] * area[m]);
                areaError[m] = images > 1 ? Math.sqrt(variance / (images - 1)) : Double.NaN;
            }
            return new Result(target, methods, meanDrop, accuracy, area, areaError);
        }
    }
}
