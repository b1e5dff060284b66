package org.bagnet4j;

import java.util.Arrays;

import org.bagnet4j.image.PilResize;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/**
 * How an RGB image becomes the network's input, following torchvision's evaluation transforms on PIL images:
 * {@code Resize(resize)} (shorter side to {@code resize}, PIL bilinear with antialiasing), {@code CenterCrop(crop)},
 * {@code ToTensor} (values / 255), {@code Normalize(mean, std)}. A resize or crop of 0 skips that step.
 */
public record Preprocessing(int resize, int crop, float[] mean, float[] std) {
    public Preprocessing {
        if (resize < 0 || crop < 0 || resize > 65536 || crop > 65536) {
            throw new BagNetException("resize and crop must be between 0 (off) and 65536, got " + resize + " and " + crop);
        }
        if (mean.length != std.length || mean.length == 0) {
            throw new BagNetException("mean and std need one value per channel");
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new BagNetException("std values must be positive, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The standard ImageNet evaluation: Resize(256), CenterCrop(224), ImageNet mean and std. */
    public static Preprocessing imagenet() {
        return new Preprocessing(256, 224, new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    }

    /** The same normalization with another resize and crop (0 = skip). */
    public Preprocessing withSize(int newResize, int newCrop) {
        return new Preprocessing(newResize, newCrop, mean, std);
    }

    /** Resize and crop only: the 8-bit image the network will see. */
    public RgbImage geometry(RgbImage image) {
        RgbImage out = image;
        if (resize > 0) {
            int w = out.width();
            int h = out.height();
            // torchvision: the shorter side becomes `resize`, the longer one int(resize * long / short).
            int longer = (int) ((long) resize * Math.max(w, h) / Math.min(w, h));
            out = w <= h ? PilResize.resize(out, resize, longer) : PilResize.resize(out, longer, resize);
        }
        return crop > 0 ? centerCrop(out, crop) : out;
    }

    /** Geometry, then ToTensor and Normalize: a [1, h, w, 3] NHWC tensor. */
    public Tensor apply(RgbImage image) {
        if (mean.length != 3) {
            throw new BagNetException("this preprocessing has " + mean.length + " channels; RGB images need 3");
        }
        RgbImage g = geometry(image);
        Tensor t = Tensor.zeros(1, g.height(), g.width(), 3);
        float[] data = t.data();
        byte[] rgb = g.rgb();
        for (int i = 0; i < rgb.length; i++) {
            int c = i % 3;
            data[i] = ((rgb[i] & 0xff) / 255f - mean[c]) / std[c];
        }
        return t;
    }

    /** torchvision's CenterCrop: pads with black when the image is smaller, rounds the offset half to even. */
    static RgbImage centerCrop(RgbImage image, int size) {
        int w = image.width();
        int h = image.height();
        int padLeft = size > w ? (size - w) / 2 : 0;
        int padTop = size > h ? (size - h) / 2 : 0;
        int paddedW = Math.max(w, size);
        int paddedH = Math.max(h, size);
        int left = (int) Math.rint((paddedW - size) / 2.0) - padLeft;
        int top = (int) Math.rint((paddedH - size) / 2.0) - padTop;
        byte[] out = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            int sy = top + y;
            if (sy < 0 || sy >= h) {
                continue;
            }
            for (int x = 0; x < size; x++) {
                int sx = left + x;
                if (sx >= 0 && sx < w) {
                    System.arraycopy(image.rgb(), (sy * w + sx) * 3, out, (y * size + x) * 3, 3);
                }
            }
        }
        return new RgbImage(size, size, out);
    }
}
