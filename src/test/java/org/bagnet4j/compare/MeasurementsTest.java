package org.bagnet4j.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.bagnet4j.BagNet;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The measurements' building blocks, on hand-made inputs with known answers. */
class MeasurementsTest {
    /** SplitMix64's published first outputs for seed 0 (Vigna's reference implementation). */
    @Test
    void seededRandomIsSplitMix64() {
        SeededRandom r = new SeededRandom(0);
        assertThat(r.nextLong()).isEqualTo(0xe220a8397b1dcdafL);
        assertThat(r.nextLong()).isEqualTo(0x6e789e6aa1b965f4L);
        assertThat(r.nextLong()).isEqualTo(0x06c45d188009454fL);
        int[] p = new SeededRandom(7).permutation(100);
        assertThat(Arrays.stream(p).sorted().toArray()).isEqualTo(java.util.stream.IntStream.range(0, 100).toArray());
        assertThat(p).isNotEqualTo(java.util.stream.IntStream.range(0, 100).toArray());
    }

    @Test
    void shufflingMovesWholeTilesOverTheCentre() {
        assertThat(Shuffling.grids(34, 34)).containsExactly(1, 2, 4, 8, 16);
        assertThat(Shuffling.grids(224, 224)).containsExactly(1, 2, 4, 8, 16, 32, 64);
        assertThat(Shuffling.grids(5, 40)).containsExactly(1, 2);
        Tensor input = numbered(10, 10, 2);
        float[] out = input.data().clone();
        Shuffling.shuffle(input, 1, new int[] {0}, out, 0);
        assertThat(out).isEqualTo(input.data());
        // 3 x 3 tiles of 3 pixels from (0, 0); the last row and column stay.
        int[] reversed = {8, 7, 6, 5, 4, 3, 2, 1, 0};
        Shuffling.shuffle(input, 3, reversed, out, 0);
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 10; x++) {
                boolean inside = y < 9 && x < 9;
                int sy = inside ? (2 - y / 3) * 3 + y % 3 : y;
                int sx = inside ? (2 - x / 3) * 3 + x % 3 : x;
                for (int c = 0; c < 2; c++) {
                    assertThat(out[(y * 10 + x) * 2 + c]).isEqualTo(input.get(0, sy, sx, c));
                }
            }
        }
    }

    @Test
    void interactionPairsFitWithTheirGap() {
        Set<Boolean> axes = new HashSet<>();
        for (int image = 0; image < 200; image++) {
            Interactions.Pair p = Interactions.draw(3, 34, 30, 8, 10, image);
            boolean onRow = p.ya() == p.yb();
            axes.add(onRow);
            assertThat(onRow ? p.xb() - p.xa() : p.yb() - p.ya()).isEqualTo(8 + 10);
            assertThat(Math.max(p.ya(), p.yb()) + 8).isLessThanOrEqualTo(34);
            assertThat(Math.max(p.xa(), p.xb()) + 8).isLessThanOrEqualTo(30);
        }
        assertThat(axes).containsExactlyInAnyOrder(true, false);
        // 2 x 8 + 16 = 32 fits only down the 34 rows
        assertThat(Interactions.fits(34, 30, 8, 16)).isTrue();
        assertThat(Interactions.draw(0, 34, 30, 8, 16, 5).xa()).isEqualTo(Interactions.draw(0, 34, 30, 8, 16, 5).xb());
        assertThat(Interactions.fits(34, 30, 8, 19)).isFalse();
    }

    /**
     * The paper's point about BagNets, exactly: two occluders that no q x q window meets together change the
     * evidence by the sum of their single effects; closer ones need not.
     */
    @Test
    void aBagNetsOccludersAddUpOnceNoPatchSeesBoth() {
        BagNet bagnet = BagNet.embedded(1);
        int q = bagnet.receptiveField();
        Tensor input = Tensor.zeros(1, 34, 34, 1);
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < input.size(); i++) {
            input.data()[i] = (float) random.nextGaussian();
        }
        int label = 3;
        double worstFar = 0;
        double worstNear = 0;
        for (int image = 0; image < 20; image++) {
            for (int gap : new int[] {q - 1, q + 2}) {
                Interactions.Effects e = Interactions.effects(bagnet, input, label,
                        new Interactions.Pair[] {Interactions.draw(0, 34, 34, 6, gap, image)})[0];
                worstFar = Math.max(worstFar, Math.abs(e.interaction()) / (Math.abs(e.a()) + Math.abs(e.b())));
            }
            Interactions.Effects near = Interactions.effects(bagnet, input, label,
                    new Interactions.Pair[] {Interactions.draw(0, 34, 34, 6, 0, image)})[0];
            worstNear = Math.max(worstNear, Math.abs(near.interaction()) / (Math.abs(near.a()) + Math.abs(near.b())));
        }
        assertThat(worstFar).isLessThan(1e-4);
        assertThat(worstNear).isGreaterThan(1e-2);
    }

    /**
     * A BagNet's occluded variants from its changed cells alone equal whole passes over the occluded input, for
     * occluders anywhere (edges, outside every window, several at once) and of several sides.
     */
    @Test
    void recomputingOnlyTheChangedCellsEqualsWholePasses() {
        BagNet bagnet = BagNet.embedded(1);
        Tensor input = Tensor.zeros(1, 34, 34, 1);
        java.util.Random random = new java.util.Random(2);
        for (int i = 0; i < input.size(); i++) {
            input.data()[i] = (float) random.nextGaussian();
        }
        Variants.Occluders[] variants = new Variants.Occluders[60];
        for (int v = 0; v < variants.length; v++) {
            int side = 1 + random.nextInt(12);
            int count = 1 + random.nextInt(3);
            int[] ys = new int[count];
            int[] xs = new int[count];
            for (int i = 0; i < count; i++) {
                ys[i] = random.nextInt(34 - side + 1);
                xs[i] = random.nextInt(34 - side + 1);
            }
            variants[v] = new Variants.Occluders(side, ys, xs);
        }
        variants[0] = new Variants.Occluders(2, new int[] {33}, new int[] {33}); // the corner no window reaches
        float[][] cells = BagNetCells.occluded(bagnet, input, variants);
        float[][] whole = Variants.wholePasses(bagnet, input, variants);
        for (int v = 0; v < variants.length; v++) {
            for (int c = 0; c < whole[v].length; c++) {
                assertThat(cells[v][c]).as("variant %d class %d", v, c).isCloseTo(whole[v][c],
                        within(1e-5f * (1 + Math.abs(whole[v][c]))));
            }
        }
    }

    @Test
    void errorsCountAgreementAndOverlap() {
        Errors.Tally t = new Errors.Tally(2, 3);
        // labels 0, 1, 2, 0; model a: right, right, wrong, wrong; model b: right, wrong, wrong, right
        t.add(0, new float[][] {{3, 1, 0}, {2, 1, 0}});
        t.add(1, new float[][] {{0, 3, 1}, {1, 0, 0}});
        t.add(2, new float[][] {{1, 0, 0}, {1, 0, 0}});
        t.add(0, new float[][] {{0, 0, 1}, {5, 0, 0}});
        Errors.Result r = t.result();
        assertThat(r.models()[0].accuracy()).isEqualTo(0.5);
        assertThat(r.models()[1].accuracy()).isEqualTo(0.5);
        assertThat(r.models()[0].classErrorRate()).containsExactly(0.5, 0.0, 1.0);
        assertThat(r.models()[1].classErrorRate()).containsExactly(0.0, 1.0, 1.0);
        Errors.PairAgreement p = r.pairs()[0];
        assertThat(p.topOneAgreement()).isEqualTo(0.5); // images 0 and 2
        assertThat(p.errorJaccard()).isEqualTo(1.0 / 3); // both wrong on image 2 of 3 wrong for either
        assertThat(p.errorJaccardIfIndependent()).isEqualTo(0.25 / 0.75); // error rates 1/2 and 1/2
        assertThat(p.classErrorCorrelation()).isCloseTo(Errors.pearson(new double[] {0.5, 0, 1},
                new double[] {0, 1, 1}), within(0.0));
        assertThat(Errors.pearson(new double[] {1, 2, 3, Double.NaN}, new double[] {2, 4, 6, 0})).isCloseTo(1.0,
                within(1e-15));
        assertThat(Errors.pearson(new double[] {1, 2, 3}, new double[] {3, 2, 1})).isCloseTo(-1.0, within(1e-15));
    }

    /** Degenerate data: a model that never errs, a class without images; undefined numbers are NaN, never 1 or 0. */
    @Test
    void undefinedErrorStatisticsAreNaN() {
        Errors.Tally t = new Errors.Tally(2, 3);
        t.add(0, new float[][] {{3, 1, 0}, {3, 1, 0}});
        t.add(1, new float[][] {{0, 3, 1}, {0, 3, 1}});
        Errors.Result r = t.result();
        assertThat(r.models()[0].accuracy()).isEqualTo(1.0);
        assertThat(r.models()[0].classErrorRate()).containsExactly(0.0, 0.0, Double.NaN);
        Errors.PairAgreement p = r.pairs()[0];
        assertThat(p.errorJaccard()).isNaN();
        assertThat(p.errorJaccardIfIndependent()).isNaN();
        assertThat(p.classErrorCorrelation()).isNaN(); // both constant
        assertThat(p.topOneAgreement()).isEqualTo(1.0);
        assertThat(p.logitCorrelation()).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void sensitivityGridLiesOverTheCentre() {
        Sensitivity.Grid g = Sensitivity.Grid.of(34, 30, 4);
        assertThat(g).isEqualTo(new Sensitivity.Grid(4, 8, 7, 1, 1));
        assertThat(g.top(8)).isEqualTo(5);
        assertThat(g.left(8)).isEqualTo(5);
    }

    /** A [1, h, w, c] tensor whose every value is distinct. */
    private static Tensor numbered(int h, int w, int c) {
        float[] data = new float[h * w * c];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        return Tensor.wrap(data, 1, h, w, c);
    }
}
