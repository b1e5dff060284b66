package org.bagnet4j;

import org.bagnet4j.explain.ProgressListener;
import org.bagnet4j.tensor.Tensor;

/**
 * What a streamed pass ({@link BagNet#stream}) should give besides the image's class scores, and how. The pass
 * walks the image in tiles of grid cells and holds nothing of size cells x classes unless asked: the class scores
 * are running sums of features; grids, patches and row callbacks are for the {@link #classes} chosen only.
 * A mutable builder: set what you need, then pass it.
 */
public final class StreamRequest {
    /** Default bound on the input's pixel count. */
    public static final long DEFAULT_MAX_PIXELS = 1_000_000_000L;

    /** Receives finished grid rows, top to bottom. */
    @FunctionalInterface
    public interface RowsListener {
        /**
         * @param firstRow the grid row of {@code logits}' first row
         * @param logits [1, rows, grid width, classes chosen]: the evidence of every cell of those rows
         */
        void rows(int firstRow, Tensor logits);
    }

    int[] classes = new int[0];
    boolean keepGrid;
    int top;
    int bottom;
    RowsListener listener;
    int tileSize;
    long maxPixels = DEFAULT_MAX_PIXELS;
    ProgressListener progress;

    /** The classes whose evidence per cell is wanted (for the grid, patches and row callbacks). */
    public StreamRequest classes(int... chosen) {
        this.classes = chosen.clone();
        return this;
    }

    /** Keep the grid of the chosen classes, [1, gh, gw, classes]. */
    public StreamRequest keepGrid(boolean keep) {
        this.keepGrid = keep;
        return this;
    }

    /** Keep the k patches with the most evidence for each chosen class. */
    public StreamRequest topPatches(int k) {
        this.top = checkK(k);
        return this;
    }

    /** Keep the k patches with the least (most negative) evidence for each chosen class. */
    public StreamRequest bottomPatches(int k) {
        this.bottom = checkK(k);
        return this;
    }

    /** Hand each band of finished grid rows of the chosen classes to {@code rowsListener}. */
    public StreamRequest onRows(RowsListener rowsListener) {
        this.listener = rowsListener;
        return this;
    }

    /**
     * Side of the square input tiles in pixels, at least the receptive field; 0 (the default) picks the largest
     * that keeps the activations within a quarter of the free heap. A network with Winograd layers (bagnet33) takes
     * tiles of whole multiples of 4 grid cells, rounding down but to at least 4, so that every tile gives the whole
     * image's bits.
     */
    public StreamRequest tileSize(int pixels) {
        if (pixels < 0) {
            throw new BagNetException("tile size must not be negative (0: automatic), got " + pixels);
        }
        this.tileSize = pixels;
        return this;
    }

    /** Refuse inputs with more pixels than this (default 1 gigapixel). */
    public StreamRequest maxPixels(long pixels) {
        if (pixels < 1) {
            throw new BagNetException("pixel bound must be positive, got " + pixels);
        }
        this.maxPixels = pixels;
        return this;
    }

    /** Told (grid rows done, grid rows in all) after each band of tiles. */
    public StreamRequest progress(ProgressListener listener) {
        this.progress = listener;
        return this;
    }

    private static int checkK(int k) {
        if (k < 0) {
            throw new BagNetException("number of patches must not be negative, got " + k);
        }
        return k;
    }
}
