package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.weights.ModelFileTest;
import org.bagnet4j.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a reliability probe found the CLI doing wrong with hostile input, each now one line on stderr with the
 * documented exit code, and the other images of the run still classified.
 */
class HostileInputTest {
    /** Grayscale, 3 classes, receptive field 9. */
    private static final BagNetConfig SMALL = new BagNetConfig("small", 1, 4, List.of(2, 4), List.of(1, 2),
            List.of(2, 1), List.of(1, 1), 3);

    @TempDir
    Path dir;

    /** A model with the given preprocessing, its fully connected weights all {@code fcWeight}. */
    private Path model(String resize, String crop, String pad, String mean, String std, float fcWeight) {
        Map<String, String> metadata = new LinkedHashMap<>(SMALL.toMetadata());
        metadata.putAll(Map.of("bagnet4j.resize", resize, "bagnet4j.crop", crop, "bagnet4j.pad", pad,
                "bagnet4j.mean", mean, "bagnet4j.std", std));
        Map<String, SafetensorsWriter.Tensor> tensors = ModelFileTest.tensorsOf(SMALL);
        Arrays.fill(tensors.get("fc.weight").values(), fcWeight);
        Path file = dir.resolve("m" + Math.abs((resize + crop + pad + mean + std + fcWeight).hashCode())
                + ".safetensors");
        SafetensorsWriter.write(file, metadata, tensors);
        return file;
    }

    private Path model() {
        return model("256", "224", "0", "0.5", "0.25", 0.1f);
    }

    private Path image(String name, int width, int height) throws IOException {
        Path file = dir.resolve(name);
        BufferedImage picture = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        picture.getRaster().setSample(0, 0, 0, 200);
        ImageIO.write(picture, "png", file.toFile());
        return file;
    }

    private static void assertOneLinePerProblem(CommandsTest.Result r, int problems) {
        List<String> lines = r.err().lines().filter(l -> !l.contains("no --model given")).toList();
        assertThat(lines).as(r.err()).hasSize(problems).allSatisfy(l -> assertThat(l).startsWith("bagnet4j: ")
                .doesNotContain("Exception").doesNotContain("\tat "));
    }

    /** Sizes that overflowed int arithmetic fail for their image only, before any allocation. */
    @Test
    void oversizedResizesAndCropsFailTheirImageOnly() throws IOException {
        Path strip = image("strip.png", 1, 100_000);
        Path normal = image("normal.png", 40, 30);
        assertThat(Files.size(strip)).isLessThan(2000);
        String m = model().toString();

        CommandsTest.Result r = CommandsTest.cli("classify", "--model", m, strip.toString(), normal.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("strip.png: Resize(256) makes a 256x25600000 image (6,553,600,000 pixels), "
                + "above the limit of 100,000,000 pixels");
        assertOneLinePerProblem(r, 1);
        assertThat(r.out()).contains("normal.png").doesNotContain("strip.png");

        r = CommandsTest.cli("classify", "--model", m, "--crop", "40000", normal.toString(), normal.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("normal.png: CenterCrop(40000) makes a 40000x40000 image");
        assertOneLinePerProblem(r, 2);
        r = CommandsTest.cli("classify", "--model", m, "--resize", "65536", normal.toString());
        assertThat(r.err()).contains("Resize(65536) makes a 87381x65536 image");
        assertOneLinePerProblem(r, 1);
        r = CommandsTest.cli("explain", "--model", m, "--crop", "40000", "--out", dir.resolve("x").toString(),
                normal.toString());
        assertThat(r.code()).isEqualTo(2);
        assertOneLinePerProblem(r, 1);

        for (String[] sizes : new String[][] {{"30000", "0", "0"}, {"0", "65536", "0"}, {"0", "0", "65536"}}) {
            r = CommandsTest.cli("classify", "--model", model(sizes[0], sizes[1], sizes[2], "0.5", "0.25", 0.1f)
                    .toString(), normal.toString());
            assertThat(r.code()).as(String.join(",", sizes)).isEqualTo(1);
            assertThat(r.err()).contains("above the limit of 100,000,000 pixels");
            assertOneLinePerProblem(r, 1);
        }
        r = CommandsTest.cli("classify", "--model", m, "--max-pixels", "3000000000", normal.toString());
        assertThat(r.code()).as(r.err()).isZero();
    }

    /** README: an image that runs out of memory fails alone, with a line saying so; the others are classified. */
    @Test
    void runningOutOfMemoryFailsItsImageOnly() throws Exception {
        Path huge = image("huge.png", 9000, 9000); // within --max-pixels, but its pixels alone need 81 MB
        Path normal = image("normal.png", 40, 30);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "--add-modules", "jdk.incubator.vector", "-cp", Path.of("target", "classes").toString(),
                Main.class.getName(), "classify", "--model", model().toString(), huge.toString(), normal.toString())
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isEqualTo(1);
        assertThat(out).contains("normal.png").doesNotContain("huge.png");
        assertThat(err.lines().filter(l -> !l.startsWith("WARNING: Using incubator"))).containsExactly(
                "bagnet4j: " + huge + ": out of memory; give java more heap (-Xmx)");
    }

    @Test
    void countsAreBounded() throws IOException {
        String m = model().toString();
        String normal = image("normal.png", 40, 30).toString();
        CommandsTest.Result r = CommandsTest.cli("classify", "--model", m, "--top", "2147483647", normal);
        assertThat(r.code()).as(r.err()).isZero();
        r = CommandsTest.cli("classify", "--model", m, "--threads", "2147483647", normal);
        assertThat(r.err().strip()).isEqualTo("bagnet4j: --threads must be between 1 and 1024, got 2147483647 "
                + "(see: bagnet4j classify --help)");
        r = CommandsTest.cli("explain", "--model", m, "--top", "2147483647", normal);
        assertThat(r.err()).contains("--top must be between 1 and 256");
        r = CommandsTest.cli("classify", "--model", m, "--batch", "99999999999", normal);
        assertThat(r.err()).contains("--batch must be between 1 and 4096, got 99999999999");
    }

    /** Non-finite or tiny normalization values and NaN weights are refused at load, not printed as scores. */
    @Test
    void nonFiniteModelsAreRefusedAtLoad() throws IOException {
        String normal = image("normal.png", 40, 30).toString();
        Map<String, String> expected = Map.of("NaN", "mean values must be finite", "1e-45",
                "std values must be finite and at least 1.0E-6", "Infinity", "std values must be finite");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            boolean mean = e.getKey().equals("NaN");
            Path m = model("0", "0", "0", mean ? e.getKey() : "0.5", mean ? "0.25" : e.getKey(), 0.1f);
            CommandsTest.Result r = CommandsTest.cli("classify", "--model", m.toString(), normal);
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains(e.getValue());
        }
        CommandsTest.Result r = CommandsTest.cli("classify", "--model", model("0", "0", "0", "0.5", "0.25",
                Float.NaN).toString(), normal);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("parameter 'fc.weight' holds NaN at index 0");
        r = CommandsTest.cli("classify", "--model", model("0", "0", "0", "0.5", "0.25", 3e38f).toString(), normal);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("outputs overflow float32");
    }

