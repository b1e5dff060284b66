package org.bagnet4j.compare;

import org.bagnet4j.Model;
import org.bagnet4j.tensor.Tensor;

/**
 * Signature 2: in a bag of local features, occluding two image parts changes the class evidence by the sum of
 * what occluding each alone does. For a side p and a gap d, one pair per image: two p x p squares on one row
 * (or one column) with d pixels between them, at a position drawn at random; the interaction is the joint effect
 * on the true class's logit minus the two single effects. A BagNet's interaction is zero (up to float rounding)
 * once d >= q - 1: no grid cell's q x q window then meets both squares.
 */
public final class Interactions {
    /** Pairs for side p and gap d come from stream {@code STREAM + p * 1000 + d} of {@link SeededRandom#of}. */
    static final long STREAM = 1_000_000;

    private Interactions() {
    }

    /** Two squares of one side: A at (ya, xa), B at (yb, xb), top-left corners. */
    public record Pair(int side, int ya, int xa, int yb, int xb) {
    }

    /** Whether a pair of this side and gap fits in the input. */
    public static boolean fits(int height, int width, int side, int gap) {
        return fitsOnRow(height, width, side, gap) || fitsOnRow(width, height, side, gap);
    }

    private static boolean fitsOnRow(int height, int width, int side, int gap) {
        return 2 * side + gap <= width && side <= height;
    }

    /**
     * The pair drawn for one image: the axis (0: on one row, 1: on one column; drawn only where both fit), then the
     * top-left corner of A, row before column; B lies side + gap further along the axis.
     */
    public static Pair draw(long seed, int height, int width, int side, int gap, long image) {
        SeededRandom r = SeededRandom.of(seed, STREAM + side * 1000L + gap, image);
        int span = 2 * side + gap;
        boolean rowFits = fitsOnRow(height, width, side, gap);
        boolean columnFits = fitsOnRow(width, height, side, gap);
        boolean onRow = rowFits && columnFits ? r.nextInt(2) == 0 : rowFits;
        int ya = r.nextInt((onRow ? height - side : height - span) + 1);
        int xa = r.nextInt((onRow ? width - span : width - side) + 1);
        return onRow ? new Pair(side, ya, xa, ya, xa + side + gap) : new Pair(side, ya, xa, ya + side + gap, xa);
    }

    /** Effects on the label's logit: A alone, B alone, both; each the occluded logit minus the clean one. */
    public record Effects(double a, double b, double both) {
        public double interaction() {
            return both - a - b;
        }
    }

    /**
     * One image's effects for every pair, in the order given; each relative to the clean input's scores as the same
     * arithmetic gives them (a BagNet's recombined cells), so that a BagNet's far pairs cancel exactly.
     */
    static Effects[] effects(Model model, Tensor input, int label, Pair[] pairs) {
        Variants.Occluders[] variants = new Variants.Occluders[3 * pairs.length + 1];
        for (int i = 0; i < pairs.length; i++) {
            Pair p = pairs[i];
            variants[3 * i] = new Variants.Occluders(p.side(), new int[] {p.ya()}, new int[] {p.xa()});
            variants[3 * i + 1] = new Variants.Occluders(p.side(), new int[] {p.yb()}, new int[] {p.xb()});
            variants[3 * i + 2] = new Variants.Occluders(p.side(), new int[] {p.ya(), p.yb()},
                    new int[] {p.xa(), p.xb()});
        }
        variants[3 * pairs.length] = new Variants.Occluders(1, new int[0], new int[0]);
        float[][] scores = Variants.occluded(model, input, variants);
        double clean = scores[3 * pairs.length][label];
        Effects[] effects = new Effects[pairs.length];
        for (int i = 0; i < pairs.length; i++) {
            effects[i] = new Effects(scores[3 * i][label] - clean, scores[3 * i + 1][label] - clean,
                    scores[3 * i + 2][label] - clean);
        }
        return effects;
    }

    /**
     * For each side and gap (NaN where the pair does not fit): the mean |interaction| relative to the mean sum of
     * |single effects|, the mean signed interaction, and the number of pairs.
     */
    public record Result(int[] sides, int[] gaps, double[][] relative, double[][] meanInteraction, long[][] pairs) {
    }

    /** Sums one model's effects in image order. */
    static final class Tally {
        private final int[] sides;
        private final int[] gaps;
        private final double[][] absInteraction;
        private final double[][] interaction;
        private final double[][] single;
        private final long[][] count;

        Tally(int[] sides, int[] gaps) {
            this.sides = sides;
            this.gaps = gaps;
            absInteraction = new double[sides.length][gaps.length];
            interaction = new double[sides.length][gaps.length];
            single = new double[sides.length][gaps.length];
            count = new long[sides.length][gaps.length];
        }

        /** effects[s][g], null where the pair does not fit. */
        void add(Effects[][] effects) {
            for (int s = 0; s < sides.length; s++) {
                for (int g = 0; g < gaps.length; g++) {
                    Effects e = effects[s][g];
                    if (e != null) {
                        absInteraction[s][g] += Math.abs(e.interaction());
                        interaction[s][g] += e.interaction();
                        single[s][g] += Math.abs(e.a()) + Math.abs(e.b());
                        count[s][g]++;
                    }
                }
            }
        }

        void visit(Sums sums) {
            sums.doubles(absInteraction);
            sums.doubles(interaction);
            sums.doubles(single);
            sums.longs(count);
        }

        Result result() {
            double[][] relative = new double[sides.length][gaps.length];
            double[][] mean = new double[sides.length][gaps.length];
            for (int s = 0; s < sides.length; s++) {
                for (int g = 0; g < gaps.length; g++) {
                    relative[s][g] = count[s][g] == 0 ? Double.NaN : absInteraction[s][g] / single[s][g];
                    mean[s][g] = count[s][g] == 0 ? Double.NaN : interaction[s][g] / count[s][g];
                }
            }
            long[][] pairs = new long[sides.length][];
            for (int s = 0; s < sides.length; s++) {
                pairs[s] = count[s].clone();
            }
            return new Result(sides.clone(), gaps.clone(), relative, mean, pairs);
        }
    }
}
