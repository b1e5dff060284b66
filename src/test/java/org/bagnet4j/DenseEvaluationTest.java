package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.Compare.assertClose;

import java.util.Random;

import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Dense evaluation equals running the network on every window by itself. */
@RequiresReference
class DenseEvaluationTest {
    /**
     * Dense passes use direct convolutions only, as a window alone does in bagnet9 and bagnet17: the same bits. A
     * bagnet33 window alone runs its stage-4 3x3 through Winograd, which moves the values by rounding only.
     */
    @ParameterizedTest
    @CsvSource({"bagnet9, 48, true", "bagnet17, 48, true", "bagnet33, 64, false"})
    void everyWindowGetsWhatItGetsAlone(String preset, int size, boolean sameBits) {
        BagNet model = BagNet.load(ReferenceFixtures.model(preset));
        int q = model.receptiveField();
        Random rnd = new Random(size);
        Tensor image = Tensor.zeros(1, size, size, 3);
        for (int i = 0; i < image.size(); i++) {
            image.data()[i] = (float) rnd.nextGaussian();
        }
        int[] classes = {0, 281, 999};
        Tensor dense = model.denseLogits(image, classes);
        int out = size - q + 1;
        float[] perWindow = new float[out * out * classes.length];
        int batch = 256;
        for (int start = 0; start < out * out; start += batch) {
            int count = Math.min(batch, out * out - start);
            Tensor windows = Tensor.zeros(count, q, q, 3);
            for (int w = 0; w < count; w++) {
                int y0 = (start + w) / out;
                int x0 = (start + w) % out;
                for (int y = 0; y < q; y++) {
                    System.arraycopy(image.data(), ((y0 + y) * size + x0) * 3, windows.data(), (w * q + y) * q * 3,
                            q * 3);
                }
            }
            Tensor logits = model.patchLogits(windows, classes);
            System.arraycopy(logits.data(), 0, perWindow, start * classes.length, count * classes.length);
        }
        String what = preset + " dense vs per-window at " + size + "x" + size;
        if (sameBits) {
            assertThat(dense.data()).as(what).containsExactly(perWindow);
        } else {
            System.out.printf("%s: max |diff| / max |ref| = %.2g%n", what, Compare.relativeError(dense.data(),
                    perWindow));
            assertClose(what, dense.data(), perWindow, 1e-4);
        }
    }

    /**
     * The arithmetic of a 224x224 full-resolution map (dense pass over the 224 + q - 1 padded input, one class), as
     * counted layer by layer outside bagnet4j: every layer at every position its valid output has, the stem
     * composed, the classifier for one class.
     */
    @ParameterizedTest
    @CsvSource({"bagnet9, 232, 680386892544", "bagnet17, 240, 710716214016", "bagnet33, 256, 860414302976"})
    void denseMacsCountEveryLayerAtEveryWindow(String preset, int padded, long macs) {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset(preset), 1, 1);
        assertThat(model.denseMacs(padded, padded, 1)).isEqualTo(macs);
    }
}
