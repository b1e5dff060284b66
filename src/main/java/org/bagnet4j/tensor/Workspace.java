package org.bagnet4j.tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Reusable buffers for the intermediate tensors of a forward pass, so that a steady-state pass allocates (and the
 * JVM zeroes, and the OS faults in) nothing: a pass takes a tensor per layer output and gives it back when the
 * next layers are done with it, and the next pass of the same shape finds every buffer waiting. Buffers are kept by
 * exact size; {@link #reset} drops them when the shapes change, so memory stays what one pass needs. Tensors taken
 * from a workspace hold stale values: only for outputs that are overwritten whole. Not thread-safe: one per thread.
 */
public final class Workspace {
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private Object shapeKey;

    /** Forgets every buffer unless {@code key} (e.g. the input's shape) equals the one of the previous call. */
    public void reset(Object key) {
        if (!key.equals(shapeKey)) {
            free.clear();
            shapeKey = key;
        }
    }

    /** A tensor of the given shape, with unspecified contents. */
    public Tensor take(int batch, int height, int width, int channels) {
        int size = Tensor.checkedSize(batch, height, width, channels);
        ArrayDeque<float[]> arrays = free.get(size);
        float[] data = arrays == null || arrays.isEmpty() ? new float[size] : arrays.pop();
        return Tensor.wrap(data, batch, height, width, channels);
    }

    /** Bytes of the buffers waiting for reuse. */
    public long retainedBytes() {
        long floats = 0;
        for (Map.Entry<Integer, ArrayDeque<float[]>> e : free.entrySet()) {
            floats += (long) e.getKey() * e.getValue().size();
        }
        return 4 * floats;
    }

    /** Returns a tensor's buffer for reuse; the tensor must not be used afterwards. */
    public void give(Tensor tensor) {
        free.computeIfAbsent(tensor.size(), s -> new ArrayDeque<>()).push(tensor.data());
    }
}
