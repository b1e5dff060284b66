package org.bagnet4j.explain;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Point;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

import org.bagnet4j.image.RgbImage;

/** The explanation pictures: a heatmap over the image, and a contact sheet of patches. */
public final class Pictures {
    private static final int TARGET_SIZE = 448;
    private static final int MARGIN = 16;
    /** A heatmap's title and subtitle (72 px) and a panel's heading (22 px) above the panels' maps. */
    private static final int MAP_TOP = 72 + 22;
    /** Below a panel's map: its colour bar, ticks, legend and note. */
    private static final int LEGEND_HEIGHT = 12 + 60 + MARGIN;
    private static final int MIN_PANEL_WIDTH = 400;
    private static final Color INK = new Color(30, 30, 30);
    private static final Color MUTED = new Color(100, 100, 100);

    private Pictures() {
    }

    /** A map's picture drawn with the scale of its own values. */
    public static BufferedImage heatmap(RgbImage image, EvidenceMap map, String subtitle) {
        return heatmap(image, map, subtitle, HeatmapScale.of(map));
    }

    /**
     * The evidence map in colour multiplied over a faded grayscale copy of the image the model saw, in two panels
     * under one title, each with its colour bar: left the evidence (red: for the class, blue: against, white:
     * none), right the evidence minus the map's mean (red: more than the mean cell, blue: less), which shows the
     * patches that stand out also when all evidence has one sign and the left panel is one colour.
     *
     * @param image the model's input image (after resizing and cropping)
     * @param scale the values that get full colour (larger ones are clipped)
     */
    public static BufferedImage heatmap(RgbImage image, EvidenceMap map, String subtitle, HeatmapScale scale) {
        int h = image.height() * zoom(image);
        int width = 3 * MARGIN + 2 * panelWidth(image);
        BufferedImage out = new BufferedImage(width, MAP_TOP + h + LEGEND_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(out);
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        g.drawString(fit(g, map.label() + " (class " + map.classIndex() + ")", width - 2 * MARGIN), MARGIN, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(MUTED);
        drawWrapped(g, subtitle, MARGIN, 44, width - 2 * MARGIN, 2);
        String note = scale.sharedBy() == null ? "" : "colour scale shared by " + scale.sharedBy();
        String cell = map.stride() == 1 ? "pixel" : "cell";
        drawPanel(g, image, 0, map, scale.evidence(), "Evidence", "0",
                "evidence (logit per " + cell + "): red for the class, blue against, white 0", note);
        EvidenceMap relative = map.relativeToMean();
        String flat = relative.absPercentile(100) == 0 ? "; every " + cell + " equals it" : ": red above, blue below";
        drawPanel(g, image, 1, relative, scale.relative(), "Relative to the mean " + cell, "mean", String.format(
                Locale.ROOT, "evidence minus the mean %s (mean = %.3g)%s", cell, map.mean(), flat), note);
        g.dispose();
        return out;
    }

    /** Picture pixels per input pixel in a heatmap: about TARGET_SIZE on the long side, so small inputs show. */
    private static int zoom(RgbImage image) {
        return Math.max(1, (int) Math.round((double) TARGET_SIZE / Math.max(image.width(), image.height())));
    }

    private static int panelWidth(RgbImage image) {
        return Math.max(image.width() * zoom(image), MIN_PANEL_WIDTH);
    }

    /** Where a heatmap panel's (0 left, 1 right) picture of the map has its top-left corner. */
    static Point mapCorner(RgbImage image, int panel) {
        int panelWidth = panelWidth(image);
        return new Point(MARGIN + panel * (panelWidth + MARGIN) + (panelWidth - image.width() * zoom(image)) / 2,
                MAP_TOP);
    }

    private static void drawPanel(Graphics2D g, RgbImage image, int panel, EvidenceMap map, float limit,
            String heading, String centreTick, String legend, String note) {
        int w = image.width() * zoom(image);
        int h = image.height() * zoom(image);
        Point corner = mapCorner(image, panel);
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(heading, corner.x + (w - g.getFontMetrics().stringWidth(heading)) / 2, MAP_TOP - 8);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(overlay(image, map, limit), corner.x, corner.y, w, h, null);
        int left = MARGIN + panel * (panelWidth(image) + MARGIN);
        colorBar(g, left, MAP_TOP + h + 12, panelWidth(image), limit, centreTick, legend, note);
    }

    /**
     * The map's colours at each image pixel (clipped at +-limit; light gray where no patch is centred) multiplied
     * over the image in faded grayscale.
     */
    private static BufferedImage overlay(RgbImage image, EvidenceMap map, float limit) {
        int[] overlay = new int[image.width() * image.height()];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int gray = (image.get(x, y, 0) * 299 + image.get(x, y, 1) * 587 + image.get(x, y, 2) * 114) / 1000;
                double faded = 0.45 + 0.55 * gray / 255.0;
                float v = valueAt(map, x, y);
                int color = Float.isNaN(v) ? 0xf0f0f0 : DivergingColors.rgb(v / limit);
                overlay[y * image.width() + x] = multiply(color, faded);
            }
        }
        BufferedImage small = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        small.setRGB(0, 0, image.width(), image.height(), overlay, 0, image.width());
        return small;
    }

