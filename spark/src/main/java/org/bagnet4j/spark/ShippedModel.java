package org.bagnet4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;

/**
 * The model a job's executors load: the embedded one, or a model file's bytes sent from the driver as a broadcast
 * (each executor fetches them once). Not SparkContext.addFile: Spark 4 runs a session's jobs with the session's own
 * artifacts, and on real executors those do not include files added to the context.
 *
 * @param name the file's name (its extension tells the format), or null for the embedded model
 * @param digest the SHA-256 of the file's bytes: executors keep one loaded copy per content
 * @param bytes the file's bytes, or null for the embedded model
 */
record ShippedModel(String name, String digest, Broadcast<byte[]> bytes) implements Serializable {
    /** The model embedded in bagnet4j, which every executor has on its class path. */
    static ShippedModel embedded() {
        return new ShippedModel(null, "embedded", null);
    }

    /** Reads a model file on the driver and broadcasts its bytes. */
    static ShippedModel of(SparkSession spark, Path file) {
        byte[] content;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) {
                throw new BagNetException(file + ": a model file over 2 GB cannot be shipped to the executors");
            }
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BagNetException("cannot read model " + file + ": " + BagNetException.reason(e));
        }
        String digest;
        try {
            digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        return new ShippedModel(file.getFileName().toString(), digest,
                JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(content));
    }

    /** Loads the model on an executor, for {@code threads} threads per call. */
    Model load(int threads) {
        if (bytes == null) {
            return BagNet.embedded(threads);
        }
        Path file = null;
        try { // the loaders read files: the bytes go through a temporary one, removed once read
            file = Files.createTempFile("bagnet4j-", "-" + name);
            Files.write(file, bytes.value());
            return Model.load(file, threads);
        } catch (IOException e) {
            throw new BagNetException("cannot write model " + name + " to a temporary file: "
                    + BagNetException.reason(e));
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // a leftover temporary file is harmless
                }
            }
        }
    }
}
