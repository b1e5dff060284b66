package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresReference
class ExplainCommandTest {
    @TempDir
    Path dir;

    static BufferedImage png(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        assertThat(image).as(file.toString()).isNotNull();
        return image;
    }

    @Test
    @SuppressWarnings("unchecked")
    void explainWritesPicturesJsonAndMapsThatAgree() throws IOException {
        Path photo = ReferenceFixtures.photos().getFirst();
        CommandsTest.Result r = CommandsTest.cli("explain", "--model", ReferenceFixtures.model("bagnet9").toString(),
                "--full", "--region", "100,90,140,120", "--top", "4", "--class", "tabby", "--out", dir.toString(),
                photo.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("explained class 281 'tabby'", "heatmap-full.png");
        Npy.Array grid = Npy.read(dir.resolve("heatmap-grid.npy"));
        assertThat(grid.shape()).containsExactly(27, 27);
        assertThat(Npy.read(dir.resolve("heatmap-full.npy")).shape()).containsExactly(30, 40);
        assertThat(png(dir.resolve("heatmap-grid.png")).getWidth()).isGreaterThan(448);
        assertThat(png(dir.resolve("heatmap-full.png")).getHeight()).isGreaterThan(448);
        assertThat(png(dir.resolve("patches.png")).getWidth()).isGreaterThan(4 * 128);

        Map<String, Object> json = (Map<String, Object>) Json.parse(
                Files.readString(dir.resolve("explanation.json")));
        assertThat(((Map<String, Object>) json.get("class")).get("index")).isEqualTo(281L);
        List<Map<String, Object>> most = (List<Map<String, Object>>) json.get("most_evidence");
        assertThat(most).hasSize(4);
        float max = Float.NEGATIVE_INFINITY;
        int argmax = 0;
        for (int i = 0; i < grid.data().length; i++) {
            if (grid.data()[i] > max) {
                max = grid.data()[i];
                argmax = i;
            }
        }
        assertThat(((Number) most.getFirst().get("value")).floatValue()).isCloseTo(max,
                org.assertj.core.api.Assertions.within(1e-4f * Math.abs(max)));
        int x = argmax % 27;
        int y = argmax / 27;
        assertThat((List<Object>) most.getFirst().get("box")).containsExactly((long) 8 * x, (long) 8 * y,
                (long) 8 * x + 9, (long) 8 * y + 9);
    }

    /** A normalized tensor in a .npy file is explained as it is, and nothing is overwritten without --force. */
    @Test
    void npyInputAndNoSilentOverwrite() {
        String model = ReferenceFixtures.model("bagnet9").toString();
        String tensor = ReferenceFixtures.file("heatmap-bagnet9-input.npy").toString();
        CommandsTest.Result r = CommandsTest.cli("explain", "--model", model, "--out", dir.toString(), tensor);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Npy.read(dir.resolve("heatmap-grid.npy")).shape()).containsExactly(27, 27);
        r = CommandsTest.cli("explain", "--model", model, "--out", dir.toString(), tensor);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).endsWith("exists in a folder bagnet4j did not make; give another --out, or --force"
                + " to overwrite it (see: bagnet4j explain --help)");
        r = CommandsTest.cli("explain", "--model", model, "--out", dir.toString(), "--force", tensor);
        assertThat(r.code()).as(r.err()).isZero();
    }

    @Test
    void patchesAcrossImagesKeepTheStrongest() throws IOException {
        Path photos = ReferenceFixtures.photos().getFirst().getParent();
        CommandsTest.Result r = CommandsTest.cli("patches", "--model", ReferenceFixtures.model("bagnet9").toString(),
                "--class", "3", "--top", "5", "--by-folder", "--out", dir.toString(), photos.toString());
        assertThat(r.code()).as(r.err()).isZero();
        // The folder is named "photos", not after class 3: every patch is a distracting one, and no top sheet.
        assertThat(r.err()).contains("no tiger-shark-top sheet: no image read is labelled 'tiger shark'");
        assertThat(dir.resolve("tiger-shark-top.json")).doesNotExist();
        List<?> distracting = (List<?>) Json.parse(Files.readString(dir.resolve("tiger-shark-distracting.json")));
        assertThat(distracting).hasSize(5);
        png(dir.resolve("tiger-shark-distracting.png"));
        r = CommandsTest.cli("patches", "--model", ReferenceFixtures.model("bagnet9").toString(), "--class", "3",
                "--by-folder", "--out", dir.toString(), photos.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("tiger-shark-distracting.png exists in a folder bagnet4j did not make");

        BagNet model = BagNet.load(ReferenceFixtures.model("bagnet9"));
        List<Float> all = new ArrayList<>();
        for (Path p : ReferenceFixtures.photos()) {
            EvidenceMap grid = Explainer.grid(model, model.preprocess(p), 3);
            for (float v : grid.values()) {
                all.add(v);
            }
        }
        all.sort((a, b) -> Float.compare(b, a));
        for (int i = 0; i < 5; i++) {
            double value = ((Number) ((Map<?, ?>) distracting.get(i)).get("value")).doubleValue();
            assertThat(value).isCloseTo(all.get(i), org.assertj.core.api.Assertions.within(1e-3));
        }
    }

    @Test
    void badRequestsAreOneLine() {
        String model = ReferenceFixtures.model("tiny").toString();
        String photo = ReferenceFixtures.photos().getFirst().toString();
        CommandsTest.Result r = CommandsTest.cli("explain", "--model", ReferenceFixtures.model("bagnet9").toString(),
                "--class", "tabby cat", photo);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("bagnet4j: unknown class 'tabby cat'; closest names: tabby, tiger cat, ")
                .endsWith("(or an index 0-999)");
        r = CommandsTest.cli("explain", "--model", model, "--class", "10", photo);
        assertThat(r.err()).contains("class index 10 is outside 0-9");
        r = CommandsTest.cli("explain", "--model", model, "--top", "0", photo);
        assertThat(r.err()).contains("--top must be between 1 and 256, got 0");
        r = CommandsTest.cli("explain", "--model", model, "--no-resize", "--out", dir.resolve("a").toString(),
                ReferenceFixtures.images().resolve("variant-gif.gif").toString());
        assertThat(r.code()).as(r.err()).isZero();
        r = CommandsTest.cli("explain", "--model", model, "--out", "/proc/forbidden", photo);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("cannot create the output folder /proc/forbidden");
        r = CommandsTest.cli("explain", "--model", model, "--full", "--region", "1,2,3", photo);
        assertThat(r.err()).contains("--region needs x0,y0,x1,y1");
        r = CommandsTest.cli("explain", "--model", model, "--full", "--region", "0,0,500,10", "--out",
                dir.toString(), photo);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("outside the 224x224 input");
        r = CommandsTest.cli("patches", "--model", model, photo);
        assertThat(r.err()).contains("patches needs --class");
    }
}
