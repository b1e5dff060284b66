package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 32 threads on one model in a JVM with a 128 MB heap, where calls run whole or tile by tile depending on what else
 * runs: every result equals, to the bit, what the same call gives alone, here with a large heap.
 */
class ConcurrentCallsTest {
    @TempDir
    Path dir;

    @Test
    void manyThreadsUnderASmallHeapGiveTheBitsOfOneCallAlone() throws Exception {
        List<Path> files = List.of(noise(dir.resolve("a.png"), 300, 200, 1), noise(dir.resolve("b.png"), 120, 160, 2));
        BagNet model = ConcurrentCalls.model();
        List<float[]> alone = new ArrayList<>();
        for (ConcurrentCalls.Call call : ConcurrentCalls.calls(ConcurrentCalls.inputs(), files)) {
            alone.add(call.run(model));
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx128m", "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), ConcurrentCalls.class.getName(), "32", "12"));
        files.forEach(f -> command.add(f.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).as("results alone under 128 MB = results here").contains("digest "
                + ConcurrentCalls.digest(alone));
        Matcher m = Pattern.compile("calls (\\d+), differing 0, refused as expected (\\d+), calls that found the heap "
                + "too full for a whole 160x160 pass (\\d+), unexpected 0").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        System.out.println(m.group());
        assertThat(Integer.parseInt(m.group(1))).isGreaterThan(300);
        assertThat(Integer.parseInt(m.group(2))).as("refusals").isPositive();
        assertThat(Integer.parseInt(m.group(3))).as("calls that streamed").isPositive();
    }

    private static Path noise(Path file, int width, int height, long seed) throws Exception {
        BufferedImage picture = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                picture.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ImageIO.write(picture, "png", file.toFile());
        return file;
    }
}
