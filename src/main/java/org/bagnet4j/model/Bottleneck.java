package org.bagnet4j.model;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;

/**
 * A BagNet bottleneck: 1x1 -> kxk (stage stride, no padding) -> 1x1 x4, batchnorms folded into the convolutions,
 * plus a shortcut (a strided 1x1 downsample on a stage's first block). The valid kxk convolution makes the main
 * path smaller than the shortcut; the shortcut's top-left part is added, fused into the last convolution.
 *
 * @param downsample null when the shortcut is the block's input itself
 */
record Bottleneck(PackedConv reduce, PackedConv spatial, PackedConv expand, PackedConv downsample) {
    Tensor forward(Tensor x, Workers workers) {
        Tensor h = ConvKernel.apply(reduce, x, null, true, workers);
        h = ConvKernel.apply(spatial, h, null, true, workers);
        Tensor shortcut = downsample == null ? x : ConvKernel.apply(downsample, x, null, false, workers);
        return ConvKernel.apply(expand, h, shortcut, true, workers);
    }
}
