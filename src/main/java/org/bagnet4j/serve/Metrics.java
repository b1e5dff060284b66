package org.bagnet4j.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters in Prometheus' text format: requests by endpoint and status, a latency histogram per
 * endpoint, the queue depth and busy threads, images classified or explained, and images per second over the last
 * minute.
 */
final class Metrics {
    /** Histogram bucket bounds in seconds. */
    private static final double[] BOUNDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    /** Images per second are counted over this many one-second slots. */
    private static final int WINDOW_SECONDS = 60;

    private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final LongAdder images = new LongAdder();
    /** Images finished in each second, slot = second % WINDOW, with the second it counts in the other array. */
    private final long[] slotCounts = new long[WINDOW_SECONDS];
    private final long[] slotSeconds = new long[WINDOW_SECONDS];
    private final long startNanos = System.nanoTime();
    private final IntSupplier queued;
    private final IntSupplier running;

    Metrics(IntSupplier queued, IntSupplier running) {
        this.queued = queued;
        this.running = running;
    }

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BOUNDS.length + 1];
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }
    }

    /** One answered request. */
    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
        Histogram h = latency.computeIfAbsent(endpoint, k -> new Histogram());
        int bucket = 0;
        while (bucket < BOUNDS.length && seconds > BOUNDS[bucket]) {
            bucket++;
        }
        h.buckets[bucket].increment();
        h.count.increment();
        h.sum.add(seconds);
    }

    /** One image classified or explained (at most a few hundred a second: a lock costs nothing here). */
    synchronized void image() {
        images.increment();
        long second = (System.nanoTime() - startNanos) / 1_000_000_000L;
        int slot = (int) (second % WINDOW_SECONDS);
        if (slotSeconds[slot] != second) {
            slotSeconds[slot] = second;
            slotCounts[slot] = 0;
        }
        slotCounts[slot]++;
    }

    /** Images per second over the last minute (or since the start, if sooner). */
    synchronized double imagesPerSecond() {
        long now = (System.nanoTime() - startNanos) / 1_000_000_000L;
        long total = 0;
        for (int slot = 0; slot < WINDOW_SECONDS; slot++) {
            if (slotSeconds[slot] > now - WINDOW_SECONDS && slotSeconds[slot] <= now) {
                total += slotCounts[slot];
            }
        }
        return total / (double) Math.min(WINDOW_SECONDS, now + 1);
    }

    /** Everything, in Prometheus' text exposition format. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP bagnet4j_requests_total Requests answered, by endpoint and status.\n");
        sb.append("# TYPE bagnet4j_requests_total counter\n");
        requests.forEach((key, count) -> {
            String[] parts = key.split("\u0000");
            sb.append(String.format(Locale.ROOT, "bagnet4j_requests_total{endpoint=\"%s\",status=\"%s\"} %d\n",
                    parts[0], parts[1], count.sum()));
        });
        sb.append("# HELP bagnet4j_request_seconds Time from a request's arrival to its answer.\n");
        sb.append("# TYPE bagnet4j_request_seconds histogram\n");
        new TreeMap<>(latency).forEach((endpoint, h) -> {
            long cumulative = 0;
            for (int i = 0; i <= BOUNDS.length; i++) {
                cumulative += h.buckets[i].sum();
                String le = i < BOUNDS.length ? String.format(Locale.ROOT, "%s", BOUNDS[i]) : "+Inf";
                sb.append(String.format(Locale.ROOT, "bagnet4j_request_seconds_bucket{endpoint=\"%s\",le=\"%s\"} %d\n",
                        endpoint, le, cumulative));
            }
            sb.append(String.format(Locale.ROOT, "bagnet4j_request_seconds_sum{endpoint=\"%s\"} %.6f\n", endpoint,
                    h.sum.sum()));
            sb.append(String.format(Locale.ROOT, "bagnet4j_request_seconds_count{endpoint=\"%s\"} %d\n", endpoint,
                    h.count.sum()));
        });
        gauge(sb, "bagnet4j_queue_depth", "Requests admitted and waiting for a compute thread.", queued.getAsInt());
        gauge(sb, "bagnet4j_busy_threads", "Compute threads working on a request.", running.getAsInt());
        sb.append("# HELP bagnet4j_images_total Images classified or explained.\n");
        sb.append("# TYPE bagnet4j_images_total counter\n");
        sb.append("bagnet4j_images_total ").append(images.sum()).append('\n');
        sb.append("# HELP bagnet4j_images_per_second Images classified or explained per second, last minute.\n");
        sb.append("# TYPE bagnet4j_images_per_second gauge\n");
        sb.append(String.format(Locale.ROOT, "bagnet4j_images_per_second %.3f\n", imagesPerSecond()));
        return sb.toString();
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" gauge\n");
        sb.append(name).append(' ').append(value).append('\n');
    }
}
