package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.Compare;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** classify, explain and patches --no-resize on an image whose activations do not fit a small heap: streamed. */
class StreamingCommandTest {
    /** A grayscale PNG of clothing-like stripes and noise. */
    private static Path bigImage(Path dir, int width, int height) throws IOException {
        BufferedImage picture = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        Random rnd = new Random(3);
        for (int y = 0; y < picture.getHeight(); y++) {
            for (int x = 0; x < picture.getWidth(); x++) {
                int v = (int) (127 + 80 * Math.sin(x / 37.0) * Math.cos(y / 23.0)) + rnd.nextInt(40);
                picture.getRaster().setSample(x, y, 0, Math.max(0, Math.min(255, v)));
            }
        }
        Path file = dir.resolve("big.png");
        ImageIO.write(picture, "png", file.toFile());
        return file;
    }

    /** The CLI in a JVM with an 80 MB heap. */
    private static String smallHeap(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx80m", "-cp", Path.of("target", "classes").toString(), Main.class.getName()));
        command.addAll(List.of(args));
        return ReferenceFixtures.exec(command);
    }

    /** The image is read from its file band by band: decoding it whole would not fit the heap either. */
    @Test
    @SuppressWarnings("unchecked")
    void classifyStreamsWhatDoesNotFitTheHeap(@TempDir Path dir) throws Exception {
        Path file = bigImage(dir, 5000, 3000);
        BagNet model = BagNet.embedded();
        var input = model.preprocessing().withSize(0, 0).apply(org.bagnet4j.image.ImageDecoder.read(file));
        assertThat(model.activationBytes(1, input.height(), input.width())).as("more than the child's heap")
                .isGreaterThan(80L << 20);
        // The command decoded the whole file before (and ran out of memory on this image).
        assertThat(input.size() * 4L + 5000 * 3000 * 3L).as("the input tensor and the decoded image it is made "
                + "from: more than the child's heap").isGreaterThan(80L << 20);
        float[] expected = model.classScores(input)[0];

        String out = smallHeap("classify", "--no-resize", "--json", "--top", "3", file.toString());
        Map<String, Object> line = (Map<String, Object>) Json.parse(out.lines().filter(l -> l.startsWith("{"))
                .findFirst().orElseThrow());
        List<Map<String, Object>> top = (List<Map<String, Object>>) line.get("top");
        int[] expectedTop = Compare.topK(expected, 3);
        for (int k = 0; k < 3; k++) {
            int index = ((Number) top.get(k).get("index")).intValue();
            assertThat(index).isEqualTo(expectedTop[k]);
            assertThat(((Number) top.get(k).get("logit")).doubleValue()).isCloseTo(expected[index],
                    within(1e-4 * Compare.maxAbs(expected)));
        }
    }

    /**
     * README: explain and patches stream too, and a result does not depend on the heap: the small heap's grid and
     * patches are the bits of a run in this JVM's 3 GB heap (whole, unless that heap is crowded).
     */
    @Test
    void explainAndPatchesStreamWhatDoesNotFitTheHeapWithTheSameBits(@TempDir Path dir) throws Exception {
        Path file = bigImage(dir, 600, 600);
        assertThat(BagNet.embedded().activationBytes(1, 600, 600)).as("more than the child's heap")
                .isGreaterThan(80L << 20);
        for (String heap : List.of("small", "large")) {
            String[] explain = {"explain", "--no-resize", "--out", dir.resolve(heap + "-explained").toString(),
                    file.toString()};
            String[] patches = {"patches", "--no-resize", "--class", "0", "--out",
                    dir.resolve(heap + "-patches").toString(), file.toString()};
            if (heap.equals("small")) {
                smallHeap(explain);
                smallHeap(patches);
            } else {
                assertThat(CommandsTest.cli(explain).code()).isZero();
                assertThat(CommandsTest.cli(patches).code()).isZero();
            }
        }
        assertThat(Files.readAllBytes(dir.resolve("small-explained").resolve("heatmap-grid.npy")))
                .isEqualTo(Files.readAllBytes(dir.resolve("large-explained").resolve("heatmap-grid.npy")));
        assertThat(Files.readString(dir.resolve("small-patches").resolve("t-shirt-top-top.json")))
                .isEqualTo(Files.readString(dir.resolve("large-patches").resolve("t-shirt-top-top.json")));
    }
}
