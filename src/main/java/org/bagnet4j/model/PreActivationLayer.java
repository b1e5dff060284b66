package org.bagnet4j.model;

import org.bagnet4j.kernels.PreActivation;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/** A batchnorm and ReLU applied in place (DenseNet's norm5, before global average pooling). */
record PreActivationLayer(PreActivation norm) implements Layer {
    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        norm.applyInPlace(x, workers);
        return x;
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        return input;
    }

    @Override
    public long macs(int height, int width) {
        return 0;
    }
}
