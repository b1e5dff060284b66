package org.bagnet4j.spark;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.spark.SparkFiles;
import org.bagnet4j.BagNet;
import org.bagnet4j.Model;

/**
 * The models of one executor JVM: each loaded once, on first use, and shared by the tasks that run there at once
 * (a bagnet4j model is thread-safe; each calling thread gets its own buffers).
 */
final class ExecutorModels {
    private static final Map<String, Model> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * The model of {@code fileName} (a file given to SparkContext.addFile), or the embedded one when null, loaded
     * for {@code threads} threads per call.
     */
    static Model get(String fileName, int threads) {
        String key = (fileName == null ? "embedded" : fileName) + "@" + threads;
        return LOADED.computeIfAbsent(key, k -> fileName == null ? BagNet.embedded(threads)
                : Model.load(Path.of(SparkFiles.get(fileName)), threads));
    }
}
