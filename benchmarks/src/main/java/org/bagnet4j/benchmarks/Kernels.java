package org.bagnet4j.benchmarks;

import java.util.Random;

import org.bagnet4j.kernels.ConvKernel;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * One convolution at a shape bagnet33 runs at 224x224, with bias and ReLU (and the residual add where the network
 * has one), into a preallocated output: the 1x1 layers are GEMMs with M = output pixels, K = input channels, N =
 * output channels. GFLOP/s = 2 x {@link #macs} / time (see {@link Report}).
 */
public class Kernels extends MillisecondBenchmark {
    /** "input size, input channels, output channels, kernel, stride, residual (1: added)". */
    @Param({
        "110 256 64 1 1 0", "110 64 256 1 1 1", "54 512 128 1 1 0", "54 128 512 1 1 1",
        "26 1024 256 1 1 0", "26 256 1024 1 1 1", "24 2048 512 1 1 0", "24 512 2048 1 1 1",
        "110 256 512 1 2 0", "110 128 128 3 2 0", "26 512 512 3 1 0", "224 3 64 3 1 0"})
    public String layer;

    @Param({"1", "2"})
    public int threads;

    PackedConv conv;
    Tensor input;
    Tensor output;
    Tensor residual;
    Workers workers;

    @Setup
    public void setup() {
        int[] p = parse(layer);
        Random random = new Random(5);
        conv = randomConv(p[2], p[1], p[3], p[4], random);
        input = randomTensor(p[0], p[0], p[1], random);
        int[] s = ConvKernel.outputShape(conv, input);
        output = Tensor.zeros(s[0], s[1], s[2], s[3]);
        residual = p[5] == 1 ? randomTensor(s[1], s[2], s[3], random) : null;
        workers = new Workers(threads);
    }

    @Benchmark
    public Tensor convolution() {
        ConvKernel.run(conv, input, output, residual, true, workers);
        return output;
    }

    static int[] parse(String layer) {
        String[] f = layer.trim().split(" +");
        int[] p = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            p[i] = Integer.parseInt(f[i]);
        }
        return p;
    }

    /** Multiply-accumulates of one call. */
    static long macs(String layer) {
        int[] p = parse(layer);
        int out = (p[0] - p[3]) / p[4] + 1;
        return (long) out * out * p[3] * p[3] * p[1] * p[2];
    }

    /** A short description for tables, e.g. "1x1 s1 M=12100 K=256 N=64". */
    static String describe(String layer) {
        int[] p = parse(layer);
        int out = (p[0] - p[3]) / p[4] + 1;
        return String.format("%dx%d s%d M=%d K=%d N=%d%s", p[3], p[3], p[4], out * out, p[3] * p[3] * p[1], p[2],
                p[5] == 1 ? " +residual" : "");
    }

    static PackedConv randomConv(int out, int in, int kernel, int stride, Random random) {
        return PackedConv.pack(randomWeights(out, in, kernel, random), randomWeights(out, 1, 1, random), out, in,
                kernel, stride);
    }

    /** He-scaled Gaussian weights in PyTorch's layout [out][in][kernel][kernel]. */
    static float[] randomWeights(int out, int in, int kernel, Random random) {
        float[] w = new float[out * in * kernel * kernel];
        float scale = (float) Math.sqrt(2.0 / (in * kernel * kernel));
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian() * scale;
        }
        return w;
    }

    static Tensor randomTensor(int height, int width, int channels, Random random) {
        Tensor t = Tensor.zeros(1, height, width, channels);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) random.nextGaussian();
        }
        return t;
    }
}
