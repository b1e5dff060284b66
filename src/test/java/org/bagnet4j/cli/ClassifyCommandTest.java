package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.Compare;
import org.bagnet4j.Labels;
import org.bagnet4j.Prediction;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** End to end: official-style checkpoint -> convert.py -> classify on real photos, against PyTorch + torchvision. */
@RequiresReference
class ClassifyCommandTest {
    @TempDir
    Path dir;

    /** In batches of 3 (every thread on each batch), and one image per thread on the shared model. */
    @ParameterizedTest
    @ValueSource(strings = {"--batch=3", "--threads=2"})
    @SuppressWarnings("unchecked")
    void jsonTop5AndLogitsMatchPyTorchAndTorchvision(String parallelism) {
        List<Path> photos = ReferenceFixtures.photos();
        assertThat(photos.size()).as("enough photos for one job per thread").isGreaterThanOrEqualTo(4);
        String[] option = parallelism.split("=");
        List<String> args = new ArrayList<>(List.of("classify", "--json", option[0], option[1], "--model",
                ReferenceFixtures.model("bagnet33").toString()));
        photos.forEach(p -> args.add(p.toString()));
        CommandsTest.Result r = CommandsTest.cli(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(photos.size());
        Npy.Array reference = Npy.read(ReferenceFixtures.file("classify_bagnet33.npy"));
        int classes = reference.shape()[1];
        for (int n = 0; n < photos.size(); n++) {
            Map<String, Object> line = (Map<String, Object>) Json.parse(lines.get(n));
            assertThat(line.get("file")).isEqualTo(photos.get(n).toString());
            assertThat(((Number) line.get("ms")).doubleValue()).isPositive();
            float[] expected = Arrays.copyOfRange(reference.data(), n * classes, (n + 1) * classes);
            float scale = Compare.maxAbs(expected);
            List<Map<String, Object>> top = (List<Map<String, Object>>) line.get("top");
            assertThat(top).hasSize(5);
            int[] expectedTop = Compare.topK(expected, 5);
            for (int k = 0; k < 5; k++) {
                int index = ((Number) top.get(k).get("index")).intValue();
                assertThat(index).as(photos.get(n) + " rank " + k).isEqualTo(expectedTop[k]);
                assertThat(((Number) top.get(k).get("logit")).doubleValue()).as(photos.get(n) + " logit")
                        .isCloseTo(expected[index], within(1e-3 * scale));
                assertThat(top.get(k).get("label")).isEqualTo(Labels.imagenet().name(index));
            }
        }
    }

    @Test
    void javaApiClassifiesFilesAndBufferedImagesAlike() throws IOException {
        BagNet model = BagNet.load(ReferenceFixtures.model("bagnet9"));
        Path photo = ReferenceFixtures.photos().getFirst();
        List<Prediction> fromFile = model.classify(photo, 3);
        List<Prediction> fromImage = model.classify(ImageIO.read(photo.toFile()), 3);
        assertThat(fromImage).isEqualTo(fromFile);
        assertThat(fromFile.getFirst().probability()).isBetween(0.0, 1.0);
        assertThat(fromFile.getFirst().logit()).isGreaterThanOrEqualTo(fromFile.get(1).logit());
    }

    /** A PNG whose header claims a size but whose data is a few bytes: it must be refused before decoding. */
    static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put(new byte[] {8, 2, 0, 0, 0});
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(b, "IHDR", ihdr.array());
        chunk(b, "IDAT", new byte[0]);
        chunk(b, "IEND", new byte[0]);
        return b.array();
    }

