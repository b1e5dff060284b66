package org.bagnet4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.Random;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.DenseNetConfig;
import org.bagnet4j.ResNetConfig;
import org.bagnet4j.VggConfig;
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

    /**
     * The same for the standard CNNs, whose memory estimate decides whether a batch runs; the batch decides where
     * Winograd's method runs (resnet50's 7x7x512 layers at batch 3, not 1; resnet18's 14x14x256 and 7x7x512 at 4).
     */
    @ParameterizedTest
    @CsvSource({"resnet18, 1, 64, 48", "resnet50, 1, 71, 90", "resnet50, 1, 224, 224", "resnet50, 3, 224, 224",
        "resnet18, 4, 112, 112", "vgg, 1, 64, 48", "vgg, 1, 224, 224", "densenet121, 1, 64, 48",
        "densenet121, 1, 99, 131"})
    void convNetActivationBytesIsWhatTheWorkspaceKeeps(String preset, int batch, int height, int width) {
        ConvNet network = switch (preset) {
            case "vgg" -> {
                VggConfig config = new VggConfig("small", 3, List.of(8, VggConfig.POOL, 70, 70, VggConfig.POOL), true,
                        32, 10);
                yield ConvNet.vgg(VggLayout.of(config), zeros(config.tensorShapes()));
            }
            case "densenet121" -> ConvNet.densenet(DenseNetLayout.of(DenseNetConfig.preset(preset)),
                    zeros(DenseNetConfig.preset(preset).tensorShapes()));
            default -> ConvNet.resnet(ResNetLayout.of(ResNetConfig.preset(preset)),
                    zeros(ResNetConfig.preset(preset).tensorShapes()));
        };
        Workspace workspace = new Workspace();
        network.classScores(Tensor.zeros(batch, height, width, 3), new Workers(1), workspace);
        assertThat(workspace.retainedBytes()).isEqualTo(network.activationBytes(batch, height, width));
    }

    /** Zero weights, unit variances: only the sizes matter here. */
    private static Function<String, float[]> zeros(Map<String, int[]> shapes) {
        return name -> {
            int n = 1;
            for (int d : shapes.get(name)) {
                n *= d;
            }
            float[] v = new float[n];
            if (name.endsWith("running_var")) {
                Arrays.fill(v, 1f);
            }
            return v;
        };
    }
}
