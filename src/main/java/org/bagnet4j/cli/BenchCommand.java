package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import org.bagnet4j.Architecture;
import org.bagnet4j.Model;
import org.bagnet4j.kernels.KernelTimes;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.Json;

/**
 * {@code bench}: latency of the class scores of one batch, after a warm-up, with median and minimum per image,
 * images per second and GFLOP/s (2 x multiply-accumulates / time). Random weights with --preset. With --layers,
 * as many passes again with every kernel timed ({@link KernelTable}).
 */
final class BenchCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("json", "layers");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "preset", "size", "batch", "threads", "iters", "warmup", "json",
            "layers");
    private BenchCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS).withoutArguments("bench");
        int threads = options.threads();
        int size = options.intValue("size", 224, 1, 8192);
        int batch = options.intValue("batch", 1, 1, ClassifyCommand.MAX_BATCH);
        int iters = options.intValue("iters", 20, 1, 1_000_000);
        int warmup = options.intValue("warmup", 5, 0, 1_000_000);
        if (options.has("model") && options.has("preset")) {
            throw new UsageException("give --model or --preset, not both");
        }
        Model model = options.has("preset")
                ? Model.withRandomWeights(Architecture.preset(options.required("preset")), 1, threads)
                : ModelChoice.load(options, threads, err);
        Random random = new Random(3);
        Tensor images = Tensor.zeros(batch, size, size, model.architecture().inChannels());
        for (int i = 0; i < images.size(); i++) {
            images.data()[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < warmup; i++) {
            model.classScores(images);
        }
        double[] ms = new double[iters];
        for (int i = 0; i < iters; i++) {
            long start = System.nanoTime();
            model.classScores(images);
            ms[i] = (System.nanoTime() - start) / 1e6 / batch;
        }
        Arrays.sort(ms);
        double median = ms[iters / 2];
        KernelTable kernels = options.has("layers") ? profile(model, images, iters) : null;
        double gflops = 2.0 * model.macs(size, size) / (median / 1e3) / 1e9;
        if (options.has("json")) {
            out.printf(Locale.ROOT, "{\"model\":%s,\"size\":%d,\"batch\":%d,\"threads\":%d,\"median_ms\":%.3f,"
                    + "\"min_ms\":%.3f,\"images_per_s\":%.2f,\"gflops\":%.1f%s}%n", Json.quote(model.architecture().name()),
                    size, batch, threads, median, ms[0], 1e3 / median, gflops,
                    kernels == null ? "" : "," + kernels.jsonFields());
        } else {
            out.printf(Locale.ROOT, "%s %dx%d, batch %d, %d threads, %d iterations after %d warm-up:%n",
                    printable(model.architecture().name()), size, size, batch, threads, iters, warmup);
            out.printf(Locale.ROOT, "  per image: median %.1f ms, min %.1f ms; %.1f images/s; %.1f GFLOP/s "
                    + "(%.2f G multiply-accumulates)%n", median, ms[0], 1e3 / median, gflops,
                    model.macs(size, size) / 1e9);
            if (kernels != null) {
                kernels.print(out, batch);
            }
        }
        return 0;
    }

    /** Runs {@code passes} more passes with every kernel call timed. */
    private static KernelTable profile(Model model, Tensor images, int passes) {
        List<List<KernelTimes.Call>> calls = new ArrayList<>();
        long[] nanos = new long[passes];
        KernelTimes times = KernelTimes.start();
        try {
            for (int i = 0; i < passes; i++) {
                long start = System.nanoTime();
                model.classScores(images);
                nanos[i] = System.nanoTime() - start;
                calls.add(times.take());
            }
        } finally {
            times.stop();
        }
        return KernelTable.of(calls, nanos);
    }
}
