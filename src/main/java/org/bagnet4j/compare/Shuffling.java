package org.bagnet4j.compare;

import java.util.ArrayList;
import java.util.List;

import org.bagnet4j.Model;
import org.bagnet4j.tensor.Tensor;

/**
 * Signature 1: a bag of local features decides alike when its image is cut into N x N tiles and the tiles are
 * shuffled. The tiles are {@code floor(H / N) x floor(W / N)} pixels, laid over the centre of the input (the
 * remainder, under N pixels per axis, stays in place); tile k of the result is tile permutation[k] of the input
 * (row-major). N runs 1, 2, 4, ... while tiles keep at least 2 pixels per side; N = 1 leaves the input unchanged.
 */
public final class Shuffling {
    /** The stream of {@link SeededRandom#of}: permutations for grid N come from stream {@code STREAM + N}. */
    static final long STREAM = 100;
    private static final int MIN_TILE = 2;

    private Shuffling() {
    }

    /** The grid sizes measured on an input of this size. */
    public static int[] grids(int height, int width) {
        List<Integer> grids = new ArrayList<>();
        for (int n = 1; height / n >= MIN_TILE && width / n >= MIN_TILE; n *= 2) {
            grids.add(n);
        }
        return grids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The permutation of an N x N grid that {@code seed} gives for image {@code image}. */
    public static int[] permutation(long seed, int n, long image) {
        return SeededRandom.of(seed, STREAM + n, image).permutation(n * n);
    }

    /** Writes {@code input} with its tiles shuffled into {@code data} at {@code offset} (which holds a copy). */
    public static void shuffle(Tensor input, int n, int[] permutation, float[] data, int offset) {
        int w = input.width();
        int c = input.channels();
        int th = input.height() / n;
        int tw = w / n;
        int y0 = (input.height() - n * th) / 2;
        int x0 = (w - n * tw) / 2;
        float[] src = input.data();
        for (int k = 0; k < n * n; k++) {
            int from = permutation[k];
            int sy = y0 + from / n * th;
            int sx = x0 + from % n * tw;
            int dy = y0 + k / n * th;
            int dx = x0 + k % n * tw;
            for (int row = 0; row < th; row++) {
                System.arraycopy(src, ((sy + row) * w + sx) * c, data, offset + ((dy + row) * w + dx) * c, tw * c);
            }
        }
    }

    /** The top-1 class of every shuffled variant of one image, [grid][seed]. */
    static int[][] topOnes(Model model, Tensor input, int[] grids, long[] seeds, long image) {
        int[][] permutations = new int[grids.length * seeds.length][];
        for (int g = 0; g < grids.length; g++) {
            for (int s = 0; s < seeds.length; s++) {
                permutations[g * seeds.length + s] = permutation(seeds[s], grids[g], image);
            }
        }
        float[][] scores = Variants.scores(model, input, permutations.length,
                (i, data, offset) -> shuffle(input, grids[i / seeds.length], permutations[i], data, offset));
        int[][] tops = new int[grids.length][seeds.length];
        for (int i = 0; i < scores.length; i++) {
            tops[i / seeds.length][i % seeds.length] = Scores.argmax(scores[i]);
        }
        return tops;
    }

    /** Accuracy and agreement with the unshuffled decision for each grid size, over images and seeds. */
    public record Result(int[] grids, double[] accuracy, double[] agreement) {
    }

    /** Sums one model's per-image results in image order. */
    static final class Tally {
        private final int[] grids;
        private final long[] right;
        private final long[] agreeing;
        private long trials;

        Tally(int[] grids) {
            this.grids = grids;
            this.right = new long[grids.length];
            this.agreeing = new long[grids.length];
        }

        void add(int label, int unshuffled, int[][] tops) {
            for (int g = 0; g < grids.length; g++) {
                for (int top : tops[g]) {
                    right[g] += top == label ? 1 : 0;
                    agreeing[g] += top == unshuffled ? 1 : 0;
                }
            }
            trials += tops[0].length;
        }

        void visit(Sums sums) {
            sums.longs(right);
            sums.longs(agreeing);
            trials = sums.count(trials);
        }

        Result result() {
            double[] accuracy = new double[grids.length];
            double[] agreement = new double[grids.length];
            for (int g = 0; g < grids.length; g++) {
                accuracy[g] = (double) right[g] / trials;
                agreement[g] = (double) agreeing[g] / trials;
            }
            return new Result(grids.clone(), accuracy, agreement);
        }
    }
}
