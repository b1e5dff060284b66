package org.bagnet4j.spark;

import java.io.Serializable;

/**
 * What {@link BagNetSpark#score} does with each image.
 *
 * @param model a model file (safetensors or PyTorch checkpoint), shipped to the executors with
 *        {@code SparkContext.addFile}; null for the model embedded in bagnet4j
 * @param top classes per image, best first
 * @param idColumn the input column that names each image (binaryFile's {@code path})
 * @param contentColumn the input column with the image file's bytes (binaryFile's {@code content})
 * @param maxPixels largest image, checked from its header before decoding
 */
public record ScoreOptions(String model, int top, String idColumn, String contentColumn, long maxPixels)
        implements Serializable {
    public ScoreOptions {
        if (top < 1) {
            throw new IllegalArgumentException("top must be at least 1, got " + top);
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
        }
    }

    /** Largest image by default: 25 megapixels decode to about 175 MB, in every task at once. */
    public static final long DEFAULT_MAX_PIXELS = 25_000_000L;

    /** The embedded model, top 5, on binaryFile's columns, images of up to 25 megapixels. */
    public static ScoreOptions defaults() {
        return new ScoreOptions(null, 5, "path", "content", DEFAULT_MAX_PIXELS);
    }

    public ScoreOptions withModel(String newModel) {
        return new ScoreOptions(newModel, top, idColumn, contentColumn, maxPixels);
    }

    public ScoreOptions withTop(int newTop) {
        return new ScoreOptions(model, newTop, idColumn, contentColumn, maxPixels);
    }
}
