package org.bagnet4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.bagnet4j.Preprocessing;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decoding, Resize, CenterCrop, ToTensor and Normalize against PIL + torchvision, on real photos and on every
 * supported encoding: equal to the bit, except for the two differences the README names (4:4:0 JPEGs, 16-bit
 * grayscale PNGs).
 */
@RequiresReference
class PreprocessingTest {
    /**
     * Largest difference from torchvision, in 1/255, where there is one: PIL's libjpeg-turbo interpolates the chroma
     * of a 4:4:0 JPEG between rows where ImageIO's decoder (IJG libjpeg 6b) repeats it.
     */
    private static final Map<String, Integer> MAX_DIFFERENCE = Map.of("jpeg-440", 10);
    /** Not compared here: PIL clips its samples to 255, see {@link #sixteenBitGrayKeepsTheHighByteWherePilClips}. */
    private static final String SIXTEEN_BIT_GRAY = "png-16bit-gray";

    /** Each image with the folder holding its torchvision tensors. */
    static Stream<Arguments> images() throws IOException {
        List<Arguments> all = new ArrayList<>();
        ReferenceFixtures.photos().forEach(p -> all.add(Arguments.of(p, ReferenceFixtures.images())));
        for (Path dir : List.of(ReferenceFixtures.images(), ReferenceFixtures.encodings())) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.toString().matches(".*\\.(png|jpg|bmp|gif)$"))
                        .filter(p -> !name(p).equals(SIXTEEN_BIT_GRAY)).sorted()
                        .forEach(p -> all.add(Arguments.of(p, dir)));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void matchesTorchvision(Path file, Path references) {
        String name = name(file);
        int allowed = MAX_DIFFERENCE.getOrDefault(name, 0);
        RgbImage decoded = ImageDecoder.read(file);
        Preprocessing imagenet = Preprocessing.imagenet();
        compare(name, imagenet.geometry(decoded), Npy.read(references.resolve(name + ".npy")), allowed);
        compare(name + " 160/128", imagenet.withSize(160, 128).geometry(decoded),
                Npy.read(references.resolve(name + "_160_128.npy")), allowed);
        compare(name + " whole", imagenet.withSize(0, 0).geometry(decoded),
                Npy.read(references.resolve(name + "_none.npy")), allowed);
        Preprocessing gray = new Preprocessing(256, 224, 0, new float[] {0.5f}, new float[] {0.5f});
        compare(name + " gray", gray.geometry(decoded), Npy.read(references.resolve(name + "_gray.npy")), allowed);
    }

    /** ToTensor and Normalize are per value, so all 256 byte values cover every image: torchvision's, to the bit. */
    @Test
    void normalizeEqualsTorchvisionForEveryByte() {
        Npy.Array torchvision = Npy.read(ReferenceFixtures.encodings().resolve("normalize_imagenet.npy"));
        assertThat(torchvision.shape()).containsExactly(3, 1, 256);
        byte[] ramp = new byte[256 * 3];
        for (int i = 0; i < ramp.length; i++) {
            ramp[i] = (byte) (i / 3);
        }
        float[] nhwc = Preprocessing.imagenet().normalize(new RgbImage(256, 1, ramp)).data();
        float[] chw = new float[nhwc.length];
        for (int i = 0; i < 256; i++) {
            for (int c = 0; c < 3; c++) {
                chw[c * 256 + i] = nhwc[i * 3 + c];
            }
        }
        assertThat(chw).containsExactly(torchvision.data());
    }

    /** The README's stated difference: bagnet4j keeps a 16-bit gray sample's high byte, PIL clips it to 255. */
    @Test
    void sixteenBitGrayKeepsTheHighByteWherePilClips() throws IOException {
        Path file = ReferenceFixtures.encodings().resolve(SIXTEEN_BIT_GRAY + ".png");
        Raster samples = ImageIO.read(file.toFile()).getRaster();
        assertThat(samples.getSampleModel().getSampleSize(0)).isEqualTo(16);
        RgbImage decoded = ImageDecoder.read(file);
        float[] pil = Npy.read(ReferenceFixtures.encodings().resolve(SIXTEEN_BIT_GRAY + "_none.npy")).data();
        int width = samples.getWidth();
        int plane = width * samples.getHeight();
        long notHighByte = 0;
        long notClipped = 0;
        for (int y = 0; y < samples.getHeight(); y++) {
            for (int x = 0; x < width; x++) {
                int sample = samples.getSample(x, y, 0);
                for (int c = 0; c < 3; c++) {
                    notHighByte += decoded.get(x, y, c) == sample >> 8 ? 0 : 1;
                    notClipped += pil[c * plane + y * width + x] == Math.min(sample, 255) / 255f ? 0 : 1;
                }
            }
        }
        assertThat(notHighByte).as("bagnet4j's values other than the high byte").isZero();
        assertThat(notClipped).as("PIL's values other than the sample clipped to 255").isZero();
    }

    private static String name(Path file) {
        return file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
    }

    /** Every value of ToTensor(actual) equals torchvision's, or is at most {@code allowed}/255 off. */
    private static void compare(String what, RgbImage actual, Npy.Array expected, int allowed) {
        int[] s = expected.shape(); // [channels, H, W]
        assertThat(new int[] {actual.height(), actual.width()}).as(what + " size").containsExactly(s[1], s[2]);
        int plane = s[1] * s[2];
        int worst = 0;
        long unequal = 0;
        for (int c = 0; c < s[0]; c++) {
            for (int y = 0; y < s[1]; y++) {
                for (int x = 0; x < s[2]; x++) {
                    float ref = expected.data()[c * plane + y * s[2] + x];
                    int value = actual.get(x, y, c);
                    if (value / 255f != ref) {
                        unequal++;
                        worst = Math.max(worst, Math.abs(value - Math.round(ref * 255f)));
                    }
                }
            }
        }
        if (unequal > 0) {
            System.out.printf(Locale.ROOT, "%s: %.2f%% of values differ from torchvision's, by at most %d/255%n", what,
                    100.0 * unequal / ((long) s[0] * plane), worst);
        }
        if (allowed == 0) {
            assertThat(unequal).as(what + ": values unequal to torchvision's (worst %d/255)", worst).isZero();
        } else {
            assertThat(worst).as(what + " largest difference from torchvision, in 1/255").isLessThanOrEqualTo(allowed);
        }
    }
}
