package org.bagnet4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.compare.Comparison;
import org.bagnet4j.compare.ComparisonPictures;
import org.bagnet4j.compare.ComparisonReport;
import org.bagnet4j.compare.IdxImages;
import org.bagnet4j.compare.ImageFolder;
import org.bagnet4j.compare.LabelledImages;
import org.bagnet4j.image.RgbImage;

/**
 * {@code compare}: are CNNs bags of local features? The paper's four signatures (shuffling, interactions, errors,
 * sensitivity) measured for CNNs and BagNets on labelled images, written as report.md and report.json.
 */
final class CompareCommand {
    static final Set<String> SWITCHES = Set.of("force");
    static final Set<String> OPTIONS = Set.of("model", "bagnet", "idx", "limit", "threads", "seed", "shuffle-seeds",
            "sides", "gaps", "patch", "k", "examples", "labels", "out", "force", "max-pixels");
    /** Debian's dataset-fashion-mnist: the default data when present. */
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
    private static final List<String> FILES = List.of("report.md", "report.json", "shuffling.png",
            "interactions.png", "examples");
    private static final long MAX_LABELS_BYTES = 16 << 20;
    /** The running sums, saved as the run goes: a rerun of the same command continues from them. */
    static final String STATE = "compare.state";

    private CompareCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        int threads = options.threads();
        int limit = options.intValue("limit", Integer.MAX_VALUE, 1, Integer.MAX_VALUE);
        int examples = options.intValue("examples", 4, 0, 1000);
        int max = Comparison.Settings.MAX_PIXELS;
        Comparison.Settings settings = new Comparison.Settings(
                options.longValue("seed", 0, 0, Comparison.Settings.MAX_SEED),
                options.intValue("shuffle-seeds", 3, 1, Comparison.Settings.MAX_SEEDS),
                list(options, "sides", 1, max, Comparison.Settings.MAX_SIDES),
                list(options, "gaps", 0, max, Comparison.Settings.MAX_GAPS),
                options.intValue("patch", 0, 1, max), options.intValue("k", 16, 1, Comparison.Settings.MAX_K));
        boolean embedded = !options.has("model") && !options.has("bagnet");
        if (options.has("labels") && (options.has("idx") || options.positional().isEmpty())) {
            throw new UsageException("--labels names the class folders of a DATA folder");
        }
        if (options.has("idx") && options.positional().size() != 1) {
            throw new UsageException("--idx IMAGES needs the labels file after it: --idx IMAGES LABELS");
        }
        if (!options.has("idx") && options.positional().size() > 1) {
            throw new UsageException("compare takes one DATA folder, got " + options.positional().size()
                    + " arguments");
        }
        Path dir = OutputFolder.chosen(options, "compare");
        OutputFolder.checkWritable(dir, FILES, options.has("force"));  // again with the plots' names, once known

