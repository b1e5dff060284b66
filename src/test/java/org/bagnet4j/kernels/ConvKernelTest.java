package org.bagnet4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bagnet4j.Compare.assertClose;

import java.util.Arrays;
import java.util.Random;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConvKernelTest {
    static Tensor random(Random rnd, int n, int h, int w, int c) {
        Tensor t = Tensor.zeros(n, h, w, c);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) rnd.nextGaussian();
        }
        return t;
    }

    static float[] randomArray(Random rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Random shapes, odd ones included, every kernel/stride/epilogue combination, against the scalar twin. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void matchesScalarTwinOnRandomShapes(int threads) {
        Random rnd = new Random(42 + threads);
        Workers workers = new Workers(threads);
        int[] channelChoices = {1, 3, 7, 16, 17, 33, 64, 65, 100, 129};
        for (int trial = 0; trial < 80; trial++) {
            int kernel = rnd.nextBoolean() ? 1 : 3;
            int stride = 1 + rnd.nextInt(2);
            int dilation = kernel == 3 && rnd.nextBoolean() ? 2 + rnd.nextInt(3) : 1;
            int span = (kernel - 1) * dilation + 1;
            int cin = channelChoices[rnd.nextInt(channelChoices.length)];
            int cout = channelChoices[rnd.nextInt(channelChoices.length)];
            int batch = 1 + rnd.nextInt(2);
            int h = span + rnd.nextInt(12);
            int w = span + rnd.nextInt(12);
            Tensor in = random(rnd, batch, h, w, cin);
            float[] weight = randomArray(rnd, cout * cin * kernel * kernel);
            float[] bias = rnd.nextBoolean() ? randomArray(rnd, cout) : null;
            int oh = (h - span) / stride + 1;
            int ow = (w - span) / stride + 1;
            Tensor residual = rnd.nextBoolean() ? random(rnd, batch, oh + rnd.nextInt(3), ow + rnd.nextInt(3), cout)
                    : null;
            boolean relu = rnd.nextBoolean();
            PackedConv layer = PackedConv.pack(weight, bias, cout, cin, kernel, stride)
                    .withStrideAndDilation(stride, dilation);
            Tensor actual = ConvKernel.apply(layer, in, residual, relu, workers);
            Tensor expected = ScalarKernels.conv(in, weight, bias, cout, kernel, stride, dilation, residual, relu);
            assertClose("trial " + trial + ": k" + kernel + " s" + stride + " d" + dilation + " " + in + " -> " + cout
                    + " residual " + residual + " relu " + relu, actual.data(), expected.data(), 1e-5);
        }
    }

    /**
     * Padded convolutions at every kernel/stride/padding combination the standard CNNs use (7x7 s2 p3 stems, 3x3 p1
     * with stride 1 and 2, 1x1 s2 downsamples), on odd shapes down to inputs smaller than the kernel.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void paddedConvolutionsMatchScalarTwin(int threads) {
        Random rnd = new Random(5 + threads);
        Workers workers = new Workers(threads);
        int[][] geometries = {{7, 2, 3}, {3, 1, 1}, {3, 2, 1}, {1, 2, 0}, {5, 1, 2}};
        int[] channelChoices = {1, 3, 17, 32, 65};
        for (int[] geometry : geometries) {
            for (int trial = 0; trial < 12; trial++) {
                int kernel = geometry[0];
                int stride = geometry[1];
                int padding = geometry[2];
                int cin = channelChoices[rnd.nextInt(channelChoices.length)];
                int cout = channelChoices[rnd.nextInt(channelChoices.length)];
                int batch = 1 + rnd.nextInt(2);
                int h = Math.max(1, kernel - 2 * padding) + rnd.nextInt(14);
                int w = Math.max(1, kernel - 2 * padding) + rnd.nextInt(14);
                Tensor in = random(rnd, batch, h, w, cin);
                float[] weight = randomArray(rnd, cout * cin * kernel * kernel);
                float[] bias = rnd.nextBoolean() ? randomArray(rnd, cout) : null;
                PackedConv layer = PackedConv.pack(weight, bias, cout, cin, kernel, stride, padding);
                int oh = layer.outputSize(h);
                int ow = layer.outputSize(w);
                Tensor residual = rnd.nextBoolean() ? random(rnd, batch, oh, ow, cout) : null;
                boolean relu = rnd.nextBoolean();
                Tensor actual = ConvKernel.apply(layer, in, residual, relu, workers);
                Tensor expected = ScalarKernels.conv(in, weight, bias, cout, kernel, stride, padding, 1, residual,
                        relu);
                assertThat(actual.shape()).containsExactly(expected.shape());
                assertClose("k" + kernel + " s" + stride + " p" + padding + " " + in + " -> " + cout, actual.data(),
                        expected.data(), 1e-5);
            }
        }
        assertThatThrownBy(() -> PackedConv.pack(new float[9], null, 1, 1, 3, 1, 3))
                .isInstanceOf(BagNetException.class).hasMessageContaining("padding 3");
        assertThatThrownBy(() -> PackedConv.pack(new float[9], null, 1, 1, 3, 1, 1).withStrideAndDilation(1, 2))
                .isInstanceOf(BagNetException.class).hasMessageContaining("cannot be dilated");
    }

    /**
     * DenseNet's layers: a 1x1 reading the front channels of a wider block buffer through a pre-activation, and a
     * padded 3x3 writing into a channel slice of another; channels outside the slice stay as they were.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void channelSlicesMatchScalarTwin(int threads) {
        Random rnd = new Random(31 + threads);
        Workers workers = new Workers(threads);
        for (int trial = 0; trial < 20; trial++) {
            int batch = 1 + rnd.nextInt(2);
            int h = 1 + rnd.nextInt(9);
            int w = 1 + rnd.nextInt(9);
            int total = 5 + rnd.nextInt(60);
            int cin = 1 + rnd.nextInt(total);
            int cout = 1 + rnd.nextInt(40);
            Tensor block = random(rnd, batch, h, w, total);
            float[] scale = randomArray(rnd, cin);
            float[] shift = randomArray(rnd, cin);
            PreActivation pre = new PreActivation(scale, shift);
            Tensor activated = Tensor.zeros(batch, h, w, cin);
            for (int p = 0; p < batch * h * w; p++) {
                for (int c = 0; c < cin; c++) {
                    activated.data()[p * cin + c] = Math.max(0f, Math.fma(block.data()[p * total + c], scale[c],
                            shift[c]));
                }
            }
            float[] weight = randomArray(rnd, cout * cin);
            float[] bias = randomArray(rnd, cout);
            int outTotal = cout + rnd.nextInt(20);
            int offset = rnd.nextInt(outTotal - cout + 1);
            Tensor out = random(rnd, batch, h, w, outTotal);
            Tensor before = Tensor.wrap(out.data().clone(), batch, h, w, outTotal);
            ConvKernel.runSlices(PackedConv.pack(weight, bias, cout, cin, 1, 1), block, pre, out, offset, true, workers);
            assertSlice("1x1 pre-activated " + block + " [0," + cin + ") -> " + out + " [" + offset + ")", out, before,
                    offset, ScalarKernels.conv(activated, weight, bias, cout, 1, 1, null, true));

            float[] weight3 = randomArray(rnd, cout * cin * 9);
            Tensor out3 = random(rnd, batch, h, w, outTotal);
            Tensor before3 = Tensor.wrap(out3.data().clone(), batch, h, w, outTotal);
            ConvKernel.runSlices(PackedConv.pack(weight3, null, cout, cin, 3, 1, 1), activated, null, out3, offset,
                    false, workers);
            assertSlice("3x3 p1 " + activated + " -> " + out3 + " [" + offset + ")", out3, before3, offset,
                    ScalarKernels.conv(activated, weight3, null, cout, 3, 1, 1, 1, null, false));
        }
        Tensor block = Tensor.zeros(1, 4, 4, 8);
        assertThatThrownBy(() -> ConvKernel.runSlices(PackedConv.pack(new float[4 * 4 * 9], null, 4, 4, 3, 1, 1), block,
                null, Tensor.zeros(1, 4, 4, 4), 0, false, workers)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("reads 4 channels of an input with 8");
        assertThatThrownBy(() -> ConvKernel.runSlices(PackedConv.pack(new float[16], null, 4, 4, 1, 1), block, null,
                Tensor.zeros(1, 4, 4, 6), 3, false, workers)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("slice [3, 7)");
    }

    /** The slice [offset, offset + expected channels) of each pixel equals {@code expected}; the rest is unchanged. */
    private static void assertSlice(String what, Tensor out, Tensor before, int offset, Tensor expected) {
        int total = out.channels();
        int c = expected.channels();
        float[] slice = new float[expected.size()];
        for (int p = 0; p < out.batch() * out.height() * out.width(); p++) {
            System.arraycopy(out.data(), p * total + offset, slice, p * c, c);
            for (int ch = 0; ch < total; ch++) {
                if (ch < offset || ch >= offset + c) {
                    assertThat(out.data()[p * total + ch]).as(what + " outside the slice").isEqualTo(
                            before.data()[p * total + ch]);
                }
            }
        }
        assertClose(what, slice, expected.data(), 1e-5);
    }

    /** The GEMM case (1x1, one pixel per row) at sizes with many row tiles and panels and ragged edges. */
    @Test
    void gemmWithRaggedTilesMatchesScalarTwin() {
        Random rnd = new Random(7);
        int[][] shapes = {{1, 2048, 1000}, {2, 64, 64}, {131, 70, 200}, {577, 256, 65}};
        for (int[] s : shapes) {
            Tensor a = random(rnd, 1, 1, s[0], s[1]);
            float[] b = randomArray(rnd, s[2] * s[1]);
            float[] bias = randomArray(rnd, s[2]);
            Tensor actual = ConvKernel.apply(PackedConv.pack(b, bias, s[2], s[1], 1, 1), a, null, false,
                    new Workers(2));
            Tensor expected = ScalarKernels.conv(a, b, bias, s[2], 1, 1, null, false);
            assertClose("gemm " + s[0] + "x" + s[1] + "x" + s[2], actual.data(), expected.data(), 1e-5);
        }
    }

    /** A band of rows inside larger arrays, the output written over its own residual (an in-place block). */
    @Test
    void rowsOfABandMatchScalarTwinInPlace() {
        Random rnd = new Random(11);
        int channels = 48;
        Tensor x = random(rnd, 1, 1, 300, channels);
        float[] weight = randomArray(rnd, channels * channels);
        float[] bias = randomArray(rnd, channels);
        PackedConv layer = PackedConv.pack(weight, bias, channels, channels, 1, 1);
        int first = 37;
        int rows = 141;
        Tensor band = Tensor.zeros(1, 1, rows, channels);
        System.arraycopy(x.data(), first * channels, band.data(), 0, rows * channels);
        Tensor expected = ScalarKernels.conv(band, weight, bias, channels, 1, 1, band, true);
        float[] separate = new float[5 + rows * channels];
        ConvKernel.runRows(layer, x.data(), first * channels, separate, 5, x.data(), first * channels, rows, true);
        assertClose("band into another array", Arrays.copyOfRange(separate, 5, separate.length), expected.data(),
                1e-5);
        float[] data = x.data().clone();
        float[] input = band.data().clone();
        ConvKernel.runRows(layer, input, 0, data, first * channels, data, first * channels, rows, true);
        float[] actual = new float[rows * channels];
        System.arraycopy(data, first * channels, actual, 0, actual.length);
        assertClose("band in place", actual, expected.data(), 1e-5);
        assertThat(Arrays.copyOf(data, first * channels)).containsExactly(Arrays.copyOf(x.data(), first * channels));
        assertThat(Arrays.copyOfRange(data, (first + rows) * channels, data.length))
                .containsExactly(Arrays.copyOfRange(x.data(), (first + rows) * channels, data.length));
        assertThatThrownBy(() -> ConvKernel.runRows(PackedConv.pack(new float[9], null, 1, 1, 3, 1), input, 0, data,
                0, null, 0, 1, false)).isInstanceOf(BagNetException.class).hasMessageContaining("1x1");
    }

    /** The whole grid at once and the same grid in tiles of 2 x 3 cells give the scalar twin's bits. */
    @Test
    void gridMeanIsTheSameInAnyPieces() {
        Random rnd = new Random(3);
        int height = 5;
        int width = 7;
        for (int c : new int[] {1, 15, 16, 17, 2048}) {
            Tensor in = random(rnd, 1, height, width, c);
            float[] expected = ScalarKernels.gridMean(in);
            GridMean whole = new GridMean(c, height);
            for (int y = 0; y < height; y++) {
                whole.add(in.data(), y * width * c, width, y);
            }
            whole.closeRows(height);
            assertThat(whole.mean()).as("whole, c=" + c).containsExactly(expected);
            GridMean tiled = new GridMean(c, 2);
            for (int by = 0; by < height; by += 2) {
                int rows = Math.min(2, height - by);
                for (int bx = 0; bx < width; bx += 3) {
                    for (int y = 0; y < rows; y++) {
                        tiled.add(in.data(), ((by + y) * width + bx) * c, Math.min(3, width - bx), y);
                    }
                }
                tiled.closeRows(rows);
            }
            assertThat(tiled.mean()).as("tiles, c=" + c).containsExactly(expected);
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        PackedConv layer = PackedConv.pack(new float[4 * 3 * 9], null, 4, 3, 3, 1);
        Workers workers = new Workers(1);
        assertThatThrownBy(() -> ConvKernel.apply(layer, Tensor.zeros(1, 5, 5, 2), null, false, workers))
                .isInstanceOf(BagNetException.class).hasMessageContaining("expects 3 input channels");
        assertThatThrownBy(() -> ConvKernel.apply(layer, Tensor.zeros(1, 2, 5, 3), null, false, workers))
                .isInstanceOf(BagNetException.class).hasMessageContaining("smaller than the 3x3 kernel");
        assertThatThrownBy(() -> ConvKernel.apply(layer, Tensor.zeros(1, 5, 5, 3), Tensor.zeros(1, 2, 3, 4), false,
                workers)).isInstanceOf(BagNetException.class).hasMessageContaining("residual");
        assertThatThrownBy(() -> PackedConv.pack(new float[5], null, 4, 3, 3, 1))
                .isInstanceOf(BagNetException.class).hasMessageContaining("expected 4x3x3x3");
        assertThatThrownBy(() -> new Workers(0)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("between 1 and 1024");
    }
}
