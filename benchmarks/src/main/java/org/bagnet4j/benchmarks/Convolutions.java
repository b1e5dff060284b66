package org.bagnet4j.benchmarks;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole forward passes (class scores) of each preset at 224x224, with seeded random weights: the figure to set
 * beside PyTorch and ONNX Runtime. GFLOP/s = 2 x {@link BagNet#macs} x batch / time (see {@link Report}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms6g", "-Xmx6g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class Convolutions {
    @Param({"bagnet9", "bagnet17", "bagnet33"})
    public String preset;

    @Param({"1", "8"})
    public int batch;

    BagNet model;
    Tensor images;

    @Setup
    public void setup() {
        model = BagNet.withRandomWeights(BagNetConfig.preset(preset), 1, Runtime.getRuntime().availableProcessors());
        images = Tensor.zeros(batch, 224, 224, 3);
        Random random = new Random(2);
        for (int i = 0; i < images.size(); i++) {
            images.data()[i] = (float) random.nextGaussian();
        }
    }

    @Benchmark
    public float[][] classScores() {
        return model.classScores(images);
    }
}