        List<Comparison.Entry> targets = new ArrayList<>();
        List<Comparison.Entry> bagnets = new ArrayList<>();
        if (embedded) {
            err.println("bagnet4j: no --model or --bagnet given: comparing the embedded Fashion-MNIST CNNs with the "
                    + "embedded BagNets");
            for (String name : Model.EMBEDDED) {
                Model m = Model.embedded(name, 1);
                (m instanceof BagNet ? bagnets : targets).add(new Comparison.Entry(shortName(name), m));
            }
        } else {
            for (String file : options.all("model")) {
                targets.add(new Comparison.Entry(uniqueName(file, targets, bagnets), Model.load(ArgumentPath.of(file),
                        1)));
            }
            for (String file : options.all("bagnet")) {
                Model m = Model.load(ArgumentPath.of(file), 1);
                if (!(m instanceof BagNet)) {
                    throw new BagNetException("--bagnet " + file + " holds a " + m.architecture().name() + " ("
                            + m.architecture().family() + "), not a BagNet; give it with --model");
                }
                bagnets.add(new Comparison.Entry(uniqueName(file, targets, bagnets), m));
            }
        }
        Model first = targets.isEmpty() ? bagnets.getFirst().model() : targets.getFirst().model();
        LabelledImages data = data(options, first, err).limit(limit);
        List<String> files = new ArrayList<>(FILES);
        targets.forEach(t -> files.add("sensitivity-" + ComparisonPictures.fileName(t.name()) + ".png"));
        OutputFolder.checkWritable(dir, files, options.has("force"));
        Progress progress = new Progress(err, data.size(), Progress.wanted(data.size()));
        long start = System.nanoTime();
        Comparison comparison = new Comparison(targets, bagnets, settings, threads);
        comparison.check(data);
        OutputFolder.create(dir);
        boolean earlierState = Files.exists(dir.resolve(STATE));
        Comparison.Result result = comparison.run(data,
                (done, total) -> progress.update((int) done, "images"), dir.resolve(STATE), identity(options));
        double seconds = (System.nanoTime() - start) / 1e9;
        if (result.resumedAt() > 0) {
            err.println("bagnet4j: continued an interrupted run after its first " + result.resumedAt() + " images");
        } else if (earlierState) {
            err.println("bagnet4j: " + dir.resolve(STATE) + " held another comparison's progress (other models, "
                    + "data or options), or was damaged: this run started afresh");
        }
        write(dir.resolve("report.json"), ComparisonReport.json(result));
        write(dir.resolve("report.md"), ComparisonReport.markdown(result) + String.format(Locale.ROOT,
                "%nWall time: %.1f s on %d threads.%n", seconds, threads));
        ComparisonPictures.plots(result).forEach((name, picture) -> ExplainCommand.writePng(dir.resolve(name),
                picture));
        writeExamples(dir.resolve("examples"), targets, bagnets, data, examples, result.settings().patch());
        out.printf(Locale.ROOT, "compared %d models on %d images in %.1f s%s%n  report:   %s%n  numbers:  %s%n"
                + "  plots:    %s%n  examples: %s%n", result.models().size(), result.images(), seconds,
                result.skippedCount() == 0 ? "" : " (" + result.skippedCount() + " images skipped: see the report)",
                dir.resolve("report.md"), dir.resolve("report.json"), dir, dir.resolve("examples"));
        return result.skippedCount() == 0 ? 0 : 1;
    }

    /** A comma-separated option of at most {@code count} values in [min, max]; null when not given. */
    private static int[] list(Options options, String name, int min, int max, int count) {
        int[] values = options.intList(name, null, min, max);
        if (values != null && values.length > count) {
            throw new UsageException("--" + name + " takes at most " + count + " values, got " + values.length);
        }
        return values;
    }

    /** Pictures of the first readable images: each BagNet's heatmap and each target's occlusion map. */
    private static void writeExamples(Path dir, List<Comparison.Entry> targets, List<Comparison.Entry> bagnets,
            LabelledImages data, int count, int patch) {
        int written = 0;
        for (int i = 0; i < data.size() && written < count; i++) {
            RgbImage image;
            try {
                image = data.image(i);
            } catch (BagNetException e) {
                continue;
            }
            if (written++ == 0) {
                OutputFolder.create(dir);
            }
            int label = data.label(i);
            String name = String.format(Locale.ROOT, "%03d-%s", i, data.classNames().get(label));
            ExplainCommand.writePng(dir.resolve(ComparisonPictures.fileName(name) + ".png"),
                    ComparisonPictures.example(targets, bagnets, image, label, data.classNames().get(label),
                            data.name(i) + " (" + data.classNames().get(label) + ")", patch));
        }
    }

    /** The data: a folder, IDX files, or by default Debian's Fashion-MNIST test set, else the bundled samples. */
    private static LabelledImages data(Options options, Model model, PrintStream err) {
        List<String> classes = model.labels().names();
        if (options.has("idx")) {
            return IdxImages.read(ArgumentPath.of(options.required("idx")),
                    ArgumentPath.of(options.positional().getFirst()), classes);
        }
        if (!options.positional().isEmpty()) {
            return ImageFolder.read(ArgumentPath.of(options.positional().getFirst()), options.maxPixels(),
                    options.has("labels") ? labelsFile(ArgumentPath.of(options.required("labels"))) : null);
        }
        Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
        if (Files.isReadable(images)) {
            err.println("bagnet4j: no DATA given: using Fashion-MNIST's test set in " + FASHION);
            return IdxImages.read(images, FASHION.resolve("t10k-labels-idx1-ubyte.gz"), classes);
        }
        err.println("bagnet4j: no DATA given and " + FASHION + " is absent (Debian: apt-get install "
                + "dataset-fashion-mnist): using the 10 sample images bundled with bagnet4j");
        return samples(classes);
    }

    /** Class folder names, one per line in class-index order. */
    private static List<String> labelsFile(Path file) {
        try {
            if (Files.size(file) > MAX_LABELS_BYTES) {
                throw new BagNetException(file + ": larger than a labels file (" + MAX_LABELS_BYTES + " bytes)");
            }
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            throw new BagNetException(file + ": " + BagNetException.reason(e));
        }
    }

    /** The bundled sample images, labelled by the class index their names begin with. */
    private static LabelledImages samples(List<String> classes) {
        List<RgbImage> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String name : DemoCommand.sampleNames()) {
            try (InputStream in = CompareCommand.class.getResourceAsStream(DemoCommand.SAMPLES + name)) {
                images.add(RgbImage.from(ImageIO.read(in)));
                labels.add(Integer.parseInt(name.substring(0, name.indexOf('-'))));
            } catch (IOException e) {
                throw new BagNetException("cannot read sample " + name + ": " + BagNetException.reason(e));
            }
        }
        return LabelledImages.of(images, labels.stream().mapToInt(Integer::intValue).toArray(), classes);
    }

    /** What identifies the models and data of a run: files by path, size and date, so that a changed file restarts. */
    private static String identity(Options options) {
        List<String> parts = new ArrayList<>();
        parts.add("bagnet4j " + CompareCommand.class.getPackage().getImplementationVersion());
        for (String option : List.of("model", "bagnet", "idx", "labels")) {
            for (String value : options.all(option)) {
                parts.add(option + " " + fileIdentity(value));
            }
        }
        options.positional().forEach(p -> parts.add(fileIdentity(p)));
        parts.add("max-pixels " + options.maxPixels());
        return String.join("\n", parts);
    }

    private static String fileIdentity(String file) {
        Path path = ArgumentPath.of(file).toAbsolutePath();
        try {
            return path + " " + Files.size(path) + " " + Files.getLastModifiedTime(path);
        } catch (IOException e) {
            return path.toString();
        }
    }

    /** A model's name in reports: its file name without the extension. */
    private static String shortName(String file) {
        String name = Path.of(file).getFileName().toString();
        for (String suffix : List.of(".safetensors", ".pth.tar", ".pth", ".pt", ".bin")) {
            if (name.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return name;
    }

    /** The file's short name, with " (2)", " (3)" ... when an earlier model has it already. */
    private static String uniqueName(String file, List<Comparison.Entry> targets, List<Comparison.Entry> bagnets) {
        String name = shortName(file);
        List<String> taken = new ArrayList<>();
        targets.forEach(e -> taken.add(e.name()));
        bagnets.forEach(e -> taken.add(e.name()));
        String unique = name;
        for (int n = 2; taken.contains(unique); n++) {
            unique = name + " (" + n + ")";
        }
        return unique;
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BagNetException("cannot write " + file + ": " + BagNetException.reason(e));
        }
    }
}
