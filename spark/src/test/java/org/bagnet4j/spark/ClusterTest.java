package org.bagnet4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real multi-process cluster: a standalone master and two workers, each its own JVM (their executors more JVMs),
 * run the score and patches commands with a model shipped from the driver; every row and every patch equals what
 * the same commands give on a local Spark.
 */
class ClusterTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void aStandaloneClusterScoresAndFindsPatchesAsLocalSparkDoes() throws Exception {
        Path images = TestImages.write(dir);
        String model = Path.of("..", "src", "main", "resources", "org", "bagnet4j", "models",
                "fashion-mnist-bagnet-q9.safetensors").toString();
        List<String> local = results("local[2]", images, model);
        try (StandaloneCluster cluster = new StandaloneCluster(dir.resolve("cluster"), 2, 768)) {
            Map<String, String> conf = cluster.driverConf(512);
            conf.forEach(System::setProperty);
            try {
                List<String> onCluster;
                try {
                    onCluster = results(cluster.masterUrl(), images, model);
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\nthe cluster's logs:\n" + cluster.logs(), e);
                }
                assertThat(onCluster).isEqualTo(local);
            } finally {
                conf.keySet().forEach(System::clearProperty);
            }
        }
    }

    /** The score command's JSON lines (sorted, times left out) and the patches command's JSON, on one master. */
    private List<String> results(String master, Path images, String model) throws IOException {
        String name = master.replaceAll("[^a-z0-9]", "");
        Path scores = dir.resolve("scores-" + name);
        Path patches = dir.resolve("patches-" + name);
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(said, true, StandardCharsets.UTF_8);
        assertThat(SparkMain.run(new String[] {"score", "--master", master, "--model", model, "--input",
            images.toString(), "--output", scores.toString(), "--format", "json", "--top", "3", "--grid", "Sandal",
            "--partitions", "4"}, out, System.err)).as("one image is broken").isEqualTo(1);
        assertThat(SparkMain.run(new String[] {"patches", "--master", master, "--model", model, "--input",
            images.toString(), "--output", patches.toString(), "--class", "Sandal,Bag", "--top", "4", "--partitions",
            "4"}, out, System.err)).isEqualTo(1);
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("scored " + (TestImages.READABLE + 1)
                + " images (1 could not be read)");
        List<String> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(scores)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                Files.readAllLines(part).forEach(l -> lines.add(l.replaceAll("\"ms\":[0-9.E-]+,", "")));
            }
        }
        assertThat(lines).hasSize(TestImages.READABLE + 1);
        lines.sort(null);
        lines.add(Files.readString(patches.resolve("patches.json")));
        return lines;
    }
}
