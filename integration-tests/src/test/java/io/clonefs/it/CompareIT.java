package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.compare.Compare;
import io.clonefs.compare.Method;
import io.clonefs.compare.Report;
import io.clonefs.compare.Results;
import io.clonefs.it.support.Clonefs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make compare} at a small size (50 MB, 3 simultaneous copies, 5 s of pgbench) into a
 * temporary report: every row of the table is filled, every number positive, a clonefs copy adds
 * less than 1 % of the source, and the report keeps the other sections of the file.
 */
class CompareIT {
    private static final String OTHER = "## Some other section\n\nwritten by someone else, kept as is.\n";

    @TempDir
    Path tmp;

    @Test
    void smallComparisonFillsEveryRow() throws Exception {
        Path report = tmp.resolve("BENCHMARKS.md");
        Files.writeString(report, "# Benchmarks\n\n" + OTHER + "\n" + Report.HEADING + "\n\nstale text\n\n" + OTHER
                .replace("Some other", "Another"));
        Path charts = tmp.resolve("img");
        Files.createDirectories(charts);
        Compare.Config cfg = new Compare.Config(List.of("50MB"), 3, 5, 4, 2, 1L << 30, report, charts, Path.of("/var/tmp"),
                Clonefs.launcher(), Clonefs.jar(), Path.of(System.getProperty("clonefs.it.pgbin",
                "/usr/lib/postgresql/15/bin")), "auto");

        Results r = Compare.run(cfg);

        assertEquals(1, r.sizes.size());
        Results.Size s = r.sizes.get(0);
        assertTrue(s.databaseBytes > 40L << 20, "source database " + s.databaseBytes);
        assertTrue(s.sourcePoolBytes > s.databaseBytes, "source on the pool " + s.sourcePoolBytes);
        assertTrue(s.sourceTpsSelect > 0 && s.sourceTpsReadWrite > 0, "source TPS");
        for (Method m : Method.values()) {
            Results.Row row = s.rows.get(m);
            assertNotNull(row, m + " not measured");
            assertNull(row.extrapolated(), m + ": nothing may be extrapolated at 50 MB");
            assertTrue(row.createSeconds() > 0 && row.parallelSeconds() > 0, m + " times: " + row);
            if (m.hasServer()) {
                assertTrue(row.tpsSelect() > 0 && row.tpsReadWrite() > 0, m + " TPS: " + row);
            }
            if (m.fullCopy()) {
                assertTrue(row.perCopyBytes() > s.databaseBytes / 2, m + " copies the data: " + row);
                assertTrue(row.parallelBytes() > 2 * row.perCopyBytes(), m + " three copies: " + row);
            } else {
                // the source: the whole cluster on its volume, which is what a clone copies
                assertTrue(row.perCopyBytes() >= 0 && row.perCopyBytes() < s.sourcePoolBytes / 100,
                        m + " adds " + row.perCopyBytes() + " B, not < 1 % of the source's " + s.sourcePoolBytes);
                assertTrue(row.parallelBytes() >= 0 && row.parallelBytes() < 3 * (s.sourcePoolBytes / 100),
                        m + " three copies add " + row.parallelBytes() + " B");
            }
        }

        String text = Files.readString(report);
        assertTrue(text.contains(OTHER), "the other sections stay:\n" + text);
        assertTrue(text.contains(OTHER.replace("Some other", "Another")), "the sections after it stay:\n" + text);
        assertFalse(text.contains("stale text"), "the old compare section is replaced");
        assertEquals(text.indexOf(Report.HEADING), text.lastIndexOf(Report.HEADING), "one compare section");
        for (String row : Report.ROWS) {
            String title = row.replace("N simultaneous", "3 simultaneous");
            String line = text.lines().filter(l -> l.startsWith("| " + title + " |")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row '" + title + "' in:\n" + text));
            String[] cells = line.split("(?<!\\\\)\\|");
            // leading empty, title, one cell per method
            assertEquals(Method.values().length + 2, cells.length, line);
            for (int i = 2; i < cells.length; i++) {
                String c = cells[i].strip();
                assertFalse(c.isEmpty() || c.contains("not measured"), "empty cell " + i + " in: " + line);
            }
        }

        byte[] pngMagic = {(byte) 0x89, 'P', 'N', 'G'};
        for (String png : List.of("compare-time.png", "compare-storage.png")) {
            byte[] b = Files.readAllBytes(charts.resolve(png));
            assertTrue(b.length > 5000, png + " is " + b.length + " bytes");
            assertArrayEquals(pngMagic, Arrays.copyOf(b, 4), png + " is not a PNG");
        }
    }
}
