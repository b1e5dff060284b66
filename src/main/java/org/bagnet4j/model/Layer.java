package org.bagnet4j.model;

import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/** One step of a forward pass over NHWC activations whose buffers come from a {@link Workspace}. */
interface Layer {
    /**
     * The layer's output, taken from {@code workspace}, or {@code x} itself when the layer overwrote it; any other
     * {@code x} is left to the caller to give back.
     */
    Tensor forward(Tensor x, Workers workers, Workspace workspace);

    /** Output size along an axis (height and width alike) for an input of that size; 0 when it does not fit. */
    int outputSize(int inputSize);

    /**
     * {@link #forward}'s takes and gives of one image replayed on sizes alone: what the memory estimate counts. The
     * caller gives the input back afterwards, unless the layer worked in place.
     *
     * @return the output's plane, or {@code input} itself when the layer overwrote its input
     */
    Plane replay(Plane input, BufferCount buffers);

    /** Multiply-accumulates of one image with an input of this height and width. */
    long macs(int height, int width);

    /**
     * The height and width of one image's activation between layers, and the size in floats of the buffer that
     * holds it.
     */
    record Plane(int height, int width, long buffer) {
        Plane(int height, int width, int channels) {
            this(height, width, (long) height * width * channels);
        }
    }
}
