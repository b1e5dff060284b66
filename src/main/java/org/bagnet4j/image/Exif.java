package org.bagnet4j.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the EXIF orientation (tag 0x0112, values 1..8) of a JPEG file: phone cameras store pixels as the sensor
 * saw them and record in this tag how to turn them upright. Anything unreadable counts as 1 (upright).
 */
final class Exif {
    private static final int SCAN_BYTES = 256 * 1024;

    private Exif() {
    }

    static int orientation(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(SCAN_BYTES);
        } catch (IOException e) {
            return 1;
        }
        return orientation(head);
    }

    /** The orientation a JPEG's EXIF block gives (1 where it has none, or a malformed one). */
    static int orientation(byte[] jpeg) {
        try {
            return parse(jpeg);
        } catch (RuntimeException malformed) {
            return 1;
        }
    }

    private static int parse(byte[] jpeg) {
        if (jpeg.length < 4 || (jpeg[0] & 0xff) != 0xFF || (jpeg[1] & 0xff) != 0xD8) {
            return 1;
        }
        int pos = 2;
        while (pos + 4 <= jpeg.length && (jpeg[pos] & 0xff) == 0xFF) {
            int marker = jpeg[pos + 1] & 0xff;
            int length = ((jpeg[pos + 2] & 0xff) << 8) | (jpeg[pos + 3] & 0xff);
            if (marker == 0xDA || marker == 0xD9) {
                return 1; // image data starts: no EXIF before it
            }
            int segment = pos + 4;
            if (marker == 0xE1 && length >= 8 && segment + 6 <= jpeg.length
                    && new String(jpeg, segment, 4, StandardCharsets.ISO_8859_1).equals("Exif")) {
                return fromTiff(ByteBuffer.wrap(jpeg, segment + 6, Math.min(length - 8, jpeg.length - segment - 6))
                        .slice());
            }
            pos += 2 + length;
        }
        return 1;
    }

    private static int fromTiff(ByteBuffer tiff) {
        tiff.order(tiff.get(0) == 'M' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int ifd = tiff.getInt(4);
        int entries = tiff.getShort(ifd) & 0xffff;
        for (int i = 0; i < entries; i++) {
            int entry = ifd + 2 + 12 * i;
            if ((tiff.getShort(entry) & 0xffff) == 0x0112) {
                int value = tiff.getShort(entry + 8) & 0xffff;
                return value >= 1 && value <= 8 ? value : 1;
            }
        }
        return 1;
    }

    /** Turns the image upright according to an EXIF orientation value. */
    static RgbImage apply(RgbImage image, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return image;
        }
        boolean swap = orientation >= 5; // transposed orientations exchange width and height
        int w = image.width();
        int h = image.height();
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        byte[] out = new byte[image.rgb().length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; }
                }
                System.arraycopy(image.rgb(), (sy * w + sx) * 3, out, (y * ow + x) * 3, 3);
            }
        }
        return new RgbImage(ow, oh, out);
    }
}
