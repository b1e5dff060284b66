package org.bagnet4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bagnet4j.cli.Commands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoring on a local Spark: the bundled samples, real photos and one broken file give, row for row, what
 * classify --json gives on the same files, and the broken one an error instead of a failed job; the score command
 * writes them as Parquet and as JSON lines, in one folder per best class on request.
 */
class ScoreTest {
    private static final Pattern LINE = Pattern.compile("\\{\"file\":\"([^\"]+)\",\"top\":(\\[.*?\\]),\"ms\"");
    private static SparkSession spark;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        TestImages.write(dir);
        spark = SparkSession.builder().master("local[2]").appName("ScoreTest").config("spark.ui.enabled", "false")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** classify --json's top entries by file name, as it prints them for the images folder. */
    private static Map<String, String> classifyJson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Commands.run(new String[] {"classify", "--json", "--top", "3", dir.resolve("images").toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream()));
        Map<String, String> tops = new HashMap<>();
        Matcher m = LINE.matcher(out.toString(StandardCharsets.UTF_8));
        while (m.find()) {
            tops.put(Path.of(m.group(1)).getFileName().toString(), m.group(2));
        }
        assertThat(tops).hasSize(TestImages.READABLE);
        return tops;
    }

    @Test
    void scoresAsClassifyDoesAndReportsBrokenImages() {
        Map<String, String> expected = classifyJson();
        List<Row> rows = BagNetSpark.score(BagNetSpark.images(spark, dir.resolve("images").toString()),
                ScoreOptions.defaults().withTop(3)).collectAsList();
        assertThat(rows).hasSize(TestImages.READABLE + 1);
        for (Row row : rows) {
            String name = TestImages.name(row.getAs("file"));
            if (name.equals(TestImages.BROKEN)) {
                assertThat(row.<String>getAs("error")).contains("not an image in a format Java can read");
                assertThat(row.<Object>getAs("top")).isNull();
                continue;
            }
            assertThat(row.<String>getAs("error")).isNull();
            List<Row> top = row.getList(row.fieldIndex("top"));
            StringBuilder json = new StringBuilder("[");
            for (Row c : top) {
                json.append(json.length() > 1 ? "," : "").append(new org.bagnet4j.Prediction(c.getInt(0),
                        c.getString(1), c.getDouble(2), c.getFloat(3)).toJson());
            }
            assertThat(json.append("]").toString()).as(name).isEqualTo(expected.get(name));
        }
    }

    @Test
    void theScoreCommandWritesParquetAndJsonLines() throws IOException {
        for (String format : List.of("parquet", "json")) {
            Path out = dir.resolve("out-" + format);
            ByteArrayOutputStream said = new ByteArrayOutputStream();
            int code = SparkMain.run(new String[] {"score", "--master", "local[2]", "--input",
                dir.resolve("images").toString(), "--output", out.toString(), "--format", format, "--top", "3"},
                    new PrintStream(said, true, StandardCharsets.UTF_8), System.err);
            assertThat(code).as("one image is broken").isEqualTo(1);
            assertThat(said.toString(StandardCharsets.UTF_8)).contains("scored " + (TestImages.READABLE + 1) + " images (1 could not be read)");
            assertThat(out.resolve("_SUCCESS")).exists();
            if (format.equals("json")) {
                String lines;
                try (Stream<Path> parts = Files.list(out)) {
                    lines = String.join("", parts.filter(p -> p.getFileName().toString().startsWith("part-"))
                            .map(ScoreTest::read).toList());
                }
                assertThat(lines).contains("\"error\":\"file:" + dir.resolve("images/broken.png"));
                assertThat(lines.lines().filter(l -> l.contains("\"top\":"))).hasSize(TestImages.READABLE);
            }
        }
        Path byClass = dir.resolve("by-class");
        assertThat(SparkMain.run(new String[] {"score", "--master", "local[2]", "--input",
            dir.resolve("images").toString(), "--output", byClass.toString(), "--by-class"}, System.out, System.err))
                .isEqualTo(1);
        assertThat(byClass.resolve("class=Ankle boot")).isDirectory();
        assertThat(byClass.resolve("class=__HIVE_DEFAULT_PARTITION__")).as("the broken image").isDirectory();

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SparkMain.run(new String[] {"score", "--input", dir.resolve("images").toString(), "--output",
            dir.resolve("out-json").toString(), "--format", "json"}, System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("bagnet4j-spark: ").contains("already exists")
                .hasLineCount(1);
    }

    /** Nothing to read, a missing model, a bad option: one line on the driver, exit code 2, before any task runs. */
    @Test
    void badInputIsRefusedOnTheDriverInOneLine() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        String images = dir.resolve("images").toString();
        Map<String, String[]> cases = Map.of(
                "no file matches", new String[] {"--input", dir.resolve("nothing/*.jpg").toString()},
                "no files in", new String[] {"--input", empty.toString()},
                "model file not found", new String[] {"--input", images, "--model", dir.resolve("no.safetensors")
                    .toString()},
                "--top must be a whole number", new String[] {"--input", images, "--top", "0"});
        for (Map.Entry<String, String[]> c : cases.entrySet()) {
            List<String> args = new java.util.ArrayList<>(List.of("score", "--master", "local[2]", "--output",
                    dir.resolve("refused").toString()));
            args.addAll(List.of(c.getValue()));
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = SparkMain.run(args.toArray(String[]::new), System.out,
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertThat(code).as(c.getKey()).isEqualTo(2);
            assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("bagnet4j-spark: ").contains(c.getKey())
                    .hasLineCount(1);
        }
        assertThat(dir.resolve("refused")).doesNotExist();
    }

    /** Every score, the evidence grids of chosen classes and their strongest cells: the engine's own maps. */
    @Test
    void evidenceGridsAndPatchesAreTheEngines() throws IOException {
        List<Row> rows = BagNetSpark.score(BagNetSpark.images(spark, dir.resolve("images/9-ankle-boot.png").toString()),
                ScoreOptions.defaults().withEvidence(true, List.of("Ankle boot", "5"), 3)).collectAsList();
        assertThat(rows).hasSize(1);
        Row row = rows.getFirst();
        org.bagnet4j.BagNet bagNet = org.bagnet4j.BagNet.embedded(1);
        org.bagnet4j.tensor.Tensor input = bagNet.preprocessing().apply(org.bagnet4j.image.ImageDecoder.read(
                Files.readAllBytes(dir.resolve("images/9-ankle-boot.png")), "x", 1000, null));
        float[] scores = bagNet.classScores(input)[0];
        List<Float> served = row.getList(row.fieldIndex("scores"));
        assertThat(served).hasSize(10);
        for (int c = 0; c < 10; c++) {
            assertThat(served.get(c)).isCloseTo(scores[c], org.assertj.core.data.Offset.offset(1e-4f));
        }
        List<Row> grids = row.getList(row.fieldIndex("grids"));
        assertThat(grids).extracting(g -> g.getInt(0)).containsExactly(9, 5);
        for (Row grid : grids) {
            org.bagnet4j.explain.EvidenceMap map = org.bagnet4j.explain.Explainer.grid(bagNet, input, grid.getInt(0));
            assertThat(grid.getInt(2)).isEqualTo(map.height());
            assertThat(grid.getInt(3)).isEqualTo(map.width());
            List<Float> values = grid.getList(6);
            for (int i = 0; i < values.size(); i++) {
                assertThat(values.get(i)).isCloseTo(map.values()[i], org.assertj.core.data.Offset.offset(1e-4f));
            }
        }
        List<Row> patches = row.getList(row.fieldIndex("patches"));
        assertThat(patches).hasSize(6);
        assertThat(patches.getFirst().getInt(0)).isEqualTo(9);
        assertThat(patches.getFirst().getList(4)).hasSize(4);
    }

    /**
     * The collection's strongest patches are those of the core's single-machine patches command on the same images,
     * value for value and cell for cell; its weakest are the least of every image's grid; sheets are written.
     */
    @Test
    void patchesAcrossTheCollectionAreThoseOfThePatchesCommand() throws IOException {
        Path single = dir.resolve("single");
        int singleCode = Commands.run(new String[] {"patches", "--class", "Ankle boot", "--top", "5", "--out",
            single.toString(), dir.resolve("images").toString()}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream()));
        assertThat(singleCode).as("one image is broken").isEqualTo(1);
        List<String> expected = cells(Files.readString(single.resolve("ankle-boot-top.json")), "source");

        org.bagnet4j.BagNet bagNet = org.bagnet4j.BagNet.embedded(1);
        float least = Float.POSITIVE_INFINITY;
        for (String name : java.util.stream.Stream.concat(TestImages.SAMPLES.stream(), TestImages.PHOTOS.stream())
                .toList()) {
            org.bagnet4j.tensor.Tensor input = bagNet.preprocessing().apply(org.bagnet4j.image.ImageDecoder.read(
                    Files.readAllBytes(dir.resolve("images").resolve(name)), name, 25_000_000, null));
            for (float v : org.bagnet4j.explain.Explainer.grid(bagNet, input, 9).values()) {
                least = Math.min(least, v);
            }
        }

        Path out = dir.resolve("patches");
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        int code = SparkMain.run(new String[] {"patches", "--master", "local[2]", "--input",
            dir.resolve("images").toString(), "--output", out.toString(), "--class", "Ankle boot", "--top", "5",
            "--partitions", "3"}, new PrintStream(said, true, StandardCharsets.UTF_8), System.err);
        assertThat(code).as("one image is broken").isEqualTo(1);
        assertThat(said.toString(StandardCharsets.UTF_8)).contains((TestImages.READABLE + 1)
                + " images (1 could not be read)");
        assertThat(out.resolve("class-9.png")).exists();
        String json = Files.readString(out.resolve("patches.json"));
        int split = json.indexOf("\"least_evidence\"");
        assertThat(cells(json.substring(0, split), "file")).isEqualTo(expected).hasSize(5);
        Matcher weakest = Pattern.compile("\"value\": ([-0-9.e+]+)").matcher(json.substring(split));
        assertThat(weakest.find()).as(json).isTrue();
        assertThat(Float.parseFloat(weakest.group(1))).isCloseTo(least, org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(json.split("\"cell\"", -1)).hasSize(1 + 10);
    }

    /** Each patch of a patches JSON as "file name, cell, value" (value as both print it, 6 digits). */
    private static List<String> cells(String json, String fileField) {
        Matcher m = Pattern.compile("\"" + fileField + "\": \"([^\"]+)\", \"cell\": (\\[[0-9, ]+\\]), "
                + "\"value\": ([-0-9.e+]+)").matcher(json);
        List<String> found = new java.util.ArrayList<>();
        while (m.find()) {
            found.add(TestImages.name(m.group(1)) + " " + m.group(2) + " " + m.group(3));
        }
        return found;
    }

    /** The README's score command line as written (paths from the repository root, output in a scratch folder). */
    @Test
    void theReadmeCommandRuns() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = Pattern.compile("java -jar spark/target/bagnet4j-spark.jar (score [^\\n]+)").matcher(readme);
        assertThat(m.find()).isTrue();
        List<String> args = new java.util.ArrayList<>();
        for (String a : m.group(1).split(" ")) {
            args.add(a.replace("'", ""));
        }
        int input = args.indexOf("--input") + 1;
        args.set(input, Path.of("..").resolve(args.get(input)).toString());
        int output = args.indexOf("--output") + 1;
        args.set(output, dir.resolve("readme-" + args.get(output)).toString());
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        int code = SparkMain.run(args.toArray(String[]::new), new PrintStream(said, true, StandardCharsets.UTF_8),
                System.err);
        assertThat(code).isZero();
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("scored 10 images (0 could not be read)");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
