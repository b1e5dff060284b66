package org.bagnet4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNetException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PNGs read band by band in one pass give, to the byte, the regions of ImageIO's whole decoding. */
class PngRowsTest {
    private static final int WIDTH = 97;
    private static final int HEIGHT = 61;

    /** Random samples (alpha mostly opaque, some not) in a PNG of the given kind, written by ImageIO. */
    private static Path png(Path dir, String kind) throws IOException {
        BufferedImage image = switch (kind) {
            case "gray8" -> new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_BYTE_GRAY);
            case "gray16" -> new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_USHORT_GRAY);
            case "rgb8" -> new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_3BYTE_BGR);
            case "rgba8" -> new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_4BYTE_ABGR);
            case "palette" -> new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_BYTE_INDEXED);
            case "grayalpha8" -> component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_BYTE);
            case "rgb16" -> component(ColorSpace.CS_sRGB, false, DataBuffer.TYPE_USHORT);
            case "rgba16" -> component(ColorSpace.CS_sRGB, true, DataBuffer.TYPE_USHORT);
            default -> throw new IllegalArgumentException(kind);
        };
        WritableRaster raster = image.getRaster();
        int bands = raster.getNumBands();
        int max = (1 << raster.getSampleModel().getSampleSize(0)) - 1;
        boolean alpha = image.getColorModel().hasAlpha() && !kind.equals("palette");
        Random rnd = new Random(kind.hashCode());
        int[] pixel = new int[bands];
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                for (int b = 0; b < bands; b++) {
                    // Smooth and noisy parts, so that every PNG filter gets chosen somewhere.
                    pixel[b] = x < WIDTH / 2 ? (x * 7 + y * 3 + b * 50) * max / 1000 % (max + 1) : rnd.nextInt(max + 1);
                }
                if (alpha && rnd.nextInt(4) != 0) {
                    pixel[bands - 1] = max;
                }
                raster.setPixel(x, y, pixel);
            }
        }
        Path file = dir.resolve(kind + ".png");
        assertThat(ImageIO.write(image, "png", file.toFile())).isTrue();
        return file;
    }

    private static BufferedImage component(int space, boolean alpha, int type) {
        ColorModel model = new ComponentColorModel(ColorSpace.getInstance(space), alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, type);
        return new BufferedImage(model, model.createCompatibleWritableRaster(WIDTH, HEIGHT), false, null);
    }

    private static byte[] window(RgbImage whole, int x, int y, int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int r = 0; r < h; r++) {
            System.arraycopy(whole.rgb(), ((y + r) * whole.width() + x) * 3, out, r * w * 3, w * 3);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gray8", "gray16", "grayalpha8", "rgb8", "rgb16", "rgba8", "rgba16", "palette"})
    void bandsEqualTheWholeDecoding(String kind, @TempDir Path dir) throws IOException {
        Path file = png(dir, kind);
        PngRows rows = PngRows.open(file);
        assertThat(rows != null).as("read in one pass (a palette is left to ImageIO)")
                .isEqualTo(!kind.equals("palette"));
        if (rows != null) {
            rows.close();
        }
        for (Color background : Arrays.asList(null, new Color(10, 200, 30))) {
            RgbImage whole = ImageDecoder.read(file, Long.MAX_VALUE, background);
            try (ImageDecoder.Regions regions = ImageDecoder.openRegions(file, Long.MAX_VALUE)) {
                // Overlapping bands top to bottom as a streamed pass reads them, narrower ones, then back to the top.
                int[][] asked = {{0, 0, WIDTH, 20}, {0, 13, WIDTH, 20}, {5, 26, 40, 20}, {0, 39, WIDTH, 22},
                        {96, 60, 1, 1}, {0, 0, WIDTH, HEIGHT}, {30, 10, 7, 3}};
                for (int[] a : asked) {
                    RgbImage band = regions.read(a[0], a[1], a[2], a[3], background);
                    assertThat(band.rgb()).as("%s over %s, %s", kind, background, Arrays.toString(a))
                            .isEqualTo(window(whole, a[0], a[1], a[2], a[3]));
                }
                assertThat(regions.read(0, 0, WIDTH, HEIGHT, background).transparent()).as(kind)
                        .isEqualTo(whole.transparent());
            }
        }
    }

    /** A file cut short in its image data, or with a chunk longer than the file: one line naming the file. */
    @ParameterizedTest
    @ValueSource(strings = {"truncated", "long chunk"})
    void damagedFilesAreRefusedInOneLine(String damage, @TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(png(dir, "rgb8"));
        int idat = indexOf(bytes, "IDAT".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] damaged = damage.equals("truncated") ? Arrays.copyOf(bytes, idat + 200) : bytes.clone();
        if (damage.equals("long chunk")) {
            ByteBuffer.wrap(damaged).putInt(idat - 4, 0x7fff0000);
        }
        Path file = dir.resolve("damaged.png");
        Files.write(file, damaged);
        try (ImageDecoder.Regions regions = ImageDecoder.openRegions(file, Long.MAX_VALUE)) {
            assertThatThrownBy(() -> regions.read(0, 0, WIDTH, HEIGHT)).isInstanceOf(BagNetException.class)
                    .hasMessageStartingWith(file + ": corrupt or truncated image (")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }
}
