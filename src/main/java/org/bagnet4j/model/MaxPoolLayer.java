package org.bagnet4j.model;

import org.bagnet4j.kernels.Pooling;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/** Max pooling over k x k windows, padding read as -infinity. */
record MaxPoolLayer(int kernel, int stride, int padding, int channels) implements Layer {
    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        return Pooling.max(x, kernel, stride, padding, workers, workspace);
    }

    @Override
    public int outputSize(int inputSize) {
        return Pooling.outputSize(inputSize, kernel, stride, padding);
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        Plane out = new Plane(outputSize(input.height()), outputSize(input.width()), channels);
        buffers.take(out.buffer());
        return out;
    }

    @Override
    public long macs(int height, int width) {
        return 0;
    }
}
