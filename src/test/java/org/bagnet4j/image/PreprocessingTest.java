package org.bagnet4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.bagnet4j.Preprocessing;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Decoding + Resize + CenterCrop against PIL + torchvision on real photos and on every supported encoding. */
@RequiresReference
class PreprocessingTest {
    static Stream<Path> images() throws Exception {
        List<Path> all = new ArrayList<>(ReferenceFixtures.photos());
        try (Stream<Path> variants = Files.list(ReferenceFixtures.images())) {
            variants.filter(p -> !p.toString().endsWith(".npy")).sorted().forEach(all::add);
        }
        return all.stream();
    }

    @ParameterizedTest
    @MethodSource("images")
    void matchesTorchvision(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        RgbImage decoded = ImageDecoder.read(file);
        Preprocessing imagenet = Preprocessing.imagenet();
        compare(name, imagenet.geometry(decoded), Npy.read(ReferenceFixtures.images().resolve(name + ".npy")));
        compare(name + " 160/128", imagenet.withSize(160, 128).geometry(decoded),
                Npy.read(ReferenceFixtures.images().resolve(name + "_160_128.npy")));
        compare(name + " whole", imagenet.withSize(0, 0).geometry(decoded),
                Npy.read(ReferenceFixtures.images().resolve(name + "_none.npy")));
        Preprocessing gray = new Preprocessing(256, 224, 0, new float[] {0.5f}, new float[] {0.5f});
        compare(name + " gray", gray.geometry(decoded), Npy.read(ReferenceFixtures.images().resolve(name + "_gray.npy")));
    }

    /** At most 1/255 off for 99.9% of values and 3/255 anywhere (measured here: see the printed lines). */
    private static void compare(String what, RgbImage actual, Npy.Array expected) {
        int[] s = expected.shape(); // [channels, H, W]
        assertThat(new int[] {actual.height(), actual.width()}).as(what + " size").containsExactly(s[1], s[2]);
        int plane = s[1] * s[2];
        int worst = 0;
        long offByMoreThanOne = 0;
        long exact = 0;
        for (int c = 0; c < s[0]; c++) {
            for (int y = 0; y < s[1]; y++) {
                for (int x = 0; x < s[2]; x++) {
                    int ref = Math.round(expected.data()[c * plane + y * s[2] + x] * 255f);
                    int diff = Math.abs(actual.get(x, y, c) - ref);
                    worst = Math.max(worst, diff);
                    offByMoreThanOne += diff > 1 ? 1 : 0;
                    exact += diff == 0 ? 1 : 0;
                }
            }
        }
        double share = (double) offByMoreThanOne / ((long) s[0] * plane);
        System.out.printf(Locale.ROOT, "%s: %.3f%% exact, %.4f%% off by more than 1/255, max %d/255%n", what,
                100.0 * exact / ((long) s[0] * plane), 100 * share, worst);
        assertThat(worst).as(what + " max difference (in 1/255)").isLessThanOrEqualTo(3);
        assertThat(share).as(what + " share off by more than 1/255").isLessThanOrEqualTo(0.001);
    }
}
