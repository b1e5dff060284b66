package org.bagnet4j.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

import org.bagnet4j.weights.Json;

/** A {@link Comparison.Result} as report.json (every number; NaN as null) and report.md (tables and conclusions). */
public final class ComparisonReport {
    /** Relative interactions below this are float rounding: an additive model's parts add up. */
    private static final double ADDITIVE = 1e-4;

    private ComparisonReport() {
    }

    public static String json(Comparison.Result r) {
        StringBuilder j = new StringBuilder("{\n");
        j.append("  \"models\": ").append(strings(r.models())).append(",\n");
        j.append("  \"targets\": ").append(strings(r.targets())).append(",\n");
        j.append("  \"input\": {\"height\": ").append(r.height()).append(", \"width\": ").append(r.width())
                .append("},\n");
        Comparison.Settings s = r.settings();
        j.append("  \"settings\": {\"seed\": ").append(s.seed()).append(", \"shuffle_seeds\": ").append(s.shuffleSeeds())
                .append(", \"sides\": ").append(ints(s.sides())).append(", \"gaps\": ").append(ints(s.gaps()))
                .append(", \"patch\": ").append(s.patch()).append(", \"k\": ").append(s.k())
                .append(", \"occlusion_value\": \"0 after normalization (the dataset mean)\"},\n");
        j.append("  \"images\": ").append(r.images()).append(",\n");
        j.append("  \"skipped\": ").append(r.skippedCount()).append(",\n");
        j.append("  \"skipped_reasons\": ").append(strings(r.skipped())).append(",\n");
        j.append("  \"resumed_at\": ").append(r.resumedAt()).append(",\n");
        j.append("  \"seconds\": {");
        for (int i = 0; i < r.seconds().length; i++) {
            j.append(i > 0 ? ", " : "").append(Json.quote(Comparison.Result.MEASUREMENTS.get(i))).append(": ")
                    .append(number(r.seconds()[i]));
        }
        j.append("},\n");
        Errors.Result e = r.errors();
        j.append("  \"errors\": {\"models\": {");
        for (int m = 0; m < e.models().length; m++) {
            j.append(m > 0 ? ", " : "").append(Json.quote(r.models().get(m))).append(": {\"accuracy\": ")
                    .append(number(e.models()[m].accuracy())).append(", \"class_error_rate\": ")
                    .append(numbers(e.models()[m].classErrorRate())).append('}');
        }
        j.append("},\n    \"pairs\": [");
        for (int p = 0; p < e.pairs().length; p++) {
            Errors.PairAgreement a = e.pairs()[p];
            j.append(p > 0 ? ",\n      " : "\n      ").append("{\"a\": ").append(Json.quote(r.models().get(a.a())))
                    .append(", \"b\": ").append(Json.quote(r.models().get(a.b())))
                    .append(", \"class_error_correlation\": ").append(number(a.classErrorCorrelation()))
                    .append(", \"top1_agreement\": ").append(number(a.topOneAgreement()))
                    .append(", \"error_jaccard\": ").append(number(a.errorJaccard()))
                    .append(", \"error_jaccard_if_independent\": ").append(number(a.errorJaccardIfIndependent()))
                    .append(", \"logit_correlation\": ").append(number(a.logitCorrelation())).append('}');
        }
        j.append("]},\n");
        j.append("  \"shuffling\": {");
        for (int m = 0; m < r.shuffling().length; m++) {
            Shuffling.Result sh = r.shuffling()[m];
            j.append(m > 0 ? "," : "").append("\n    ").append(Json.quote(r.models().get(m))).append(": {\"grids\": ")
                    .append(ints(sh.grids())).append(", \"accuracy\": ").append(numbers(sh.accuracy()))
                    .append(", \"agreement\": ").append(numbers(sh.agreement())).append('}');
        }
        j.append("},\n  \"interactions\": {");
        for (int m = 0; m < r.interactions().length; m++) {
            Interactions.Result in = r.interactions()[m];
            j.append(m > 0 ? "," : "").append("\n    ").append(Json.quote(r.models().get(m))).append(": {\"sides\": ")
                    .append(ints(in.sides())).append(", \"gaps\": ").append(ints(in.gaps()))
                    .append(", \"relative\": ").append(rows(in.relative().length, i -> numbers(in.relative()[i])))
                    .append(", \"mean_interaction\": ")
                    .append(rows(in.meanInteraction().length, i -> numbers(in.meanInteraction()[i])))
                    .append(", \"pairs\": ").append(rows(in.pairs().length, i -> longs(in.pairs()[i]))).append('}');
        }
        j.append("},\n  \"sensitivity\": {");
        for (int t = 0; t < r.sensitivity().length; t++) {
            Sensitivity.Result se = r.sensitivity()[t];
            j.append(t > 0 ? "," : "").append("\n    ").append(Json.quote(se.target())).append(": {");
            for (int m = 0; m < se.methods().size(); m++) {
                j.append(m > 0 ? "," : "").append("\n      ").append(Json.quote(se.methods().get(m)))
                        .append(": {\"mean_drop\": ").append(numbers(se.meanDrop()[m])).append(", \"accuracy\": ")
                        .append(numbers(se.accuracy()[m])).append(", \"area\": ").append(number(se.area()[m]))
                        .append(", \"area_error\": ").append(number(se.areaError()[m]))
                        .append('}');
            }
            j.append('}');
        }
        return j.append("}\n}\n").toString();
    }

