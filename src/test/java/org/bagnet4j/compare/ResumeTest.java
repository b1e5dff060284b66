package org.bagnet4j.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A comparison stopped half-way continues from its saved sums, to the bit of one uninterrupted run. */
class ResumeTest {
    @TempDir
    Path dir;

    @Test
    void anInterruptedRunContinuesWhereItStopped() throws IOException {
        BagNet bagnet = BagNet.embedded(1);
        LabelledImages data = samples(11);
        Comparison.Settings settings = new Comparison.Settings(5, 1, new int[] {4}, new int[] {0, 12}, 8, 2);
        Comparison comparison = new Comparison(List.of(new Comparison.Entry("target", bagnet)),
                List.of(new Comparison.Entry("bagnet", bagnet)), settings, 2);
        Comparison.Result whole = comparison.run(data, null);

        Path state = dir.resolve("compare.state");
        assertThatThrownBy(() -> comparison.run(data, (done, total) -> {
            if (done == 105) {
                throw new IllegalStateException("stopped");
            }
        }, state, "test")).hasMessage("stopped");
        assertThat(state).isNotEmptyFile();
        // Another comparison (other identity) does not take it up; this one does, and removes it when done.
        assertThat(comparison.run(data.limit(30), null, dir.resolve("other.state"), "other").resumedAt()).isZero();
        Comparison.Result resumed = comparison.run(data, null, state, "test");
        assertThat(resumed.resumedAt()).isEqualTo(100);
        assertThat(state).doesNotExist();
        assertThat(withoutTimes(ComparisonReport.json(resumed))).isEqualTo(withoutTimes(ComparisonReport.json(whole)));

        // A state whose bytes were damaged (one flipped bit) or cut short is not continued.
        assertThatThrownBy(() -> comparison.run(data, (done, total) -> {
            if (done == 105) {
                throw new IllegalStateException("stopped");
            }
        }, state, "test")).hasMessage("stopped");
        byte[] saved = Files.readAllBytes(state);
        byte[] flipped = saved.clone();
        flipped[saved.length / 2] ^= 4;
        Files.write(state, flipped);
        assertThat(comparison.run(data, null, state, "test").resumedAt()).isZero();
        Files.write(state, java.util.Arrays.copyOf(saved, saved.length - 3));
        assertThat(comparison.run(data, null, state, "test").resumedAt()).isZero();
    }

    /** The report without what legitimately differs: run times and where the run resumed. */
    private static String withoutTimes(String json) {
        return json.replaceAll("\"seconds\": \\{[^}]*}", "").replaceAll("\"resumed_at\": \\d+", "");
    }

    /** The bundled samples, {@code copies} times over. */
    static LabelledImages samples(int copies) throws IOException {
        List<RgbImage> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        String[] names = {"0-t-shirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt",
            "7-sneaker", "8-bag", "9-ankle-boot"};
        for (int c = 0; c < copies; c++) {
            for (int i = 0; i < names.length; i++) {
                try (InputStream in = ResumeTest.class.getResourceAsStream("/org/bagnet4j/samples/" + names[i]
                        + ".png")) {
                    images.add(RgbImage.from(ImageIO.read(in)));
                }
                labels.add(i);
            }
        }
        return LabelledImages.of(images, labels.stream().mapToInt(Integer::intValue).toArray(),
                BagNet.embedded(1).labels().names());
    }
}
