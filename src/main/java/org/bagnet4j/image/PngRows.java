package org.bagnet4j.image;

import java.awt.Color;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import javax.imageio.stream.ImageInputStream;

import org.bagnet4j.BagNetException;

/**
 * A PNG read band by band in one pass over the file: ImageIO's reader decodes a file from its first row for every
 * region asked for, so reading an image in bands took time growing with the square of its height (111 s for the
 * bands of an 8192x8192 PNG). Here each row is inflated and unfiltered once, and the rows of the last band are kept
 * for the next one, which overlaps it. Only what ImageIO would give as raw samples is taken on: non-interlaced 8-
 * and 16-bit gray, gray with alpha, RGB and RGBA without a tRNS or iCCP chunk; {@link #open} declines anything
 * else.
 * Samples become RGB as {@link RgbImage#from(java.awt.image.BufferedImage, Color)} makes them (the high byte of a
 * 16-bit sample, gray copied, alpha dropped or composited), to the bit.
 */
final class PngRows {
    private static final long SIGNATURE = 0x89504E470D0A1A0AL;
    private static final int IHDR = 0x49484452;
    private static final int IDAT = 0x49444154;
    private static final int PLTE = 0x504C5445;
    private static final int TRNS = 0x74524E53;
    private static final int ICCP = 0x69434350;
    /** Bytes of a row's scanline beyond which a PNG is left to ImageIO (rows are buffered whole). */
    private static final long MAX_ROW_BYTES = 1 << 28;

    private final String file;
    private final ImageInputStream in;
    private final int height;
    /** Samples per pixel and bytes per sample. */
    private final int channels;
    private final int sampleBytes;
    private final int rowBytes;
    /** Where the first chunk after the header starts, to start over from. */
    private final long afterHeader;
    private final ArrayDeque<byte[]> kept = new ArrayDeque<>();
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    private final byte[] buffer = new byte[1 << 16];
    private final byte[] filter = new byte[1];
    private Inflater inflater;
    private byte[] previous;
    /** Bytes left in the IDAT chunk being read; -1 once the image data has ended. */
    private long idatLeft;
    /** The next row to decode, and the first of the rows kept (rows [firstKept, nextRow) are in {@link #kept}). */
    private int nextRow;
    private int firstKept;

    private PngRows(String file, ImageInputStream in, int width, int height, int channels, int sampleBytes,
            long afterHeader) {
        this.file = file;
        this.in = in;
        this.height = height;
        this.channels = channels;
        this.sampleBytes = sampleBytes;
        this.rowBytes = width * channels * sampleBytes;
        this.afterHeader = afterHeader;
    }

    /** A PNG file ready to be read by rows, or null when it is not a PNG this class reads (ImageIO then does). */
    static PngRows open(Path path) throws IOException {
        ImageInputStream in = new ChannelImageInputStream(FileChannel.open(path, StandardOpenOption.READ));
        try {
            PngRows rows = open(path.toString(), in);
            if (rows != null) {
                in = null;
            }
            return rows;
        } finally {
            if (in != null) {
                in.close();
            }
        }
    }

    private static PngRows open(String file, ImageInputStream in) throws IOException {
        if (in.readLong() != SIGNATURE || in.readInt() != 13 || in.readInt() != IHDR) {
            return null;
        }
        long width = in.readUnsignedInt();
        long height = in.readUnsignedInt();
        int depth = in.readUnsignedByte();
        int colorType = in.readUnsignedByte();
        int compression = in.readUnsignedByte();
        int filter = in.readUnsignedByte();
        int interlace = in.readUnsignedByte();
        in.readInt(); // CRC, not checked: ImageIO checks none either
        int channels = switch (colorType) {
            case 0 -> 1;
            case 2 -> 3;
            case 4 -> 2;
            case 6 -> 4;
            default -> 0;
        };
        boolean taken = channels > 0 && (depth == 8 || depth == 16) && compression == 0 && filter == 0
                && interlace == 0 && width > 0 && height > 0 && height <= Integer.MAX_VALUE
                && width * channels * (depth / 8) <= MAX_ROW_BYTES;
        if (!taken) {
            return null;
        }
        PngRows rows = new PngRows(file, in, (int) width, (int) height, channels, depth / 8, in.getStreamPosition());
        return rows.start() ? rows : null;
    }

    /**
     * Goes to the first IDAT chunk and starts inflating it; false when a chunk before it may make ImageIO's samples
     * differ from the raw ones (a palette, a tRNS chunk, which ImageIO may turn into alpha, an ICC profile).
     */
    private boolean start() throws IOException {
        in.seek(afterHeader);
        while (true) {
            long length = chunkLength();
            int type = in.readInt();
            if (type == IDAT) {
                idatLeft = length;
                break;
            }
            if (type == PLTE || type == TRNS || type == ICCP) {
                return false;
            }
            in.seek(in.getStreamPosition() + length + 4);
        }
        if (inflater != null) {
            inflater.end();
        }
        inflater = new Inflater();
        previous = new byte[rowBytes];
        kept.clear();
        nextRow = 0;
        firstKept = 0;
        return true;
    }

    /** A chunk's length, checked against what is left of the file where its length is known. */
    private long chunkLength() throws IOException {
        long length = in.readUnsignedInt();
        long end = in.length();
        if (length > Integer.MAX_VALUE || end >= 0 && in.getStreamPosition() + 8 + length > end) {
            throw corrupt("a chunk of " + length + " bytes runs past the end of the file");
        }
        return length;
    }

