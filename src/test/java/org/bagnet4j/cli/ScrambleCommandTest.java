package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

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
}
