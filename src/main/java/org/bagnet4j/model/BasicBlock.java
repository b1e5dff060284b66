package org.bagnet4j.model;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * ResNet's basic block: relu(conv3x3(relu(conv3x3(x))) + shortcut(x)), the stride on the first convolution,
 * batchnorms folded in, the addition and ReLU in the second convolution's epilogue.
 *
 * @param firstWinograd the first convolution by Winograd's method, used on the calls where it
 *     {@link Winograd#pays}, or null (the second ends in the addition, which Winograd's method does not take)
 * @param downsample a strided 1x1 convolution when the shortcut changes shape, else null (the identity)
 */
record BasicBlock(PackedConv first, Winograd firstWinograd, PackedConv second, PackedConv downsample)
        implements Layer {
    /** The output, or {@code x} itself, overwritten, when the shortcut is the identity. */
    @Override
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        Tensor mid = firstUsesWinograd(x.batch(), first.outputSize(x.height()), first.outputSize(x.width()))
                ? firstWinograd.apply(x, workers, workspace)
                : ConvKernel.apply(first, x, null, true, workers, workspace);
        Tensor shortcut = x;
        Tensor out = x;
        if (downsample != null) {
            shortcut = ConvKernel.apply(downsample, x, null, false, workers, workspace);
            out = workspace.take(x.batch(), mid.height(), mid.width(), second.outChannels());
        }
        ConvKernel.run(second, mid, out, shortcut, true, workers);
        workspace.give(mid);
        if (downsample != null) {
            workspace.give(shortcut);
        }
        return out;
    }

    private boolean firstUsesWinograd(int batch, int height, int width) {
        return firstWinograd != null
                && Winograd.pays(batch, height, width, first.inChannels(), first.outChannels());
    }

    @Override
    public int outputSize(int inputSize) {
        return second.outputSize(first.outputSize(inputSize));
    }

    @Override
    public Plane replay(Plane input, BufferCount buffers) {
        int h = first.outputSize(input.height());
        int w = first.outputSize(input.width());
        long mid = firstUsesWinograd(buffers.batch(), h, w) ? buffers.winograd(h, w, first.inChannels(), first.outChannels())
                : buffers.take((long) h * w * first.outChannels());
        if (downsample == null) {
            buffers.give(mid, 1);
            return input;
        }
        long shortcut = buffers.take((long) h * w * downsample.outChannels());
        long out = buffers.take((long) h * w * second.outChannels());
        buffers.give(mid, 1);
        buffers.give(shortcut, 1);
        return new Plane(h, w, out);
    }

    @Override
    public long macs(int height, int width) {
        int h = first.outputSize(height);
        int w = first.outputSize(width);
        long downsampleMacs = downsample == null ? 0 : downsample.macsPerPixel();
        return (long) h * w * (first.macsPerPixel() + second.macsPerPixel() + downsampleMacs);
    }
}
