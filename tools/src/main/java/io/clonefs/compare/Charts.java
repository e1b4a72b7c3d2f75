package io.clonefs.compare;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The two PNG charts of the comparison, drawn with XChart. */
final class Charts {
    private static final Map<Method, Color> COLORS = Map.of(
            Method.CLONEFS_BRANCH, new Color(0x1b, 0x9e, 0x77),
            Method.CLONEFS_CLONE, new Color(0x66, 0xa6, 0x1e),
            Method.DUMP_RESTORE, new Color(0xd9, 0x5f, 0x02),
            Method.TEMPLATE, new Color(0x75, 0x70, 0xb3),
            Method.BASEBACKUP, new Color(0xe7, 0x29, 0x8a));
    private static final double GIB = 1024.0 * 1024 * 1024;

    private Charts() {
    }

    static void write(Results r, Path timePng, Path storagePng) throws IOException {
        System.setProperty("java.awt.headless", "true");
        save(timeChart(r), timePng);
        save(storageChart(r), storagePng);
    }

    /** Time to a usable copy against the source database size, log-log. */
    static XYChart timeChart(Results r) {
        XYChart c = base("Time to a usable copy vs source size (one copy)", "source database size (GiB, log scale)",
                "seconds to first answered query (log scale)");
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setXAxisDecimalPattern("0.##");
        c.getStyler().setYAxisDecimalPattern("0.##");
        for (Method m : Method.values()) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (Results.Size s : r.sizes) {
                Results.Row row = s.rows.get(m);
                if (row != null && row.createSeconds() > 0) {
                    x.add(s.databaseBytes / GIB);
                    y.add(row.createSeconds());
                }
            }
            if (!x.isEmpty()) {
                XYSeries ser = c.addSeries(m.title(), x, y);
                style(ser, m, false);
            }
        }
        return c;
    }

    /** Additional bytes on disk against the number of copies, at the largest size measured. */
    static XYChart storageChart(Results r) {
        Results.Size s = r.sizes.get(r.sizes.size() - 1);
        XYChart c = base("Additional storage vs number of copies (source " + s.label + ", "
                        + Report.bytes(s.databaseBytes) + ")", "number of copies",
                "additional bytes on disk (GiB)");
        c.getStyler().setXAxisDecimalPattern("0");
        c.getStyler().setYAxisDecimalPattern("0.#");
        for (Method m : Method.values()) {
            Results.Row row = s.rows.get(m);
            if (row == null) {
                continue;
            }
            boolean extra = row.extrapolated() != null;
            String name = m.title() + (extra ? " (" + r.parallel + " copies: extrapolated)" : "");
            XYSeries ser = c.addSeries(name, new double[] {0, 1, r.parallel},
                    new double[] {0, row.perCopyBytes() / GIB, row.parallelBytes() / GIB});
            style(ser, m, extra);
        }
        return c;
    }

    private static XYChart base(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(1000).height(620).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle)
                .build();
        XYStyler st = c.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdd, 0xdd, 0xdd));
        st.setLegendPosition(Styler.LegendPosition.InsideNW);
        st.setLegendBorderColor(new Color(0xcc, 0xcc, 0xcc));
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setAntiAlias(true);
        return c;
    }

    private static void style(XYSeries s, Method m, boolean dashed) {
        s.setLineColor(COLORS.get(m));
        s.setMarkerColor(COLORS.get(m));
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setLineStyle(dashed ? new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                new float[] {8f, 6f}, 0f) : new BasicStroke(2.5f));
    }

    private static void save(XYChart c, Path png) throws IOException {
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(c, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
