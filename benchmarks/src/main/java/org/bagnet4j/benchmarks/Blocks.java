package org.bagnet4j.benchmarks;

import java.util.Random;

import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Winograd;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Bottleneck;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Whole bottleneck blocks of bagnet33 at 224x224, with their workspace reused as in the engine: a stage-3 block
 * (26x26, 1024 -> 256 -> 256 -> 1024, identity shortcut) and stage 4's first block (26x26 -> 24x24, 3x3 over 512
 * channels by Winograd's method as in the engine, downsample 1024 -> 2048). GFLOP/s count the direct convolution's
 * multiply-accumulates.
 */
public class Blocks extends MillisecondBenchmark {
    @Param({"stage3", "stage4-first"})
    public String block;

    @Param({"1", "2"})
    public int threads;

    Bottleneck bottleneck;
    int cells;
    Tensor original;
    Tensor input;
    Workers workers;
    Workspace workspace;

    @Setup
    public void setup() {
        Random random = new Random(6);
        boolean first = block.equals("stage4-first");
        int in = 1024;
        int width = first ? 512 : 256;
        int kernel = first ? 3 : 1;
        float[] spatial = Kernels.randomWeights(width, width, kernel, random);
        float[] spatialBias = Kernels.randomWeights(width, 1, 1, random);
        bottleneck = new Bottleneck(Kernels.randomConv(width, in, 1, 1, random),
                PackedConv.pack(spatial, spatialBias, width, width, kernel, 1),
                Winograd.suits(kernel, 1, width, width) ? Winograd.of(spatial, spatialBias, width, width) : null,
                kernel - 1, Kernels.randomConv(4 * width, width, 1, 1, random),
                first ? Kernels.randomConv(4 * width, in, 1, 1, random) : null);
        original = Kernels.randomTensor(26, 26, in, random);
        cells = 26 - (kernel - 1); // the block is the last 3x3 of bagnet33: its output is the grid
        input = Kernels.randomTensor(26, 26, in, random);
        workers = new Workers(threads);
        workspace = new Workspace();
    }

    /** An identity block writes its output over its input: each call starts from the same input again. */
    @Setup(Level.Invocation)
    public void restoreInput() {
        System.arraycopy(original.data(), 0, input.data(), 0, original.size());
    }

    @Benchmark
    public float forward() {
        Tensor out = bottleneck.forward(input, cells, cells, workers, workspace);
        if (out != input) {
            workspace.give(out);
        }
        return out.data()[0];
    }

    /** Multiply-accumulates of one call. */
    static long macs(String block) {
        if (block.equals("stage4-first")) {
            return 26L * 26 * 1024 * 512 + 24L * 24 * (9L * 512 * 512 + 512 * 2048 + 1024 * 2048);
        }
        return 26L * 26 * (2 * 1024 * 256 + 256 * 256);
    }
}