    public static String markdown(Comparison.Result r) {
        StringBuilder md = new StringBuilder("# Are these CNNs bags of local features?\n\n");
        md.append(String.format(Locale.ROOT, "%d images%s at %dx%d input. Models: %s. Occluded pixels are set to 0 "
                + "after normalization (the dataset mean). Settings: %s.%n%n", r.images(), r.skippedCount() == 0 ? ""
                : " (" + r.skippedCount() + " skipped, listed below)", r.width(), r.height(), describe(r), r.settings()));
        errors(md, r);
        shuffling(md, r);
        interactions(md, r);
        sensitivity(md, r);
        md.append("## Time\n\n| measurement | seconds (all threads) |\n|---|---|\n");
        for (int i = 0; i < r.seconds().length; i++) {
            md.append("| ").append(Comparison.Result.MEASUREMENTS.get(i)).append(" | ")
                    .append(decimal(r.seconds()[i], 1)).append(" |\n");
        }
        if (r.skippedCount() > 0) {
            md.append("\n## Skipped images\n\n");
            r.skipped().stream().limit(20).forEach(s -> md.append("- ").append(s).append('\n'));
            if (r.skippedCount() > 20) {
                md.append("- ... and ").append(r.skippedCount() - 20).append(" more (report.json lists up to 1000)\n");
            }
        }
        return md.toString();
    }

    private static String describe(Comparison.Result r) {
        List<String> names = new ArrayList<>();
        for (int m = 0; m < r.models().size(); m++) {
            int q = r.receptiveFields()[m];
            names.add(r.models().get(m) + (q > 0 ? " (BagNet, q = " + q + ")" : ""));
        }
        return String.join(", ", names);
    }

    private static void errors(StringBuilder md, Comparison.Result r) {
        Errors.Result e = r.errors();
        md.append("## Errors\n\n| model | accuracy |\n|---|---|\n");
        for (int m = 0; m < e.models().length; m++) {
            md.append("| ").append(r.models().get(m)).append(" | ").append(percent(e.models()[m].accuracy()))
                    .append(" |\n");
        }
        if (e.pairs().length == 0) {
            md.append('\n');
            return;
        }
        md.append("\n| models | per-class error correlation | top-1 agreement | error overlap (Jaccard) "
                + "| overlap by chance | logit correlation |\n|---|---|---|---|---|---|\n");
        for (Errors.PairAgreement a : e.pairs()) {
            md.append("| ").append(r.models().get(a.a())).append(" / ").append(r.models().get(a.b())).append(" | ")
                    .append(decimal(a.classErrorCorrelation(), 3)).append(" | ").append(percent(a.topOneAgreement()))
                    .append(" | ").append(decimal(a.errorJaccard(), 3)).append(" | ")
                    .append(decimal(a.errorJaccardIfIndependent(), 3)).append(" | ")
                    .append(decimal(a.logitCorrelation(), 3)).append(" |\n");
        }
        md.append('\n');
        // For each CNN, the BagNet whose mistakes overlap its own most, against chance and against the other CNNs.
        for (int m = 0; m < r.models().size(); m++) {
            if (r.receptiveFields()[m] > 0) {
                continue;
            }
            Errors.PairAgreement bagnet = null;
            Errors.PairAgreement cnn = null;
            for (Errors.PairAgreement a : e.pairs()) {
                int other = a.a() == m ? a.b() : a.b() == m ? a.a() : -1;
                if (other < 0 || Double.isNaN(a.errorJaccard())) {
                    continue;
                }
                if (r.receptiveFields()[other] > 0) {
                    bagnet = bagnet == null || a.errorJaccard() > bagnet.errorJaccard() ? a : bagnet;
                } else {
                    cnn = cnn == null || a.errorJaccard() > cnn.errorJaccard() ? a : cnn;
                }
            }
            if (bagnet != null) {
                md.append(String.format(Locale.ROOT, "- %s shares %.0f%% of its and %s's mistakes (%.0f%% if they "
                        + "erred independently)%s.%n", r.models().get(m), 100 * bagnet.errorJaccard(),
                        r.models().get(bagnet.a() == m ? bagnet.b() : bagnet.a()),
                        100 * bagnet.errorJaccardIfIndependent(), cnn == null ? "" : String.format(Locale.ROOT,
                                "; with %s, the closest other CNN, %.0f%%", r.models().get(cnn.a() == m ? cnn.b()
                                        : cnn.a()), 100 * cnn.errorJaccard())));
            }
        }
        md.append('\n');
    }

