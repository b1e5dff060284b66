package org.bagnet4j.serve;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the work in the server: at most {@code threads + queue} requests hold a place (the rest get 503 before
 * their bodies are read, so memory stays bounded), and those compute on {@code threads} platform threads of their
 * own, apart from the virtual threads that read and answer requests (so a busy CPU never delays a 503 or a health
 * check).
 */
final class Admission {
    private final Semaphore places;
    private final ThreadPoolExecutor compute;
    private final int retryAfterSeconds;

    Admission(int threads, int queue, int retryAfterSeconds) {
        this.places = new Semaphore(threads + queue);
        this.compute = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofPlatform().name("bagnet4j-compute-", 0).daemon().factory());
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A place for one request, or 503 when every place is taken. */
    Ticket enter() {
        if (!places.tryAcquire()) {
            throw busy("the server is at capacity (all threads busy and the queue full); try again shortly");
        }
        return new Ticket();
    }

    /** Requests admitted but not yet computing. */
    int queued() {
        return compute.getQueue().size();
    }

    /** Requests computing now. */
    int running() {
        return compute.getActiveCount();
    }

    /** Stops the compute threads once the work given to them is done. */
    void shutdown() {
        compute.shutdown();
    }

    /** The compute threads' executor (tests hold its threads to fill the queue). */
    ThreadPoolExecutor executor() {
        return compute;
    }

    private HttpError busy(String message) {
        return new HttpError(503, message, retryAfterSeconds);
    }

    /**
     * One request's place, held by the request until it has answered ({@link #close}) and by its computation
     * until that ends: given back when both are done, so that neither a slow reader of answers nor a computation
     * that outlives its client's patience makes room for more work than the limits allow.
     */
    final class Ticket implements AutoCloseable {
        private final AtomicInteger holders = new AtomicInteger(1);

        /**
         * Runs {@code work} on a compute thread and waits for it until {@code deadlineNanos} (System.nanoTime);
         * past that, 503. Its failure is rethrown as it was thrown.
         */
        <T> T compute(Callable<T> work, long deadlineNanos) {
            holders.incrementAndGet();
            Future<T> result;
            try {
                result = compute.submit(() -> {
                    try {
                        return work.call();
                    } finally {
                        release();
                    }
                });
            } catch (RuntimeException e) {
                release();
                throw busy("the server is shutting down");
            }
            try {
                return result.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | CancellationException e) {
                if (result.cancel(false)) {
                    compute.remove((Runnable) result); // it never started: out of the queue, and its hold with it
                    release();
                }
                throw busy("the request timed out waiting for a compute thread or computing; try again later");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw busy("the server is shutting down");
            } catch (ExecutionException e) {
                switch (e.getCause()) {
                    case RuntimeException r -> throw r;
                    case Error error -> throw error;
                    default -> throw new IllegalStateException(e.getCause());
                }
            }
        }

        private void release() {
            if (holders.decrementAndGet() == 0) {
                places.release();
            }
        }

        /** The request has answered. */
        @Override
        public void close() {
            release();
        }
    }
}
