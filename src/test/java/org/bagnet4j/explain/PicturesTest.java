package org.bagnet4j.explain;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Point;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.bagnet4j.image.RgbImage;
import org.junit.jupiter.api.Test;

/** The heatmap's two panels and their colour scales, read back from the pixels drawn. */
class PicturesTest {
    private static final int W = 8;
    private static final int H = 6;
    /** White, so that the map's colours are drawn unfaded. */
    private static final RgbImage WHITE = white(W, H);

    private static RgbImage white(int width, int height) {
        byte[] rgb = new byte[width * height * 3];
        Arrays.fill(rgb, (byte) 255);
        return new RgbImage(width, height, rgb);
    }

    /** A map with one value per image pixel (stride 1), row-major. */
    private static EvidenceMap map(float... values) {
        return new EvidenceMap(9, "Ankle boot", W, H, values, 3, 1, -1, 0, 0);
    }

    /** The colour a heatmap shows for the map's value at (x, y) in a panel (0: evidence, 1: relative). */
    private static Color colourAt(BufferedImage heatmap, int panel, int x, int y) {
        Point corner = Pictures.mapCorner(WHITE, panel);
        int zoom = 448 / W;
        return new Color(heatmap.getRGB(corner.x + x * zoom + zoom / 2, corner.y + y * zoom + zoom / 2));
    }

    private static boolean reddish(Color c) {
        return c.getRed() - c.getBlue() > 50;
    }

    private static boolean bluish(Color c) {
        return c.getBlue() - c.getRed() > 50;
    }

    @Test
    void relativePanelShowsWhatStandsOutWhenAllEvidenceHasOneSign() {
        float[] values = new float[W * H];
        for (int i = 0; i < values.length; i++) {
            values[i] = 10 + i / 47f; // all for the class: 10 at (0, 0) up to 11 at (7, 5)
        }
        BufferedImage picture = Pictures.heatmap(WHITE, map(values), "");
        assertThat(picture.getWidth()).isGreaterThanOrEqualTo(2 * 448);

        // The evidence panel: everything about equally red, the smallest and largest cell alike.
        Color smallest = colourAt(picture, 0, 0, 0);
        Color largest = colourAt(picture, 0, W - 1, H - 1);
        assertThat(reddish(smallest) && reddish(largest)).isTrue();
        assertThat(Math.abs(smallest.getRed() - largest.getRed())).isLessThan(40);

        // Relative to the mean cell: the largest stands out red, the smallest blue, the middle near white.
        assertThat(colourAt(picture, 1, W - 1, H - 1)).matches(PicturesTest::reddish);
        assertThat(colourAt(picture, 1, 0, 0)).matches(PicturesTest::bluish);
        Color middle = colourAt(picture, 1, 0, H / 2); // cell 24 of 0..47, 0.01 above the mean
        assertThat(Math.min(middle.getRed(), Math.min(middle.getGreen(), middle.getBlue()))).isGreaterThan(220);
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                colours.add(colourAt(picture, 1, x, y).getRGB());
            }
        }
        assertThat(colours).hasSizeGreaterThan(W * H / 2);
    }

    @Test
    void aConstantMapHasAWhiteRelativePanel() {
        float[] values = new float[W * H];
        Arrays.fill(values, 0.1f);
        EvidenceMap map = map(values);
        assertThat(HeatmapScale.of(map).relative()).isEqualTo(1); // not 0: no division by zero
        BufferedImage picture = Pictures.heatmap(WHITE, map, "");
        assertThat(colourAt(picture, 0, 3, 3)).matches(PicturesTest::reddish);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                Color c = colourAt(picture, 1, x, y);
                assertThat(Math.min(c.getRed(), Math.min(c.getGreen(), c.getBlue()))).isGreaterThan(240);
            }
        }
    }

    @Test
    void aSharedScaleGivesEqualEvidenceEqualColours() {
        float[] weak = new float[W * H];
        float[] strong = new float[W * H];
        for (int i = 0; i < weak.length; i++) {
            weak[i] = 2f * i / (weak.length - 1) - 1; // -1 .. 1
            strong[i] = 4 * weak[i]; // -4 .. 4
        }
        weak[9] = 0.5f;
        strong[9] = 0.5f; // the same evidence at (1, 1) in both
        EvidenceMap before = map(weak);
        EvidenceMap after = map(strong);
        HeatmapScale shared = HeatmapScale.shared("before and after", before, after);
        assertThat(shared.evidence()).isEqualTo(4);
        assertThat(shared.relative()).isEqualTo(Math.max(HeatmapScale.of(before).relative(),
                HeatmapScale.of(after).relative()));

        assertThat(colourAt(Pictures.heatmap(WHITE, before, "", shared), 0, 1, 1))
                .isEqualTo(colourAt(Pictures.heatmap(WHITE, after, "", shared), 0, 1, 1));
        // Each on its own scale, the same evidence looks stronger in the weaker map.
        assertThat(colourAt(Pictures.heatmap(WHITE, before, ""), 0, 1, 1))
                .isNotEqualTo(colourAt(Pictures.heatmap(WHITE, after, ""), 0, 1, 1));
    }

    @Test
    void smallImagesAreEnlargedByAWholeFactorPixelForPixel() {
        byte[] rgb = new byte[34 * 34 * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 7);
        }
        RgbImage small = new RgbImage(34, 34, rgb);
        BufferedImage big = Pictures.enlarged(small, 224);
        assertThat(big.getWidth()).isEqualTo(34 * 7);
        assertThat(big.getHeight()).isEqualTo(34 * 7);
        for (int y = 0; y < big.getHeight(); y++) {
            for (int x = 0; x < big.getWidth(); x++) {
                Color c = new Color(big.getRGB(x, y));
                assertThat(new int[] {c.getRed(), c.getGreen(), c.getBlue()}).as("(%d, %d)", x, y)
                        .containsExactly(small.get(x / 7, y / 7, 0), small.get(x / 7, y / 7, 1),
                                small.get(x / 7, y / 7, 2));
            }
        }
        BufferedImage large = Pictures.enlarged(white(300, 224), 224);
        assertThat(large.getWidth()).isEqualTo(300);
        assertThat(large.getHeight()).isEqualTo(224);
    }
}
