package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint fixtures (weights-converter/reference_checkpoints.py) are made and readable, so that CI makes
 * them; the checkpoint reader's own tests compare against them.
 */
@RequiresReference
class CheckpointFixturesTest {
    private static final List<String> SERIALIZATIONS = List.of("zip", "legacy");
    private static final List<String> KINDS = List.of("state_dict", "dtypes", "views", "cuda", "wrapped-state_dict",
            "wrapped-model", "module-prefix");
    private static final List<String> HOSTILE = List.of("system", "eval");

    @Test
    void everyCheckpointHasItsExpectedTensors() throws IOException {
        Path dir = ReferenceFixtures.checkpoints();
        assertThat(dir.resolve("README.txt")).isRegularFile();
        for (String serialization : SERIALIZATIONS) {
            for (String kind : KINDS) {
                String name = serialization + "-" + kind;
                assertThat(dir.resolve(name + ".pth")).isRegularFile();
                Path expected = dir.resolve(name + ".expected");
                List<String> index = Files.readAllLines(expected.resolve("index.tsv"));
                assertThat(index).as(name).isNotEmpty();
                for (String line : index) {
                    // A 0-d tensor's shape is empty: keep the trailing empty field.
                    String[] fields = line.split("\t", -1);
                    assertThat(fields).as(line).hasSize(3);
                    assertThat(fields[1]).as(line).startsWith("torch.");
                    int[] shape = fields[2].isEmpty() ? new int[0]
                            : Arrays.stream(fields[2].split(",")).mapToInt(Integer::parseInt).toArray();
                    Npy.Array array = Npy.read(expected.resolve(fields[0] + ".npy"));
                    assertThat(array.shape()).as(line).isEqualTo(shape);
                }
            }
            for (String kind : HOSTILE) {
                String name = serialization + "-" + kind;
                assertThat(dir.resolve(name + ".pth")).isRegularFile();
                // Written, never loaded: the payload has not run.
                assertThat(dir.resolve(name + ".marker")).doesNotExist();
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".pth")).count())
                    .isEqualTo(SERIALIZATIONS.size() * (KINDS.size() + HOSTILE.size()));
        }
    }
}
