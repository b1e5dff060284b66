package org.bagnet4j.spark;

import java.io.File;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.bagnet4j.BagNetException;

/**
 * {@code java -jar bagnet4j-spark.jar score ...}: scores image files on Spark and writes Parquet or JSON lines. A
 * jar cannot add a JDK module or a folder of jars to its own JVM: when the Vector API module or Spark's classes are
 * missing (a plain java -jar), this relaunches the same java with {@code --add-modules jdk.incubator.vector} and the
 * Spark jars that the build copied beside the jar (target/lib). Under spark-submit both are there already.
 */
public final class SparkMain {
    static final String USAGE = """
            usage: bagnet4j-spark score [--master local[*]] [--model M] --input PATH|GLOB --output DIR
                                        [--format parquet|json] [--top 5] [--scores] [--grid C,C,...]
                                        [--patches K] [--partitions N] [--by-class] [--max-pixels N]
                                        [--overwrite]
              classifies every image under PATH (a file, a folder, or a glob such as 'photos/*.jpg') on Spark and
              writes one row per image: file (its URI), top (index, label, probability, logit; best first), ms,
              and error for an image that could not be read (then the others are null): the fields of
              classify --json. --scores: every class's score too. --grid: the evidence grid of these classes
              (names or indices; a BagNet's patch evidence, a ResNet's or DenseNet's class activation map) as
              grids (index, label, height, width, patch, stride, values row-major); --patches K: each grid's K
              strongest cells with their boxes in the model's input. --max-pixels: refuse larger images
              (25000000; each task decodes one at a time).
              --model: a model file, shipped to every executor and loaded once per executor JVM (default: the
              model embedded in bagnet4j). --format json: JSON lines. --partitions: split the images into N
              equal tasks (a shuffle of their bytes; default: Spark packs the files into at least 4 tasks
              per core). --by-class: one folder per best class, DIR/class=LABEL/ (Spark's
              partitioned layout; unreadable images under class=__HIVE_DEFAULT_PARTITION__). --overwrite:
              replace DIR (Spark's committer writes _SUCCESS last).
              --master: where Spark runs (default local[*]; under spark-submit, what spark-submit says).

            usage: bagnet4j-spark patches [--master local[*]] [--model M] --input PATH|GLOB --output DIR
                                          --class C,C,... [--top 8] [--partitions N] [--max-pixels N]
              the K patches with the most and the K with the least evidence for each class across all images
              (the paper's most predictive patches): each partition keeps bounded lists, merged in a tree.
              Writes DIR/class-INDEX.png (contact sheets: top row the most evidence, bottom row the least) and
              DIR/patches.json.

            exit codes: 0 success, 1 some images could not be read (the others were used), 2 error.
            """;
    private static final Set<String> SWITCHES = Set.of("overwrite", "scores", "by-class");
    private static final Set<String> OPTIONS = Set.of("master", "model", "input", "output", "format", "top",
            "partitions", "max-pixels", "scores", "grid", "patches", "overwrite", "class", "by-class");
    /** The least number of tasks Spark splits a folder of files into. */
    private static final String MIN_TASKS = "spark.sql.files.minPartitionNum";
    /** The partition column of --by-class: the best class's label. */
    private static final String BY_CLASS = "class";
    /** Most patches per row of a contact sheet. */
    static final int MAX_SHEET_PATCHES = 256;
    /** Log4j's property naming its configuration. */
    private static final String LOG_CONFIG = "log4j2.configurationFile";
    /** Set in a relaunched JVM, so that it never relaunches again. */
    private static final String RELAUNCHED = "bagnet4j.spark.relaunched";

    private SparkMain() {
    }

