package org.bagnet4j.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

import org.bagnet4j.BagNetException;

/**
 * A fixed set of threads that share the iterations of a loop. The calling thread takes part, so {@code threads}
 * counts it; the helper threads are daemons started on first use, never per call.
 *
 * <p>A forward pass is a chain of some fifty loops of 0.3 to 10 ms each, so waking a sleeping thread for every
 * loop would cost a measurable share of each one. Helpers therefore spin for a short while after a loop, catching
 * the next one at once, and only then sleep; after a long idle time they end, and the next loop starts them again.
 * One loop runs at a time: a call made while another is running (another thread's, or one nested inside a loop's
 * body) runs its iterations on its own thread.
 */
public final class Workers {
    /** How long an idle helper keeps polling for the next loop before it sleeps. */
    private static final long SPIN_NANOS = 200_000;
    /** How long a sleeping helper waits for work before its thread ends. */
    private static final long KEEP_ALIVE_NANOS = 30_000_000_000L;
    private static final AtomicInteger POOL_NUMBER = new AtomicInteger();
    /** Most threads a set may have: far beyond any machine's cores, well below what would exhaust memory. */
    public static final int MAX_THREADS = 1024;

    private final int threads;
    private final long keepAliveNanos;
    private final Helper[] helpers;
    private final ReentrantLock running = new ReentrantLock();
    private final String name = "bagnet4j-workers-" + POOL_NUMBER.incrementAndGet();
    /** The loop helpers should join: a new one for each loop. */
    private volatile Loop current;

    public Workers(int threads) {
        this(threads, KEEP_ALIVE_NANOS);
    }

    /** With another idle time after which helpers end (for tests). */
    Workers(int threads, long keepAliveNanos) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new BagNetException("thread count must be between 1 and " + MAX_THREADS + ", got " + threads);
        }
        this.threads = threads;
        this.keepAliveNanos = keepAliveNanos;
        this.helpers = new Helper[threads - 1];
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
     * are handed out one at a time so that uneven ones balance. Returns when all are done; if an iteration throws,
     * the remaining ones are skipped and the first exception is rethrown here.
     */
    public void parallelFor(int count, IntConsumer body) {
        if (helpers.length == 0 || count <= 1 || running.isHeldByCurrentThread() || !running.tryLock()) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        Loop loop = new Loop(count, body);
        try {
            current = loop;
            for (int h = 0; h < Math.min(helpers.length, count - 1); h++) {
                wake(h);
            }
            loop.drain();
            loop.awaitFinished();
        } finally {
            loop.body = null;
            running.unlock();
        }
        loop.rethrowFailure();
    }

    /** Wakes a sleeping helper (claiming it first, so that it cannot end meanwhile) or starts an ended one. */
    private void wake(int index) {
        Helper helper = helpers[index];
        if (helper != null && helper.state.compareAndSet(Helper.SLEEPING, Helper.POLLING)) {
            LockSupport.unpark(helper.thread);
        } else if (helper == null || helper.state.get() == Helper.ENDED) {
            Helper started = new Helper(current);
            Thread thread = new Thread(started, name + "-" + (index + 1));
            thread.setDaemon(true);
            started.thread = thread;
            try {
                thread.start();
                helpers[index] = started;
            } catch (OutOfMemoryError e) {
                // No thread to be had: the loop runs without this helper, and the next one tries again.
            }
        }
    }

    /** One parallelFor call: its iterations, claimed one at a time by whichever thread is free. */
    private static final class Loop {
        final int count;
        /** Cleared when the loop is over, so that an idle helper holds on to none of its data. */
        IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int count, IntConsumer body) {
            this.count = count;
            this.body = body;
        }

        void drain() {
            for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                if (failure.get() == null) {
                    try {
                        body.accept(i);
                    } catch (Throwable t) {
                        if (!failure.compareAndSet(null, t)) {
                            failure.get().addSuppressed(t);
                        }
                    }
                }
                finished.incrementAndGet();
            }
        }

        /** Waits for iterations still running on helpers; they are short, so the caller polls. */
        void awaitFinished() {
            for (int spins = 1; finished.get() < count; spins++) {
                Thread.onSpinWait();
                if (spins % 1024 == 0) {
                    // Lets a helper run if the threads outnumber the cores.
                    Thread.yield();
                }
            }
        }

        void rethrowFailure() {
            Throwable t = failure.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** A helper thread: joins each new loop, polls briefly for the next one, then sleeps, and ends when idle long. */
    private final class Helper implements Runnable {
        static final int POLLING = 0;
        static final int SLEEPING = 1;
        static final int ENDED = 2;
        final AtomicInteger state = new AtomicInteger(POLLING);
        /** Set before the thread starts, read under the lock. */
        Thread thread;
        private Loop first;

        Helper(Loop first) {
            this.first = first;
        }

        @Override
        public void run() {
            Loop loop = first;
            first = null;
            while (loop != null) {
                loop.drain();
                loop = awaitNext(loop);
            }
        }

        /** The next loop after {@code done}, or null when none came for the keep-alive time. */
        private Loop awaitNext(Loop done) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (System.nanoTime() < spinUntil) {
                for (int i = 0; i < 64; i++) {
                    Loop loop = current;
                    if (loop != done) {
                        return loop;
                    }
                    Thread.onSpinWait();
                }
                Thread.yield();
            }
            long sleepUntil = System.nanoTime() + keepAliveNanos;
            while (true) {
                state.set(SLEEPING);
                // Checked after announcing the sleep, so that a loop published meanwhile either is seen here or
                // finds this helper asleep and wakes it.
                Loop loop = current;
                if (loop != done) {
                    state.set(POLLING);
                    return loop;
                }
                long left = sleepUntil - System.nanoTime();
                if (left <= 0 && state.compareAndSet(SLEEPING, ENDED)) {
                    return null;
                }
                LockSupport.parkNanos(this, Math.max(left, 0));
            }
        }
    }
}
