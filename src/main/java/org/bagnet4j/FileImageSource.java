package org.bagnet4j;

import java.awt.Color;
import java.nio.file.Path;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.ImageSource;
import org.bagnet4j.image.RgbImage;

/**
 * An image file decoded region by region, never whole, and prepared as the model's preprocessing says without
 * resizing or cropping: grayscale first for one-channel models, the black border of its padding around the image,
 * normalized.
 */
final class FileImageSource implements ImageSource {
    private final ImageDecoder.Regions regions;
    private final Preprocessing preprocessing;
    private final Color alphaBackground;
    private boolean transparent;

    /** @param alphaBackground the colour transparent pixels are composited over, or null to drop their alpha */
    FileImageSource(Path file, long maxPixels, Preprocessing preprocessing, Color alphaBackground) {
        this.regions = ImageDecoder.openRegions(file, maxPixels);
        this.preprocessing = preprocessing;
        this.alphaBackground = alphaBackground;
    }

    @Override
    public int width() {
        return regions.width() + 2 * preprocessing.pad();
    }

    @Override
    public int height() {
        return regions.height() + 2 * preprocessing.pad();
    }

    @Override
    public int channels() {
        return preprocessing.channels();
    }

    @Override
    public void read(int x, int y, int width, int height, float[] dst) {
        // The part of the window that lies in the image (the rest is the padding), in the image's coordinates.
        int pad = preprocessing.pad();
        int x0 = Math.max(x - pad, 0);
        int y0 = Math.max(y - pad, 0);
        int x1 = Math.min(x + width - pad, regions.width());
        int y1 = Math.min(y + height - pad, regions.height());
        RgbImage window;
        if (x0 >= x1 || y0 >= y1) {
            window = new RgbImage(width, height, new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)]);
        } else {
            RgbImage inside = regions.read(x0, y0, x1 - x0, y1 - y0, alphaBackground);
            transparent |= inside.transparent();
            window = pad == 0 ? inside : Preprocessing.place(inside, width, height, x - pad - x0, y - pad - y0);
        }
        preprocessing.normalize(preprocessing.channels() == 1 ? window.toGray() : window, dst);
    }

    @Override
    public boolean transparent() {
        return transparent;
    }

    @Override
    public void close() {
        regions.close();
    }
}
