package org.bagnet4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Prediction;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.Patch;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.Json;

/**
 * {@code explain}: why the model decided as it did about one image. Writes the evidence heatmap of a class (the
 * patch grid, and with --full the exact full-resolution map), a contact sheet of the patches with the most
 * evidence for and against it, a JSON summary, and the raw maps as float32 .npy.
 */
final class ExplainCommand {
    private ExplainCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, Set.of("full", "no-resize"), Set.of("model", "class", "full", "top",
                "out", "region", "threads", "resize", "crop", "no-resize", "max-pixels"));
        if (options.positional().size() != 1) {
            throw new UsageException("explain needs exactly one image");
        }
        Path file = Path.of(options.positional().getFirst());
        int top = options.intValue("top", 8, 1);
        BagNet model = ModelChoice.load(options, options.intValue("threads",
                Runtime.getRuntime().availableProcessors(), 1), err);
        Preprocessing prep = ClassifyCommand.sizing(options, ClassifyCommand.requirePreprocessing(model, err));
        Integer cls = options.has("class") ? classIndex(model, options.required("class")) : null;
        Path dir = Path.of(options.has("out") ? options.required("out") : "bagnet4j-explain");
        long maxPixels = options.intValue("max-pixels", (int) ImageDecoder.DEFAULT_MAX_PIXELS, 1);
        Result r = explain(model, prep, file, maxPixels, cls, options.has("full"), region(options), top, dir, err);
        out.printf(Locale.ROOT, "%s: %s (%.1f%%); explained class %d '%s'%n", file, r.ranked().getFirst().label(),
                100 * r.ranked().getFirst().probability(), r.grid().classIndex(), r.grid().label());
        r.written().forEach(p -> out.println("  wrote " + p));
        return 0;
    }

    /** What {@link #explain} found and wrote. */
    record Result(List<Prediction> ranked, EvidenceMap grid, List<Path> written) {
    }

    /**
     * Explains one image: heatmaps, patch sheet, JSON and .npy maps, written to {@code dir}.
     *
     * @param cls the class to explain, or null for the predicted one
     */
    static Result explain(BagNet model, Preprocessing prep, Path file, long maxPixels, Integer cls, boolean withFull,
            Explainer.Region region, int top, Path dir, PrintStream err) {
        RgbImage seen = prep.geometry(ImageDecoder.read(file, maxPixels));
        Tensor input = prep.normalize(seen);
        List<Prediction> ranked = Prediction.top(model.classScores(input)[0], model.labels(),
                Math.min(5, model.config().numClasses()));
        int target = cls != null ? cls : ranked.getFirst().index();
        String name = file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        List<Path> written = new ArrayList<>();
        EvidenceMap grid = Explainer.grid(model, input, target);
        String subtitle = String.format(Locale.ROOT,
                "%s: logit %.3f = the mean evidence of a %dx%d grid of %dx%d patches, %d px apart",
                file.getFileName(), grid.mean(), grid.width(), grid.height(), grid.patch(), grid.patch(),
                grid.stride());
        written.add(writePng(dir.resolve(name + "-grid.png"), Pictures.heatmap(seen, grid, subtitle)));
        written.add(writeNpy(dir.resolve(name + "-grid.npy"), grid));
        EvidenceMap full = null;
        if (withFull) {
            Progress progress = new Progress(err, 100, Progress.stderrIsTerminal());
            long start = System.nanoTime();
            full = Explainer.fullResolution(model, input, target, region, (done, total) ->
                    progress.update((int) (100 * done / total), "% of rows"));
            err.printf(Locale.ROOT, "bagnet4j: %s: full-resolution map in %.1f s%n", file.getFileName(),
                    (System.nanoTime() - start) / 1e9);
            written.add(writePng(dir.resolve(name + "-full.png"), Pictures.heatmap(seen, full, String.format(
                    Locale.ROOT, "%s: logit %.3f; each pixel shows the evidence of the %dx%d patch centred on it",
                    file.getFileName(), grid.mean(), full.patch(), full.patch()))));
            written.add(writeNpy(dir.resolve(name + "-full.npy"), full));
        }
        List<Patch> best = Explainer.top(grid, top, file.toString());
        List<Patch> worst = Explainer.bottom(grid, top, file.toString());
        List<Pictures.Tile> tiles = new ArrayList<>();
        best.forEach(p -> tiles.add(tile(seen, p)));
        worst.forEach(p -> tiles.add(tile(seen, p)));
        int shown = best.size();
        written.add(writePng(dir.resolve(name + "-patches.png"), Pictures.contactSheet(String.format(Locale.ROOT,
                "%s, class '%s': top row the %d patches with the most evidence, bottom row the %d with the least",
                file.getFileName(), grid.label(), shown, shown), tiles, shown)));
        written.add(writeText(dir.resolve(name + ".json"), json(file, model, ranked, grid, full, best, worst, written)));
        return new Result(ranked, grid, written);
    }

    /** A class by index or name (exact, then case-insensitive). */
    static int classIndex(BagNet model, String nameOrIndex) {
        int index = model.labels().indexOf(nameOrIndex);
        if (index < 0) {
            throw new BagNetException("unknown class '" + nameOrIndex + "' (give a name, e.g. '"
                    + model.labels().name(0) + "', or an index 0-" + (model.config().numClasses() - 1) + ")");
        }
        return index;
    }

    private static Explainer.Region region(Options options) {
        if (!options.has("region")) {
            return null;
        }
        String[] parts = options.required("region").split(",");
        try {
            if (parts.length != 4) {
                throw new NumberFormatException();
            }
            return new Explainer.Region(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()),
                    Integer.parseInt(parts[2].trim()), Integer.parseInt(parts[3].trim()));
        } catch (NumberFormatException e) {
            throw new UsageException("--region needs x0,y0,x1,y1 in input pixels, got '" + options.required("region")
                    + "'");
        }
    }

    static Pictures.Tile tile(RgbImage seen, Patch p) {
        String caption = String.format(Locale.ROOT, "evidence %+.3f", p.value());
        String where = Path.of(p.source()).getFileName() + " @" + p.box().x0() + "," + p.box().y0();
        return new Pictures.Tile(Pictures.crop(seen, p.box()), caption, where);
    }

    static Path writePng(Path path, java.awt.image.BufferedImage image) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            if (!ImageIO.write(image, "png", path.toFile())) {
                throw new IOException("no PNG writer");
            }
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + e.getMessage());
        }
        return path;
    }

    private static Path writeNpy(Path path, EvidenceMap map) {
        Npy.write(path, new int[] {map.height(), map.width()}, map.values());
        return path;
    }

    static Path writeText(Path path, String text) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            Files.writeString(path, text);
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + e.getMessage());
        }
        return path;
    }

    private static String json(Path file, BagNet model, List<Prediction> ranked, EvidenceMap grid, EvidenceMap full,
            List<Patch> best, List<Patch> worst, List<Path> written) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"file\": ").append(Json.quote(file.toString())).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"class\": {\"index\": %d, \"label\": %s, \"logit\": %.6g},%n",
                grid.classIndex(), Json.quote(grid.label()), grid.mean()));
        sb.append("  \"top\": [");
        for (int i = 0; i < ranked.size(); i++) {
            Prediction p = ranked.get(i);
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                    "{\"index\": %d, \"label\": %s, \"probability\": %.6g, \"logit\": %.6g}", p.index(),
                    Json.quote(p.label()), p.probability(), p.logit()));
        }
        sb.append("],\n");
        sb.append(String.format(Locale.ROOT, "  \"receptive_field\": %d,%n  \"grid_stride\": %d,%n",
                model.receptiveField(), model.gridStride()));
        sb.append(String.format(Locale.ROOT, "  \"grid\": {\"width\": %d, \"height\": %d, \"file\": %s},%n",
                grid.width(), grid.height(), Json.quote(written.get(1).toString())));
        if (full != null) {
            sb.append(String.format(Locale.ROOT,
                    "  \"full\": {\"x0\": %d, \"y0\": %d, \"width\": %d, \"height\": %d, \"file\": %s},%n",
                    full.left(), full.top(), full.width(), full.height(), Json.quote(written.get(3).toString())));
        }
        sb.append("  \"most_evidence\": ").append(patches(best)).append(",\n");
        sb.append("  \"least_evidence\": ").append(patches(worst)).append("\n}\n");
        return sb.toString();
    }

    /** Patches as JSON: grid cell, value, and box [x0, y0, x1, y1) in input pixels. */
    static String patches(List<Patch> patches) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < patches.size(); i++) {
            Patch p = patches.get(i);
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                    "{\"source\": %s, \"cell\": [%d, %d], \"value\": %.6g, \"box\": [%d, %d, %d, %d]}",
                    Json.quote(p.source()), p.x(), p.y(), p.value(), p.box().x0(), p.box().y0(), p.box().x1(),
                    p.box().y1()));
        }
        return sb.append("]").toString();
    }
}
