package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The embedded model on the whole Fashion-MNIST test set (Debian's dataset-fashion-mnist): its accuracy is the
 * figure the README gives, and its predictions agree with PyTorch's from the training run.
 */
@RequiresReference
class FashionMnistTest {
    static final Path DATA = ReferenceCondition.FASHION_MNIST;

    static byte[][] images(String file) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(DATA.resolve(file))))) {
            in.readInt();
            int n = in.readInt();
            int size = in.readInt() * in.readInt();
            byte[][] out = new byte[n][size];
            for (byte[] image : out) {
                in.readFully(image);
            }
            return out;
        }
    }

    static byte[] labels(String file) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(DATA.resolve(file))))) {
            in.readInt();
            byte[] out = new byte[in.readInt()];
            in.readFully(out);
            return out;
        }
    }

    /** Images [from, to) as the model prepares them (gray copied to RGB, as a PNG of them would be read). */
    static Tensor inputs(Model model, byte[][] images, int from, int to) {
        List<Tensor> inputs = new ArrayList<>();
        for (int i = from; i < to; i++) {
            byte[] rgb = new byte[28 * 28 * 3];
            for (int p = 0; p < 28 * 28; p++) {
                rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = images[i][p];
            }
            inputs.add(model.preprocessing().apply(new RgbImage(28, 28, rgb)));
        }
        return Tensor.concat(inputs);
    }

    @Test
    void embeddedModelReproducesTheReadmeAccuracyAndPyTorchsPredictions() throws IOException {
        BagNet model = BagNet.embedded();
        assertThat(model.warnings()).isEmpty();
        byte[][] images = images("t10k-images-idx3-ubyte.gz");
        byte[] truth = labels("t10k-labels-idx1-ubyte.gz");
        String pytorch;
        try (InputStream in = FashionMnistTest.class.getResourceAsStream("/fashion/pytorch-predictions.txt")) {
            pytorch = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
        assertThat(pytorch).hasSize(images.length);

        int correct = 0;
        int agree = 0;
        int batch = 500;
        for (int start = 0; start < images.length; start += batch) {
            float[][] scores = model.classScores(inputs(model, images, start, start + batch));
            for (int n = 0; n < batch; n++) {
                int predicted = Compare.topK(scores[n], 1)[0];
                correct += predicted == truth[start + n] ? 1 : 0;
                agree += predicted == pytorch.charAt(start + n) - '0' ? 1 : 0;
            }
        }
        double accuracy = 100.0 * correct / images.length;
        System.out.printf("embedded model: %.2f%% test accuracy, %d of %d predictions equal PyTorch's%n", accuracy,
                agree, images.length);
        assertThat(agree).isGreaterThanOrEqualTo((int) Math.ceil(0.999 * images.length));

        // The receptive-field table: | q | ... | accuracy% | ... | `file` (the embedded model) |
        List<String[]> shipped = Files.readAllLines(Path.of("README.md")).stream()
                .filter(line -> line.startsWith("|") && line.matches(".*\\(the embedded model\\)\\s*\\|\\s*$"))
                .map(line -> line.split("\\|")).toList();
        assertThat(shipped).as("rows marked '(the embedded model)' in the README's receptive-field table").hasSize(1);
        String[] cells = shipped.getFirst();
        assertThat(Integer.parseInt(cells[1].trim())).as("shipped row's q").isEqualTo(model.receptiveField());
        String percent = java.util.Arrays.stream(cells).map(String::trim).filter(c -> c.matches("[\\d.]+%"))
                .findFirst().orElseThrow();
        assertThat(accuracy).as("README's accuracy of the shipped model")
                .isCloseTo(Double.parseDouble(percent.replace("%", "")), org.assertj.core.api.Assertions.within(0.1));
    }
}
