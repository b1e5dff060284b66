package org.bagnet4j.model;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A BagNet bottleneck: 1x1 -> kxk (stage stride, no padding) -> 1x1 x4, batchnorms folded into the convolutions,
 * plus a shortcut (a strided 1x1 downsample on a stage's first block). The valid kxk convolution makes the main
 * path smaller than the shortcut; only the shortcut's top-left part is added (and, for a downsample, computed),
 * fused into the last convolution.
 *
 * @param winograd the spatial convolution by Winograd's method where that is faster, else null
 * @param downsample null when the shortcut is the block's input itself
 */
public record Bottleneck(PackedConv reduce, PackedConv spatial, Winograd winograd, PackedConv expand,
        PackedConv downsample) {
    /** The block's output, taken from {@code workspace}; {@code x} is left to the caller. */
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        Tensor reduced = ConvKernel.apply(reduce, x, null, true, workers, workspace);
        Tensor mixed = winograd != null ? winograd.apply(reduced, workers, workspace)
                : ConvKernel.apply(spatial, reduced, null, true, workers, workspace);
        workspace.give(reduced);
        Tensor out = workspace.take(x.batch(), mixed.height(), mixed.width(), expand.outChannels());
        Tensor shortcut = x;
        if (downsample != null) {
            shortcut = workspace.take(x.batch(), mixed.height(), mixed.width(), downsample.outChannels());
            ConvKernel.run(downsample, x, shortcut, null, false, workers);
        }
        ConvKernel.run(expand, mixed, out, shortcut, true, workers);
        workspace.give(mixed);
        if (shortcut != x) {
            workspace.give(shortcut);
        }
        return out;
    }
}