    /** The map's value at an image pixel, NaN where no patch is centred (beyond a grid's last cell). */
    private static float valueAt(EvidenceMap map, int x, int y) {
        if (map.stride() == 1) {
            int mx = x - map.left();
            int my = y - map.top();
            return mx >= 0 && my >= 0 && mx < map.width() && my < map.height() ? map.value(mx, my) : Float.NaN;
        }
        // Grid: each cell owns the stride x stride square around its patch's centre.
        int centre = map.offset() + (map.patch() - 1) / 2;
        int mx = Math.floorDiv(x - centre + map.stride() / 2, map.stride());
        int my = Math.floorDiv(y - centre + map.stride() / 2, map.stride());
        return mx >= 0 && my >= 0 && mx < map.width() && my < map.height() ? map.value(mx, my) : Float.NaN;
    }

    private static int multiply(int rgb, double factor) {
        int r = (int) (((rgb >> 16) & 0xff) * factor);
        int g = (int) (((rgb >> 8) & 0xff) * factor);
        int b = (int) ((rgb & 0xff) * factor);
        return (r << 16) | (g << 8) | b;
    }

    /** The colour scale from -limit to +limit, its ticks, and under it what it shows (and a note, if any). */
    private static void colorBar(Graphics2D g, int left, int top, int width, float limit, String centreTick,
            String legend, String note) {
        int barWidth = Math.min(width, 320);
        int x0 = left + (width - barWidth) / 2;
        for (int i = 0; i < barWidth; i++) {
            g.setColor(new Color(DivergingColors.rgb(2.0 * i / (barWidth - 1) - 1)));
            g.fillRect(x0 + i, top, 1, 12);
        }
        g.setColor(MUTED);
        g.setStroke(new BasicStroke(1));
        g.drawRect(x0, top, barWidth - 1, 12);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        String low = String.format(Locale.ROOT, "%+.3g", -limit);
        String high = String.format(Locale.ROOT, "%+.3g", limit);
        g.drawString(low, x0, top + 26);
        g.drawString(centreTick, x0 + barWidth / 2 - fm.stringWidth(centreTick) / 2, top + 26);
        g.drawString(high, x0 + barWidth - fm.stringWidth(high), top + 26);
        drawCentred(g, legend, left, width, top + 42);
        drawCentred(g, note, left, width, top + 58);
    }

    /** One line of text centred in a width, shortened to fit it. */
    private static void drawCentred(Graphics2D g, String text, int left, int width, int y) {
        String fitted = fit(g, text, width);
        g.drawString(fitted, left + (width - g.getFontMetrics().stringWidth(fitted)) / 2, y);
    }

    /** One patch to show on a contact sheet: its pixels and what to write under it. */
    public record Tile(RgbImage pixels, String caption, String source) {
    }

