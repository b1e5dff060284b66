package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BagNetTest {
    static BagNet randomModel(BagNetConfig config, long seed) {
        return BagNet.withRandomWeights(config, seed, 2);
    }

    static Tensor randomImages(long seed, int n, int h, int w, int c) {
        Random rnd = new Random(seed);
        Tensor t = Tensor.zeros(n, h, w, c);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) rnd.nextGaussian();
        }
        return t;
    }

    /**
     * The receptive field and grid stride, measured: a pixel change must alter exactly the grid cells whose
     * q x q window (cell i covers pixels [8i, 8i + q - 1]) contains that pixel, and no other cell beyond rounding.
     */
    @ParameterizedTest
    @CsvSource({"bagnet9, 9", "bagnet17, 17", "bagnet33, 33"})
    void eachCellSeesExactlyItsPatch(String preset, int q) {
        BagNet model = randomModel(BagNetConfig.preset(preset), 5);
        assertThat(model.receptiveField()).isEqualTo(q);
        assertThat(model.gridStride()).isEqualTo(8);
        assertThat(model.gridSize(q)).isEqualTo(1);
        assertThat(model.gridSize(q - 1)).isZero();
        int size = q + 8;
        assertThat(model.gridSize(size)).isEqualTo(2);
        Tensor base = randomImages(1, 1, size, size, 3);
        Tensor before = model.patchLogits(base);
        for (int[] pixel : List.of(new int[] {0, 0}, new int[] {q - 1, q - 1}, new int[] {q, q}, new int[] {7, q},
                new int[] {8, 3})) {
            Tensor changed = Tensor.wrap(base.data().clone(), 1, size, size, 3);
            changed.data()[(pixel[0] * size + pixel[1]) * 3] += 50f;
            Tensor after = model.patchLogits(changed);
            for (int gy = 0; gy < 2; gy++) {
                for (int gx = 0; gx < 2; gx++) {
                    boolean inside = pixel[0] >= 8 * gy && pixel[0] < 8 * gy + q && pixel[1] >= 8 * gx
                            && pixel[1] < 8 * gx + q;
                    int classes = before.channels();
                    int off = (gy * 2 + gx) * classes;
                    double change = 0;
                    double scale = 0;
                    for (int c = off; c < off + classes; c++) {
                        change = Math.max(change, Math.abs(after.data()[c] - before.data()[c]));
                        scale = Math.max(scale, Math.abs(before.data()[c]));
                    }
                    // Outside the patch only rounding may leak in (Winograd tiles mix neighbouring pixels with
                    // weights that cancel exactly in exact arithmetic).
                    assertThat(change / scale).as("%s pixel %s cell (%d,%d)", preset, Arrays.toString(pixel), gy, gx)
                            .matches(r -> inside ? r > 1e-3 : r < 1e-5, inside ? "changed" : "unchanged");
                }
            }
        }
    }

    @Test
    void oneModelServesManyThreads() throws Exception {
        BagNet model = randomModel(new BagNetConfig("small", 3, 8, List.of(4, 8), List.of(1, 2), List.of(2, 2),
                List.of(1, 1), 5), 9);
        Tensor images = randomImages(2, 2, 40, 36, 3);
        float[][] expected = model.classScores(images);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[][]>> results = pool.invokeAll(java.util.Collections.nCopies(16,
                    () -> model.classScores(images)));
            for (Future<float[][]> f : results) {
                assertThat(f.get()).isDeepEqualTo(expected);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badInputsGetOneLineErrors() {
        BagNet model = randomModel(BagNetConfig.bagnet9(), 3);
        assertThatThrownBy(() -> model.classScores(Tensor.zeros(1, 8, 30, 3))).isInstanceOf(BagNetException.class)
                .hasMessage("input 8x30 is smaller than bagnet9's 9x9 receptive field");
        assertThatThrownBy(() -> model.patchLogits(Tensor.zeros(1, 30, 30, 1)))
                .hasMessage("bagnet9 expects 3 input channels, got 1");
        assertThatThrownBy(() -> BagNetConfig.preset("bagnet50")).hasMessageContaining("unknown preset 'bagnet50'");
        assertThatThrownBy(() -> BagNet.fromParameters(BagNetConfig.bagnet9(), name -> new float[1], 1))
                .hasMessageContaining("parameter 'conv1.weight' needs 192 values, got 1");
    }
}
