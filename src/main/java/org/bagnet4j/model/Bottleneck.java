package org.bagnet4j.model;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * A BagNet bottleneck: 1x1 -> kxk (stage stride, no padding) -> 1x1 x4, batchnorms folded into the convolutions,
 * plus a shortcut (a strided 1x1 downsample on a stage's first block). When k = 1 the first 1x1 takes the stride
 * instead, computing only the pixels the second one reads. The valid kxk convolution makes the main
 * path smaller than the shortcut; only the shortcut's top-left part is added (and, for a downsample, computed),
 * fused into the last convolution.
 *
 * @param winograd the spatial convolution by Winograd's method where that is faster, else null
 * @param downsample null when the shortcut is the block's input itself
 */
public record Bottleneck(PackedConv reduce, PackedConv spatial, Winograd winograd, PackedConv expand,
        PackedConv downsample) {
    /**
     * The block's output, taken from {@code workspace}, or {@code x} itself, overwritten, when the shortcut is the
     * input at its full size (it is read for the last time by the addition that writes the output). Any other
     * {@code x} is left to the caller.
     */
    public Tensor forward(Tensor x, Workers workers, Workspace workspace) {
        Tensor reduced = ConvKernel.apply(reduce, x, null, true, workers, workspace);
        Tensor mixed = winograd != null ? winograd.apply(reduced, workers, workspace)
                : ConvKernel.apply(spatial, reduced, null, true, workers, workspace);
        workspace.give(reduced);
        Tensor out;
        Tensor shortcut = x;
        if (downsample != null) {
            out = workspace.take(x.batch(), mixed.height(), mixed.width(), expand.outChannels());
            shortcut = workspace.take(x.batch(), mixed.height(), mixed.width(), downsample.outChannels());
            ConvKernel.run(downsample, x, shortcut, null, false, workers);
        } else if (outputsInPlace(x.height(), x.width(), mixed.height(), mixed.width())) {
            out = x;
        } else {
            out = workspace.take(x.batch(), mixed.height(), mixed.width(), expand.outChannels());
        }
        ConvKernel.run(expand, mixed, out, shortcut, true, workers);
        workspace.give(mixed);
        if (downsample != null) {
            workspace.give(shortcut);
        }
        return out;
    }

    /** The block's stride: its spatial convolution's, which a 1x1 one hands to the reduce. */
    public int stride() {
        return reduce.stride() * spatial.stride();
    }

    /** Whether the output overwrites the input: an identity shortcut that the spatial convolution did not crop. */
    boolean outputsInPlace(int inHeight, int inWidth, int outHeight, int outWidth) {
        return downsample == null && inHeight == outHeight && inWidth == outWidth;
    }
}
