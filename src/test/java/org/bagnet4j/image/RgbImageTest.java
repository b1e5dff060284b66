package org.bagnet4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;

import org.bagnet4j.Preprocessing;
import org.junit.jupiter.api.Test;

class RgbImageTest {
    /** Packed formats whose bands have different widths (5-6-5 bits) keep full-scale colours full-scale. */
    @Test
    void packedBandsAreScaledEachByItsOwnWidth() {
        BufferedImage image = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_565_RGB);
        image.setRGB(0, 0, 0xffffff);
        image.setRGB(1, 0, 0x00ff00);
        image.setRGB(2, 0, 0xff0000);
        RgbImage rgb = RgbImage.from(image);
        assertThat(new int[] {rgb.get(0, 0, 0), rgb.get(0, 0, 1), rgb.get(0, 0, 2)}).containsExactly(255, 255, 255);
        assertThat(new int[] {rgb.get(1, 0, 0), rgb.get(1, 0, 1), rgb.get(1, 0, 2)}).containsExactly(0, 255, 0);
        assertThat(new int[] {rgb.get(2, 0, 0), rgb.get(2, 0, 1), rgb.get(2, 0, 2)}).containsExactly(255, 0, 0);
    }

    /** Alpha is dropped by default (PIL's convert("RGB")), or composited over a background; either way it is told. */
    @Test
    void transparentPixelsAreDroppedOrComposited() {
        BufferedImage image = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        image.setRGB(0, 0, 0x0000ff00); // fully transparent green
        image.setRGB(1, 0, 0x80ff0000); // half-transparent red (alpha 128)
        image.setRGB(2, 0, 0xff0000ff); // opaque blue
        RgbImage dropped = RgbImage.from(image);
        assertThat(dropped.transparent()).isTrue();
        assertThat(pixel(dropped, 0)).containsExactly(0, 255, 0);
        assertThat(pixel(dropped, 1)).containsExactly(255, 0, 0);
        RgbImage overWhite = RgbImage.from(image, Color.WHITE);
        assertThat(overWhite.transparent()).isTrue();
        assertThat(pixel(overWhite, 0)).containsExactly(255, 255, 255);
        // (c * 128 + 255 * 127 + 127) / 255: 255 for red, 127 for green and blue
        assertThat(pixel(overWhite, 1)).containsExactly(255, 127, 127);
        assertThat(pixel(overWhite, 2)).containsExactly(0, 0, 255);

        IndexColorModel palette = new IndexColorModel(8, 2, new byte[] {0, (byte) 255}, new byte[] {(byte) 255, 0},
                new byte[] {0, 0}, 0); // entry 0, green, is the transparent one
        BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
        indexed.getRaster().setSample(1, 0, 0, 1);
        assertThat(RgbImage.from(indexed).transparent()).isTrue();
        assertThat(pixel(RgbImage.from(indexed, Color.BLACK), 0)).containsExactly(0, 0, 0);
        assertThat(pixel(RgbImage.from(indexed, Color.BLACK), 1)).containsExactly(255, 0, 0);

        BufferedImage opaque = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        opaque.setRGB(0, 0, 0xff123456);
        assertThat(RgbImage.from(opaque).transparent()).isFalse();
        assertThat(RgbImage.from(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB)).transparent()).isFalse();
    }

    private static int[] pixel(RgbImage image, int x) {
        return new int[] {image.get(x, 0, 0), image.get(x, 0, 1), image.get(x, 0, 2)};
    }

    @Test
    void preprocessingCannotBeChangedThroughItsAccessors() {
        Preprocessing p = Preprocessing.imagenet();
        p.mean()[0] = 99f;
        p.std()[0] = 99f;
        assertThat(p.mean()[0]).isEqualTo(0.485f);
        assertThat(p.std()[0]).isEqualTo(0.229f);
    }
}
