package org.bagnet4j.benchmarks;

import java.util.Collection;
import java.util.Locale;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import jdk.incubator.vector.FloatVector;

/**
 * Runs the JMH benchmarks and prints markdown tables: the FMA peak on 1 thread and on all cores, then every kernel,
 * block and whole forward pass with its GFLOP/s as a fraction of the peak for its thread count.
 * Usage: Report [forks] (default 2).
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws RunnerException {
        int forks = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int cores = Runtime.getRuntime().availableProcessors();
        double[] peak = new double[cores + 1];
        for (int threads : new int[] {1, cores}) {
            for (RunResult r : run(FmaPeak.class, forks, threads)) {
                peak[threads] = r.getPrimaryResult().getScore() * FloatVector.SPECIES_PREFERRED.length() * 2 / 1e9;
            }
        }
        System.out.printf(Locale.ROOT, "FP32 FMA peak (Vector API): %.0f GFLOP/s on 1 thread, %.0f on %d%n%n",
                peak[1], peak[cores], cores);

        System.out.println("| kernel | threads | ms | GFLOP/s | of peak |");
        System.out.println("|---|---|---|---|---|");
        for (RunResult r : run(Kernels.class, forks, 1)) {
            String layer = r.getParams().getParam("layer");
            int threads = Integer.parseInt(r.getParams().getParam("threads"));
            row(Kernels.describe(layer), threads, r.getPrimaryResult().getScore(), Kernels.macs(layer), peak[threads]);
        }
        for (RunResult r : run(WinogradKernel.class, forks, 1)) {
            int threads = Integer.parseInt(r.getParams().getParam("threads"));
            row(Kernels.describe(WinogradKernel.LAYER) + ", Winograd", threads, r.getPrimaryResult().getScore(),
                    Kernels.macs(WinogradKernel.LAYER), peak[threads]);
        }
        for (RunResult r : run(Blocks.class, forks, 1)) {
            String block = r.getParams().getParam("block");
            int threads = Integer.parseInt(r.getParams().getParam("threads"));
            row("block " + block, threads, r.getPrimaryResult().getScore(), Blocks.macs(block), peak[threads]);
        }

        System.out.println();
        System.out.printf("| preset, %d threads | batch | ms per image | GFLOP/s | of peak |%n", cores);
        System.out.println("|---|---|---|---|---|");
        for (RunResult r : run(Convolutions.class, forks, 1)) {
            String preset = r.getParams().getParam("preset");
            int batch = Integer.parseInt(r.getParams().getParam("batch"));
            double ms = r.getPrimaryResult().getScore() / batch;
            long macs = BagNet.withRandomWeights(BagNetConfig.preset(preset), 0, 1).macs(224, 224);
            double gflops = 2.0 * macs / (ms / 1e3) / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.0f | %.0f%% |%n", preset, batch, ms, gflops,
                    100 * gflops / peak[cores]);
        }
    }

    private static Collection<RunResult> run(Class<?> benchmark, int forks, int threads) throws RunnerException {
        return new Runner(new OptionsBuilder().include(benchmark.getName() + "\\.").forks(forks).threads(threads)
                .build()).run();
    }

    private static void row(String what, int threads, double ms, long macs, double peak) {
        double gflops = 2.0 * macs / (ms / 1e3) / 1e9;
        System.out.printf(Locale.ROOT, "| %s | %d | %.3f | %.0f | %.0f%% |%n", what, threads, ms, gflops,
                100 * gflops / peak);
    }
}
