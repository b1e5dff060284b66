package org.bagnet4j.benchmarks;

import java.util.Random;

import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * bagnet33's stage-4 3x3 convolution (26x26 -> 24x24, 512 -> 512 channels, stride 1) by Winograd F(4x4, 3x3), to set
 * beside the direct one in {@link Kernels} ("26 512 512 3 1 0"). GFLOP/s count the direct convolution's work.
 */
public class WinogradKernel extends MillisecondBenchmark {
    static final String LAYER = "26 512 512 3 1 0";

    @Param({"1", "2"})
    public int threads;

    Winograd conv;
    Tensor input;
    Workers workers;
    Workspace workspace;

    @Setup
    public void setup() {
        Random random = new Random(5);
        conv = Winograd.of(Kernels.randomWeights(512, 512, 3, random), Kernels.randomWeights(512, 1, 1, random), 512,
                512);
        input = Kernels.randomTensor(26, 26, 512, random);
        workers = new Workers(threads);
        workspace = new Workspace();
    }

    @Benchmark
    public float convolution() {
        Tensor out = conv.apply(input, workers, workspace);
        workspace.give(out);
        return out.data()[0];
    }
}
