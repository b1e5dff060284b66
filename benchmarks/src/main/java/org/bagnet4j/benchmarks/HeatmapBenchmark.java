package org.bagnet4j.benchmarks;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.tensor.Tensor;

/**
 * Full-resolution heatmaps at 224x224: dense evaluation against the reference method (every patch through the
 * network by itself), both in bagnet4j, for each preset with seeded random weights (the cost does not depend on
 * them; the last column checks that both give the same map).
 * Per-patch evaluation of the whole image takes minutes for bagnet33, so it is timed on a band of rows and scaled
 * to 224 rows (its cost is the same for every row); the dense map is timed on the whole image.
 *
 * <p>Usage: HeatmapBenchmark [sampleRows] [repeats]
 */
public final class HeatmapBenchmark {
    private HeatmapBenchmark() {
    }

    public static void main(String[] args) {
        int sampleRows = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int size = 224;
        System.out.printf(Locale.ROOT, "%d threads; per-patch timed on %d of %d rows and scaled%n",
                Runtime.getRuntime().availableProcessors(), sampleRows, size);
        System.out.println("| preset | dense (s) | per-patch (s, scaled) | speed-up | max |value| | max |difference| |");
        System.out.println("|---|---|---|---|---|---|");
        for (String preset : new String[] {"bagnet9", "bagnet17", "bagnet33"}) {
            BagNet model = BagNet.withRandomWeights(BagNetConfig.preset(preset), 7,
                    Runtime.getRuntime().availableProcessors());
            Tensor image = Tensor.zeros(1, size, size, 3);
            Random rnd = new Random(1);
            for (int i = 0; i < image.size(); i++) {
                image.data()[i] = (float) rnd.nextGaussian();
            }
            Explainer.Region band = new Explainer.Region(0, 100, size, 100 + sampleRows);
            Explainer.fullResolutionPerPatch(model, image, 1, new Explainer.Region(0, 0, size, 2)); // warm-up
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
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f | %.1fx | %.3g | %.1e |%n", preset, d, p, p / d,
                    maxAbs(patchBand), maxDifference(denseBand, patchBand));
        }
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
