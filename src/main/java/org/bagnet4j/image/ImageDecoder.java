package org.bagnet4j.image;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import org.bagnet4j.BagNetException;

/**
 * Decodes image files with the JDK's own ImageIO readers (JPEG, PNG, BMP, GIF; the first frame of animations)
 * into 8-bit RGB. The size is read from the header and checked against a pixel limit before any pixel is decoded;
 * JPEGs are turned upright by their EXIF orientation. Files are read through an interruptible channel: on a thread
 * that is interrupted, reading fails with a message saying so (the interrupt stays set).
 */
public final class ImageDecoder {
    /** Default limit: 100 megapixels. */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;
    /** The file name extensions of the images folder walks take (any case), in name order. */
    public static final List<String> EXTENSIONS = List.of("bmp", "gif", "jpeg", "jpg", "png");

    private ImageDecoder() {
    }

    /** Whether a file's name ends in one of the {@link #EXTENSIONS}. */
    public static boolean hasImageName(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    public static RgbImage read(Path file) {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    public static RgbImage read(Path file, long maxPixels) {
        return read(file, maxPixels, null);
    }

    /**
     * Decodes a whole image; with {@code alphaBackground} non-null, transparent pixels are composited over it
     * ({@link RgbImage#from(java.awt.image.BufferedImage, java.awt.Color)}), else their alpha is dropped as PIL's
     * {@code convert("RGB")} does. {@link RgbImage#transparent()} tells whether there were any.
     */
    public static RgbImage read(Path file, long maxPixels, Color alphaBackground) {
        try (Regions image = openRegions(file, maxPixels)) {
            return Exif.apply(image.decode(null, alphaBackground), image.orientation);
        }
    }

    /**
     * Opens an image for reading by regions: each {@link Regions#read} decodes the file from its start but keeps
     * only the rows and columns asked for, so memory stays that of the region (JPEG, PNG, BMP and GIF decode row
     * by row). A PNG of 8- or 16-bit samples (no palette) is read in one pass instead when regions come top to
     * bottom, the last region's rows kept for the next ({@link PngRows}). EXIF-rotated JPEGs cannot be read this
     * way.
     */
    public static Regions openRegions(Path file, long maxPixels) {
        if (!Files.isRegularFile(file)) {
            throw new BagNetException(Files.exists(file) ? "not a regular file: " + file : "file not found: " + file);
        }
        ImageInputStream in;
        try {
            in = new ChannelImageInputStream(FileChannel.open(file, StandardOpenOption.READ));
        } catch (IOException e) {
            throw new BagNetException(file + ": cannot open (" + BagNetException.reason(e) + ")");
        }
        return open(file.toString(), file, in, () -> Exif.orientation(file), maxPixels);
    }

    /**
     * Decodes an image held in memory (an upload), as {@link #read(Path, long, Color)} decodes a file; {@code name}
     * stands for it in messages. Nothing is written to disk: ImageIO's default stream would cache to a file.
     */
    public static RgbImage read(byte[] data, String name, long maxPixels, Color alphaBackground) {
        ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data));
        try (Regions image = open(name, null, in, () -> Exif.orientation(data), maxPixels)) {
            return Exif.apply(image.decode(null, alphaBackground), image.orientation);
        }
    }

