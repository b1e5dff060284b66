package org.bagnet4j;

import java.nio.file.Path;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.ImageSource;
import org.bagnet4j.image.RgbImage;

/** An image file decoded region by region and normalized (grayscale first for one-channel models), never whole. */
final class FileImageSource implements ImageSource {
    private final ImageDecoder.Regions regions;
    private final Preprocessing preprocessing;

    FileImageSource(Path file, long maxPixels, Preprocessing preprocessing) {
        this.regions = ImageDecoder.openRegions(file, maxPixels);
        this.preprocessing = preprocessing;
    }

    @Override
    public int width() {
        return regions.width();
    }

    @Override
    public int height() {
        return regions.height();
    }

    @Override
    public int channels() {
        return preprocessing.channels();
    }

    @Override
    public void read(int x, int y, int width, int height, float[] dst) {
        RgbImage region = regions.read(x, y, width, height);
        preprocessing.normalize(preprocessing.channels() == 1 ? region.toGray() : region, dst);
    }

    @Override
    public void close() {
        regions.close();
    }
}
