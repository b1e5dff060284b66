package org.bagnet4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bagnet4j.Compare.assertClose;

import java.util.Random;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PoolingTest {
    /** The stems' 3x3 s2 p1 max pool, VGG's 2x2 s2 and adaptive 7x7, DenseNet's 2x2 s2 average, on odd shapes. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void poolsMatchScalarTwins(int threads) {
        Random rnd = new Random(17 + threads);
        Workers workers = new Workers(threads);
        Workspace workspace = new Workspace();
        int[] channelChoices = {1, 3, 15, 16, 17, 64, 129};
        for (int trial = 0; trial < 40; trial++) {
            int c = channelChoices[rnd.nextInt(channelChoices.length)];
            Tensor in = ConvKernelTest.random(rnd, 1 + rnd.nextInt(2), 2 + rnd.nextInt(13), 2 + rnd.nextInt(13), c);
            Tensor max3 = Pooling.max(in, 3, 2, 1, workers, workspace);
            Tensor expected = ScalarKernels.maxPool(in, 3, 2, 1);
            assertThat(max3.shape()).containsExactly(expected.shape());
            assertThat(max3.data()).as("max 3x3 s2 p1 of " + in).containsExactly(expected.data());
            Tensor max2 = Pooling.max(in, 2, 2, 0, workers, workspace);
            assertThat(max2.data()).as("max 2x2 s2 of " + in).containsExactly(ScalarKernels.maxPool(in, 2, 2, 0).data());
            Tensor average = Pooling.average(in, 2, 2, workers, workspace);
            assertClose("average 2x2 s2 of " + in, average.data(), ScalarKernels.averagePool(in, 2, 2).data(), 1e-6);
            // VGG's pool to 7x7: windows that shrink, overlap or repeat (inputs smaller than 7).
            Tensor adaptive = Pooling.adaptiveAverage(in, 7, workers, workspace);
            assertClose("adaptive 7x7 of " + in, adaptive.data(), ScalarKernels.adaptiveAveragePool(in, 7).data(),
                    1e-6);
        }
        for (int trial = 0; trial < 10; trial++) {
            int c = channelChoices[rnd.nextInt(channelChoices.length)];
            Tensor in = ConvKernelTest.random(rnd, 1, 2 + rnd.nextInt(9), 2 + rnd.nextInt(9), c);
            // DenseNet's transition: batchnorm and ReLU, then the 2x2 average.
            float[] scale = ConvKernelTest.randomArray(rnd, c);
            float[] shift = ConvKernelTest.randomArray(rnd, c);
            Tensor activated = Tensor.zeros(1, in.height(), in.width(), c);
            for (int i = 0; i < in.size(); i++) {
                activated.data()[i] = Math.max(0f, Math.fma(in.data()[i], scale[i % c], shift[i % c]));
            }
            assertClose("pre-activated average of " + in, Pooling.average(in, 2, 2, new PreActivation(scale, shift),
                    workers, workspace).data(), ScalarKernels.averagePool(activated, 2, 2).data(), 1e-6);
            // DenseNet's stem pool, into the front channels of a wider block buffer.
            Tensor expected = ScalarKernels.maxPool(in, 3, 2, 1);
            int total = c + 5;
            Tensor block = Tensor.zeros(1, expected.height(), expected.width(), total);
            java.util.Arrays.fill(block.data(), 7f);
            Pooling.max(in, 3, 2, 1, block, 2, workers);
            for (int p = 0; p < expected.height() * expected.width(); p++) {
                for (int ch = 0; ch < total; ch++) {
                    float want = ch >= 2 && ch < 2 + c ? expected.data()[p * c + ch - 2] : 7f;
                    assertThat(block.data()[p * total + ch]).as("max pool into a slice, " + in).isEqualTo(want);
                }
            }
        }
        assertThatThrownBy(() -> Pooling.max(Tensor.zeros(1, 1, 1, 4), 3, 2, 0, workers, workspace))
                .isInstanceOf(BagNetException.class).hasMessageContaining("smaller than the 3x3 pooling window");
        assertThatThrownBy(() -> Pooling.max(Tensor.zeros(1, 5, 5, 4), 3, 2, 2, workers, workspace))
                .isInstanceOf(BagNetException.class).hasMessageContaining("bad pooling geometry");
    }
}
