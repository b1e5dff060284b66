package org.bagnet4j.compare;

import java.util.Arrays;

import org.bagnet4j.BagNet;
import org.bagnet4j.Model;
import org.bagnet4j.tensor.Tensor;

/**
 * Edited copies of one input ([1, H, W, C], normalized) run through a model in batches: the occluded and shuffled
 * variants the measurements need. Occlusion writes 0, the dataset mean once normalized.
 */
final class Variants {
    /** How many variants go through the model at once: large enough to fill the kernels, small enough to bound memory. */
    private static final int MAX_BATCH = 32;

    /** Writes variant {@code index} into {@code data} at {@code offset}, where a copy of the input already sits. */
    interface Edit {
        void apply(int index, float[] data, int offset);
    }

    /** Squares of one side set to 0 (top-left corners at ys[i], xs[i]): one occluded variant. */
    record Occluders(int side, int[] ys, int[] xs) {
    }

    private Variants() {
    }

    /**
     * Class scores of occluded copies of {@code input}, [variants][classes]. A BagNet recomputes only the cells
     * its occluders change ({@link BagNetCells}); other models run each variant whole.
     */
    static float[][] occluded(Model model, Tensor input, Occluders[] variants) {
        if (model instanceof BagNet bagnet) {
            return BagNetCells.occluded(bagnet, input, variants);
        }
        return wholePasses(model, input, variants);
    }

    /** Each occluded variant through the whole model: what {@link BagNetCells} must agree with. */
    static float[][] wholePasses(Model model, Tensor input, Occluders[] variants) {
        return scores(model, input, variants.length, (i, data, offset) -> {
            Occluders o = variants[i];
            for (int j = 0; j < o.ys().length; j++) {
                occlude(data, offset, input.height(), input.width(), input.channels(), o.ys()[j], o.xs()[j],
                        o.side());
            }
        });
    }

    /** Class scores of {@code count} edited copies of {@code input}, [count][classes]. */
    static float[][] scores(Model model, Tensor input, int count, Edit edit) {
        int size = input.size();
        float[][] scores = new float[count][];
        int batch = Math.min(count, batchSize(model, input.height(), input.width()));
        for (int start = 0; start < count; start += batch) {
            int n = Math.min(batch, count - start);
            float[] data = new float[n * size];
            for (int i = 0; i < n; i++) {
                System.arraycopy(input.data(), 0, data, i * size, size);
                edit.apply(start + i, data, i * size);
            }
            float[][] part = model.classScores(Tensor.wrap(data, n, input.height(), input.width(), input.channels()));
            System.arraycopy(part, 0, scores, start, n);
        }
        return scores;
    }

    /** Images of this size per call: up to 32, and no more than 64 MB of the model's activations. */
    static int batchSize(Model model, int height, int width) {
        long perImage = Math.max(1, model.activationBytes(1, height, width));
        return (int) Math.max(1, Math.min(MAX_BATCH, (64L << 20) / perImage));
    }

    /**
     * Sets the part of a side x side square at (y, x) that lies inside one h x w x c image in {@code data} (at
     * {@code offset}) to 0 in every channel.
     */
    static void occlude(float[] data, int offset, int h, int w, int c, int y, int x, int side) {
        int columnStart = Math.max(0, x);
        int columnEnd = Math.min(w, x + side);
        for (int row = Math.max(0, y); row < Math.min(h, y + side) && columnStart < columnEnd; row++) {
            Arrays.fill(data, offset + (row * w + columnStart) * c, offset + (row * w + columnEnd) * c, 0f);
        }
    }
}
