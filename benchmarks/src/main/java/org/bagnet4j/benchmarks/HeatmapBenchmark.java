package org.bagnet4j.benchmarks;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.tensor.Tensor;

/**
 * Full-resolution heatmaps at 224x224: dense evaluation against a warm forward pass of the same model (batch 1, the
 * same threads) and against the reference method (every patch through the network by itself), all in bagnet4j,
 * for each preset with seeded random weights (the cost does not depend on them; the last column checks that both
 * maps agree). The arithmetic columns count the multiply-accumulates each method needs, as bagnet4j computes them:
 * the dense map's lower bound in forward passes is their ratio. Per-patch evaluation of the whole image takes
 * minutes for bagnet33, so it is timed on a band of rows and scaled to 224 rows (every row costs the same).
 *
 * <p>Usage: HeatmapBenchmark [sampleRows] [repeats]
 */
public final class HeatmapBenchmark {
    private static final int FORWARD_RUNS = 20;

    private HeatmapBenchmark() {
    }

    public static void main(String[] args) {
        int sampleRows = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int size = 224;
        int threads = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "%d threads; medians of %d dense maps and %d forward passes; per-patch timed on "
                + "%d of %d rows and scaled%n", threads, repeats, FORWARD_RUNS, sampleRows, size);
        System.out.println("| preset | forward pass (ms) | dense map (s) | in forward passes | bound: dense / forward "
                + "MACs | dense's efficiency | per-patch (s, scaled) | speed-up | MACs per-patch / dense | "
                + "max |value| | max |difference| |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (String preset : new String[] {"bagnet9", "bagnet17", "bagnet33"}) {
            BagNet model = BagNet.withRandomWeights(BagNetConfig.preset(preset), 7, threads);
            Tensor image = Tensor.zeros(1, size, size, 3);
            Random rnd = new Random(1);
            for (int i = 0; i < image.size(); i++) {
                image.data()[i] = (float) rnd.nextGaussian();
            }
            double forward = forwardMillis(model, image);
            Explainer.Region band = new Explainer.Region(0, 100, size, 100 + sampleRows);
            Explainer.fullResolutionPerPatch(model, image, 1, new Explainer.Region(0, 0, size, 2)); // warm-up
            Explainer.fullResolution(model, image, 1, new Explainer.Region(0, 0, size, 8), null); // warm-up
            double[] dense = new double[repeats];
            double[] perPatch = new double[repeats];
            float[] denseBand = null;
            float[] patchBand = null;
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                var map = Explainer.fullResolution(model, image, 1, null, null);
                dense[r] = (System.nanoTime() - t0) / 1e9;
                denseBand = Arrays.copyOfRange(map.values(), 100 * size, (100 + sampleRows) * size);
                long t1 = System.nanoTime();
                patchBand = Explainer.fullResolutionPerPatch(model, image, 1, band).values();
                perPatch[r] = (System.nanoTime() - t1) / 1e9 * size / sampleRows;
            }
            double d = median(dense);
            double p = median(perPatch);
            int q = model.receptiveField();
            int padded = size + q - 1;
            double forwardMacs = model.macs(size, size);
            double denseMacs = model.denseMacs(padded, padded, 1);
            double perPatchMacs = (double) size * size * model.macs(q, q);
            double passes = d * 1e3 / forward;
            double bound = denseMacs / forwardMacs;
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.2f | %.1f | %.0f G / %.2f G = %.1f | %.0f%% | %.1f | "
                    + "%.1fx | %,.0f G / %.0f G = %.1fx | %.3g | %.1e |%n", preset, forward, d, passes, denseMacs / 1e9,
                    forwardMacs / 1e9, bound, 100 * bound / passes, p, p / d, perPatchMacs / 1e9, denseMacs / 1e9,
                    perPatchMacs / denseMacs, maxAbs(patchBand), maxDifference(denseBand, patchBand));
        }
    }

    /** Median milliseconds of a warm batch-1 forward pass (class scores). */
    private static double forwardMillis(BagNet model, Tensor image) {
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmUntil) {
            model.classScores(image);
        }
        double[] ms = new double[FORWARD_RUNS];
        for (int i = 0; i < ms.length; i++) {
            long t = System.nanoTime();
            model.classScores(image);
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return median(ms);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double maxDifference(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    private static double maxAbs(float[] a) {
        double max = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
