package org.bagnet4j;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.PilResize;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/**
 * How an image becomes the network's input, following torchvision's transforms on PIL images:
 * {@code convert("L")} for one-channel models, {@code Resize(resize)} (shorter side to {@code resize}, PIL bilinear
 * with antialiasing), {@code CenterCrop(crop)}, {@code Pad(pad)} (black), {@code ToTensor} (values / 255),
 * {@code Normalize(mean, std)}. A resize, crop or pad of 0 skips that step; the number of mean values is the
 * number of input channels (3: RGB, 1: grayscale).
 */
public record Preprocessing(int resize, int crop, int pad, float[] mean, float[] std) {
    private static final float MIN_STD = 1e-6f;
    /** Largest resize, crop or pad. */
    public static final int MAX_SIZE = 65536;

    public Preprocessing {
        if (resize < 0 || crop < 0 || pad < 0 || resize > MAX_SIZE || crop > MAX_SIZE || pad > MAX_SIZE) {
            throw new BagNetException("resize, crop and pad must be between 0 (off) and " + MAX_SIZE + ", got "
                    + resize + ", " + crop + " and " + pad);
        }
        if (mean.length != std.length || (mean.length != 1 && mean.length != 3)) {
            throw new BagNetException("mean and std need one value per channel (1 or 3), got " + mean.length
                    + " and " + std.length);
        }
        for (float m : mean) {
            if (!Float.isFinite(m)) {
                throw new BagNetException("mean values must be finite, got " + Arrays.toString(mean));
            }
        }
        for (float s : std) {
            // A tiny std makes every input value overflow to infinity.
            if (!(s >= MIN_STD) || !Float.isFinite(s)) {
                throw new BagNetException("std values must be finite and at least " + MIN_STD + ", got "
                        + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Per-channel means (a copy). */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /** Per-channel standard deviations (a copy). */
    @Override
    public float[] std() {
        return std.clone();
    }

    /** The standard ImageNet evaluation: Resize(256), CenterCrop(224), ImageNet mean and std. */
    public static Preprocessing imagenet() {
        return new Preprocessing(256, 224, 0, new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f});
    }

    /** Input channels: 3 (RGB) or 1 (grayscale). */
    public int channels() {
        return mean.length;
    }

    /** The same normalization with another resize and crop (0 = skip). */
    public Preprocessing withSize(int newResize, int newCrop) {
        return new Preprocessing(newResize, newCrop, pad, mean, std);
    }

    /**
     * Resize, crop and pad (after the grayscale conversion of one-channel models): the 8-bit image the network sees;
     * no step may make more than {@link ImageDecoder#DEFAULT_MAX_PIXELS} pixels.
     */
    public RgbImage geometry(RgbImage image) {
        return geometry(image, ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    /**
     * {@link #geometry(RgbImage)}, after checking that no step makes an image of more than {@code maxPixels} pixels
     * (or more than a Java array holds): a 1 x 100000 strip resized to 256 would be 256 x 25,600,000.
     */
    public RgbImage geometry(RgbImage image, long maxPixels) {
        int[] resized = resizedSize(image.width(), image.height());
        if (resize > 0) {
            checkSize("Resize(" + resize + ")", resized[0], resized[1], maxPixels);
        }
        if (crop > 0) {
            checkSize("CenterCrop(" + crop + ")", crop, crop, maxPixels);
        }
        if (pad > 0) {
            long croppedWidth = crop > 0 ? crop : resized[0];
            long croppedHeight = crop > 0 ? crop : resized[1];
            checkSize("Pad(" + pad + ")", croppedWidth + 2L * pad, croppedHeight + 2L * pad, maxPixels);
        }
        RgbImage out = channels() == 1 ? image.toGray() : image;
        if (resize > 0) {
            out = PilResize.resize(out, resized[0], resized[1]);
        }
        if (crop > 0) {
            out = centerCrop(out, crop);
        }
        return pad > 0 ? place(out, out.width() + 2 * pad, out.height() + 2 * pad, -pad, -pad) : out;
    }

    /**
     * Width and height after Resize: torchvision makes the shorter side {@code resize} and the longer one
     * int(resize * long / short); a side beyond int's range comes out as Integer.MAX_VALUE (and is refused).
     */
    private int[] resizedSize(int width, int height) {
        if (resize == 0) {
            return new int[] {width, height};
        }
        long longer = Math.min(Integer.MAX_VALUE, (long) resize * Math.max(width, height) / Math.min(width, height));
        return width <= height ? new int[] {resize, (int) longer} : new int[] {(int) longer, resize};
    }

    private static void checkSize(String step, long width, long height, long maxPixels) {
        long pixels = width * height; // both below 2^31: no overflow
        if (pixels > maxPixels || 3 * pixels > Tensor.MAX_ELEMENTS) {
            throw new BagNetException(String.format(Locale.ROOT, "%s makes a %dx%d image (%,d pixels), above the "
                    + "limit of %,d pixels", step, width, height, pixels,
                    Math.min(maxPixels, Tensor.MAX_ELEMENTS / 3)));
        }
    }

    /** Geometry, then ToTensor and Normalize: a [1, h, w, channels] NHWC tensor. */
    public Tensor apply(RgbImage image) {
        return normalize(geometry(image));
    }

    /** Geometry (no step above {@code maxPixels}), then ToTensor and Normalize: a [1, h, w, channels] tensor. */
    public Tensor apply(RgbImage image, long maxPixels) {
        return normalize(geometry(image, maxPixels));
    }

    /** ToTensor and Normalize of an image already through {@link #geometry}: [1, h, w, channels]. */
    public Tensor normalize(RgbImage g) {
        Tensor t = Tensor.zeros(1, g.height(), g.width(), channels());
        normalize(g, t.data());
        return t;
    }

    /** ToTensor and Normalize into {@code dst} as [h][w][channels]. */
    public void normalize(RgbImage g, float[] dst) {
        int c = channels();
        byte[] rgb = g.rgb();
        for (int p = 0; p < g.width() * g.height(); p++) {
            for (int ch = 0; ch < c; ch++) {
                dst[p * c + ch] = ((rgb[p * 3 + ch] & 0xff) / 255f - mean[ch]) / std[ch];
            }
        }
    }

    /** torchvision's CenterCrop: pads with black when the image is smaller, rounds the offset half to even. */
    static RgbImage centerCrop(RgbImage image, int size) {
        int padLeft = size > image.width() ? (size - image.width()) / 2 : 0;
        int padTop = size > image.height() ? (size - image.height()) / 2 : 0;
        int left = (int) Math.rint((Math.max(image.width(), size) - size) / 2.0) - padLeft;
        int top = (int) Math.rint((Math.max(image.height(), size) - size) / 2.0) - padTop;
        return place(image, size, size, left, top);
    }

    /** A width x height window whose top-left corner is at (left, top) of the image; outside is black. */
    static RgbImage place(RgbImage image, int width, int height, int left, int top) {
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
        int x0 = Math.max(0, -left);
        int x1 = Math.min(width, image.width() - left);
        for (int y = 0; y < height; y++) {
            int sy = top + y;
            if (sy >= 0 && sy < image.height() && x1 > x0) {
                System.arraycopy(image.rgb(), (sy * image.width() + left + x0) * 3, out, (y * width + x0) * 3,
                        (x1 - x0) * 3);
            }
        }
        return new RgbImage(width, height, out);
    }

    /** Metadata keys of a model file that say how its input is prepared. */
    private static final String RESIZE = "bagnet4j.resize";
    private static final String CROP = "bagnet4j.crop";
    private static final String PAD = "bagnet4j.pad";
    private static final String MEAN = "bagnet4j.mean";
    private static final String STD = "bagnet4j.std";

    /** This preprocessing as model-file metadata entries. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(RESIZE, Integer.toString(resize));
        m.put(CROP, Integer.toString(crop));
        m.put(PAD, Integer.toString(pad));
        m.put(MEAN, join(mean));
        m.put(STD, join(std));
        return m;
    }

    /** The preprocessing a model file's metadata describes, or null when it describes none. */
    public static Preprocessing fromMetadata(Map<String, String> metadata) {
        if (!metadata.containsKey(MEAN)) {
            return null;
        }
        try {
            return new Preprocessing(Integer.parseInt(metadata.getOrDefault(RESIZE, "0").trim()),
                    Integer.parseInt(metadata.getOrDefault(CROP, "0").trim()),
                    Integer.parseInt(metadata.getOrDefault(PAD, "0").trim()), floats(metadata.get(MEAN)),
                    floats(metadata.getOrDefault(STD, "")));
        } catch (NumberFormatException e) {
            throw new BagNetException("model metadata has an unreadable preprocessing entry (" + e.getMessage() + ")");
        }
    }

    private static float[] floats(String csv) {
        String[] parts = csv.split(",");
        float[] values = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Float.parseFloat(parts[i].trim());
        }
        return values;
    }

    private static String join(float[] values) {
        StringBuilder sb = new StringBuilder();
        for (float v : values) {
            sb.append(sb.isEmpty() ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
