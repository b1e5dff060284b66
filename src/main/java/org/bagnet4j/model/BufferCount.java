package org.bagnet4j.model;

import java.util.HashMap;
import java.util.Map;

import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * Buffers by size, live and most ever live, as {@link Workspace} keeps them: a pass replayed on sizes alone. Sizes
 * are one image's; every buffer of a batch is that many times larger.
 */
final class BufferCount {
    private final Map<Long, int[]> bySize = new HashMap<>();
    private final int batch;
    private boolean tooLarge;

    BufferCount(int batch) {
        this.batch = batch;
    }

    /** The batch replayed (some layers choose their method by it). */
    int batch() {
        return batch;
    }

    long take(long size) {
        int[] count = bySize.computeIfAbsent(size, s -> new int[2]);
        count[1] = Math.max(count[1], ++count[0]);
        tooLarge |= size > Tensor.MAX_ELEMENTS / batch;
        return size;
    }

    void give(long size, int times) {
        bySize.get(size)[0] -= times;
    }

    /**
     * A Winograd convolution's buffers: its 36 input spectra and 36 products around its output, h x w x out (as
     * {@link org.bagnet4j.kernels.Winograd#apply} takes and gives them); returns the output's size.
     */
    long winograd(int height, int width, int inChannels, int outChannels) {
        long tiles = (long) ((height + 3) / 4) * ((width + 3) / 4);
        for (int e = 0; e < 36; e++) {
            take(tiles * inChannels);
            take(tiles * outChannels);
        }
        give(tiles * inChannels, 36);
        long out = take((long) height * width * outChannels);
        give(tiles * outChannels, 36);
        return out;
    }

    /** Bytes kept, or Long.MAX_VALUE when a buffer would not fit a Java array. */
    long keptBytes() {
        if (tooLarge) {
            return Long.MAX_VALUE;
        }
        long floats = 0;
        for (Map.Entry<Long, int[]> e : bySize.entrySet()) {
            floats += e.getKey() * e.getValue()[1];
        }
        return floats > Long.MAX_VALUE / 4 / batch ? Long.MAX_VALUE : 4 * floats * batch;
    }
}
