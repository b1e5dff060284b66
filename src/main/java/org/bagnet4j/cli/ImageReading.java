package org.bagnet4j.cli;

import java.awt.Color;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;

/**
 * How the commands read image files: the pixel limit (--max-pixels) and what becomes of transparent pixels
 * (--alpha-background). By default their alpha is dropped, as the PyTorch reference's PIL {@code convert("RGB")}
 * does, so the colours stored under them count; that surprises, so each such image gets a warning.
 */
record ImageReading(long maxPixels, Color alphaBackground) {
    /** Colours --alpha-background knows by name (others as #rrggbb). */
    private static final Map<String, Color> NAMED = Map.of("white", Color.WHITE, "black", Color.BLACK, "gray",
            new Color(128, 128, 128), "grey", new Color(128, 128, 128));

    /** The defaults: ImageDecoder's pixel limit, alpha dropped. */
    static final ImageReading DEFAULT = new ImageReading(ImageDecoder.DEFAULT_MAX_PIXELS, null);

    static ImageReading of(Options options) {
        return new ImageReading(options.maxPixels(), options.has("alpha-background")
                ? color(options.required("alpha-background")) : null);
    }

    /** Decodes a file; an image whose transparency is dropped is said to {@code warnings}. */
    RgbImage read(Path file, Consumer<String> warnings) {
        RgbImage image = ImageDecoder.read(file, maxPixels, alphaBackground);
        warnIfTransparent(file, image.transparent(), warnings);
        return image;
    }

    /** The warning for an image whose transparent pixels lost their alpha (none with --alpha-background). */
    void warnIfTransparent(Path file, boolean transparent, Consumer<String> warnings) {
        if (transparent && alphaBackground == null) {
            warnings.accept(file + ": warning: transparent pixels; their alpha is dropped, as PIL's convert(\"RGB\") "
                    + "does, so the colours stored under them count (--alpha-background COLOR composites them over a "
                    + "colour)");
        }
    }

    /** A colour by name (white, black, gray) or as #rrggbb. */
    static Color color(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Color named = NAMED.get(t);
        if (named != null) {
            return named;
        }
        if (t.matches("#[0-9a-f]{6}")) {
            return new Color(Integer.parseInt(t.substring(1), 16));
        }
        throw new UsageException("--alpha-background needs white, black, gray or #rrggbb, got '" + text + "'");
    }
}
