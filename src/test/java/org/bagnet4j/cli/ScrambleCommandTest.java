package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.bagnet4j.BagNet;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.explain.Scramble;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScrambleCommandTest {
    @TempDir
    Path dir;

    @Test
    void tilesMoveWholeAndOneTileIsTheImage() {
        RgbImage image = ImageDecoder.read(ReferenceFixtures.photos().getFirst()); // 451 x 300
        assertThat(Scramble.tiles(image, 1, new Random(3)).rgb()).isEqualTo(image.rgb());
        RgbImage shuffled = Scramble.tiles(image, 4, new Random(3));
        assertThat(shuffled.rgb()).isNotEqualTo(image.rgb());
        byte[] a = image.rgb().clone();
        byte[] b = shuffled.rgb().clone();
        Arrays.sort(a);
        Arrays.sort(b);
        assertThat(b).isEqualTo(a);
        // The leftover column beyond 4 tiles of 112 pixels stays in place.
        for (int y = 0; y < image.height(); y++) {
            assertThat(shuffled.get(450, y, 0)).isEqualTo(image.get(450, y, 0));
        }
    }

    @Test
    @RequiresReference
    void writesBothPicturesAndPrintsTopFiveBeforeAndAfter() throws IOException {
        CommandsTest.Result r = CommandsTest.cli("scramble", "--model", ReferenceFixtures.model("bagnet9").toString(),
                "--tiles", "4", "--seed", "2", "--out", dir.toString(), ReferenceFixtures.photos().getFirst().toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("4x4 tiles shuffled (seed 2)", "before", "after", "top-1");
        assertThat(ExplainCommandTest.png(dir.resolve("scrambled.png")).getWidth()).isEqualTo(224);
        assertThat(ExplainCommandTest.png(dir.resolve("heatmaps.png")).getWidth()).isGreaterThan(2 * 448);
    }

    /** On the embedded model's 34 x 34 inputs: the scrambled image enlarged 7x, pixel for pixel, and four panels. */
    @Test
    void smallInputsAreDrawnLargeEnoughToSee() throws IOException {
        Path sample = ForkedCli.sample("9-ankle-boot.png", dir.resolve("9-ankle-boot.png"));
        Path out = dir.resolve("out");
        CommandsTest.Result r = CommandsTest.cli("scramble", "--tiles", "4", "--seed", "5", "--out", out.toString(),
                sample.toString());
        assertThat(r.code()).as(r.err()).isZero();

        RgbImage seen = BagNet.embedded(1).preprocessing().geometry(ImageDecoder.read(sample));
        assertThat(seen.width()).isEqualTo(34);
        RgbImage expected = Scramble.tiles(seen, 4, new Random(5));
        BufferedImage scrambled = ExplainCommandTest.png(out.resolve("scrambled.png"));
        assertThat(scrambled.getWidth()).isEqualTo(34 * 7);
        assertThat(scrambled.getHeight()).isEqualTo(34 * 7);
        for (int y = 0; y < scrambled.getHeight(); y++) {
            for (int x = 0; x < scrambled.getWidth(); x++) {
                int rgb = expected.get(x / 7, y / 7, 0) << 16 | expected.get(x / 7, y / 7, 1) << 8
                        | expected.get(x / 7, y / 7, 2);
                assertThat(scrambled.getRGB(x, y) & 0xffffff).as("(%d, %d)", x, y).isEqualTo(rgb);
            }
        }
        // Before above after, each with its evidence and relative panels of the input enlarged 13x.
        BufferedImage heatmaps = ExplainCommandTest.png(out.resolve("heatmaps.png"));
        assertThat(heatmaps.getWidth()).isGreaterThan(2 * 34 * 13);
        assertThat(heatmaps.getHeight()).isGreaterThan(2 * 34 * 13);
    }
}
