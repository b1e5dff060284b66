package org.bagnet4j.compare;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNet;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/** The pictures of a comparison: its curves as line plots, and example images with each model's map of them. */
public final class ComparisonPictures {
    private ComparisonPictures() {
    }

    /** File name to picture: shuffling.png, interactions.png, and sensitivity-TARGET.png for each target. */
    public static Map<String, BufferedImage> plots(Comparison.Result r) {
        Map<String, BufferedImage> plots = new LinkedHashMap<>();
        double[] grids = Arrays.stream(r.shuffling()[0].grids()).asDoubleStream().toArray();
        List<LinePlot.Series> accuracy = new ArrayList<>();
        List<LinePlot.Series> agreement = new ArrayList<>();
        for (int m = 0; m < r.models().size(); m++) {
            accuracy.add(new LinePlot.Series(r.models().get(m), percent(r.shuffling()[m].accuracy())));
            agreement.add(new LinePlot.Series(r.models().get(m), percent(r.shuffling()[m].agreement())));
        }
        plots.put("shuffling.png", Pictures.above(
                LinePlot.draw("Accuracy after shuffling N x N tiles", "tiles per side N", "accuracy (%)", grids, true,
                        accuracy),
                LinePlot.draw("Decisions kept after shuffling N x N tiles", "tiles per side N",
                        "agreement with the unshuffled top-1 (%)", grids, true, agreement)));
        Interactions.Result first = r.interactions()[0];
        BufferedImage interactions = null;
        for (int s = 0; s < first.sides().length; s++) {
            List<LinePlot.Series> lines = new ArrayList<>();
            for (int m = 0; m < r.models().size(); m++) {
                lines.add(new LinePlot.Series(r.models().get(m), r.interactions()[m].relative()[s]));
            }
            BufferedImage plot = LinePlot.draw("Interaction of two occluded " + first.sides()[s] + " x "
                    + first.sides()[s] + " squares", "gap between the squares (pixels)",
                    "|interaction| / |single effects|", Arrays.stream(first.gaps()).asDoubleStream().toArray(), false,
                    lines);
            interactions = interactions == null ? plot : Pictures.above(interactions, plot);
        }
        plots.put("interactions.png", interactions);
        for (Sensitivity.Result s : r.sensitivity()) {
            double[] k = new double[s.meanDrop()[0].length];
            Arrays.setAll(k, i -> i);
            List<LinePlot.Series> drop = new ArrayList<>();
            List<LinePlot.Series> right = new ArrayList<>();
            for (int m = 0; m < s.methods().size(); m++) {
                drop.add(new LinePlot.Series(s.methods().get(m), s.meanDrop()[m]));
                right.add(new LinePlot.Series(s.methods().get(m), percent(s.accuracy()[m])));
            }
            String name = "sensitivity-" + fileName(s.target());
            for (int n = 2; plots.containsKey(name + ".png"); n++) { // names that differ only in odd characters
                name = "sensitivity-" + fileName(s.target()) + "-" + n;
            }
            plots.put(name + ".png", Pictures.above(
                    LinePlot.draw(s.target() + ": drop of the true-class logit",
                            "patches occluded k (in each method's order)", "mean drop", k, false, drop),
                    LinePlot.draw(s.target() + ": accuracy", "patches occluded k (in each method's order)",
                            "accuracy (%)", k, false, right)));
        }
        return plots;
    }

    /**
     * One image as the models see it: each BagNet's exact full-resolution evidence for the true class, then each
     * target's occlusion map (the drop of its true-class logit when a patch of the sensitivity grid is occluded),
     * one above the other.
     */
    public static BufferedImage example(List<Comparison.Entry> targets, List<Comparison.Entry> bagnets,
            RgbImage image, int label, String labelName, String name, int patch) {
        BufferedImage picture = null;
        for (Comparison.Entry b : bagnets) {
            BagNet bagnet = (BagNet) b.model();
            RgbImage seen = bagnet.preprocessing().geometry(image);
            EvidenceMap map = Explainer.fullResolution(bagnet, bagnet.preprocessing().normalize(seen), label, null,
                    null);
            picture = stack(picture, Pictures.heatmap(seen, map, name + ": " + b.name() + ", exact evidence per "
                    + "pixel (the q x q patch centred on it)"));
        }
        for (Comparison.Entry t : targets) {
            RgbImage seen = t.model().preprocessing().geometry(image);
            Tensor input = t.model().preprocessing().normalize(seen);
            Sensitivity.Grid grid = Sensitivity.Grid.of(input.height(), input.width(), patch);
            double[] drop = Sensitivity.occlusionImportance(t.model(), input, label, grid);
            float[] values = new float[drop.length];
            for (int i = 0; i < drop.length; i++) {
                values[i] = (float) drop[i];
            }
            EvidenceMap map = new EvidenceMap(label, labelName, grid.columns(), grid.rows(), values, patch, patch, 0,
                    grid.x0(), grid.y0());
            picture = stack(picture, Pictures.heatmap(seen, map, name + ": " + t.name() + ", occlusion map (drop of "
                    + "the true-class logit when the " + patch + " x " + patch + " patch is set to the mean)"));
        }
        return picture;
    }

    private static BufferedImage stack(BufferedImage top, BufferedImage next) {
        return top == null ? next : Pictures.above(top, next);
    }

    private static double[] percent(double[] fractions) {
        return Arrays.stream(fractions).map(f -> 100 * f).toArray();
    }

    /** A model name made safe for a file name. */
    public static String fileName(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
