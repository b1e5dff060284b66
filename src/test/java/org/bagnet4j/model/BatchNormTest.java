package org.bagnet4j.model;

import static org.bagnet4j.Compare.assertClose;

import java.util.Random;

import org.bagnet4j.kernels.ScalarKernels;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BatchNormTest {
    /** conv then inference batchnorm, computed directly, equals the folded convolution. */
    @Test
    void foldedConvolutionEqualsConvolutionThenBatchNorm() {
        Random rnd = new Random(11);
        int cin = 5, cout = 7, k = 3;
        Tensor in = Tensor.zeros(1, 6, 6, cin);
        for (int i = 0; i < in.size(); i++) {
            in.data()[i] = (float) rnd.nextGaussian();
        }
        float[] w = new float[cout * cin * k * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        float[] gamma = new float[cout], beta = new float[cout], mean = new float[cout], var = new float[cout];
        for (int c = 0; c < cout; c++) {
            gamma[c] = 0.5f + rnd.nextFloat();
            beta[c] = (float) rnd.nextGaussian();
            mean[c] = (float) rnd.nextGaussian();
            var[c] = 0.1f + rnd.nextFloat();
        }
        Tensor conv = ScalarKernels.conv(in, w, null, cout, k, 1, null, false);
        float[] expected = conv.data().clone();
        for (int i = 0; i < expected.length; i++) {
            int c = i % cout;
            expected[i] = (float) ((expected[i] - mean[c]) / Math.sqrt(var[c] + 1e-5) * gamma[c] + beta[c]);
        }
        BatchNorm.Folded f = BatchNorm.fold("bn", w, cout, gamma, beta, mean, var);
        Tensor folded = ScalarKernels.conv(in, f.weight(), f.bias(), cout, k, 1, null, false);
        assertClose("folded batchnorm", folded.data(), expected, 1e-6);
    }
}
