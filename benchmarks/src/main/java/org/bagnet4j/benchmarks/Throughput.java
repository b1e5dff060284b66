package org.bagnet4j.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.tensor.Tensor;

/**
 * Images per second on a set of 224x224 images (in memory, preprocessed) at batch 1, 8 and 32 with 1 and 2
 * threads, two ways: every thread on each convolution of one batch at a time ("split"), or one batch per thread
 * on a shared single-threaded model ("jobs", what classify does for folders). Usage: Throughput [preset] [images]
 * (default bagnet33, 64).
 */
public final class Throughput {
    private Throughput() {
    }

    public static void main(String[] args) throws Exception {
        BagNetConfig config = BagNetConfig.preset(args.length > 0 ? args[0] : "bagnet33");
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        Random random = new Random(1);
        List<Tensor> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            images.add(Kernels.randomTensor(224, 224, 3, random));
        }
        System.out.printf(Locale.ROOT, "%s, %d images of 224x224, images/s (best of 2 rounds after a warm-up)%n%n",
                config.name(), count);
        System.out.println("| threads | batch | split: all threads per batch | jobs: one batch per thread |");
        System.out.println("|---|---|---|---|");
        for (int threads : new int[] {1, 2}) {
            BagNet split = BagNet.withRandomWeights(config, 1, threads);
            BagNet single = BagNet.withRandomWeights(config, 1, 1);
            for (int batch : new int[] {1, 8, 32}) {
                List<Tensor> batches = batches(images, batch);
                double a = best(() -> batches.forEach(split::classScores));
                double b = threads == 1 ? a : best(() -> runJobs(single, batches, threads));
                System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.2f |%n", threads, batch, count / a, count / b);
            }
        }
    }

    private static List<Tensor> batches(List<Tensor> images, int batch) {
        List<Tensor> batches = new ArrayList<>();
        for (int i = 0; i < images.size(); i += batch) {
            batches.add(Tensor.concat(images.subList(i, Math.min(images.size(), i + batch))));
        }
        return batches;
    }

    private static void runJobs(BagNet model, List<Tensor> batches, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Tensor b : batches) {
                futures.add(pool.submit(() -> model.classScores(b)));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            pool.shutdown();
        }
    }

    /** Seconds of the faster of two timed rounds, after one untimed. */
    private static double best(Runnable round) {
        round.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 2; i++) {
            long start = System.nanoTime();
            round.run();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }
}
