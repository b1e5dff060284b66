package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Under a small heap, large images are streamed: said once, with the heap that would run them whole. */
class LargeImagesTest {
    @TempDir
    Path dir;

    @Test
    void streamingUnderASmallHeapIsSaidOnceWithTheHeapThatWouldAvoidIt() throws Exception {
        List<String> images = new ArrayList<>();
        Random random = new Random(5);
        for (int i = 0; i < 2; i++) {
            BufferedImage image = new BufferedImage(500, 400, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 400; y++) {
                for (int x = 0; x < 500; x++) {
                    image.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            Path png = dir.resolve("large-" + i + ".png");
            ImageIO.write(image, "png", png.toFile());
            images.add(png.toString());
        }
        String[] small = run("-Xmx64m", images);
        String[] large = run("-Xmx2g", images);
        assertThat(small[0]).as("the same scores, streamed or not").isEqualTo(large[0]).contains("large-1.png");
        List<String> notices = small[1].lines().filter(l -> l.contains("tile by tile")).toList();
        assertThat(notices).hasSize(1);
        assertThat(notices.getFirst()).matches("bagnet4j: .*large-0.png: its 506x406 input is evaluated tile by "
                + "tile, which is slower: its activations \\(\\d+ MB\\) exceed a quarter of the free heap \\(the heap "
                + "is at most 64 MB\\); with -Xmx\\dg it would run whole \\(BAGNET4J_JAVA_OPTS=-Xmx\\dg bin/bagnet4j "
                + "\\.\\.\\.\\)");
        assertThat(large[1]).doesNotContain("tile by tile");
    }

    /** stdout and stderr of classify --no-resize in a JVM with these options. */
    private static String[] run(String heap, List<String> images) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), heap, "--add-modules", "jdk.incubator.vector", "-cp", Path.of("target", "classes")
                .toString(), Main.class.getName(), "classify", "--no-resize", "--threads", "1", "--top", "10"));
        command.addAll(images);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] err = p.getErrorStream().readAllBytes();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(new String(err, StandardCharsets.UTF_8)).isZero();
        return new String[] {out, new String(err, StandardCharsets.UTF_8)};
    }
}
