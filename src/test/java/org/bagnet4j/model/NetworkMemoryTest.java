package org.bagnet4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Random;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NetworkMemoryTest {
    /** The size estimate a streamed pass relies on is exactly what a pass leaves in its workspace. */
    @ParameterizedTest
    @CsvSource({"bagnet9, 64, 48", "bagnet33, 71, 90"})
    void activationBytesIsWhatTheWorkspaceKeeps(String preset, int height, int width) {
        BagNetConfig config = BagNetConfig.preset(preset);
        Map<String, int[]> shapes = config.tensorShapes();
        Random random = new Random(1);
        Network network = new Network(config, name -> {
            int n = 1;
            for (int d : shapes.get(name)) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = name.endsWith("running_var") ? 1f : (float) random.nextGaussian() * 0.05f;
            }
            return v;
        });
        Workspace workspace = new Workspace();
        network.classScores(Tensor.zeros(1, height, width, 3), new Workers(1), workspace);
        assertThat(workspace.retainedBytes()).isEqualTo(network.activationBytes(height, width));
    }
}