    /** Patches side by side, each enlarged, with its value and source file underneath. */
    public static BufferedImage contactSheet(String title, List<Tile> tiles, int columns) {
        int cell = 128;
        int captionHeight = 34;
        int cols = Math.max(1, Math.min(columns, tiles.size()));
        int rows = (tiles.size() + cols - 1) / cols;
        int width = cols * (cell + MARGIN) + MARGIN;
        int header = 60;
        int height = header + rows * (cell + captionHeight + MARGIN);
        BufferedImage out = new BufferedImage(Math.max(width, 480), height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(out);
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        drawWrapped(g, title, MARGIN, 24, out.getWidth() - 2 * MARGIN, 2);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        for (int i = 0; i < tiles.size(); i++) {
            Tile t = tiles.get(i);
            int x = MARGIN + (i % cols) * (cell + MARGIN);
            int y = header + (i / cols) * (cell + captionHeight + MARGIN);
            g.drawImage(toBufferedImage(t.pixels()), x, y, cell, cell, null);
            g.setColor(MUTED);
            g.drawRect(x - 1, y - 1, cell + 1, cell + 1);
            g.setColor(INK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(fit(g, t.caption(), cell), x, y + cell + 14);
            g.setColor(MUTED);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
            g.drawString(fit(g, t.source(), cell), x, y + cell + 28);
        }
        g.dispose();
        return out;
    }

    /** The part of the image inside a box, gray where the box leaves the image (the reference's padding). */
    public static RgbImage crop(RgbImage image, EvidenceMap.Box box) {
        int w = box.x1() - box.x0();
        int h = box.y1() - box.y0();
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = box.x0() + x;
                int sy = box.y0() + y;
                boolean inside = sx >= 0 && sy >= 0 && sx < image.width() && sy < image.height();
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) (inside ? image.get(sx, sy, c) : 128);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** Two pictures one above the other on white, left edges aligned. */
    public static BufferedImage above(BufferedImage top, BufferedImage bottom) {
        BufferedImage out = new BufferedImage(Math.max(top.getWidth(), bottom.getWidth()),
                top.getHeight() + bottom.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(out);
        g.drawImage(top, 0, 0, null);
        g.drawImage(bottom, 0, top.getHeight(), null);
        g.dispose();
        return out;
    }

    /**
     * An image enlarged by the smallest whole factor that makes its short side at least {@code minSide}, each pixel
     * a square block (no smoothing, so the pixels the model saw stay visible); as it is when large enough.
     */
    public static BufferedImage enlarged(RgbImage image, int minSide) {
        int factor = Math.max(1, Math.ceilDiv(minSide, Math.min(image.width(), image.height())));
        BufferedImage out = new BufferedImage(image.width() * factor, image.height() * factor,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(toBufferedImage(image), 0, 0, out.getWidth(), out.getHeight(), null);
        g.dispose();
        return out;
    }

    /** An RGB image as a BufferedImage, e.g. to write it with ImageIO. */
    public static BufferedImage toBufferedImage(RgbImage image) {
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                b.setRGB(x, y, (image.get(x, y, 0) << 16) | (image.get(x, y, 1) << 8) | image.get(x, y, 2));
            }
        }
        return b;
    }

    private static Graphics2D canvas(BufferedImage out) {
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        return g;
    }

    /** Draws text word-wrapped to a width, on at most {@code maxLines} lines (the last one shortened to fit). */
    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width, int maxLines) {
        FontMetrics fm = g.getFontMetrics();
        String rest = text;
        for (int line = 0; line < maxLines && !rest.isEmpty(); line++) {
            String fitted = rest;
            if (line < maxLines - 1 && fm.stringWidth(rest) > width) {
                int cut = rest.length();
                while (cut > 0 && fm.stringWidth(rest.substring(0, cut)) > width) {
                    cut = rest.lastIndexOf(' ', cut - 1);
                }
                if (cut <= 0) {
                    g.drawString(fit(g, rest, width), x, y + line * (fm.getHeight() + 2));
                    return; // one word wider than the line: shortened, nothing left to wrap
                }
                fitted = rest.substring(0, cut);
            }
            g.drawString(fit(g, fitted, width), x, y + line * (fm.getHeight() + 2));
            rest = rest.substring(Math.min(rest.length(), fitted.length())).strip();
        }
    }

    /** The text, shortened with an ellipsis to fit a width in pixels. */
    private static String fit(Graphics2D g, String text, int width) {
        FontMetrics fm = g.getFontMetrics();
        if (fm.stringWidth(text) <= width) {
            return text;
        }
        String s = text;
        while (!s.isEmpty() && fm.stringWidth(s + "...") > width) {
            s = s.substring(0, s.length() - 1);
        }
        return s + "...";
    }
}
