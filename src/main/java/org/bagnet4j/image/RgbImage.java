package org.bagnet4j.image;

import java.awt.Color;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

import org.bagnet4j.BagNetException;

/**
 * An 8-bit RGB image, pixels interleaved row by row: the form PIL's {@code convert("RGB")} gives, which the
 * torchvision pipeline starts from.
 *
 * @param transparent whether the image it was converted from had pixels that were not fully opaque (their alpha
 *     is gone: dropped or composited, see {@link #from(BufferedImage, Color)})
 */
public record RgbImage(int width, int height, byte[] rgb, boolean transparent) {
    public RgbImage {
        if ((long) width * height * 3 != rgb.length) {
            throw new BagNetException("RGB image " + width + "x" + height + " needs " + (long) width * height * 3
                    + " bytes, got " + rgb.length);
        }
    }

    /** An image made opaque. */
    public RgbImage(int width, int height, byte[] rgb) {
        this(width, height, rgb, false);
    }

    /** Red, green or blue (channel 0..2) at (x, y), 0..255. */
    public int get(int x, int y, int channel) {
        return rgb[(y * width + x) * 3 + channel] & 0xff;
    }

    /**
     * Converts any decoded image the way PIL's {@code convert("RGB")} does: palette entries are looked up, gray
     * is copied to all three channels, alpha is dropped (not composited), 16-bit samples keep their high byte and
     * 1/2/4-bit gray is stretched to 0..255, CMYK uses PIL's formula. Raw samples are used, so no colour
     * management is applied (PIL applies none either).
     */
    public static RgbImage from(BufferedImage image) {
        return from(image, null);
    }

    /**
     * {@link #from(BufferedImage)}, but with {@code background} non-null each pixel is composited over it by its
     * alpha a (0..255): c' = (c a + b (255 - a) + 127) / 255, so transparent pixels show the background rather than
     * the colour stored under them.
     */
    public static RgbImage from(BufferedImage image, Color background) {
        int w = image.getWidth();
        int h = image.getHeight();
        Raster raster = image.getRaster();
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] under = background == null ? null
                : new int[] {background.getRed(), background.getGreen(), background.getBlue()};
        boolean transparent = false;
        int bands = raster.getNumBands();
        int[] row = new int[w * bands];
        if (image.getColorModel() instanceof IndexColorModel palette) {
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int i = row[x];
                    int alpha = palette.getAlpha(i);
                    transparent |= alpha < 255;
                    put(rgb, (y * w + x) * 3, palette.getRed(i), palette.getGreen(i), palette.getBlue(i), alpha,
                            under);
                }
            }
            return new RgbImage(w, h, rgb, transparent);
        }
        int bits = raster.getSampleModel().getSampleSize(0);
        if (image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK) {
            return fromCmyk(raster, bits);
        }
        boolean gray = bands < 3;
        int alphaBand = image.getColorModel().hasAlpha() ? bands - 1 : -1;
        int[] bandBits = raster.getSampleModel().getSampleSize(); // packed formats (e.g. 565) differ per band
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int p = x * bands;
                int alpha = alphaBand < 0 ? 255 : to8Bit(row[p + alphaBand], bandBits[alphaBand]);
                transparent |= alpha < 255;
                put(rgb, (y * w + x) * 3, to8Bit(row[p], bandBits[0]), to8Bit(row[p + (gray ? 0 : 1)],
                        bandBits[gray ? 0 : 1]), to8Bit(row[p + (gray ? 0 : 2)], bandBits[gray ? 0 : 2]), alpha, under);
            }
        }
        return new RgbImage(w, h, rgb, transparent);
    }

    /** Stores one pixel, composited over {@code under} by its alpha unless that is null (alpha dropped). */
    static void put(byte[] rgb, int o, int r, int g, int b, int alpha, int[] under) {
        if (under != null && alpha < 255) {
            int rest = 255 - alpha;
            r = (r * alpha + under[0] * rest + 127) / 255;
            g = (g * alpha + under[1] * rest + 127) / 255;
            b = (b * alpha + under[2] * rest + 127) / 255;
        }
        rgb[o] = (byte) r;
        rgb[o + 1] = (byte) g;
        rgb[o + 2] = (byte) b;
    }

    /** CMYK as PIL converts it: with n = 255 - k, each of r, g, b = n - ink * n / 255 (PIL's rounding). */
    private static RgbImage fromCmyk(Raster raster, int bits) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] row = new int[w * 4];
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int nk = 255 - to8Bit(row[x * 4 + 3], bits);
                for (int c = 0; c < 3; c++) {
                    int t = to8Bit(row[x * 4 + c], bits) * nk + 128;
                    rgb[(y * w + x) * 3 + c] = (byte) Math.max(0, nk - (((t >> 8) + t) >> 8));
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static int to8Bit(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        if (bits > 8) {
            return sample >>> (bits - 8);
        }
        return sample * 255 / ((1 << bits) - 1);
    }

    /**
     * Gray as PIL's {@code convert("L")} computes it, L = (19595 R + 38470 G + 7471 B + 32768) >> 16 (ITU-R 601-2
     * luma in 16-bit fixed point), stored in all three channels.
     */
    public RgbImage toGray() {
        byte[] out = new byte[rgb.length];
        for (int i = 0; i < rgb.length; i += 3) {
            int l = ((rgb[i] & 0xff) * 19595 + (rgb[i + 1] & 0xff) * 38470 + (rgb[i + 2] & 0xff) * 7471 + 0x8000) >> 16;
            out[i] = (byte) l;
            out[i + 1] = (byte) l;
            out[i + 2] = (byte) l;
        }
        return new RgbImage(width, height, out);
    }
}
