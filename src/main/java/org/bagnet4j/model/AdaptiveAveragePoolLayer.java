package org.bagnet4j.model;

import org.bagnet4j.kernels.Pooling;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/** Adaptive average pooling to side x side; the identity (no copy) when the input already has that size. */
record AdaptiveAveragePoolLayer(int side, int channels) implements Layer {
    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        if (x.height() == side && x.width() == side) {
            return x;
        }
        return Pooling.adaptiveAverage(x, side, workers, workspace);
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize < 1 ? 0 : side;
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        if (input.height() == side && input.width() == side) {
            return input;
        }
        Plane out = new Plane(side, side, channels);
        buffers.take(out.buffer());
        return out;
    }

    @Override
    public long macs(int height, int width) {
        return 0;
    }
}
