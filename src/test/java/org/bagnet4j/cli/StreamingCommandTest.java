package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
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

/** classify --no-resize on an image whose activations do not fit a small heap: streamed, same answer. */
class StreamingCommandTest {
    @Test
    @SuppressWarnings("unchecked")
    void classifyStreamsWhatDoesNotFitTheHeap(@TempDir Path dir) throws Exception {
        BufferedImage picture = new BufferedImage(1200, 1100, BufferedImage.TYPE_BYTE_GRAY);
        Random rnd = new Random(3);
        for (int y = 0; y < picture.getHeight(); y++) {
            for (int x = 0; x < picture.getWidth(); x++) {
                int v = (int) (127 + 80 * Math.sin(x / 37.0) * Math.cos(y / 23.0)) + rnd.nextInt(40);
                picture.getRaster().setSample(x, y, 0, Math.max(0, Math.min(255, v)));
            }
        }
        Path file = dir.resolve("big.png");
        ImageIO.write(picture, "png", file.toFile());

        BagNet model = BagNet.embedded();
        var input = model.preprocessing().withSize(0, 0).apply(org.bagnet4j.image.ImageDecoder.read(file));
        assertThat(model.activationBytes(1, input.height(), input.width())).as("more than the child's heap")
                .isGreaterThan(80L << 20);
        float[] expected = model.classScores(input)[0];

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String out = ReferenceFixtures.exec(List.of(java, "-Xmx80m", "-cp", Path.of("target", "classes").toString(),
                Main.class.getName(), "classify", "--no-resize", "--json", "--top", "3", file.toString()));
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
}
