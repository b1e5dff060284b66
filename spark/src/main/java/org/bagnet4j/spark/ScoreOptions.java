package org.bagnet4j.spark;

import java.io.Serializable;
import java.util.List;

/**
 * What {@link BagNetSpark#score} does with each image.
 *
 * @param model a model file (safetensors or PyTorch checkpoint), shipped to the executors as a
 *        broadcast and loaded once per executor JVM; null for the model embedded in bagnet4j
 * @param top classes per image, best first
 * @param idColumn the input column that names each image (binaryFile's {@code path})
 * @param contentColumn the input column with the image file's bytes (binaryFile's {@code content})
 * @param maxPixels largest image, checked from its header before decoding
 * @param allScores whether each row also gets every class's score ({@code scores}, in class order)
 * @param gridClasses classes (names or indices) whose evidence grid each row gets ({@code grids}): a BagNet's patch
 *        evidence, a ResNet's or DenseNet's class activation map; empty for none
 * @param patches with grids, how many of each grid's strongest cells each row gets ({@code patches}), with their
 *        boxes in the model's input
 */
public record ScoreOptions(String model, int top, String idColumn, String contentColumn, long maxPixels,
        boolean allScores, List<String> gridClasses, int patches) implements Serializable {
    public ScoreOptions {
        gridClasses = List.copyOf(gridClasses);
        if (patches < 0 || patches > 0 && gridClasses.isEmpty()) {
            throw new IllegalArgumentException("patches must be 0, or at least 1 with grid classes; got " + patches);
        }
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
        return new ScoreOptions(null, 5, "path", "content", DEFAULT_MAX_PIXELS, false, List.of(), 0);
    }

    public ScoreOptions withModel(String newModel) {
        return new ScoreOptions(newModel, top, idColumn, contentColumn, maxPixels, allScores, gridClasses, patches);
    }

    public ScoreOptions withTop(int newTop) {
        return new ScoreOptions(model, newTop, idColumn, contentColumn, maxPixels, allScores, gridClasses, patches);
    }

    /** Every class's score, and the grids of these classes with their {@code newPatches} strongest cells. */
    public ScoreOptions withEvidence(boolean newAllScores, List<String> newGridClasses, int newPatches) {
        return new ScoreOptions(model, top, idColumn, contentColumn, maxPixels, newAllScores, newGridClasses,
                newPatches);
    }
}
