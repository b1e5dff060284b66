package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PNG whose transparent half hides pure green: the user is warned, and can composite it over a colour. */
class TransparencyTest {
    @TempDir
    Path dir;

    @Test
    void transparentPixelsAreWarnedAboutOrComposited() throws IOException {
        BufferedImage hidden = new BufferedImage(28, 28, BufferedImage.TYPE_INT_ARGB);
        BufferedImage white = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                boolean left = x < 14;
                hidden.setRGB(x, y, left ? 0x0000ff00 : 0xff202020);
                white.setRGB(x, y, left ? 0xffffff : 0x202020);
            }
        }
        Path png = dir.resolve("hidden.png");
        Path expected = dir.resolve("white.png");
        ImageIO.write(hidden, "png", png.toFile());
        ImageIO.write(white, "png", expected.toFile());

        CommandsTest.Result dropped = CommandsTest.cli("classify", "--top", "3", png.toString());
        assertThat(dropped.code()).as(dropped.err()).isZero();
        assertThat(dropped.err().lines().filter(l -> l.contains("transparent"))).containsExactly("bagnet4j: " + png
                + ": warning: transparent pixels; their alpha is dropped, as PIL's convert(\"RGB\") does, so the "
                + "colours stored under them count (--alpha-background COLOR composites them over a colour)");

        CommandsTest.Result composited = CommandsTest.cli("classify", "--top", "3", "--alpha-background", "white",
                png.toString());
        assertThat(composited.err()).doesNotContain("transparent");
        CommandsTest.Result reference = CommandsTest.cli("classify", "--top", "3", expected.toString());
        assertThat(composited.out().replace(png.toString(), "X"))
                .isEqualTo(reference.out().replace(expected.toString(), "X"))
                .isNotEqualTo(dropped.out().replace(png.toString(), "X"));
        assertThat(CommandsTest.cli("classify", "--alpha-background", "#FFFFFF", png.toString()).out())
                .isEqualTo(CommandsTest.cli("classify", "--alpha-background", "white", png.toString()).out());

        CommandsTest.Result bad = CommandsTest.cli("classify", "--alpha-background", "mauve", png.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("bagnet4j: --alpha-background needs white, black, gray or #rrggbb, got "
                + "'mauve' (see: bagnet4j classify --help)\n");
    }
}