    public static void main(String[] args) {
        if (System.getProperty(LOG_CONFIG) == null) { // under spark-submit, logging is set up already
            System.setProperty(LOG_CONFIG, "classpath:org/bagnet4j/spark/command-log4j2.properties");
        }
        int code;
        try {
            code = ready() ? run(args, System.out, System.err) : relaunchOrSayWhy(args);
        } catch (Throwable e) {
            System.err.println("bagnet4j-spark: " + e);
            code = 2;
        }
        // Success returns normally: under spark-submit on YARN, exiting early would mark the application failed.
        if (code != 0) {
            System.exit(code);
        }
    }

    private static int relaunchOrSayWhy(String[] args) throws Exception {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (!vector && sparkPresent()) { // spark-submit without the JVM option
            System.err.println("bagnet4j-spark: the JVM has no jdk.incubator.vector module; give spark-submit --conf "
                    + "spark.driver.extraJavaOptions=--add-modules=jdk.incubator.vector and the same for "
                    + "spark.executor.extraJavaOptions (JDK 25)");
            return 2;
        }
        if (System.getProperty(RELAUNCHED) != null) {
            System.err.println("bagnet4j-spark: needs a JDK 25 with jdk.incubator.vector and Spark's jars in "
                    + "lib/ beside the jar (mvn -f spark/pom.xml package puts them there)");
            return 2;
        }
        return relaunch(args);
    }

    /** Runs a command; returns its exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            if (!args[0].equals("score") && !args[0].equals("patches")) {
                throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            }
            Map<String, String> options = parse(args);
            if (options.containsKey("help")) {
                out.print(USAGE);
                return 0;
            }
            return args[0].equals("score") ? score(options, out) : patches(options, out);
        } catch (IllegalArgumentException e) {
            err.println("bagnet4j-spark: " + e.getMessage() + " (see: bagnet4j-spark --help)");
            return 2;
        } catch (BagNetException e) {
            err.println("bagnet4j-spark: " + e.getMessage());
            return 2;
        } catch (Exception e) { // Spark's own errors (AnalysisException is a checked one): their first line
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            err.println("bagnet4j-spark: " + message.lines().findFirst().orElse(message));
            return 2;
        }
    }

    private static int score(Map<String, String> options, PrintStream out) {
        String output = required(options, "output");
        String format = options.getOrDefault("format", "parquet");
        if (!format.equals("parquet") && !format.equals("json")) {
            throw new IllegalArgumentException("--format must be parquet or json, got '" + format + "'");
        }
        List<String> gridClasses = options.containsKey("grid") ? List.of(options.get("grid").split(",")) : List.of();
        if (options.containsKey("patches") && gridClasses.isEmpty()) {
            throw new IllegalArgumentException("--patches ranks the cells of the --grid classes; give --grid too");
        }
        ScoreOptions settings = settings(options, number(options, "top", 5)).withEvidence(options.containsKey("scores"), gridClasses,
                options.containsKey("patches") ? number(options, "patches", 0) : 0);
        return withSpark(options, (spark, images) -> {
            long start = System.nanoTime();
            Dataset<Row> scored = BagNetSpark.score(images, settings);
            DataFrameWriter<Row> writer = options.containsKey("by-class")
                    ? scored.withColumn(BY_CLASS, scored.col("top").getItem(0).getField("label")).write()
                            .partitionBy(BY_CLASS)
                    : scored.write();
            writer.mode(options.containsKey("overwrite") ? "overwrite" : "errorifexists").format(format).save(output);
            StructType schema = Scorer.schema(settings);
            Dataset<Row> written = spark.read().schema(options.containsKey("by-class")
                    ? schema.add(BY_CLASS, DataTypes.StringType, true) : schema).format(format).load(output);
            long total = written.count();
            long failed = written.filter("error IS NOT NULL").count();
            out.printf(Locale.ROOT, "bagnet4j-spark: scored %d images (%d could not be read) in %.1f s; wrote %s (%s)%n",
                    total, failed, (System.nanoTime() - start) / 1e9, output, format);
            return failed > 0 ? 1 : 0;
        });
    }

    private static int patches(Map<String, String> options, PrintStream out) {
        Path dir = Path.of(required(options, "output"));
        List<String> classes = List.of(required(options, "class").split(","));
        int k = number(options, "top", 8);
        if (k > MAX_SHEET_PATCHES) {
            throw new IllegalArgumentException("--top must be at most " + MAX_SHEET_PATCHES + " (one row per sheet)");
        }
        ScoreOptions settings = settings(options, ScoreOptions.defaults().top()); // --top is K here
        return withSpark(options, (spark, images) -> {
            long start = System.nanoTime();
            BagNetSpark.CollectionPatches found = BagNetSpark.patches(images, settings, classes, k);
            List<Path> written = PatchSheets.write(dir, found);
            out.printf(Locale.ROOT, "bagnet4j-spark: %d images (%d could not be read) in %.1f s; wrote %s%n",
                    found.images(), found.failed(), (System.nanoTime() - start) / 1e9,
                    String.join(", ", written.stream().map(Path::toString).toList()));
            return found.failed() > 0 ? 1 : 0;
        });
    }

    /** The options both commands share (model, pixel limit), with {@code top} classes per image. */
    private static ScoreOptions settings(Map<String, String> options, int top) {
        ScoreOptions defaults = ScoreOptions.defaults();
        return new ScoreOptions(options.get("model"), top, defaults.idColumn(), defaults.contentColumn(),
                options.containsKey("max-pixels") ? number(options, "max-pixels", 0) : defaults.maxPixels(), false,
                List.of(), 0);
    }

