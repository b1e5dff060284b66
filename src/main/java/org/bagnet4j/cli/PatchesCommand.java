package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.Patch;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;

/**
 * {@code patches}: the image patches with the most evidence for a class across a folder (the paper's "image
 * features with the most class evidence"), in one streaming pass: each image's grid is searched and dropped, only
 * k candidates are kept. With labels, patches from images of the class are kept apart from distracting patches,
 * those of images of other classes that pushed towards this one.
 */
final class PatchesCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("by-folder", "force", "no-resize");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "class", "top", "out", "labels", "by-folder", "threads",
            "max-pixels", "force", "resize", "crop", "no-resize", "alpha-background");
    private PatchesCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        if (options.positional().isEmpty()) {
            throw new UsageException("patches needs images or folders");
        }
        int k = options.intValue("top", 16, 1, ExplainCommand.MAX_SHEET_PATCHES);
        if (!options.has("class")) {
            throw new UsageException("patches needs --class NAME|INDEX");
        }
        if (options.has("labels") && options.has("by-folder")) {
            throw new UsageException("give true labels by --labels CSV or by --by-folder, not both");
        }
        ImageReading reading = ImageReading.of(options);
        List<String> failures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Path> files = ClassifyCommand.collect(options.positional(), failures, notes);
        Map<Path, String> truth = labels(options, files);
        BagNet model = ModelChoice.loadBagNet(options, options.threads(), err, "patches");
        Preprocessing prep = ClassifyCommand.sizing(options, model, err);
        int cls = model.classIndex(options.required("class"));
        String label = model.labels().name(cls);

        Path dir = OutputFolder.chosen(options, "patches");
        String slug = label.replaceAll("[^A-Za-z0-9]+", "-").replaceAll("^-|-$", "").toLowerCase(Locale.ROOT);
        List<String> outputs = (truth == null ? Stream.of("-top.png", "-top.json")
                : Stream.of("-top.png", "-top.json", "-distracting.png", "-distracting.json")).map(slug::concat)
                .toList();
        OutputFolder.checkWritable(dir, outputs, options.has("force"));
        Comparator<Patch> byValue = Comparator.comparingDouble(Patch::value);
        Explainer.PatchHeap ofClass = new Explainer.PatchHeap(k, byValue);
        Explainer.PatchHeap distracting = truth == null ? null : new Explainer.PatchHeap(k, byValue);
        Progress progress = new Progress(err, files.size(), Progress.wanted(files.size()));
        notes.forEach(n -> progress.println("bagnet4j: " + n));
        failures.forEach(f -> progress.println("bagnet4j: " + f));
        int failed = failures.size();
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            if (truth != null && !truth.containsKey(file)) {
                progress.println("bagnet4j: " + file + ": no label in " + options.required("labels") + "; skipped");
                failed++;
                progress.update(i + 1, "images");
                continue;
            }
            try {
                EvidenceMap grid = Explainer.grid(model, ClassifyCommand.input(file, prep, reading,
                        w -> progress.println("bagnet4j: " + w)), cls);
                boolean sameClass = truth == null || label.equals(truth.get(file));
                Explainer.PatchHeap heap = sameClass ? ofClass : distracting;
                for (int y = 0; y < grid.height(); y++) {
                    for (int x = 0; x < grid.width(); x++) {
                        heap.offer(grid, x, y, file.toString());
                    }
                }
            } catch (BagNetException e) {
                progress.println("bagnet4j: " + e.getMessage());
                failed++;
            } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
                progress.println("bagnet4j: " + file + ": " + ClassifyCommand.problem(e));
                failed++;
            }
            progress.update(i + 1, "images");
        }
        Sheet sheet = new Sheet(OutputFolder.create(dir), files, prep, reading, progress, out);
        List<Patch> top = ofClass.best();
        failed += sheet.write(slug + "-top", top, String.format(Locale.ROOT,
                "%d patches with the most evidence for '%s'%s", top.size(), label, truth == null ? ""
                        : " in images of that class"), truth == null ? "no image could be read"
                        : "no image read is labelled '" + label + "'");
        if (distracting != null) {
            List<Patch> others = distracting.best();
            failed += sheet.write(slug + "-distracting", others, String.format(Locale.ROOT,
                    "distracting: %d patches of images of other classes with the most evidence for '%s'",
                    others.size(), label), "no image read is labelled otherwise than '" + label + "'");
        }
        return failed > 0 ? 1 : 0;
    }

    /** True labels: from a CSV of file,label lines, or each image's folder name (--by-folder); null if neither. */
    private static Map<Path, String> labels(Options options, List<Path> files) {
        if (options.has("by-folder")) {
            Map<Path, String> byFolder = new HashMap<>();
            files.forEach(f -> byFolder.put(f, f.toAbsolutePath().getParent().getFileName().toString()));
            return byFolder;
        }
        if (!options.has("labels")) {
            return null;
        }
        Path csv = ArgumentPath.of(options.required("labels"));
        Map<Path, String> labels = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (IOException e) {
            throw new BagNetException("cannot read labels " + csv + ": " + BagNetException.reason(e));
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int comma = line.lastIndexOf(',');
            if (comma > 0) {
                try {
                    labels.put(Path.of(line.substring(0, comma).strip()).normalize(), line.substring(comma + 1).strip());
                } catch (InvalidPathException e) {
                    throw new BagNetException(csv + ", line " + (i + 1) + ": not a valid path (" + e.getReason() + ")");
                }
            }
        }
        Map<Path, String> byFile = new HashMap<>();
        for (Path f : files) {
            String l = labels.get(f.normalize());
            if (l == null) {
                l = labels.get(f.getFileName());
            }
            if (l != null) {
                byFile.put(f, l);
            }
        }
        return byFile;
    }

    /**
     * Writes the contact sheet and JSON of kept patches. Their images are decoded once more to cut the crops; one
     * that cannot be (changed or removed meanwhile) is left out of the sheet, said on stderr, and counted as failed.
     */
    private record Sheet(Path dir, Map<String, Path> files, Preprocessing prep, ImageReading reading,
            Progress progress, PrintStream out) {
        Sheet(Path dir, List<Path> files, Preprocessing prep, ImageReading reading, Progress progress,
                PrintStream out) {
            this(dir, files.stream().collect(Collectors.toMap(Path::toString, f -> f, (a, b) -> a)), prep, reading,
                    progress, out);
        }

        /** Returns how many patches could not be shown. With none to show it writes nothing and says why. */
        int write(String name, List<Patch> patches, String title, String whyNone) {
            if (patches.isEmpty()) {
                progress.println("bagnet4j: no " + name + " sheet: " + whyNone);
                return 0;
            }
            Map<String, RgbImage> seen = new HashMap<>();
            List<Pictures.Tile> tiles = new ArrayList<>();
            int missing = 0;
            for (Patch p : patches) {
                try {
                    RgbImage image = seen.computeIfAbsent(p.source(), s -> prep.geometry(reading.read(files.get(s),
                            w -> { }), reading.maxPixels()));
                    tiles.add(ExplainCommand.tile(image, p));
                } catch (BagNetException e) {
                    progress.println("bagnet4j: " + e.getMessage() + "; its patch is left out of " + name + ".png");
                    missing++;
                }
            }
            Path png = ExplainCommand.writePng(dir.resolve(name + ".png"), Pictures.contactSheet(title, tiles, 8));
            Path json = ExplainCommand.writeText(dir.resolve(name + ".json"), ExplainCommand.patches(patches) + "\n");
            out.println("wrote " + printable(png.toString()) + " and " + printable(json.toString()));
            return missing;
        }
    }
}
