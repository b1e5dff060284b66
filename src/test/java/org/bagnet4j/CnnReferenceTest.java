package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The standard CNNs against torchvision's own model classes on the same seeded weights, computed in float64: class
 * scores and class activation maps for a batch of two 224x224 images and a 200x160 one.
 */
@RequiresReference
class CnnReferenceTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet50", "resnet152", "wide_resnet50_2", "vgg16", "vgg16_bn",
        "densenet121", "densenet169"})
    void scoresAndActivationMapsMatchTorchvision(String arch) {
        Cnn model = (Cnn) Model.load(ReferenceFixtures.cnnFile(arch + ".safetensors"), 2);
        assertThat(model.architecture().name()).isEqualTo(arch);
        for (String input : new String[] {"batch", "rect"}) {
            String what = arch + " " + input;
            Npy.Array x = ReferenceFixtures.cnnArray(arch + "_input_" + input);
            Tensor images = Tensor.fromNchw(x.data(), x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
            float[] expected = ReferenceFixtures.cnnArray(arch + "_scores_" + input).data();
            float[] scores = ReferenceTest.flatten(model.classScores(images));
            assertClose(what + " scores", scores, expected, ReferenceTest.TOLERANCE);
            int classes = model.architecture().numClasses();
            for (int n = 0; n < x.shape()[0]; n++) {
                float[] row = Arrays.copyOfRange(scores, n * classes, (n + 1) * classes);
                float[] expectedRow = Arrays.copyOfRange(expected, n * classes, (n + 1) * classes);
                assertThat(topK(row, 5)).as(what + " image " + n + " top-5").containsExactly(topK(expectedRow, 5));
            }
            if (!model.hasClassActivationMap()) {
                assertThatThrownBy(() -> model.classActivationMap(images)).isInstanceOf(BagNetException.class)
                        .hasMessageContaining("has no class activation map");
                System.out.printf("%s: scores max|diff|/max|ref| %.2g%n", what, relativeError(scores, expected));
                continue;
            }
            Npy.Array expectedMap = ReferenceFixtures.cnnArray(arch + "_cam_" + input);
            Tensor map = model.classActivationMap(images);
            assertThat(map.shape()).as(what + " map shape").containsExactly(expectedMap.shape());
            assertClose(what + " class activation map", map.data(), expectedMap.data(), ReferenceTest.TOLERANCE);
            assertClose(what + " map mean vs scores", ReferenceTest.gridMean(map), scores, 1e-5);
            System.out.printf("%s: scores max|diff|/max|ref| %.2g, map %.2g%n", what, relativeError(scores, expected),
                    relativeError(map.data(), expectedMap.data()));
        }
    }

    /** Parameter count and multiply-accumulates as PyTorch counts them for the same architecture. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet50", "resnet152", "wide_resnet50_2", "vgg16", "vgg16_bn",
        "densenet121", "densenet169"})
    @SuppressWarnings("unchecked")
    void architectureFactsMatchTorchvision(String arch) throws IOException {
        Map<String, Object> info = (Map<String, Object>) Json.parse(
                Files.readString(ReferenceFixtures.cnnFile(arch + "_info.json")));
        Architecture preset = Architecture.preset(arch);
        assertThat(preset.parameterCount()).isEqualTo((Long) info.get("parameters"));
        assertThat(preset.family()).isEqualTo(info.get("family"));
        if (!(preset instanceof DenseNetConfig)) {
            // A DenseNet's transitions pool before their convolution here: a quarter of their multiplications.
            Model model = Model.withRandomWeights(preset, 1, 1);
            assertThat(model.macs(224, 224)).isEqualTo((Long) info.get("macs_224"));
        }
    }
}
