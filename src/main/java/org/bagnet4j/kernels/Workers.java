package org.bagnet4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import org.bagnet4j.BagNetException;

/**
 * A fixed set of threads that share the iterations of a loop. The calling thread takes part, so {@code threads}
 * counts it; the helper threads are daemons created once, never per call.
 */
public final class Workers {
    private final int threads;
    private final ForkJoinPool pool;

    public Workers(int threads) {
        if (threads < 1) {
            throw new BagNetException("thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1);
    }

    /** Workers for every available processor. */
    public static Workers forAllCores() {
        return new Workers(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, count), each exactly once, spread over the threads; iterations
     * are handed out one at a time so that uneven ones balance. Returns when all are done.
     */
    public void parallelFor(int count, IntConsumer body) {
        if (pool == null || count <= 1) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                body.accept(i);
            }
        };
        int helpers = Math.min(threads, count) - 1;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) {
            tasks[h] = pool.submit(drain);
        }
        drain.run();
        for (ForkJoinTask<?> task : tasks) {
            task.join();
        }
    }
}
