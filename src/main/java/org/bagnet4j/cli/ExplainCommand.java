package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Cnn;
import org.bagnet4j.DenseNetConfig;
import org.bagnet4j.Model;
import org.bagnet4j.Prediction;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.ResNetConfig;
import org.bagnet4j.StreamRequest;
import org.bagnet4j.StreamResult;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.Patch;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.Json;

/**
 * {@code explain}: why the model decided as it did about one image. Writes the evidence heatmap of a class (a
 * BagNet's patch grid, and with --full the exact full-resolution map; a ResNet's or DenseNet's class activation
 * map), a contact sheet of the patches (cells) with the most evidence for and against it, a JSON summary, and the
 * raw maps as float32 .npy.
 */
final class ExplainCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("full", "no-resize", "force");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "class", "full", "top", "out", "region", "threads", "resize",
            "crop", "no-resize", "max-pixels", "force", "alpha-background");
    /** Most patches on a contact sheet (--top): each is a picture in one row. */
    static final int MAX_SHEET_PATCHES = 256;

    private ExplainCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        if (options.positional().size() != 1) {
            throw new UsageException("explain needs exactly one image (or .npy tensor)");
        }
        Path file = ArgumentPath.of(options.positional().getFirst());
        int top = options.intValue("top", 8, 1, MAX_SHEET_PATCHES);
        Path dir = OutputFolder.chosen(options, OutputFolder.nameFor(file, "explained"));
        OutputFolder.checkWritable(dir, outputs(options.has("full")), options.has("force"));
        Explainer.Region region = region(options);
        if (region != null && !options.has("full")) {
            throw new UsageException("--region selects the part of the --full map to compute; give --full too");
        }
        Model model = ModelChoice.load(options, options.threads(), err, "explain",
                "a BagNet, ResNet or DenseNet (a model with an evidence grid)",
                a -> a instanceof BagNetConfig || a instanceof ResNetConfig || a instanceof DenseNetConfig);
        Integer cls = options.has("class") ? model.classIndex(options.required("class")) : null;
        Input input = Input.load(file, model, options, err);
        Result r = switch (model) {
            case BagNet bagNet -> explain(bagNet, input, cls, options.has("full"), region, top, dir, err);
            case Cnn cnn -> {
                if (options.has("full") || options.has("region")) {
                    throw new UsageException("--full and --region need a BagNet: a " + cnn.architecture().name()
                            + "'s cells each see most of the image, so it has no map of small patches");
                }
                yield explainActivationMap(cnn, input, cls, top, dir);
            }
        };
        out.printf(Locale.ROOT, "%s: %s (%.1f%%); explained class %d '%s'%n", printable(file.toString()),
                printable(r.ranked().getFirst().label()), 100 * r.ranked().getFirst().probability(),
                r.grid().classIndex(), printable(r.grid().label()));
        r.written().forEach(p -> out.println("  wrote " + printable(p.toString())));
        return 0;
    }

    /** The files explain writes (with --full, the full-resolution map too). */
    static List<String> outputs(boolean withFull) {
        List<String> names = new ArrayList<>(List.of("heatmap-grid.png", "heatmap-grid.npy", "patches.png",
                "explanation.json"));
        if (withFull) {
            names.addAll(List.of("heatmap-full.png", "heatmap-full.npy"));
        }
        return names;
    }

    /**
     * An image ready for the model: the 8-bit picture it sees (resized and cropped) and the normalized tensor. A
     * .npy file is taken as a normalized tensor as it is; its picture is the tensor stretched to 0-255.
     */
    record Input(String name, RgbImage seen, Tensor tensor) {
        static Input load(Path file, Model model, Options options, PrintStream err) {
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
                return fromNpy(file, model);
            }
            Preprocessing prep = ClassifyCommand.sizing(options, model, err);
            return of(file, prep, ImageReading.of(options), w -> err.println("bagnet4j: " + printable(w)));
        }

        static Input of(Path file, Preprocessing prep, ImageReading reading, Consumer<String> warnings) {
            RgbImage seen = prep.geometry(reading.read(file, warnings), reading.maxPixels());
            return new Input(file.getFileName().toString(), seen, prep.normalize(seen));
        }

        private static Input fromNpy(Path file, Model model) {
            Npy.Array a = Npy.read(file);
            int[] s = a.shape().length == 3 ? new int[] {1, a.shape()[0], a.shape()[1], a.shape()[2]} : a.shape();
            int channels = model.architecture().inChannels();
            if (s.length != 4 || s[0] != 1 || s[1] != channels) {
                throw new BagNetException(file + ": expected a float32 tensor [" + channels
                        + ", H, W] or [1, " + channels + ", H, W], got "
                        + Arrays.toString(a.shape()));
            }
            Tensor tensor = Tensor.fromNchw(a.data(), 1, s[1], s[2], s[3]);
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : a.data()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            float range = max > min ? max - min : 1;
            byte[] rgb = new byte[s[2] * s[3] * 3];
            for (int p = 0; p < s[2] * s[3]; p++) {
                for (int c = 0; c < 3; c++) {
                    float v = tensor.data()[p * s[1] + Math.min(c, s[1] - 1)];
                    rgb[p * 3 + c] = (byte) Math.round((v - min) / range * 255);
                }
            }
            return new Input(file.getFileName().toString(), new RgbImage(s[3], s[2], rgb), tensor);
        }
    }

    /** What {@link #explain} found and wrote. */
    record Result(List<Prediction> ranked, EvidenceMap grid, List<Path> written) {
    }

    /**
     * Explains one image: heatmaps, patch sheet, JSON and .npy maps, written to {@code dir} (whose existing files
     * the caller has checked may be replaced: {@link OutputFolder#checkWritable}).
     *
     * @param cls the class to explain, or null for the predicted one
     */
    static Result explain(BagNet model, Input input, Integer cls, boolean withFull, Explainer.Region region, int top,
            Path dir, PrintStream err) {
        Tensor x = input.tensor();
        if (withFull) {
            Explainer.checkedRegion(x, region);
        }
        // One pass gives the scores and every class's grid; an image too large for that is streamed twice, for
        // the scores and then for the chosen class's grid, so that no cells x classes grid is ever held.
        LargeImages large = new LargeImages(err, Progress.stderrIsTerminal());
        StreamResult all = large.runsWhole(model, x, input.name()) ? Explainer.scoresAndGrids(model, x) : null;
        float[] scores = all != null ? all.scores()
                : model.stream(x, new StreamRequest().progress(large.progress(input.name() + " (scores)"))).scores();
        List<Prediction> ranked = Prediction.top(scores, model.labels(), Math.min(5, model.config().numClasses()));
        int target = cls != null ? cls : ranked.getFirst().index();
        OutputFolder.create(dir);
        List<Path> written = new ArrayList<>();
        EvidenceMap grid = all != null ? Explainer.fromLogits(model, all.grid(), target)
                : Explainer.grid(model, x, target, large.progress(input.name() + " (evidence map)"));
        String subtitle = String.format(Locale.ROOT,
                "%s: logit %.3f = the mean evidence of a %dx%d grid of %dx%d patches, %d px apart", input.name(),
                grid.mean(), grid.width(), grid.height(), grid.patch(), grid.patch(), grid.stride());
        written.add(writePng(dir.resolve("heatmap-grid.png"), Pictures.heatmap(input.seen(), grid, subtitle)));
        written.add(writeNpy(dir.resolve("heatmap-grid.npy"), grid));
        EvidenceMap full = null;
        if (withFull) {
            Progress progress = new Progress(err, 100, Progress.stderrIsTerminal());
            long start = System.nanoTime();
            full = Explainer.fullResolution(model, x, target, region, (done, total) ->
                    progress.update((int) (100 * done / total), "% of rows"));
            err.printf(Locale.ROOT, "bagnet4j: %s: full-resolution map in %.1f s%n", printable(input.name()),
                    (System.nanoTime() - start) / 1e9);
            written.add(writePng(dir.resolve("heatmap-full.png"), Pictures.heatmap(input.seen(), full, String.format(
                    Locale.ROOT, "%s: logit %.3f; each pixel shows the evidence of the %dx%d patch centred on it",
                    input.name(), grid.mean(), full.patch(), full.patch()))));
            written.add(writeNpy(dir.resolve("heatmap-full.npy"), full));
        }
        List<Patch> best = Explainer.top(grid, top, input.name());
        List<Patch> worst = Explainer.bottom(grid, top, input.name());
        written.add(writeSheet(dir.resolve("patches.png"), input, grid, best, worst, "patches", ""));
        written.add(writeText(dir.resolve("explanation.json"),
                json(input.name(), model, ranked, grid, full, best, worst, dir)));
        return new Result(ranked, grid, written);
    }

    /**
     * Explains one image for a ResNet or DenseNet: the class activation map as heatmap, .npy and JSON, and the
     * cells with the most and least evidence as a contact sheet of their blocks of the image.
     */
    static Result explainActivationMap(Cnn model, Input input, Integer cls, int top, Path dir) {
        float[] scores = model.classScores(input.tensor())[0];
        List<Prediction> ranked = Prediction.top(scores, model.labels(),
                Math.min(5, model.architecture().numClasses()));
        int target = cls != null ? cls : ranked.getFirst().index();
        EvidenceMap grid = Explainer.activationMap(model, input.tensor(), target);
        OutputFolder.create(dir);
        List<Path> written = new ArrayList<>();
        String subtitle = String.format(Locale.ROOT, "%s: logit %.3f = the mean of a %dx%d class activation map, "
                + "cells %d px apart, each seeing most of the image", input.name(), grid.mean(), grid.width(),
                grid.height(), grid.stride());
        written.add(writePng(dir.resolve("heatmap-grid.png"), Pictures.heatmap(input.seen(), grid, subtitle)));
        written.add(writeNpy(dir.resolve("heatmap-grid.npy"), grid));
        List<Patch> best = Explainer.top(grid, top, input.name());
        List<Patch> worst = Explainer.bottom(grid, top, input.name());
        written.add(writeSheet(dir.resolve("patches.png"), input, grid, best, worst, "cells",
                " (each cell's block of the image)"));
        written.add(writeText(dir.resolve("explanation.json"), json(input.name(), model, ranked, grid, null, best,
                worst, dir)));
        return new Result(ranked, grid, written);
    }

    /** The contact sheet: the most evidence in the top row, the least in the bottom row. */
    private static Path writeSheet(Path path, Input input, EvidenceMap grid, List<Patch> best, List<Patch> worst,
            String what, String note) {
        List<Pictures.Tile> tiles = new ArrayList<>();
        best.forEach(p -> tiles.add(tile(input.seen(), p)));
        worst.forEach(p -> tiles.add(tile(input.seen(), p)));
        int shown = best.size();
        return writePng(path, Pictures.contactSheet(String.format(Locale.ROOT,
                "%s, class '%s': top row the %d %s with the most evidence, bottom row the %d with the least%s",
                input.name(), grid.label(), shown, what, shown, note), tiles, shown));
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
            try (OutputStream out = Files.newOutputStream(path)) {
                if (!ImageIO.write(image, "png", out)) {
                    throw new IOException("no PNG writer");
                }
            }
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + BagNetException.reason(e));
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
            throw new BagNetException("cannot write " + path + ": " + BagNetException.reason(e));
        }
        return path;
    }

    private static String json(String file, Model model, List<Prediction> ranked, EvidenceMap grid,
            EvidenceMap full, List<Patch> best, List<Patch> worst, Path dir) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"file\": ").append(Json.quote(file)).append(",\n");
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
        if (model instanceof BagNet bagNet) {
            sb.append(String.format(Locale.ROOT, "  \"receptive_field\": %d,%n  \"grid_stride\": %d,%n",
                    bagNet.receptiveField(), bagNet.gridStride()));
        } else {
            sb.append(String.format(Locale.ROOT, "  \"grid_kind\": \"class activation map\",%n  \"grid_stride\": %d,%n",
                    grid.stride()));
        }
        sb.append(String.format(Locale.ROOT, "  \"grid\": {\"width\": %d, \"height\": %d, \"file\": %s},%n",
                grid.width(), grid.height(), Json.quote(dir.resolve("heatmap-grid.npy").toString())));
        if (full != null) {
            sb.append(String.format(Locale.ROOT,
                    "  \"full\": {\"x0\": %d, \"y0\": %d, \"width\": %d, \"height\": %d, \"file\": %s},%n",
                    full.left(), full.top(), full.width(), full.height(),
                    Json.quote(dir.resolve("heatmap-full.npy").toString())));
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