    /**
     * Columns [x, x + w) and rows [y, y + h) as RGB, transparent pixels composited over {@code alphaBackground} or
     * their alpha dropped when it is null. Fastest when bands come top to bottom.
     */
    RgbImage read(int x, int y, int w, int h, Color alphaBackground) {
        try {
            if (y < firstKept) {
                start();
            }
            while (firstKept < y && !kept.isEmpty()) {
                spare.push(kept.removeFirst());
                firstKept++;
            }
            while (nextRow < y + h) {
                byte[] row = decodeRow();
                if (nextRow < y) {
                    // Rows above the band are not kept; kept rows always end at nextRow.
                    spare.push(row);
                    firstKept = nextRow + 1;
                } else {
                    kept.addLast(row);
                }
                nextRow++;
            }
        } catch (IOException | DataFormatException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw ImageDecoder.interrupted(file);
            }
            throw corrupt(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
        return band(x, y, w, h, alphaBackground);
    }

    /** Inflates and unfilters the next row, into a spare array or a new one. */
    private byte[] decodeRow() throws IOException, DataFormatException {
        byte[] row = spare.isEmpty() ? new byte[rowBytes] : spare.pop();
        inflate(filter, 1);
        inflate(row, rowBytes);
        unfilter(filter[0], row, previous);
        System.arraycopy(row, 0, previous, 0, rowBytes);
        return row;
    }

    /** Fills {@code dst[0, count)} from the inflated image data. */
    private void inflate(byte[] dst, int count) throws IOException, DataFormatException {
        int done = 0;
        while (done < count) {
            int n = inflater.inflate(dst, done, count - done);
            done += n;
            if (n == 0) {
                int read = inflater.needsInput() ? readIdat() : -1;
                if (read < 0) {
                    // The compressed stream ended (or wants a preset dictionary, which PNG never has).
                    throw new EOFException("the image data ends at row " + nextRow + " of " + height);
                }
                inflater.setInput(buffer, 0, read);
            }
        }
    }

    /** The next bytes of the IDAT chunks into {@link #buffer}: their count, or -1 after the last IDAT chunk. */
    private int readIdat() throws IOException {
        while (idatLeft == 0) {
            in.readInt(); // the finished chunk's CRC
            long length = chunkLength();
            if (in.readInt() != IDAT) {
                idatLeft = -1;
            } else {
                idatLeft = length;
            }
        }
        if (idatLeft < 0) {
            return -1;
        }
        int read = in.read(buffer, 0, (int) Math.min(buffer.length, idatLeft));
        if (read < 0) {
            throw new EOFException("the file ends inside its image data");
        }
        idatLeft -= read;
        return read;
    }

    /** PNG's five filters, undone in place against the previous (unfiltered) row. */
    private void unfilter(int type, byte[] row, byte[] above) {
        int bpp = channels * sampleBytes;
        switch (type) {
            case 0 -> {
            }
            case 1 -> {
                for (int i = bpp; i < rowBytes; i++) {
                    row[i] += row[i - bpp];
                }
            }
            case 2 -> {
                for (int i = 0; i < rowBytes; i++) {
                    row[i] += above[i];
                }
            }
            case 3 -> {
                for (int i = 0; i < rowBytes; i++) {
                    int left = i >= bpp ? row[i - bpp] & 0xff : 0;
                    row[i] += (byte) ((left + (above[i] & 0xff)) >>> 1);
                }
            }
            case 4 -> {
                for (int i = 0; i < rowBytes; i++) {
                    int a = i >= bpp ? row[i - bpp] & 0xff : 0;
                    int b = above[i] & 0xff;
                    int c = i >= bpp ? above[i - bpp] & 0xff : 0;
                    int p = a + b - c;
                    int pa = Math.abs(p - a);
                    int pb = Math.abs(p - b);
                    int pc = Math.abs(p - c);
                    row[i] += (byte) (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
            }
            default -> throw corrupt("row " + nextRow + " has an unknown filter type " + (type & 0xff));
        }
    }

    /** The kept rows [y, y + h), columns [x, x + w), as RGB. */
    private RgbImage band(int x, int y, int w, int h, Color alphaBackground) {
        byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] under = alphaBackground == null ? null : new int[] {alphaBackground.getRed(),
                alphaBackground.getGreen(), alphaBackground.getBlue()};
        boolean gray = channels < 3;
        int alphaChannel = channels % 2 == 0 ? channels - 1 : -1;
        int pixelBytes = channels * sampleBytes;
        boolean transparent = false;
        int r = 0;
        for (byte[] row : kept) {
            if (r == h) {
                break;
            }
            for (int i = 0; i < w; i++) {
                int p = (x + i) * pixelBytes;
                int red = row[p] & 0xff;
                int green = gray ? red : row[p + sampleBytes] & 0xff;
                int blue = gray ? red : row[p + 2 * sampleBytes] & 0xff;
                int alpha = alphaChannel < 0 ? 255 : row[p + alphaChannel * sampleBytes] & 0xff;
                transparent |= alpha < 255;
                RgbImage.put(rgb, (r * w + i) * 3, red, green, blue, alpha, under);
            }
            r++;
        }
        return new RgbImage(w, h, rgb, transparent);
    }

    private BagNetException corrupt(String why) {
        return new BagNetException(file + ": corrupt or truncated image (" + why + ")");
    }

    void close() {
        if (inflater != null) {
            inflater.end();
        }
        try {
            in.close();
        } catch (IOException ignored) {
            // Nothing was written; a failed close loses nothing.
        }
    }
}