    /** File names and metadata cannot write control sequences to the terminal. */
    @Test
    void controlCharactersAreEscaped() throws IOException {
        Path evil = image("evil\u001b[2J\u202e.png", 40, 30);
        CommandsTest.Result r = CommandsTest.cli("classify", "--model", model().toString(), evil.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("evil\\x1b[2J\\u202e.png").doesNotContain("\u001b").doesNotContain("\u202e");
        r = CommandsTest.cli("classify", "--model", model().toString(), "--json", evil.toString());
        assertThat(r.out()).contains("evil\\u001b[2J\\u202e.png").doesNotContain("\u001b").doesNotContain("\u202e");
        r = CommandsTest.cli("classify", "--model", model().toString(), dir.resolve("gone\u0007.png").toString());
        assertThat(r.err()).contains("gone\\x07.png: file not found").doesNotContain("\u0007");

        Map<String, String> metadata = new LinkedHashMap<>(SMALL.toMetadata());
        metadata.put("bagnet4j.arch", "small\u001b]0;pwned\u0007");
        Path m = dir.resolve("evil.safetensors");
        SafetensorsWriter.write(m, metadata, ModelFileTest.tensorsOf(SMALL));
        r = CommandsTest.cli("info", m.toString());
        assertThat(r.out()).contains("small\\x1b]0;pwned\\x07").doesNotContain("\u001b");
    }

    /**
     * A name that is not UTF-8 is classified like any other: found by a folder walk (which keeps the name's bytes),
     * or given on the command line; a name Java cannot take at all is one line.
     */
    @Test
    void namesThatAreNotUtf8AreClassified() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("latin1"));
        Path source = image("source.png", 40, 30);
        // Java writes names as UTF-8, so the shell's printf makes the Latin-1 byte (no Python needed).
        ReferenceFixtures.exec(List.of("sh", "-c", "cp \"$0\" \"$1/caf$(printf '\\351').png\"", source.toString(),
                folder.toString()));
        CommandsTest.Result r = CommandsTest.cli("classify", "--model", model().toString(), folder.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("caf");
        // As the JVM hands over such a name typed on the command line: the undecodable byte as U+FFFD.
        r = CommandsTest.cli("classify", "--model", model().toString(), folder + "/caf\uFFFD.png");
        assertThat(r.code()).as(r.err()).isZero();
        r = CommandsTest.cli("classify", "--model", model().toString(), "nul\u0000.png");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("not a valid path: 'nul\\x00.png'");
    }

    /** A copy of a folder that every user may read. */
    private static Path readableCopy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(f, target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
        return to;
    }

    /**
     * An unreadable subfolder is reported and the rest of the folder classified. Permissions bind only other users,
     * so as root the CLI runs as nobody.
     */
    @Test
    void anUnreadableSubfolderHidesNothingElse() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("photos"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(image("a.png", 40, 30), folder.resolve("a.png"));
        Path locked = Files.createDirectories(folder.resolve("locked"));
        Files.move(image("b.png", 40, 30), locked.resolve("b.png"));
        Files.move(image("c.png", 40, 30), Files.createDirectories(folder.resolve("open")).resolve("c.png"));
        Path m = model();
        Files.setPosixFilePermissions(m, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        try {
            List<String> command = new ArrayList<>();
            Path classes = Path.of("target", "classes").toAbsolutePath();
            if (System.getProperty("user.name").equals("root")) {
                command.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
                classes = readableCopy(classes, dir.resolve("classes")); // the checkout may be closed to others
            }
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-cp", classes.toString(), Main.class.getName(),
                    "classify", "--model", m.toString(), folder.toString()));
            Process p = new ProcessBuilder(command).start();
            String out = new String(p.getInputStream().readAllBytes());
            String err = new String(p.getErrorStream().readAllBytes());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isEqualTo(1);
            assertThat(out).contains("a.png", "c.png").doesNotContain("b.png");
            assertThat(err.lines().filter(l -> !l.startsWith("WARNING: Using incubator"))).containsExactly(
                    "bagnet4j: " + locked + ": cannot read (permission denied); skipped");
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
    }
}
