package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.bagnet4j.Architecture;
import org.bagnet4j.Model;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Test;

/** {@code bench --layers}: every kernel of a pass listed once, in order, with the pass's multiply-accumulates. */
class BenchLayersTest {
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> kernels(String preset, int size) {
        CommandsTest.Result r = CommandsTest.cli("bench", "--preset", preset, "--size", String.valueOf(size),
                "--threads", "2", "--iters", "3", "--warmup", "1", "--layers", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Object> result = (Map<String, Object>) Json.parse(r.out().strip());
        assertThat(((Number) result.get("between_ms")).doubleValue()).isGreaterThanOrEqualTo(0);
        return (List<Map<String, Object>>) result.get("kernels");
    }

    private static long macs(List<Map<String, Object>> kernels) {
        return kernels.stream().mapToLong(k -> ((Number) k.get("macs")).longValue()).sum();
    }

    private static List<String> kinds(List<Map<String, Object>> kernels) {
        return kernels.stream().map(k -> (String) k.get("kind")).toList();
    }

    @Test
    void resnetKernelsAddUpToThePass() {
        List<Map<String, Object>> kernels = kernels("resnet18", 64);
        Model model = Model.withRandomWeights(Architecture.preset("resnet18"), 1, 1);
        assertThat(macs(kernels)).isEqualTo(model.macs(64, 64));
        // Stem, pool, two 3x3 per basic block (8), three downsamples, the classifier.
        assertThat(kernels).hasSize(1 + 1 + 16 + 3 + 1);
        assertThat(kinds(kernels)).startsWith("conv 7x7 stride 2", "max pool 3x3", "conv 3x3", "conv 3x3 + residual")
                .contains("conv 3x3 stride 2", "conv 1x1 stride 2").endsWith("fully connected");
        assertThat(kernels.getFirst().get("shape")).isEqualTo("64x64x3 -> 32x32x64");
    }

    @Test
    void bagNetWinogradAndBandedBlocksCountOnce() {
        List<Map<String, Object>> kernels = kernels("bagnet33", 64);
        Model model = Model.withRandomWeights(Architecture.preset("bagnet33"), 1, 1);
        // A Winograd convolution's 36 GEMMs are part of it, not kernels of their own.
        assertThat(macs(kernels)).isEqualTo(model.macs(64, 64));
        assertThat(kinds(kernels)).contains("conv 3x3 Winograd", "bottleneck of 1x1 convs + residual, in bands",
                "conv 1x1 + residual");
    }

    @Test
    void printsTheTableByKind() {
        CommandsTest.Result r = CommandsTest.cli("bench", "--preset", "vgg11", "--size", "32", "--iters", "2",
                "--warmup", "0", "--layers");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("kernels of one pass", "max pool 2x2", "adaptive average pool", "by kind:",
                "fully connected", "between kernels");
    }
}