    private static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length).put(type.getBytes()).put(data);
        CRC32 crc = new CRC32();
        crc.update(type.getBytes());
        crc.update(data);
        b.putInt((int) crc.getValue());
    }

    /** A folder is searched recursively for .jpg .jpeg .png .bmp .gif (any case), and its images run in name order. */
    @Test
    void foldersGiveTheirImagesInNameOrder() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("mixed"));
        java.awt.image.BufferedImage picture = new java.awt.image.BufferedImage(28, 28,
                java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        List<String> images = List.of("a.gif", "b.BMP", "c.jpeg", "d.jpg", "e.png", "sub/a.png");
        for (String name : images) {
            Path file = folder.resolve(name);
            Files.createDirectories(file.getParent());
            String format = name.substring(name.indexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
            assertThat(ImageIO.write(picture, format.equals("jpg") ? "jpeg" : format, file.toFile())).isTrue();
        }
        Files.writeString(folder.resolve("b.txt"), "not an image");
        Files.copy(folder.resolve("e.png"), folder.resolve("f.tiff"));

        CommandsTest.Result r = CommandsTest.cli("classify", "--json", "--top", "1", folder.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().map(l -> (String) ((Map<?, ?>) Json.parse(l)).get("file")))
                .containsExactlyElementsOf(images.stream().map(n -> folder.resolve(n).toString()).toList());
    }

    /** README: a progress bar appears on a terminal when more than 8 images are processed. */
    @Test
    void progressBarIsForMoreThanEightImagesOnATerminal() {
        assertThat(Progress.wanted(8)).isFalse();
        assertThat(Progress.wanted(9)).isEqualTo(Progress.stderrIsTerminal());
    }

    @Test
    void badImagesAreReportedOneLineEachAndTheRestStillRuns() throws IOException {
        Path good = ReferenceFixtures.photos().getFirst();
        Path empty = Files.write(dir.resolve("empty.jpg"), new byte[0]);
        byte[] rocket = Files.readAllBytes(ReferenceFixtures.photos().stream()
                .filter(p -> p.toString().endsWith("rocket.jpg")).findFirst().orElseThrow());
        Path truncated = Files.write(dir.resolve("truncated.jpg"), Arrays.copyOf(rocket, rocket.length / 2));
        Path text = Files.writeString(dir.resolve("notes.jpg"), "not an image");
        Path huge = Files.write(dir.resolve("huge.png"), pngHeader(50000, 50000));
        java.awt.image.BufferedImage pixel = new java.awt.image.BufferedImage(1, 1,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        Path tiny = dir.resolve("tiny.png");
        ImageIO.write(pixel, "png", tiny.toFile());
        Path emptyDir = Files.createDirectory(dir.resolve("nothing-here"));
        String model = ReferenceFixtures.model("tiny").toString();

        CommandsTest.Result r = CommandsTest.cli("classify", "--model", model, empty.toString(), truncated.toString(),
                text.toString(), huge.toString(), good.toString(), emptyDir.toString(), "missing.png");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains(good.toString());
        assertThat(r.err().lines().filter(l -> l.contains("warning:")).toList()).containsExactly(
                "bagnet4j: warning: the model file does not say how to preprocess images; using ImageNet's "
                        + "(Resize 256, CenterCrop 224, ImageNet mean and std)");
        List<String> errors = r.err().lines().filter(l -> !l.contains("warning:")).toList();
        assertThat(errors).hasSize(6).allSatisfy(line -> assertThat(line).startsWith("bagnet4j: ")
                .doesNotContain("Exception"));
        assertThat(r.err()).contains("empty.jpg: not an image", "truncated.jpg: corrupt or truncated image",
                "notes.jpg: not an image", "huge.png: image is 50000x50000 = 2,500,000,000 pixels, above the limit of 100,000,000 pixels",
                "nothing-here: no images", "missing.png: file not found");

        r = CommandsTest.cli("classify", "--model", model, "--no-resize", tiny.toString(), good.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().filter(l -> !l.contains("warning:")).toList()).singleElement()
                .asString().contains("tiny.png: input 1x1 is smaller than");

        r = CommandsTest.cli("classify", "--model", "absent.safetensors", good.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("bagnet4j: model file not found: absent.safetensors");

        r = CommandsTest.cli("classify", "--model", model, "--max-pixels", "100000", good.toString());
        assertThat(r.err()).contains("chelsea.png: image is 451x300 = 135,300 pixels, above the limit of 100,000 pixels");
    }
}
