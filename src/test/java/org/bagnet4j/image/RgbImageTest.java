package org.bagnet4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;

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

    @Test
    void preprocessingCannotBeChangedThroughItsAccessors() {
        Preprocessing p = Preprocessing.imagenet();
        p.mean()[0] = 99f;
        p.std()[0] = 99f;
        assertThat(p.mean()[0]).isEqualTo(0.485f);
        assertThat(p.std()[0]).isEqualTo(0.229f);
    }
}
