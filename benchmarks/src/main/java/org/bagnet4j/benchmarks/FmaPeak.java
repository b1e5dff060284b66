package org.bagnet4j.benchmarks;

import java.util.concurrent.TimeUnit;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's FP32 peak as the Vector API reaches it: independent FMA chains (enough to cover the FMA latency
 * on both pipes), no memory traffic. One operation is one vector FMA: FLOP/s = operations/s x lanes x 2.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FmaPeak {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int STEPS = 1 << 12;
    /** Vector FMAs per call: 12 chains x STEPS steps. */
    static final int FMAS = 12 * STEPS;

    float seed = 1.0001f;

    @Benchmark
    @OperationsPerInvocation(FMAS)
    public float fma() {
        FloatVector m = FloatVector.broadcast(S, seed);
        FloatVector a = FloatVector.broadcast(S, 0.999f);
        FloatVector c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
        for (int i = 0; i < STEPS; i++) {
            c0 = c0.fma(a, m); c1 = c1.fma(a, m); c2 = c2.fma(a, m); c3 = c3.fma(a, m);
            c4 = c4.fma(a, m); c5 = c5.fma(a, m); c6 = c6.fma(a, m); c7 = c7.fma(a, m);
            c8 = c8.fma(a, m); c9 = c9.fma(a, m); c10 = c10.fma(a, m); c11 = c11.fma(a, m);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }
}