    /**
     * Opens {@code in} (closed on failure) as an image whose size is within the pixel limit; {@code path} is the file
     * it reads, or null for bytes in memory.
     */
    private static Regions open(String file, Path path, ImageInputStream in, IntSupplier jpegOrientation,
            long maxPixels) {
        try {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw Thread.currentThread().isInterrupted() ? interrupted(file)
                        : new BagNetException(file + ": not an image in a format Java can read (JPEG, PNG, BMP, GIF)");
            }
            ImageReader reader = readers.next();
            Regions regions;
            try {
                reader.setInput(in, true, false);
                regions = new Regions(file, path, in, reader, jpegOrientation);
            } catch (IOException | RuntimeException e) {
                reader.dispose();
                throw e;
            }
            in = null;
            long pixels = (long) regions.width * regions.height;
            if (pixels > maxPixels) {
                regions.close();
                throw new BagNetException(String.format(Locale.ROOT,
                        "%s: image is %dx%d = %,d pixels, above the limit of %,d pixels", file, regions.width,
                        regions.height, pixels, maxPixels));
            }
            if (regions.width < 1 || regions.height < 1) {
                regions.close();
                throw new BagNetException(file + ": image has no pixels");
            }
            return regions;
        } catch (IOException | RuntimeException e) {
            closeQuietly(in);
            throw failure(file, e);
        }
    }

    /** An image file open for decoding, whole or by regions. */
    public static final class Regions implements AutoCloseable {
        private final String file;
        private final ImageInputStream in;
        private final ImageReader reader;
        private final int width;
        private final int height;
        /** EXIF orientation (1: as stored). */
        private final int orientation;
        /** The file, when the image is one (null for bytes in memory). */
        private final Path path;
        /** A PNG file's rows for reading by regions, once the first region is asked for; null for the rest. */
        private PngRows png;
        private boolean pngOpened;

        private Regions(String file, Path path, ImageInputStream in, ImageReader reader, IntSupplier jpegOrientation)
                throws IOException {
            this.file = file;
            this.path = path;
            this.in = in;
            this.reader = reader;
            this.width = reader.getWidth(0);
            this.height = reader.getHeight(0);
            boolean jpeg = reader.getFormatName().toLowerCase(Locale.ROOT).equals("jpeg");
            this.orientation = jpeg ? jpegOrientation.getAsInt() : 1;
        }

        public int width() {
            return width;
        }

        public int height() {
            return height;
        }

        /** Whether the pixels are stored upright (no EXIF rotation to apply): only then can regions be read. */
        public boolean upright() {
            return orientation == 1;
        }

        /** The pixels of columns [x, x + w) and rows [y, y + h), which must lie inside the image; alpha dropped. */
        public RgbImage read(int x, int y, int w, int h) {
            return read(x, y, w, h, null);
        }

        /**
         * {@link #read(int, int, int, int)}, transparent pixels composited over {@code alphaBackground} (their alpha
         * dropped when it is null), as {@link ImageDecoder#read(Path, long, Color)} does.
         */
        public RgbImage read(int x, int y, int w, int h, Color alphaBackground) {
            if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > width || y + h > height) {
                throw new BagNetException(file + ": region " + w + "x" + h + " at (" + x + ", " + y
                        + ") is outside the " + width + "x" + height + " image");
            }
            if (orientation != 1) {
                throw new BagNetException(file + ": EXIF-rotated JPEGs cannot be read by regions; rotate the file");
            }
            PngRows rows = png();
            return rows != null ? rows.read(x, y, w, h, alphaBackground)
                    : decode(new Rectangle(x, y, w, h), alphaBackground);
        }

        /** The file's rows read in one pass, for the PNGs {@link PngRows} takes; null for the rest. */
        private PngRows png() {
            if (!pngOpened) {
                pngOpened = true;
                try {
                    png = path != null && reader.getFormatName().equalsIgnoreCase("png") ? PngRows.open(path) : null;
                } catch (IOException e) {
                    throw failure(file, e);
                }
            }
            return png;
        }

        private RgbImage decode(Rectangle region, Color alphaBackground) {
            try {
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                RgbImage image = ImageDecoder.decode(reader, region, alphaBackground);
                reader.removeAllIIOReadWarningListeners();
                if (!warnings.isEmpty()) {
                    // ImageIO fills missing data and only warns; PIL refuses truncated files, and so do we.
                    throw new BagNetException(file + ": corrupt or truncated image (" + warnings.getFirst() + ")");
                }
                return image;
            } catch (IOException | RuntimeException e) {
                // ImageIO's PNG reader wraps running out of memory in an IIOException: report it as what it is.
                if (e.getCause() instanceof OutOfMemoryError outOfMemory) {
                    throw outOfMemory;
                }
                throw failure(file, e);
            }
        }

        @Override
        public void close() {
            if (png != null) {
                png.close();
            }
            reader.dispose();
            closeQuietly(in);
        }
    }

    private static BagNetException failure(String file, Exception e) {
        if (e instanceof BagNetException b) {
            return b;
        }
        if (Thread.currentThread().isInterrupted()) {
            return interrupted(file);
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new BagNetException(file + ": cannot decode image (" + reason.strip().lines().findFirst().orElse("")
                + ")");
    }

    /** A file channel read on an interrupted thread closes the channel: the read fails, and says why. */
    static BagNetException interrupted(String file) {
        return new BagNetException(file + ": reading stopped because the calling thread was interrupted");
    }

    private static void closeQuietly(ImageInputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // Nothing was written; a failed close loses nothing.
            }
        }
    }

    /**
     * Decodes the first image. When a JPEG embeds an ICC profile, ImageIO converts its pixels to whatever colour
     * space the destination has, sRGB by default; PIL converts nothing. Asking for the embedded profile's own
     * colour space keeps the samples as decoded. A region, if given, is all that is decoded into memory.
     */
    private static RgbImage decode(ImageReader reader, Rectangle region, Color alphaBackground)
            throws IOException {
        ImageReadParam param = reader.getDefaultReadParam();
        if (region != null) {
            param.setSourceRegion(region);
        }
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        int components = -1;
        while (types.hasNext()) {
            ImageTypeSpecifier type = types.next();
            ColorSpace space = type.getColorModel().getColorSpace();
            if (components < 0) {
                components = space.getNumComponents();
            } else if (space instanceof ICC_ColorSpace && !space.isCS_sRGB() && space.getNumComponents() == components) {
                param.setDestinationType(type);
                break;
            }
        }
        return RgbImage.from(reader.read(0, param), alphaBackground);
    }
}
