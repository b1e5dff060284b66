package org.bagnet4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bagnet4j.Compare.assertClose;

import java.util.Random;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WinogradTest {
    /** Sizes with every remainder mod 4 (partial edge tiles), channels with vector tails, batches of 2. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void matchesScalarTwin(int threads) {
        Random rnd = new Random(11 + threads);
        Workers workers = new Workers(threads);
        Workspace workspace = new Workspace();
        int[][] shapes = {{1, 3, 3, 64, 64}, {2, 7, 9, 64, 80}, {1, 26, 26, 96, 64}, {2, 12, 17, 70, 65},
            {1, 10, 5, 129, 64}};
        for (int[] s : shapes) {
            Tensor in = ConvKernelTest.random(rnd, s[0], s[1], s[2], s[3]);
            float[] weight = ConvKernelTest.randomArray(rnd, s[4] * s[3] * 9);
            float[] bias = ConvKernelTest.randomArray(rnd, s[4]);
            Tensor actual = Winograd.of(weight, bias, s[4], s[3]).apply(in, workers, workspace);
            Tensor expected = ScalarKernels.conv(in, weight, bias, s[4], 3, 1, 1, null, true);
            assertThat(actual.shape()).containsExactly(expected.shape());
            assertClose("Winograd " + in + " -> " + s[4], actual.data(), expected.data(), 1e-5);
        }
    }

    /** Padded by 1 (ResNet's, VGG's and DenseNet's 3x3 layers): the same shapes, down to a 1x1 input. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void paddedMatchesScalarTwin(int threads) {
        Random rnd = new Random(23 + threads);
        Workers workers = new Workers(threads);
        Workspace workspace = new Workspace();
        int[][] shapes = {{1, 1, 1, 64, 64}, {2, 7, 7, 64, 80}, {1, 14, 14, 96, 64}, {2, 12, 17, 70, 65},
            {1, 10, 5, 129, 64}, {1, 2, 3, 64, 64}};
        for (int[] s : shapes) {
            Tensor in = ConvKernelTest.random(rnd, s[0], s[1], s[2], s[3]);
            float[] weight = ConvKernelTest.randomArray(rnd, s[4] * s[3] * 9);
            float[] bias = ConvKernelTest.randomArray(rnd, s[4]);
            Tensor actual = Winograd.of(weight, bias, s[4], s[3], 1).apply(in, workers, workspace);
            Tensor expected = ScalarKernels.conv(in, weight, bias, s[4], 3, 1, 1, 1, null, true);
            assertThat(actual.shape()).containsExactly(expected.shape());
            assertClose("padded Winograd " + in + " -> " + s[4], actual.data(), expected.data(), 1e-5);
        }
    }

    /**
     * Made from a packed layer, its weights transformed on first use (here by two threads at once), it gives the bits
     * of the same convolution made from the raw weights; on a map of more tiles than one GEMM task takes (a 96x96
     * output has 576) too.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void fromPackedWeightsGivesTheSameBits(int padding) throws Exception {
        Random rnd = new Random(31 + padding);
        int in = 70;
        int out = 129;
        float[] weight = ConvKernelTest.randomArray(rnd, out * in * 9);
        float[] bias = ConvKernelTest.randomArray(rnd, out);
        Tensor input = ConvKernelTest.random(rnd, 1, 96 + 2 - 2 * padding, 97 + 2 - 2 * padding, in);
        Workers workers = new Workers(2);
        Tensor expected = Winograd.of(weight, bias, out, in, padding).apply(input, workers, new Workspace());
        Winograd fromPacked = Winograd.of(PackedConv.pack(weight, bias, out, in, 3, 1, padding));
        Tensor[] results = new Tensor[2];
        Thread[] threads = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int index = i;
            threads[i] = Thread.ofPlatform().start(
                    () -> results[index] = fromPacked.apply(input, new Workers(1), new Workspace()));
        }
        for (Thread t : threads) {
            t.join();
        }
        for (Tensor r : results) {
            assertThat(r.shape()).containsExactly(1, 96, 97, out).containsExactly(expected.shape());
            // Arrays.equals, not containsExactly: AssertJ's report of a difference would take minutes on 1.6 M values.
            assertThat(java.util.Arrays.mismatch(r.data(), expected.data())).isEqualTo(-1);
        }
    }

    /** Wide layers on enough tiles: the batch counts; fewer than 128 channels never. */
    @Test
    void paysOnWideLayersWithEnoughTiles() {
        assertThat(Winograd.pays(1, 28, 28, 128, 128)).isTrue();
        assertThat(Winograd.pays(1, 14, 14, 256, 256)).isTrue();
        assertThat(Winograd.pays(1, 7, 7, 512, 512)).isFalse();
        assertThat(Winograd.pays(8, 7, 7, 512, 512)).isTrue();
        assertThat(Winograd.pays(8, 56, 56, 64, 64)).isFalse();
        assertThat(Winograd.widePays(128, 256)).isTrue();
        assertThat(Winograd.widePays(64, 256)).isFalse();
    }

    /**
     * Reading an input up to some edge gives, to the bit, what the input cut at that edge gives: where a block
     * reaches past the edge it reads zeros, whatever lies beyond (the image's whole-pass bits in a tile that reaches
     * past the image).
     */
    @Test
    void readsZerosPastTheEdgeItIsGiven() {
        Random rnd = new Random(5);
        Workspace workspace = new Workspace();
        Tensor in = ConvKernelTest.random(rnd, 2, 14, 15, 64);
        Winograd w = Winograd.of(ConvKernelTest.randomArray(rnd, 64 * 64 * 9), ConvKernelTest.randomArray(rnd, 64),
                64, 64);
        for (int[] edge : new int[][] {{14, 15}, {11, 15}, {14, 9}, {7, 10}, {3, 3}}) {
            Tensor cut = Tensor.zeros(2, edge[0], edge[1], 64);
            for (int n = 0; n < 2; n++) {
                for (int y = 0; y < edge[0]; y++) {
                    System.arraycopy(in.data(), ((n * 14 + y) * 15) * 64, cut.data(), ((n * edge[0] + y) * edge[1]) * 64,
                            edge[1] * 64);
                }
            }
            Tensor expected = w.apply(cut, new Workers(1), workspace);
            Tensor reaching = w.apply(in, edge[0], edge[1], new Workers(2), new Workspace());
            for (int n = 0; n < 2; n++) {
                for (int y = 0; y < expected.height(); y++) {
                    for (int x = 0; x < expected.width(); x++) {
                        for (int c = 0; c < 64; c++) {
                            assertThat(reaching.get(n, y, x, c)).as("edge %dx%d at (%d, %d)", edge[0], edge[1], y, x)
                                    .isEqualTo(expected.get(n, y, x, c));
                        }
                    }
                }
            }
        }
    }

    @Test
    void onlyWideStrideOne3x3LayersUseIt() {
        assertThat(Winograd.suits(3, 1, 512, 512)).isTrue();
        assertThat(Winograd.suits(3, 2, 512, 512)).isFalse();
        assertThat(Winograd.suits(1, 1, 512, 512)).isFalse();
        assertThat(Winograd.suits(3, 1, 3, 64)).isFalse();
    }

    @Test
    void badInputsAreNamed() {
        Winograd w = Winograd.of(new float[64 * 64 * 9], new float[64], 64, 64);
        Workspace workspace = new Workspace();
        assertThatThrownBy(() -> w.apply(Tensor.zeros(1, 2, 5, 64), new Workers(1), workspace))
                .isInstanceOf(BagNetException.class).hasMessageContaining("smaller than the 3x3 kernel");
        assertThatThrownBy(() -> w.apply(Tensor.zeros(1, 5, 5, 32), new Workers(1), workspace))
                .isInstanceOf(BagNetException.class).hasMessageContaining("64 input channels");
        assertThatThrownBy(() -> Winograd.of(new float[10], new float[64], 64, 64))
                .isInstanceOf(BagNetException.class).hasMessageContaining("64x64x3x3");
    }
}
