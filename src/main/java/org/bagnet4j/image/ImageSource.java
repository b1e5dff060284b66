package org.bagnet4j.image;

import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Tensor;

/**
 * Where a streamed pass reads its input: model-ready (normalized) values of one image, any region at a time, so
 * that an image larger than memory never has to be held whole. Back it with your own reader (a slide scanner's
 * tiles, a memory-mapped raster) or use {@link #of(Tensor)} and {@code BagNet.imageSource(Path, long)}. Reads come in
 * bands of rows from top to bottom, each band read across the image's full width.
 */
public interface ImageSource extends AutoCloseable {
    int width();

    int height();

    int channels();

    /**
     * Writes the values of columns [x, x + width) and rows [y, y + height) into {@code dst} as [height][width][channels]
     * (NHWC of one image). The region lies inside the image.
     */
    void read(int x, int y, int width, int height, float[] dst);

    /**
     * Whether any pixel read so far was not fully opaque (its alpha dropped or composited over a colour), for a
     * source decoded from a file; false by default.
     */
    default boolean transparent() {
        return false;
    }

    /** Releases what the source holds open (a file); nothing by default. */
    @Override
    default void close() {
    }

    /** An image already in memory: one image, [1, H, W, C]. */
    static ImageSource of(Tensor image) {
        if (image.batch() != 1) {
            throw new BagNetException("an image source holds one image, got a batch of " + image.batch());
        }
        return new ImageSource() {
            @Override
            public int width() {
                return image.width();
            }

            @Override
            public int height() {
                return image.height();
            }

            @Override
            public int channels() {
                return image.channels();
            }

            @Override
            public void read(int x, int y, int width, int height, float[] dst) {
                int c = image.channels();
                for (int row = 0; row < height; row++) {
                    System.arraycopy(image.data(), ((y + row) * image.width() + x) * c, dst, row * width * c,
                            width * c);
                }
            }
        };
    }
}
