package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job, on the embedded model and samples only. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void classifiesAndExplainsTheBundledSamples() throws IOException {
        CommandsTest.Result r = CommandsTest.cli("demo", "--out", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("samples classified correctly", "pictures");
        assertThat(Files.readAllLines(dir.resolve("results.jsonl"))).hasSize(10);
        try (var files = Files.walk(dir.resolve("explanations"))) {
            assertThat(files.filter(p -> p.toString().endsWith("heatmap-full.png")).count()).isEqualTo(10);
        }
        // Two panels (evidence, relative to the mean pixel), each of the 34 x 34 input enlarged 13x.
        assertThat(ExplainCommandTest.png(dir.resolve("explanations").resolve("0-t-shirt-top")
                .resolve("heatmap-full.png")).getWidth()).isGreaterThan(2 * 34 * 13);
    }
}
