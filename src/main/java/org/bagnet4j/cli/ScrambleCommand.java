package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Prediction;
import org.bagnet4j.StreamResult;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.HeatmapScale;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.explain.Scramble;
import org.bagnet4j.image.RgbImage;

/**
 * {@code scramble}: the paper's demonstration that a bag-of-local-features decision barely depends on the
 * object's shape. The model's input image is cut into N x N tiles, shuffled, and classified again; the heatmaps
 * before and after are drawn one above the other, on one colour scale.
 */
final class ScrambleCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("force", "no-resize");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "tiles", "seed", "out", "force", "threads", "resize", "crop",
            "no-resize", "max-pixels", "alpha-background");
    /** scrambled.png's shortest side at least: a small input (the embedded model's is 34 px) is enlarged to show. */
    static final int SCRAMBLED_MIN_SIDE = 224;

    private ScrambleCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        if (options.positional().size() != 1) {
            throw new UsageException("scramble needs exactly one image");
        }
        Path file = ArgumentPath.of(options.positional().getFirst());
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
            throw new UsageException("scramble needs an image file, not a tensor");
        }
        int tiles = options.intValue("tiles", 4, 1, 4096);
        long seed = options.longValue("seed", 0, 0, Long.MAX_VALUE);
        Path dir = OutputFolder.chosen(options, OutputFolder.nameFor(file, "scrambled"));
        OutputFolder.checkWritable(dir, List.of("scrambled.png", "heatmaps.png"), options.has("force"));
        BagNet model = ModelChoice.loadBagNet(options, options.threads(), err, "scramble");
        ExplainCommand.Input original = ExplainCommand.Input.load(file, model, options, err);
        if (tiles > Math.min(original.seen().width(), original.seen().height())) {
            throw new BagNetException("--tiles " + tiles + " makes tiles smaller than a pixel of the "
                    + original.seen().width() + "x" + original.seen().height() + " input");
        }
        RgbImage scrambledImage = Scramble.tiles(original.seen(), tiles, new Random(seed));
        ExplainCommand.Input scrambled = new ExplainCommand.Input("scrambled " + original.name(), scrambledImage,
                model.preprocessing().normalize(scrambledImage));
        StreamResult resultBefore = Explainer.scoresAndGrids(model, original.tensor());
        StreamResult resultAfter = Explainer.scoresAndGrids(model, scrambled.tensor());
        int shown = Math.min(5, model.config().numClasses());
        List<Prediction> before = Prediction.top(resultBefore.scores(), model.labels(), shown);
        List<Prediction> after = Prediction.top(resultAfter.scores(), model.labels(), shown);
        int cls = before.getFirst().index();
        EvidenceMap mapBefore = Explainer.fromLogits(model, resultBefore.grid(), cls);
        EvidenceMap mapAfter = Explainer.fromLogits(model, resultAfter.grid(), cls);
        HeatmapScale scale = HeatmapScale.shared("the maps before and after shuffling", mapBefore, mapAfter);
        BufferedImage pair = Pictures.above(
                Pictures.heatmap(original.seen(), mapBefore, String.format(Locale.ROOT, "before: %s, logit %.3f",
                        original.name(), mapBefore.mean()), scale),
                Pictures.heatmap(scrambledImage, mapAfter, String.format(Locale.ROOT, "after: %dx%d tiles shuffled "
                        + "(seed %d), logit %.3f", tiles, tiles, seed, mapAfter.mean()), scale));

        OutputFolder.create(dir);
        Path scrambledPng = ExplainCommand.writePng(dir.resolve("scrambled.png"), Pictures.enlarged(scrambledImage,
                SCRAMBLED_MIN_SIDE));
        Path pairPng = ExplainCommand.writePng(dir.resolve("heatmaps.png"), pair);
        out.printf(Locale.ROOT, "%s, %dx%d tiles shuffled (seed %d)%n", printable(file.toString()), tiles,
                tiles, seed);
        out.printf(Locale.ROOT, "  %-36s %-36s%n", "before", "after");
        for (int i = 0; i < before.size(); i++) {
            out.printf(Locale.ROOT, "  %-36s %-36s%n", describe(before.get(i)), describe(after.get(i)));
        }
        out.printf(Locale.ROOT, "  top-1 %s%n  wrote %s%n  wrote %s%n",
                before.getFirst().index() == after.getFirst().index() ? "unchanged" : "changed",
                printable(scrambledPng.toString()), printable(pairPng.toString()));
        return 0;
    }

    private static String describe(Prediction p) {
        String label = printable(p.label().length() > 24 ? p.label().substring(0, 23) + "." : p.label());
        return String.format(Locale.ROOT, "%-24s %6.2f%%", label, 100 * p.probability());
    }
}
