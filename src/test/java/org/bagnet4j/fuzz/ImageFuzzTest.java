package org.bagnet4j.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.file.Path;
import java.util.Arrays;

import org.bagnet4j.Preprocessing;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.junit.jupiter.api.Tag;

/** Image files through the decoder, the pixel limit and preprocessing; and preprocessing's size arithmetic. */
@Tag("fuzz")
class ImageFuzzTest {
    private static final long MAX_PIXELS = 4_000_000;
    private static final Preprocessing PREPROCESSING = new Preprocessing(64, 56, 2, new float[] {0.5f, 0.4f, 0.3f},
            new float[] {0.2f, 0.2f, 0.2f});

    /** Whole, then by regions as a streamed pass reads them. */
    @FuzzTest(maxDuration = "10m")
    void decode(byte[] data) {
        Path file = Allowed.scratch("image", data);
        Allowed.onlyBagNetException(() -> PREPROCESSING.apply(ImageDecoder.read(file, MAX_PIXELS), MAX_PIXELS));
        Allowed.onlyBagNetException(() -> {
            try (ImageDecoder.Regions regions = ImageDecoder.openRegions(file, MAX_PIXELS)) {
                int band = Math.max(1, regions.height() / 2);
                for (int y = 0; y < regions.height(); y += band) {
                    regions.read(0, y, regions.width(), Math.min(band, regions.height() - y));
                }
            }
        });
    }

    /** Resize, crop and pad of any size on images of any shape, under any pixel limit. */
    @FuzzTest(maxDuration = "10m")
    void geometry(FuzzedDataProvider data) {
        int width = data.consumeInt(1, 3000);
        int height = data.consumeInt(1, 3000);
        long maxPixels = data.consumeLong(1, Long.MAX_VALUE);
        int resize = data.consumeInt(0, Preprocessing.MAX_SIZE);
        int crop = data.consumeInt(0, Preprocessing.MAX_SIZE);
        int pad = data.consumeInt(0, Preprocessing.MAX_SIZE);
        int channels = data.consumeBoolean() ? 1 : 3;
        if ((long) width * height > 1_000_000) {
            return;
        }
        RgbImage image = new RgbImage(width, height, new byte[width * height * 3]);
        Allowed.onlyBagNetException(() -> new Preprocessing(resize, crop, pad, new float[channels],
                filled(channels)).apply(image, Math.min(maxPixels, MAX_PIXELS)));
    }

    private static float[] filled(int channels) {
        float[] std = new float[channels];
        Arrays.fill(std, 0.25f);
        return std;
    }
}
