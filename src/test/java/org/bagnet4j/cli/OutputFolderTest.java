package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where outputs land, and that bagnet4j neither picks them up again nor overwrites files it did not write. */
class OutputFolderTest {
    @TempDir
    Path dir;

    /**
     * As a user meets it, in a working directory of photos: explain writes to bagnet4j-output/, a second run
     * replaces its files, and classify of the whole directory finds the photo but not the pictures.
     */
    @Test
    void outputsGoToOneFolderThatWalksSkip() throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        ForkedCli.sample("9-ankle-boot.png", photos.resolve("boot.png"));
        for (int run = 0; run < 2; run++) {
            String out = ForkedCli.run(dir, "explain", "photos/boot.png");
            assertThat(out).contains("wrote bagnet4j-output/boot-explained/heatmap-grid.png");
        }
        assertThat(dir.resolve("bagnet4j-output").resolve(OutputFolder.MARKER)).isRegularFile();
        ForkedCli.run(dir, "scramble", "photos/boot.png");
        assertThat(dir.resolve("bagnet4j-output/boot-scrambled/heatmaps.png")).isRegularFile();
        assertThat(photos).isDirectoryContaining(p -> p.getFileName().toString().equals("boot.png"))
                .isDirectoryNotContaining(p -> !p.getFileName().toString().equals("boot.png"));

        String out = ForkedCli.run(dir, "classify", "--top", "1", ".");
        assertThat(out.lines().filter(l -> l.endsWith(".png"))).containsExactly("./photos/boot.png");
        assertThat(out).contains("bagnet4j: ./bagnet4j-output: skipped, bagnet4j's outputs (give it by name to "
                + "include it)");
        out = ForkedCli.run(dir, "classify", "--top", "1", "bagnet4j-output/boot-scrambled");
        assertThat(out).contains("bagnet4j-output/boot-scrambled/heatmaps.png");
    }

    /** explain and demo agree: files in a folder bagnet4j did not make are kept unless --force. */
    @Test
    void filesInOtherFoldersAreKeptUnlessForced() throws IOException {
        Files.writeString(dir.resolve("results.jsonl"), "mine\n");
        CommandsTest.Result r = CommandsTest.cli("demo", "--out", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("bagnet4j: " + dir.resolve("results.jsonl") + " exists in a folder "
                + "bagnet4j did not make; give another --out, or --force to overwrite it (see: bagnet4j demo --help)");
        assertThat(Files.readString(dir.resolve("results.jsonl"))).isEqualTo("mine\n");

        Path made = dir.resolve("made");
        assertThat(CommandsTest.cli("demo", "--out", made.toString()).code()).isZero();
        assertThat(CommandsTest.cli("demo", "--out", made.toString()).code()).as("a rerun replaces").isZero();
        assertThat(made.resolve(OutputFolder.MARKER)).isRegularFile();
        assertThat(made.resolve("samples").resolve(OutputFolder.MARKER)).as("samples are for classifying")
                .doesNotExist();
        assertThat(made.resolve("explanations").resolve(OutputFolder.MARKER)).isRegularFile();
    }

}