    private static void shuffling(StringBuilder md, Comparison.Result r) {
        int[] grids = r.shuffling()[0].grids();
        md.append("## Shuffling\n\nAccuracy (and agreement with the unshuffled decision) after cutting the input into "
                + "N x N tiles and shuffling them, over ").append(r.settings().shuffleSeeds()).append(" seeds.\n\n| model |");
        for (int n : grids) {
            md.append(String.format(Locale.ROOT, " N = %d (%d px) |", n, Math.min(r.height(), r.width()) / n));
        }
        md.append("\n|---|").append("---|".repeat(grids.length)).append('\n');
        for (int m = 0; m < r.models().size(); m++) {
            Shuffling.Result s = r.shuffling()[m];
            md.append("| ").append(r.models().get(m)).append(" |");
            for (int g = 0; g < grids.length; g++) {
                md.append(' ').append(percent(s.accuracy()[g])).append(" (").append(percent(s.agreement()[g]))
                        .append(") |");
            }
            md.append('\n');
        }
        md.append("\nA bag of local features keeps its decisions while the tiles stay larger than its patches; a model "
                + "that needs the object's global shape loses them as soon as the tiles are shuffled.\n");
        for (int m = 0; m < r.models().size(); m++) {
            Shuffling.Result s = r.shuffling()[m];
            int g = grids.length > 2 ? 2 : grids.length - 1;
            md.append(String.format(Locale.ROOT, "- %s keeps %s of its decisions at N = %d and %s at N = %d.%n",
                    r.models().get(m), percent(s.agreement()[g]), grids[g], percent(s.agreement()[grids.length - 1]),
                    grids[grids.length - 1]));
        }
        md.append('\n');
    }

