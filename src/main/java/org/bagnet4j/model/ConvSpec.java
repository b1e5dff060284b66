package org.bagnet4j.model;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.PreActivation;

/**
 * A convolution (or a fully connected layer, a 1x1 convolution of a single pixel) as a PyTorch state_dict holds it:
 * {@code name.weight} [out, in, k, k] (or [out, in]), a bias {@code name.bias} and/or the batchnorm that follows it,
 * {@code norm.weight|bias|running_mean|running_var}, folded in at load. The one place a layer's parameter names and
 * shapes are written.
 *
 * @param norm the batchnorm's prefix, or null for none
 * @param bias whether the layer has its own bias
 * @param linear a fully connected layer (2-D weight); kernel 1, stride 1, no padding
 */
public record ConvSpec(String name, String norm, boolean bias, boolean linear, int in, int out, int kernel, int stride,
        int padding) {
    /** A convolution without bias followed by a batchnorm (ResNet, DenseNet). */
    public static ConvSpec normed(String name, String norm, int in, int out, int kernel, int stride, int padding) {
        return new ConvSpec(name, norm, false, false, in, out, kernel, stride, padding);
    }

    /** A convolution alone: no bias, no batchnorm (DenseNet's conv2 and transitions). */
    public static ConvSpec plain(String name, int in, int out, int kernel, int padding) {
        return new ConvSpec(name, null, false, false, in, out, kernel, 1, padding);
    }

    /** A fully connected layer with bias. */
    public static ConvSpec linear(String name, int in, int out) {
        return new ConvSpec(name, null, true, true, in, out, 1, 1, 0);
    }

    /** Adds this layer's parameter names and shapes, in state_dict order. */
    public void addShapes(Map<String, int[]> shapes) {
        shapes.put(name + ".weight", linear ? new int[] {out, in} : new int[] {out, in, kernel, kernel});
        if (bias) {
            shapes.put(name + ".bias", new int[] {out});
        }
        if (norm != null) {
            addNormShapes(shapes, norm, out);
        }
    }

    /** Adds a batchnorm's four tensors, [channels] each. */
    public static void addNormShapes(Map<String, int[]> shapes, String norm, int channels) {
        for (String part : List.of("weight", "bias", "running_mean", "running_var")) {
            shapes.put(norm + "." + part, new int[] {channels});
        }
    }

    /** A batchnorm with the ReLU after it, applied where the next layer reads (it cannot be folded). */
    static PreActivation preActivation(Function<String, float[]> parameters, String norm) {
        return BatchNorm.preActivation(norm, parameters.apply(norm + ".weight"), parameters.apply(norm + ".bias"),
                parameters.apply(norm + ".running_mean"), parameters.apply(norm + ".running_var"));
    }

    /** Weights [out][in][k][k] and bias with the batchnorm folded in. */
    BatchNorm.Folded fold(Function<String, float[]> parameters) {
        float[] weight = parameters.apply(name + ".weight");
        float[] ownBias = bias ? parameters.apply(name + ".bias") : null;
        if (norm == null) {
            return new BatchNorm.Folded(weight, ownBias == null ? new float[out] : ownBias);
        }
        return BatchNorm.fold(norm, weight, ownBias, out, parameters.apply(norm + ".weight"),
                parameters.apply(norm + ".bias"), parameters.apply(norm + ".running_mean"),
                parameters.apply(norm + ".running_var"));
    }

    /** The layer packed for {@link org.bagnet4j.kernels.ConvKernel}. */
    public PackedConv pack(Function<String, float[]> parameters) {
        BatchNorm.Folded f = fold(parameters);
        return PackedConv.pack(f.weight(), f.bias(), out, in, kernel, stride, padding);
    }

    /**
     * A fully connected layer over a k x k x channels map flattened channel-major (PyTorch's NCHW flatten), as the
     * valid k x k convolution it is on that map: its [out][channels * k * k] weights are already [out][channels][k][k].
     */
    public PackedConv packAsConvolution(Function<String, float[]> parameters, int channels, int side) {
        if (!linear || (long) channels * side * side != in) {
            throw new IllegalArgumentException(name + " is not a fully connected layer over " + channels + "x" + side
                    + "x" + side);
        }
        BatchNorm.Folded f = fold(parameters);
        return PackedConv.pack(f.weight(), f.bias(), out, channels, side, 1);
    }
}
