package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.Compare.assertClose;
import static org.bagnet4j.Compare.relativeError;
import static org.bagnet4j.Compare.topK;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;

import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** bagnet4j against PyTorch on the same weights: all presets at full size, a batch of 2 and a non-square input. */
@RequiresReference
class ReferenceTest {
    static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "bagnet9", "bagnet17", "bagnet33"})
    void scoresAndGridMatchPyTorch(String arch) {
        BagNet model = BagNet.load(ReferenceFixtures.model(arch));
        for (String input : new String[] {"batch", "rect"}) {
            String what = arch + " " + input;
            Npy.Array x = ReferenceFixtures.array(arch + "_input_" + input);
            Tensor images = Tensor.fromNchw(x.data(), x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
            Npy.Array expectedScores = ReferenceFixtures.array(arch + "_scores_" + input);
            Npy.Array expectedGrid = ReferenceFixtures.array(arch + "_grid_" + input);

            float[][] scores = model.classScores(images);
            float[] flatScores = flatten(scores);
            assertClose(what + " scores", flatScores, expectedScores.data(), TOLERANCE);

            Tensor grid = model.patchLogits(images);
            assertThat(grid.shape()).as(what + " grid shape").containsExactly(expectedGrid.shape());
            assertClose(what + " grid", grid.data(), expectedGrid.data(), TOLERANCE);

            int classes = scores[0].length;
            for (int n = 0; n < scores.length; n++) {
                float[] expectedRow = Arrays.copyOfRange(expectedScores.data(), n * classes, (n + 1) * classes);
                assertThat(topK(scores[n], 5)).as(what + " image " + n + " top-5").containsExactly(topK(expectedRow, 5));
            }
            assertClose(what + " grid mean vs scores", gridMean(grid), flatScores, 1e-5);
            System.out.printf("%s: scores max|diff|/max|ref| %.2g, grid %.2g%n", what,
                    relativeError(flatScores, expectedScores.data()), relativeError(grid.data(), expectedGrid.data()));
        }
    }

    /** Parameter count and grid size as PyTorch reports them for the same architecture. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny", "bagnet9", "bagnet17", "bagnet33"})
    @SuppressWarnings("unchecked")
    void architectureFactsMatchPyTorch(String arch) throws IOException {
        Map<String, Object> info = (Map<String, Object>) Json.parse(
                Files.readString(ReferenceFixtures.file(arch + "_info.json")));
        BagNet model = BagNet.load(ReferenceFixtures.model(arch));
        assertThat(model.config().parameterCount()).isEqualTo((Long) info.get("parameters"));
        assertThat(model.gridSize(224)).isEqualTo(((Number) ((java.util.List<?>) info.get("grid_224")).get(0)).intValue());
    }

    /** Every checkpoint flavour the converter accepts gives the same model. */
    @Test
    void checkpointFlavoursConvertToTheSameModel() {
        Npy.Array x = ReferenceFixtures.array("tiny_input_rect");
        Tensor images = Tensor.fromNchw(x.data(), x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
        float[] expected = ReferenceFixtures.array("tiny_scores_rect").data();
        for (String flavour : new String[] {"tiny_wrapped", "tiny_zip"}) {
            assertClose(flavour, flatten(BagNet.load(ReferenceFixtures.model(flavour)).classScores(images)), expected,
                    TOLERANCE);
        }
    }

    static float[] flatten(float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int n = 0; n < rows.length; n++) {
            System.arraycopy(rows[n], 0, flat, n * rows[n].length, rows[n].length);
        }
        return flat;
    }

    static float[] gridMean(Tensor grid) {
        int classes = grid.channels();
        int cells = grid.height() * grid.width();
        float[] mean = new float[grid.batch() * classes];
        for (int n = 0; n < grid.batch(); n++) {
            for (int c = 0; c < classes; c++) {
                double sum = 0;
                for (int cell = 0; cell < cells; cell++) {
                    sum += grid.data()[(n * cells + cell) * classes + c];
                }
                mean[n * classes + c] = (float) (sum / cells);
            }
        }
        return mean;
    }
}
