package io.clonefs.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG of line charts side by side, drawn with Java2D (headless): each panel has a title, axis
 * labels and series of (x, y) points; x and y start at the smallest x and at 0. Enough for the
 * benchmark's "TPS per 5 s" picture without a plotting dependency.
 */
final class Chart {
    /** One line: its name in the legend and its points. */
    record Series(String name, List<double[]> points) {
    }

    /** One panel: a title, axis labels, and its lines; {@code markX} draws a dashed vertical line there (NaN: none). */
    record Panel(String title, String xLabel, String yLabel, List<Series> series, double markX) {
    }

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e)};
    private static final int W = 640;
    private static final int H = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 90;

    private Chart() {
    }

    static void write(Path file, String title, List<Panel> panels) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W * panels.size(), H + 30, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, 10, 20);
        for (int i = 0; i < panels.size(); i++) {
            Graphics2D p = (Graphics2D) g.create(i * W, 30, W, H);
            panel(p, panels.get(i));
            p.dispose();
        }
        g.dispose();
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    private static void panel(Graphics2D g, Panel p) {
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double maxY = 0;
        for (Series s : p.series()) {
            for (double[] pt : s.points()) {
                minX = Math.min(minX, pt[0]);
                maxX = Math.max(maxX, pt[0]);
                maxY = Math.max(maxY, pt[1]);
            }
        }
        if (minX > maxX) {
            minX = 0;
            maxX = 1;
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        maxY = niceCeiling(maxY <= 0 ? 1 : maxY * 1.05);
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(p.title(), LEFT, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(LEFT, TOP, plotW, plotH);
        for (int k = 0; k <= 5; k++) {
            double y = maxY * k / 5;
            int py = TOP + plotH - (int) Math.round(plotH * k / 5.0);
            g.setColor(new Color(0xdddddd));
            g.drawLine(LEFT + 1, py, LEFT + plotW - 1, py);
            g.setColor(Color.BLACK);
            String label = String.format(Locale.ROOT, "%,.0f", y);
            g.drawString(label, LEFT - 6 - g.getFontMetrics().stringWidth(label), py + 4);
        }
        double step = niceCeiling((maxX - minX) / 6);
        for (double x = Math.ceil(minX / step) * step; x <= maxX + 1e-9; x += step) {
            int px = LEFT + (int) Math.round(plotW * (x - minX) / (maxX - minX));
            String label = String.format(Locale.ROOT, "%.0f", x);
            g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, TOP + plotH + 16);
        }
        g.drawString(p.xLabel(), LEFT + plotW / 2 - g.getFontMetrics().stringWidth(p.xLabel()) / 2, TOP + plotH + 34);
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(p.yLabel(), -(TOP + plotH / 2 + r.getFontMetrics().stringWidth(p.yLabel()) / 2), 14);
        r.dispose();
        if (!Double.isNaN(p.markX()) && p.markX() >= minX && p.markX() <= maxX) {
            int px = LEFT + (int) Math.round(plotW * (p.markX() - minX) / (maxX - minX));
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
            g.drawLine(px, TOP, px, TOP + plotH);
        }
        g.setStroke(new BasicStroke(2f));
        int legendY = TOP + plotH + 52;
        int legendX = LEFT;
        for (int i = 0; i < p.series().size(); i++) {
            Series s = p.series().get(i);
            g.setColor(COLORS[i % COLORS.length]);
            List<int[]> px = new ArrayList<>();
            for (double[] pt : s.points()) {
                px.add(new int[] {LEFT + (int) Math.round(plotW * (pt[0] - minX) / (maxX - minX)),
                    TOP + plotH - (int) Math.round(plotH * pt[1] / maxY)});
            }
            for (int k = 1; k < px.size(); k++) {
                g.drawLine(px.get(k - 1)[0], px.get(k - 1)[1], px.get(k)[0], px.get(k)[1]);
            }
            for (int[] q : px) {
                g.fillOval(q[0] - 2, q[1] - 2, 5, 5);
            }
            int lw = g.getFontMetrics().stringWidth(s.name()) + 40;
            if (legendX + lw > W - RIGHT) {
                legendX = LEFT;
                legendY += 16;
            }
            g.drawLine(legendX, legendY - 4, legendX + 20, legendY - 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), legendX + 25, legendY);
            legendX += lw;
        }
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
