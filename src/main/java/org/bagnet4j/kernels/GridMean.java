package org.bagnet4j.kernels;

import jdk.incubator.vector.FloatVector;

import org.bagnet4j.tensor.Tensor;

/**
 * The mean feature vector of a grid of cells, summed in one fixed order whatever pieces the grid arrives in: each
 * grid row from left to right in float, then the rows' sums from top to bottom in double. A whole image and the same
 * image in tiles of any size (a tile adds its part of each row; rows are closed band by band) therefore give the
 * same bits, and so the same class scores.
 */
public final class GridMean {
    private final int channels;
    /** The running sums of the open rows, [band row][channel]. */
    private final float[] rowSums;
    private final double[] total;
    private long cells;

    /** @param bandRows how many rows may be open at once (a tile's height in cells) */
    public GridMean(int channels, int bandRows) {
        this.channels = channels;
        this.rowSums = new float[Math.multiplyExact(channels, bandRows)];
        this.total = new double[channels];
    }

    /**
     * Adds {@code count} cells to open row {@code row}, left to right: cell i's features are
     * {@code data[at + i * channels ...]}.
     */
    public void add(float[] data, int at, int count, int row) {
        int sums = row * channels;
        int vectorEnd = ConvKernel.SPECIES.loopBound(channels);
        int ch = 0;
        for (; ch < vectorEnd; ch += ConvKernel.LANES) {
            FloatVector sum = FloatVector.fromArray(ConvKernel.SPECIES, rowSums, sums + ch);
            for (int i = 0, p = at + ch; i < count; i++, p += channels) {
                sum = sum.add(FloatVector.fromArray(ConvKernel.SPECIES, data, p));
            }
            sum.intoArray(rowSums, sums + ch);
        }
        for (; ch < channels; ch++) {
            float sum = rowSums[sums + ch];
            for (int i = 0, p = at + ch; i < count; i++, p += channels) {
                sum += data[p];
            }
            rowSums[sums + ch] = sum;
        }
        cells += count;
    }

    /** Adds open rows [0, rows) to the total, top to bottom, and empties them for the next band. */
    public void closeRows(int rows) {
        for (int r = 0; r < rows; r++) {
            for (int ch = 0; ch < channels; ch++) {
                total[ch] += rowSums[r * channels + ch];
                rowSums[r * channels + ch] = 0f;
            }
        }
    }

    /** The mean over every cell added (rows closed), per channel. */
    public float[] mean() {
        float[] mean = new float[channels];
        for (int ch = 0; ch < channels; ch++) {
            mean[ch] = (float) (total[ch] / cells);
        }
        return mean;
    }

    /** The mean feature vector of each image of a batch, [batch * channels], in this class's order. */
    public static float[] ofEach(Tensor features) {
        int c = features.channels();
        float[] pooled = new float[features.batch() * c];
        for (int n = 0; n < features.batch(); n++) {
            GridMean mean = new GridMean(c, 1);
            for (int y = 0; y < features.height(); y++) {
                mean.add(features.data(), ((n * features.height() + y) * features.width()) * c, features.width(), 0);
                mean.closeRows(1);
            }
            System.arraycopy(mean.mean(), 0, pooled, n * c, c);
        }
        return pooled;
    }
}
