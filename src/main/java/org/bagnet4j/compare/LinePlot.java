package org.bagnet4j.compare;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * A line chart as a picture: one line per series over shared x values, labelled axes, a legend. Values that are
 * NaN leave a gap. With {@code evenX} the x values are placed at equal spacing (for tile counts 1, 2, 4, ...).
 */
public final class LinePlot {
    /** A named line: its y value at each x. */
    public record Series(String name, double[] y) {
    }

    private static final int WIDTH = 720;
    private static final int PLOT_HEIGHT = 360;
    private static final int LEFT = 80;
    private static final int RIGHT = 24;
    private static final int TOP = 48;
    private static final int AXIS_SPACE = 56;
    private static final int LEGEND_ROW = 20;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf)};

    private LinePlot() {
    }

    public static BufferedImage draw(String title, String xLabel, String yLabel, double[] x, boolean evenX,
            List<Series> series) {
        int legendHeight = LEGEND_ROW * ((series.size() + 1) / 2) + 8;
        BufferedImage out = new BufferedImage(WIDTH, TOP + PLOT_HEIGHT + AXIS_SPACE + legendHeight,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, LEFT, 28);

        double yMin = 0;
        double yMax = 0;
        for (Series s : series) {
            for (double v : s.y()) {
                if (Double.isFinite(v)) {
                    yMin = Math.min(yMin, v);
                    yMax = Math.max(yMax, v);
                }
            }
        }
        double step = niceStep((yMax - yMin) / 5);
        yMin = Math.floor(yMin / step) * step;
        yMax = Math.max(yMin + step, Math.ceil(yMax / step) * step);
        double xMin = evenX ? 0 : x[0];
        double xMax = evenX ? Math.max(1, x.length - 1) : Math.max(x[x.length - 1], x[0] + 1);
        int plotRight = WIDTH - RIGHT;
        int plotBottom = TOP + PLOT_HEIGHT;

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (double v = yMin; v <= yMax + step / 2; v += step) {
            int py = (int) Math.round(plotBottom - (v - yMin) / (yMax - yMin) * PLOT_HEIGHT);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(LEFT, py, plotRight, py);
            g.setColor(Color.DARK_GRAY);
            String label = format(v, step);
            g.drawString(label, LEFT - 6 - fm.stringWidth(label), py + 4);
        }
        for (int i = 0; i < x.length; i++) {
            int px = xPixel(evenX ? i : x[i], xMin, xMax, plotRight);
            g.drawLine(px, plotBottom, px, plotBottom + 4);
            String label = format(x[i], 1);
            g.drawString(label, px - fm.stringWidth(label) / 2, plotBottom + 18);
        }
        g.drawRect(LEFT, TOP, plotRight - LEFT, PLOT_HEIGHT);
        g.drawString(xLabel, (LEFT + plotRight - fm.stringWidth(xLabel)) / 2, plotBottom + 38);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(TOP + PLOT_HEIGHT / 2 + fm.stringWidth(yLabel) / 2), 20);
        g.setTransform(saved);

        g.setStroke(new BasicStroke(2f));
        for (int s = 0; s < series.size(); s++) {
            g.setColor(PALETTE[s % PALETTE.length]);
            double[] y = series.get(s).y();
            int lastX = -1;
            int lastY = -1;
            for (int i = 0; i < y.length; i++) {
                if (!Double.isFinite(y[i])) {
                    lastX = -1;
                    continue;
                }
                int px = xPixel(evenX ? i : x[i], xMin, xMax, plotRight);
                int py = (int) Math.round(plotBottom - (y[i] - yMin) / (yMax - yMin) * PLOT_HEIGHT);
                g.fillOval(px - 3, py - 3, 7, 7);
                if (lastX >= 0) {
                    g.drawLine(lastX, lastY, px, py);
                }
                lastX = px;
                lastY = py;
            }
            int lx = LEFT + (s % 2) * (WIDTH - LEFT) / 2;
            int ly = plotBottom + AXIS_SPACE + LEGEND_ROW * (s / 2);
            g.drawLine(lx, ly, lx + 24, ly);
            g.setColor(Color.DARK_GRAY);
            g.drawString(series.get(s).name(), lx + 30, ly + 4);
        }
        g.dispose();
        return out;
    }

    private static int xPixel(double v, double min, double max, int right) {
        return (int) Math.round(LEFT + (v - min) / (max - min) * (right - LEFT));
    }

    /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
    private static double niceStep(double raw) {
        if (!(raw > 0)) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5}) {
            if (m * power >= raw) {
                return m * power;
            }
        }
        return 10 * power;
    }

    private static String format(double v, double step) {
        if (step >= 1 && v == Math.rint(v)) {
            return Long.toString(Math.round(v));
        }
        int places = (int) Math.max(0, Math.ceil(-Math.log10(step)));
        return String.format(Locale.ROOT, "%." + places + "f", v);
    }
}
