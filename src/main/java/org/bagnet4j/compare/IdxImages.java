package org.bagnet4j.compare;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.bagnet4j.BagNetException;
import org.bagnet4j.image.RgbImage;

/**
 * MNIST-style IDX files (as Fashion-MNIST ships them, gzipped or not): unsigned-byte grayscale images
 * (magic 0x00000803: count, rows, columns, then the pixels) and their labels (0x00000801: count, then one byte each).
 * Sizes are checked before anything is allocated, and data is read only as far as the header says.
 */
public final class IdxImages implements LabelledImages {
    private static final int IMAGES_MAGIC = 0x803;
    private static final int LABELS_MAGIC = 0x801;
    private static final long MAX_PIXELS = 1L << 30;
    private final byte[] pixels;
    private final byte[] labels;
    private final int rows;
    private final int columns;
    private final List<String> classNames;

    private IdxImages(byte[] pixels, byte[] labels, int rows, int columns, List<String> classNames) {
        this.pixels = pixels;
        this.labels = labels;
        this.rows = rows;
        this.columns = columns;
        this.classNames = List.copyOf(classNames);
    }

    /** Reads both files; every label must name one of {@code classNames}. */
    public static IdxImages read(Path images, Path labels, List<String> classNames) {
        int[] imageHeader = new int[3];
        byte[] pixels = readIdx(images, IMAGES_MAGIC, imageHeader);
        int[] labelHeader = new int[1];
        byte[] labelBytes = readIdx(labels, LABELS_MAGIC, labelHeader);
        if (imageHeader[0] != labelHeader[0]) {
            throw new BagNetException(images.getFileName() + " holds " + imageHeader[0] + " images but "
                    + labels.getFileName() + " holds " + labelHeader[0] + " labels");
        }
        for (int i = 0; i < labelBytes.length; i++) {
            if ((labelBytes[i] & 0xff) >= classNames.size()) {
                throw new BagNetException(labels.getFileName() + ": label " + (labelBytes[i] & 0xff) + " of image " + i
                        + " is not a class of the " + classNames.size() + " the models know");
            }
        }
        return new IdxImages(pixels, labelBytes, imageHeader[1], imageHeader[2], classNames);
    }

    /** The data after the header; {@code dims} receives the header's sizes. */
    private static byte[] readIdx(Path file, int magic, int[] dims) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw) : raw;
            ByteBuffer header = ByteBuffer.wrap(in.readNBytes(4 + 4 * dims.length));
            if (header.capacity() < 4 + 4 * dims.length || header.getInt() != magic) {
                throw new BagNetException(file.getFileName() + ": not an IDX file of " + (magic == IMAGES_MAGIC
                        ? "images (magic 0x00000803)" : "labels (magic 0x00000801)"));
            }
            long total = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = header.getInt();
                if (dims[i] <= 0) {
                    throw new BagNetException(file.getFileName() + ": size " + dims[i] + " in its header");
                }
                total *= dims[i];
                if (total > MAX_PIXELS) {
                    throw new BagNetException(file.getFileName() + ": its header declares more than " + MAX_PIXELS
                            + " bytes");
                }
            }
            // Read in steps, so that a header that lies about its size allocates no more than the file holds.
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            byte[] chunk = new byte[1 << 16];
            while (data.size() < total) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, total - data.size()));
                if (n < 0) {
                    throw new BagNetException(file.getFileName() + ": truncated (" + data.size() + " of " + total
                            + " bytes after the header)");
                }
                data.write(chunk, 0, n);
            }
            return data.toByteArray();
        } catch (IOException e) {
            throw new BagNetException(file.getFileName() + ": " + BagNetException.reason(e));
        }
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public String name(int index) {
        return "image " + index;
    }

    @Override
    public int label(int index) {
        return labels[index] & 0xff;
    }

    /** Image i as RGB with three equal channels (a grayscale model's conversion gives back its bytes exactly). */
    @Override
    public RgbImage image(int index) {
        int n = rows * columns;
        byte[] rgb = new byte[3 * n];
        for (int i = 0; i < n; i++) {
            byte v = pixels[index * n + i];
            rgb[3 * i] = v;
            rgb[3 * i + 1] = v;
            rgb[3 * i + 2] = v;
        }
        return new RgbImage(columns, rows, rgb);
    }
}
