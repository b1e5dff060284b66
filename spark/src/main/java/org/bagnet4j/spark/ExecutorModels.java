package org.bagnet4j.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.bagnet4j.Model;

/**
 * The models of one executor JVM: each loaded once, on first use, and shared by the tasks that run there at once
 * (a bagnet4j model is thread-safe; each calling thread gets its own buffers).
 */
final class ExecutorModels {
    private static final Map<String, Model> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /** The shipped model, loaded for {@code threads} threads per call. */
    static Model get(ShippedModel shipped, int threads) {
        return LOADED.computeIfAbsent(shipped.digest() + "@" + threads, k -> shipped.load(threads));
    }
}
