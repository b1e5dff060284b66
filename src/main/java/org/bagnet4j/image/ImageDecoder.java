package org.bagnet4j.image;

import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

import org.bagnet4j.BagNetException;

/**
 * Decodes image files with the JDK's own ImageIO readers (JPEG, PNG, BMP, GIF; the first frame of animations)
 * into 8-bit RGB. The size is read from the header and checked against a pixel limit before any pixel is decoded;
 * JPEGs are turned upright by their EXIF orientation.
 */
public final class ImageDecoder {
    /** Default limit: 100 megapixels. */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;

    private ImageDecoder() {
    }

    public static RgbImage read(Path file) {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    public static RgbImage read(Path file, long maxPixels) {
        if (!Files.isRegularFile(file)) {
            throw new BagNetException(Files.exists(file) ? "not a regular file: " + file : "file not found: " + file);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new BagNetException(file + ": cannot open");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BagNetException(file + ": not an image in a format Java can read (JPEG, PNG, BMP, GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                long pixels = (long) width * height;
                if (pixels > maxPixels) {
                    throw new BagNetException(String.format(Locale.ROOT,
                            "%s: image is %dx%d = %,d pixels, above the limit of %,d pixels", file, width, height,
                            pixels, maxPixels));
                }
                if (width < 1 || height < 1) {
                    throw new BagNetException(file + ": image has no pixels");
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                RgbImage image = decode(reader);
                if (!warnings.isEmpty()) {
                    // ImageIO fills missing data and only warns; PIL refuses truncated files, and so do we.
                    throw new BagNetException(file + ": corrupt or truncated image (" + warnings.getFirst() + ")");
                }
                return format.equals("jpeg") ? Exif.apply(image, Exif.orientation(file)) : image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BagNetException b) {
                throw b;
            }
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new BagNetException(file + ": cannot decode image (" + reason.strip().lines().findFirst().orElse("")
                    + ")");
        }
    }

    /**
     * Decodes the first image. When a JPEG embeds an ICC profile, ImageIO converts its pixels to whatever colour
     * space the destination has, sRGB by default; PIL converts nothing. Asking for the embedded profile's own
     * colour space keeps the samples as decoded.
     */
    private static RgbImage decode(ImageReader reader) throws IOException {
        ImageReadParam param = reader.getDefaultReadParam();
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
        return RgbImage.from(reader.read(0, param));
    }
}
