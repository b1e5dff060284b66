package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every Fashion-MNIST model in the jar (weights-converter/fashion/train.py) against the same file run by PyTorch
 * (weights-converter/fashion/reference_models.py): bagnet4j's class scores on the first test images are PyTorch's
 * float64 ones, and PyTorch's predictions on the whole test set give the accuracy the file's description records.
 * (FashionMnistTest runs the embedded model on the whole test set in bagnet4j.)
 */
@RequiresReference
class FashionModelsTest {
    private static final Pattern ACCURACY = Pattern.compile("; test accuracy (\\d+\\.\\d\\d)%$");
    /** Training predicted with the unrounded mean and std (the file has 6 decimals): a near tie may flip. */
    private static final double ACCURACY_TOLERANCE = 0.03;

    static final List<String> MODELS = ReferenceFixtures.FASHION_MODELS;

    /** The test accuracy in percent that train.py wrote into a model's description. */
    static String recordedAccuracy(Model model) {
        String description = model.metadata().get("bagnet4j.description");
        Matcher m = ACCURACY.matcher(description);
        assertThat(m.find()).as(description).isTrue();
        return m.group(1);
    }

    @ParameterizedTest
    @FieldSource("MODELS")
    void scoresArePyTorchsWhosePredictionsGiveTheRecordedAccuracy(String name) throws IOException {
        Model model = Model.load(ReferenceFixtures.fashionModel(name), 2);
        assertThat(model.warnings()).isEmpty();
        byte[][] images = FashionMnistTest.images("t10k-images-idx3-ubyte.gz");
        byte[] truth = FashionMnistTest.labels("t10k-labels-idx1-ubyte.gz");

        Npy.Array reference = ReferenceFixtures.fashionScores(name);
        int count = ReferenceFixtures.FASHION_IMAGES;
        assertThat(reference.shape()).containsExactly(count, 10);
        float[][] scores = model.classScores(FashionMnistTest.inputs(model, images, 0, count));
        float[] flat = new float[count * 10];
        for (int n = 0; n < count; n++) {
            System.arraycopy(scores[n], 0, flat, 10 * n, 10);
            float[] expected = Arrays.copyOfRange(reference.data(), 10 * n, 10 * n + 10);
            assertThat(Compare.topK(scores[n], 1)).as("%s, image %d", name, n).isEqualTo(Compare.topK(expected, 1));
        }
        Compare.assertClose(name + " scores on " + count + " test images", flat, reference.data(), 1e-4);

        String predictions = ReferenceFixtures.fashionPredictions(name);
        assertThat(predictions).hasSize(images.length);
        int correct = 0;
        for (int i = 0; i < images.length; i++) {
            correct += predictions.charAt(i) - '0' == truth[i] ? 1 : 0;
        }
        double accuracy = 100.0 * correct / images.length;
        String recorded = recordedAccuracy(model);
        System.out.printf("%s: scores within %.2g of PyTorch's; PyTorch's test accuracy %.2f%% (recorded "
                + "%s%%)%n", name, Compare.relativeError(flat, reference.data()), accuracy, recorded);
        assertThat(accuracy).isCloseTo(Double.parseDouble(recorded), within(ACCURACY_TOLERANCE));
    }
}