    private static void interactions(StringBuilder md, Comparison.Result r) {
        md.append("## Interactions\n\nTwo occluded squares of side p with a gap of d pixels, one pair per image at a "
                + "random position: mean |joint effect - sum of single effects| / mean (|single effect A| + |single "
                + "effect B|) on the true class's logit. 0 means the parts add up independently.\n");
        Interactions.Result first = r.interactions()[0];
        for (int s = 0; s < first.sides().length; s++) {
            md.append("\n**p = ").append(first.sides()[s]).append("**\n\n| model |");
            for (int gap : first.gaps()) {
                md.append(" d = ").append(gap).append(" |");
            }
            md.append("\n|---|").append("---|".repeat(first.gaps().length)).append('\n');
            for (int m = 0; m < r.models().size(); m++) {
                md.append("| ").append(r.models().get(m)).append(" |");
                for (double v : r.interactions()[m].relative()[s]) {
                    md.append(' ').append(Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2g", v)).append(" |");
                }
                md.append('\n');
            }
        }
        md.append('\n');
        for (int m = 0; m < r.models().size(); m++) {
            int q = r.receptiveFields()[m];
            Interactions.Result in = r.interactions()[m];
            double far = 0;
            boolean any = false;
            for (int s = 0; s < in.sides().length; s++) {
                for (int g = 0; g < in.gaps().length; g++) {
                    if (q > 0 && in.gaps()[g] >= q - 1 && !Double.isNaN(in.relative()[s][g])) {
                        far = Math.max(far, in.relative()[s][g]);
                        any = true;
                    }
                }
            }
            if (any) {
                md.append(String.format(Locale.ROOT, "- %s (q = %d): at gaps of %d pixels or more no patch sees both "
                        + "squares; the largest relative interaction there is %.1e%s.%n", r.models().get(m), q, q - 1,
                        far, far < ADDITIVE ? " (float rounding: the parts add up exactly)"
                                : ", which a BagNet should not have: its parts do not add up"));
            }
        }
        md.append('\n');
    }

    private static void sensitivity(StringBuilder md, Comparison.Result r) {
        if (r.sensitivity().length == 0) {
            return;
        }
        int k = r.settings().k();
        md.append("## Sensitivity\n\nPatches of ").append(r.settings().patch()).append(" pixels occluded together, in "
                + "the order each method ranks them; the target's mean drop of its true-class logit after k patches, "
                + "its accuracy after k = ").append(k).append(", and the area (the mean drop over k = 1..")
                .append(k).append(").\n");
        for (Sensitivity.Result s : r.sensitivity()) {
            md.append("\n**").append(s.target()).append("**\n\n| ranking | area (± standard error) | drop at k = 1 | k = ")
                    .append(Math.max(1, k / 2)).append(" | k = ").append(k).append(" | accuracy at k = ").append(k)
                    .append(" |\n|---|---|---|---|---|---|\n");
            for (int m = 0; m < s.methods().size(); m++) {
                md.append("| ").append(s.methods().get(m)).append(" | ").append(decimal(s.area()[m], 3))
                        .append(" ± ").append(decimal(s.areaError()[m], 3)).append(" | ")
                        .append(decimal(s.meanDrop()[m][1], 3)).append(" | ")
                        .append(decimal(s.meanDrop()[m][Math.max(1, k / 2)], 3)).append(" | ")
                        .append(decimal(s.meanDrop()[m][k], 3)).append(" | ").append(percent(s.accuracy()[m][k]))
                        .append(" |\n");
            }
            md.append('\n').append(sensitivityConclusion(s)).append('\n');
        }
        md.append('\n');
    }

    /**
     * The paper's claim holds where a BagNet's ranking drops the target's logit nearly as fast as the target's own
     * occlusion map, and faster than its CAM and a random order; differences within two standard errors are called
     * indistinguishable.
     */
    private static String sensitivityConclusion(Sensitivity.Result s) {
        int occlusion = s.methods().indexOf(Sensitivity.OCCLUSION);
        int best = -1;
        for (int m = 0; m < s.methods().size(); m++) {
            if (s.methods().get(m).startsWith("bagnet ") && (best < 0 || s.area()[m] > s.area()[best])) {
                best = m;
            }
        }
        if (best < 0) {
            return "No BagNet ranked patches for " + s.target() + ".";
        }
        StringBuilder c = new StringBuilder("For " + s.target() + ", the ranking of " + s.methods().get(best)
                .substring("bagnet ".length()) + " (the BagNet whose ranking drops the logit most)");
        c.append(s.area()[occlusion] > 0 ? String.format(Locale.ROOT, " reaches %.0f%% of the area of the target's "
                + "own occlusion map", 100 * s.area()[best] / s.area()[occlusion])
                : " is compared with an occlusion map whose area is not positive");
        for (String other : List.of(Sensitivity.CAM, Sensitivity.RANDOM)) {
            int o = s.methods().indexOf(other);
            if (o >= 0) {
                double difference = s.area()[best] - s.area()[o];
                double error = Math.hypot(s.areaError()[best], s.areaError()[o]);
                c.append("; it is ").append(!(Math.abs(difference) > 2 * error) ? "indistinguishable from"
                        : difference > 0 ? "ahead of" : "behind").append(' ').append(other).append(String.format(
                                Locale.ROOT, " (%s vs %s)", decimal(s.area()[best], 3), decimal(s.area()[o], 3)));
            }
        }
        return c.append('.').toString();
    }

    private static String rows(int n, IntFunction<String> row) {
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(row.apply(i));
        }
        return "[" + String.join(", ", rows) + "]";
    }

    private static String strings(List<String> values) {
        return "[" + String.join(", ", values.stream().map(Json::quote).toList()) + "]";
    }

    private static String ints(int[] values) {
        return rows(values.length, i -> Integer.toString(values[i]));
    }

    private static String longs(long[] values) {
        return rows(values.length, i -> Long.toString(values[i]));
    }

    private static String numbers(double[] values) {
        return rows(values.length, i -> number(values[i]));
    }

    /** Shortest decimal that reads back as the same double; null for NaN. */
    private static String number(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    static String percent(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    static String decimal(double v, int places) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + places + "f", v);
    }
}
