package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command checks all of its options before any work, and says what is wrong in one line (exit code 2). */
class OptionValidationTest {
    @TempDir
    Path dir;

    @Test
    void badOptionsAreRefusedInOneLineBeforeAnyWork() throws IOException {
        Path boot = ForkedCli.sample("9-ankle-boot.png", dir.resolve("boot.png"));
        Path out = dir.resolve("out");
        String image = boot.toString();
        refused("give true labels by --labels CSV or by --by-folder, not both (see: bagnet4j patches --help)",
                "patches", "--class", "0", "--by-folder", "--labels", "missing.csv", "--out", out.toString(), image);
        refused("cannot read labels missing.csv: no such file or folder", "patches", "--class", "0", "--labels",
                "missing.csv", "--out", out.toString(), image);
        refused("demo takes no arguments, got 'extra' (see: bagnet4j demo --help)", "demo", "--out", out.toString(),
                "extra");
        refused("bench takes no arguments, got 'extra' (see: bagnet4j bench --help)", "bench", "extra");
        refused("run takes no arguments, got 'extra' (see: bagnet4j run --help)", "run", "--input", "x.npy",
                "--output", "y.npy", "extra");
        refused("give a model file or --preset, not both (see: bagnet4j info --help)", "info", "--preset",
                "bagnet9", "model.safetensors");
        // The embedded model (q = 13, 3 pixels of padding) cannot take 5x5 crops: 11x11 inputs.
        refused("resize 5, crop 5 and pad 3 make inputs of 11x11 pixels, smaller than the 13x13 that "
                + "fashion-q13 takes at least; give a larger --resize and --crop (see: bagnet4j classify "
                + "--help)", "classify", "--resize", "5", "--crop", "5", image);
        refused("--region selects the part of the --full map to compute; give --full too (see: bagnet4j explain "
                + "--help)", "explain", "--region", "0,0,4,4", "--out", out.toString(), image);
        assertThat(out).doesNotExist();
    }

    /** patches says why a sheet would be empty instead of writing an empty one. */
    @Test
    void patchesSaysWhyASheetIsEmpty() throws IOException {
        Path samples = Files.createDirectories(dir.resolve("samples"));
        for (String name : new String[] {"0-t-shirt-top.png", "9-ankle-boot.png"}) {
            ForkedCli.sample(name, samples.resolve(name));
        }
        Path out = dir.resolve("out");
        CommandsTest.Result r = CommandsTest.cli("patches", "--class", "Ankle boot", "--by-folder", "--top", "2",
                "--out", out.toString(), samples.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("bagnet4j: no ankle-boot-top sheet: no image read is labelled 'Ankle boot'");
        assertThat(out.resolve("ankle-boot-top.png")).doesNotExist();
        assertThat(out.resolve("ankle-boot-distracting.png")).isRegularFile();
    }

    private static void refused(String message, String... args) {
        CommandsTest.Result r = CommandsTest.cli(args);
        assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().filter(l -> !l.contains("warning") && !l.contains("no --model given")).toList())
                .as(String.join(" ", args))
                .containsExactly("bagnet4j: " + message);
    }
}
