package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job, on the embedded model and samples only. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
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

        // The README's demo output, and the numbers its "Explanations" section reads off the ankle boot.
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        assertThat(r.out().lines()).contains(readme.stream().filter(l -> l.startsWith("0-t-shirt-top.png")
                || l.startsWith("10 of 10 samples")).toArray(String[]::new));
        Map<String, Object> boot = (Map<String, Object>) Json.parse(Files.readString(
                dir.resolve("explanations").resolve("9-ankle-boot").resolve("explanation.json")));
        assertThat(boot.get("receptive_field")).isEqualTo(13L);
        Map<String, Object> grid = (Map<String, Object>) boot.get("grid");
        assertThat(List.of(grid.get("width"), grid.get("height"))).as("36 cells").containsExactly(6L, 6L);
        Map<String, Object> full = (Map<String, Object>) boot.get("full");
        assertThat(List.of(full.get("width"), full.get("height"))).as("the padded image").containsExactly(34L, 34L);
        Map<String, Object> chosen = (Map<String, Object>) boot.get("class");
        assertThat(chosen.get("label")).isEqualTo("Ankle boot");
        assertThat((Double) chosen.get("logit")).isCloseTo(10.7, within(0.05));
        List<Map<String, Object>> strongest = (List<Map<String, Object>>) boot.get("most_evidence");
        assertThat((Double) strongest.getFirst().get("value")).isCloseTo(69.5, within(0.05));
    }
}
