package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.Compare.assertClose;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresReference
class CommandsTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Commands.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void runWritesScoresAndGridThatMatchPyTorch() {
        String model = ReferenceFixtures.model("tiny").toString();
        String input = ReferenceFixtures.file("tiny_input_batch.npy").toString();
        Path scores = dir.resolve("scores.npy");
        Result r = cli("run", "--model", model, "--input", input, "--output", scores.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Npy.Array expected = ReferenceFixtures.array("tiny_scores_batch");
        Npy.Array actual = Npy.read(scores);
        assertThat(actual.shape()).containsExactly(expected.shape());
        assertClose("cli scores", actual.data(), expected.data(), 1e-4);

        Path grid = dir.resolve("grid.npy");
        r = cli("run", "--model", model, "--input", input, "--output", grid.toString(), "--grid", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        Npy.Array expectedGrid = ReferenceFixtures.array("tiny_grid_batch");
        assertThat(Npy.read(grid).shape()).containsExactly(expectedGrid.shape());
        assertClose("cli grid", Npy.read(grid).data(), expectedGrid.data(), 1e-4);
    }

    @Test
    void infoDescribesFilesAndPresets() {
        Result r = cli("info", ReferenceFixtures.model("bagnet17").toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("bagnet17", "16,213,032", "17 x 17 pixels, grid stride 8", "26 x 26 cells");
        r = cli("info", "--preset", "bagnet9");
        assertThat(r.out()).contains("15,688,744", "27 x 27 cells");
    }

    @Test
    void problemsAreOneLineWithExitCode2() throws IOException {
        Path text = dir.resolve("model.safetensors");
        Files.writeString(text, "this is not a model at all");
        Path smallInput = dir.resolve("small.npy");
        Npy.write(smallInput, new int[] {1, 3, 8, 8}, new float[3 * 64]);
        Path grayInput = dir.resolve("gray.npy");
        Npy.write(grayInput, new int[] {1, 1, 30, 30}, new float[900]);
        Path rank2 = dir.resolve("rank2.npy");
        Npy.write(rank2, new int[] {3, 30}, new float[90]);
        String tiny = ReferenceFixtures.model("tiny").toString();
        String out = dir.resolve("o.npy").toString();
        List<String[]> cases = new ArrayList<>(List.of(
                new String[] {"frobnicate"},
                new String[] {"run", "--model", tiny},
                new String[] {"run", "--model", tiny, "--input", smallInput.toString(), "--output", out, "--threads",
                    "0"},
                new String[] {"run", "--model", text.toString(), "--input", smallInput.toString(), "--output", out},
                new String[] {"run", "--model", "missing.safetensors", "--input", smallInput.toString(), "--output",
                    out},
                new String[] {"run", "--model", tiny, "--input", smallInput.toString(), "--output", out},
                new String[] {"run", "--model", tiny, "--input", grayInput.toString(), "--output", out},
                new String[] {"run", "--model", tiny, "--input", rank2.toString(), "--output", out},
                new String[] {"info", "--preset", "resnext50_32x4d"},
                new String[] {"info", "--bogus", "1"}));
        List<String> expected = List.of("unknown command 'frobnicate'", "missing --input", "--threads must be between 1 and 1024",
                "header length field says", "model file not found: missing.safetensors",
                "input 8x8 is smaller than custom's 25x25 receptive field", "input has 1 channels",
                "got shape [3, 30]", "unknown preset 'resnext50_32x4d'", "unknown option --bogus");
        for (int i = 0; i < cases.size(); i++) {
            Result r = cli(cases.get(i));
            assertThat(r.code()).as(String.join(" ", cases.get(i))).isEqualTo(2);
            assertThat(r.err()).startsWith("bagnet4j: ").contains(expected.get(i));
            assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
        }
    }
}
