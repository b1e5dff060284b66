package org.bagnet4j.benchmarks;

import java.util.Locale;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import jdk.incubator.vector.FloatVector;

/**
 * Runs the JMH benchmarks and prints one table: the FMA peak, then each preset's latency and GFLOP/s as a
 * fraction of that peak. Usage: Report [forks] (default 2).
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws RunnerException {
        int forks = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        double peak = 0;
        for (RunResult r : new Runner(new OptionsBuilder().include(FmaPeak.class.getSimpleName()).forks(forks)
                .threads(Runtime.getRuntime().availableProcessors()).build()).run()) {
            peak = r.getPrimaryResult().getScore() * lanes * 2 / 1e9;
        }
        System.out.printf(Locale.ROOT, "FP32 FMA peak, %d threads: %.0f GFLOP/s%n%n",
                Runtime.getRuntime().availableProcessors(), peak);
        System.out.println("| preset | batch | ms per image | GFLOP/s | of peak |");
        System.out.println("|---|---|---|---|---|");
        for (RunResult r : new Runner(new OptionsBuilder().include(Convolutions.class.getSimpleName()).forks(forks)
                .build()).run()) {
            String preset = r.getParams().getParam("preset");
            int batch = Integer.parseInt(r.getParams().getParam("batch"));
            double ms = r.getPrimaryResult().getScore() / batch;
            long macs = BagNet.withRandomWeights(BagNetConfig.preset(preset), 0, 1).macs(224, 224);
            double gflops = 2.0 * macs / (ms / 1e3) / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.0f | %.0f%% |%n", preset, batch, ms, gflops,
                    100 * gflops / peak);
        }
    }
}
