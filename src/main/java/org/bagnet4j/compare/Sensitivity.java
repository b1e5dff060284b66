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
        int w = input.width();
        double[] importance = new double[grid.patches()];
        for (int p = 0; p < importance.length; p++) {
            double sum = 0;
            for (int y = grid.top(p); y < grid.top(p) + grid.side(); y++) {
                for (int x = grid.left(p); x < grid.left(p) + grid.side(); x++) {
                    sum += map[y * w + x];
                }
            }
            importance[p] = sum;
        }
        return importance;
    }

    /** The target's occlusion map: its label logit's drop when each patch alone is occluded. */
    static double[] occlusionImportance(Model target, Tensor input, int label, float clean, Grid grid) {
        Variants.Occluders[] variants = new Variants.Occluders[grid.patches()];
        for (int p = 0; p < variants.length; p++) {
            variants[p] = new Variants.Occluders(grid.side(), new int[] {grid.top(p)}, new int[] {grid.left(p)});
        }
        float[][] scores = Variants.occluded(target, input, variants);
        double[] importance = new double[grid.patches()];
        for (int p = 0; p < importance.length; p++) {
            importance[p] = (double) clean - scores[p][label];
        }
        return importance;
    }

    /** The class activation map's value for the label at the cell holding each patch's centre pixel. */
    static double[] camImportance(Cnn target, Tensor input, int label, Grid grid) {
        Tensor cam = target.classActivationMap(input, label);
        double[] importance = new double[grid.patches()];
        for (int p = 0; p < importance.length; p++) {
            int cy = (grid.top(p) + grid.side() / 2) * cam.height() / input.height();
            int cx = (grid.left(p) + grid.side() / 2) * cam.width() / input.width();
            importance[p] = cam.get(0, cy, cx, 0);
        }
        return importance;
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

    /** The target's label logits with the first k = 1..K patches of {@code order} occluded, [K]. */
    static float[][] curve(Model target, Tensor input, Grid grid, int[] order, int k) {
        Variants.Occluders[] variants = new Variants.Occluders[k];
        for (int i = 0; i < k; i++) {
            int[] first = Arrays.copyOf(order, i + 1);
            variants[i] = new Variants.Occluders(grid.side(), Arrays.stream(first).map(grid::top).toArray(),
                    Arrays.stream(first).map(grid::left).toArray());
        }
        return Variants.occluded(target, input, variants);
    }

    /**
     * One target's curves: for each method, the mean drop of the label logit (clean minus occluded) and the accuracy
     * after k = 0..K occluded patches (index 0: none), and the area: the mean drop over k = 1..K.
     */
    public record Result(String target, List<String> methods, double[][] meanDrop, double[][] accuracy,
            double[] area) {
    }

    /** Sums one target's curves in image order. */
    static final class Tally {
        private final String target;
        private final List<String> methods;
        private final double[][] drop;
        private final long[][] right;
        private long images;

        Tally(String target, List<String> methods, int k) {
            this.target = target;
            this.methods = List.copyOf(methods);
            drop = new double[methods.size()][k + 1];
            right = new long[methods.size()][k + 1];
        }

        /** One image: its label, the clean scores, and for each method the scores after k = 1..K occlusions. */
        void add(int label, float[] clean, float[][][] curves) {
            images++;
            boolean cleanRight = Scores.argmax(clean) == label;
            for (int m = 0; m < curves.length; m++) {
                right[m][0] += cleanRight ? 1 : 0;
                for (int k = 1; k <= curves[m].length; k++) {
                    drop[m][k] += (double) clean[label] - curves[m][k - 1][label];
                    right[m][k] += Scores.argmax(curves[m][k - 1]) == label ? 1 : 0;
                }
            }
        }

        void visit(Sums sums) {
            sums.doubles(drop);
            sums.longs(right);
            long[] count = {images};
            sums.longs(count);
            images = count[0];
        }

        Result result() {
            int methodCount = methods.size();
            double[][] meanDrop = new double[methodCount][];
            double[][] accuracy = new double[methodCount][];
            double[] area = new double[methodCount];
            for (int m = 0; m < methodCount; m++) {
                meanDrop[m] = Arrays.stream(drop[m]).map(d -> d / images).toArray();
                accuracy[m] = Arrays.stream(right[m]).mapToDouble(r -> (double) r / images).toArray();
                area[m] = Arrays.stream(meanDrop[m]).skip(1).average().orElse(Double.NaN);
            }
            return new Result(target, methods, meanDrop, accuracy, area);
        }
    }
}