    /** A job on a Spark session (ours, stopped after; or a caller's, left running) over the --input images. */
    private interface Job {
        int run(SparkSession spark, Dataset<Row> images);
    }

    private static int withSpark(Map<String, String> options, Job job) {
        String input = required(options, "input");
        // Spark's INFO lines would bury the one line this command prints; its warnings stay.
        SparkSession.Builder builder = SparkSession.builder().appName("bagnet4j")
                .config("spark.ui.enabled", "false").config("spark.log.level", "WARN");
        if (options.containsKey("master") || !System.getProperties().containsKey("spark.master")) {
            builder.master(options.getOrDefault("master", "local[*]"));
        }
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = builder.getOrCreate();
        if (!spark.conf().contains(MIN_TASKS)) {
            // Spark packs small files into tasks by bytes, up to 32 files each, often with one small task last: on
            // images, which all cost about the same, its last wave left cores idle. At least four tasks per core.
            spark.conf().set(MIN_TASKS, 4L * spark.sparkContext().defaultParallelism());
        }
        try {
            Dataset<Row> images = BagNetSpark.images(spark, input);
            if (options.containsKey("partitions")) {
                images = images.repartition(number(options, "partitions", 1));
            }
            return job.run(spark, images);
        } finally {
            if (ours) {
                spark.stop();
            }
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                options.put("help", "");
                continue;
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            if (!OPTIONS.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
            if (SWITCHES.contains(name)) {
                options.put(name, "");
            } else if (i + 1 < args.length) {
                options.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }

    private static int number(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("--" + name + " must be a whole number of at least 1, got '" + value
                + "'");
    }

    /** Whether this JVM has the Vector API module and Spark. */
    private static boolean ready() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && sparkPresent();
    }

    private static boolean sparkPresent() {
        return SparkMain.class.getClassLoader().getResource("org/apache/spark/sql/SparkSession.class") != null;
    }

    private static int relaunch(String[] args) throws Exception {
        Path jar = Path.of(SparkMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-D" + RELAUNCHED + "=true", "-cp",
                jar + File.pathSeparator + jar.resolveSibling("lib") + File.separator + "*",
                SparkMain.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        int master = command.indexOf("--master");
        if (master < 0 || master + 1 < command.size() && command.get(master + 1).startsWith("local")) {
            // On one machine Spark need not look for a network address (and warn that the host name is loopback).
            builder.environment().putIfAbsent("SPARK_LOCAL_IP", "127.0.0.1");
        }
        Process child = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(child::destroy));
        return child.waitFor();
    }
}
