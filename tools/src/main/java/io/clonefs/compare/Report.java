package io.clonefs.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The Markdown of the comparison and its place in {@code BENCHMARKS.md}. */
public final class Report {
    public static final String HEADING = "## clonefs vs other ways to clone PostgreSQL (make compare)";
    static final String BEGIN = "<!-- compare:begin (written by make compare) -->";
    static final String END = "<!-- compare:end -->";

    /** The rows of the main table, in order. */
    public static final List<String> ROWS = List.of(
            "clone creation time (to first answered query)",
            "additional storage per clone",
            "N simultaneous clones: time",
            "N simultaneous clones: additional storage",
            "needs downtime (source idle or paused?)",
            "scales with size",
            "scriptable",
            "pgbench select-only TPS: copy (source)",
            "pgbench read-write TPS: copy (source)");

    private Report() {
    }

    /** The main table: rows as {@link #ROWS} (N replaced), one column per method, one line per size in each cell. */
    public static String table(Results r) {
        StringBuilder s = new StringBuilder("| |");
        for (Method m : Method.values()) {
            s.append(' ').append(m.markdownTitle()).append(" |");
        }
        s.append("\n|---|");
        s.append("---|".repeat(Method.values().length)).append('\n');
        for (String row : ROWS) {
            s.append("| ").append(row.replace("N simultaneous", r.parallel + " simultaneous")).append(" |");
            for (Method m : Method.values()) {
                s.append(' ').append(cell(r, row, m)).append(" |");
            }
            s.append('\n');
        }
        return s.toString();
    }

    private static String cell(Results r, String row, Method m) {
        return switch (ROWS.indexOf(row)) {
            case 0 -> perSize(r, m, (x) -> secs(x.createSeconds()));
            case 1 -> perSize(r, m, (x) -> bytes(x.perCopyBytes()));
            case 2 -> perSize(r, m, (x) -> (x.extrapolated() == null ? "" : "≈ ") + secs(x.parallelSeconds())
                    + (x.extrapolated() == null ? "" : " *(extrapolated)*"));
            case 3 -> perSize(r, m, (x) -> (x.extrapolated() == null ? "" : "≈ ") + bytes(x.parallelBytes())
                    + (x.extrapolated() == null ? "" : " *(extrapolated)*"));
            case 4 -> m.downtime();
            case 5 -> scales(r, m);
            case 6 -> m == Method.CLONEFS_BRANCH && !r.branchCommand
                    ? "yes: `clonefs clone` + remove postmaster.pid + `pg_ctl start` (what `clonefs pg branch` does in one "
                    + "command; not in the build measured)" : m.scriptable();
            case 7 -> m.hasServer() ? perSizeTps(r, m, true) : "no server (see clonefs branch)";
            case 8 -> m.hasServer() ? perSizeTps(r, m, false) : "no server (see clonefs branch)";
            default -> throw new IllegalArgumentException(row);
        };
    }

    private static String perSize(Results r, Method m, Function<Results.Row, String> f) {
        List<String> parts = new ArrayList<>();
        for (Results.Size s : r.sizes) {
            Results.Row row = s.rows.get(m);
            parts.add(s.label + ": " + (row == null ? "not measured" : f.apply(row)));
        }
        return String.join("<br>", parts);
    }

    private static String perSizeTps(Results r, Method m, boolean select) {
        List<String> parts = new ArrayList<>();
        for (Results.Size s : r.sizes) {
            Results.Row row = s.rows.get(m);
            double copy = row == null ? 0 : select ? row.tpsSelect() : row.tpsReadWrite();
            double src = select ? s.sourceTpsSelect : s.sourceTpsReadWrite;
            parts.add(String.format(Locale.ROOT, "%s: %.0f (%.0f)", s.label, copy, src));
        }
        return String.join("<br>", parts);
    }

    private static String scales(Results r, Method m) {
        if (r.sizes.size() < 2) {
            return "one size measured";
        }
        Results.Size a = r.sizes.get(0);
        Results.Size b = r.sizes.get(r.sizes.size() - 1);
        Results.Row ra = a.rows.get(m);
        Results.Row rb = b.rows.get(m);
        if (ra == null || rb == null) {
            return "not measured";
        }
        double data = (double) b.databaseBytes / a.databaseBytes;
        double time = rb.createSeconds() / ra.createSeconds();
        double space = ra.perCopyBytes() <= 0 ? Double.NaN : (double) rb.perCopyBytes() / ra.perCopyBytes();
        String verdict = time < 2 ? "no" : "yes";
        return String.format(Locale.ROOT, "%s: %s → %s, data ×%.0f, time ×%.1f%s", verdict, a.label, b.label, data, time,
                Double.isNaN(space) ? "" : String.format(Locale.ROOT, ", storage ×%.1f", space));
    }

    /** The whole section, markers included. */
    public static String section(Results r, String machine, Path chartsRel) {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n').append(HEADING).append("\n\n");
        s.append("Written by `make compare` (`scripts/compare.sh`, `io.clonefs.compare.Compare`) on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(String.format(Locale.ROOT, "; the run took %.1f min. One run, nothing typed by hand. ",
                        r.totalSeconds / 60))
                .append("Source sizes (pgbench scale → database size): ");
        List<String> sz = new ArrayList<>();
        for (Results.Size x : r.sizes) {
            sz.add(String.format(Locale.ROOT, "%s (scale %d → database %s, whole cluster on the pool %s; `pgbench -i` "
                    + "took %.0f s; this size measured in %.1f min)", x.label, x.scale, bytes(x.databaseBytes), bytes(x.sourcePoolBytes),
                    x.initSeconds, x.sizeSeconds / 60));
        }
        s.append(String.join(", ", sz)).append(". Each cell lists the sizes in that order; TPS cells read ")
                .append("\"copy (source)\".\n\n");
        s.append(table(r)).append('\n');
        if (chartsRel != null) {
            s.append("![clone time vs source size](").append(chartsRel.resolve("compare-time.png")).append(")\n")
                    .append("![additional storage vs number of clones](")
                    .append(chartsRel.resolve("compare-storage.png")).append(")\n\n");
        }
        s.append("### Details (per size and method)\n\n");
        s.append("| size | method | time to a usable copy | storage per copy | ").append(r.parallel)
                .append(" at once: time | ").append(r.parallel).append(" at once: storage | TPS select-only copy / source"
                        + " | TPS read-write copy / source | what was timed |\n");
        s.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Results.Size x : r.sizes) {
            for (Results.Row row : x.rows.values()) {
                String mark = row.extrapolated() == null ? "" : "≈ ";
                s.append("| ").append(x.label).append(" | ").append(row.method().markdownTitle()).append(" | ")
                        .append(secs(row.createSeconds())).append(" | ").append(bytes(row.perCopyBytes())).append(" | ")
                        .append(mark).append(secs(row.parallelSeconds())).append(" | ")
                        .append(mark).append(bytes(row.parallelBytes())).append(" | ")
                        .append(row.method().hasServer() ? String.format(Locale.ROOT, "%.0f / %.0f", row.tpsSelect(),
                                x.sourceTpsSelect) : "–").append(" | ")
                        .append(row.method().hasServer() ? String.format(Locale.ROOT, "%.0f / %.0f", row.tpsReadWrite(),
                                x.sourceTpsReadWrite) : "–").append(" | ")
                        .append(row.detail()).append(row.extrapolated() == null ? "" : "; " + r.parallel
                                + " at once: *" + row.extrapolated() + "*").append(" |\n");
            }
        }
        s.append("\n### How it was measured\n\n");
        s.append("- The source: `initdb --data-checksums` on a clonefs volume, `pgbench -i -s SCALE` into database "
                + "`bench`, then `CHECKPOINT`; it keeps running (autovacuum off, so that its own writes do not count as "
                + "a clone's storage) and serves every method.\n");
        s.append(r.branchCommand
                ? "- clonefs branch: `clonefs pg branch src NEW --json`, timed from the command's start to its return "
                + "(it returns when the branch answers a query), plus our own first query.\n"
                : "- clonefs branch: `clonefs pg branch` was not in this build, so the branch is what it does by hand: "
                + "`clonefs clone src NEW` (snapshot + clone via the CLI), remove `postmaster.pid`, `pg_ctl start -w` "
                + "on another port (PostgreSQL replays WAL: the snapshot is crash-consistent), first answered query.\n");
        s.append("- clonefs storage: the pool's `space --json` usedBytes after the copy answered minus before (after "
                + "background reclaim settled); it includes what PostgreSQL writes when it starts on the branch. "
                + "Timings of the `clonefs` commands include starting the CLI's JVM.\n");
        s.append("- pg_dump | pg_restore: `pg_dump -Fc` of the source, then `createdb` + `pg_restore -j ")
                .append("2` into a plain PostgreSQL 15 server on the local disk created by the program (not the source "
                        + "server, not clonefs). Time = dump + restore + first query; storage = `du` of the new "
                        + "database's `base/OID` directory (the dump file is extra, listed in the details). The "
                        + "simultaneous copies are one dump (its time counted once) and N restores at once.\n");
        s.append("- pg_basebackup: `pg_basebackup -X stream -c fast` from the source into a new directory on the local "
                + "disk, `pg_ctl start -w` on another port, first answered query; storage = `du` of the directory.\n");
        s.append("- CREATE DATABASE … TEMPLATE: `CREATE DATABASE tN TEMPLATE bench STRATEGY FILE_COPY` (PostgreSQL's "
                + "file copy; the default WAL_LOG strategy of PostgreSQL 15 writes everything twice) on the native "
                + "server started from the first pg_basebackup copy, so the copy is written to the local disk like the "
                + "other full copies; the template database must have no other session for the whole copy. Storage = "
                + "`du` of the new `base/OID`.\n");
        s.append("- Simultaneous copies: N threads start N copies at once; the time runs until the last one answers "
                + "its first query.");
        if (r.sizes.stream().anyMatch(x -> x.rows.values().stream().anyMatch(w -> w.extrapolated() != null))) {
            s.append(" Where marked *extrapolated* (≈), the N full copies were NOT made, to keep a default run within "
                    + "30 minutes and the disk: the time is one copy times the N-copies/one-copy ratio measured for "
                    + "that method at the largest size where they were made, the storage N times one copy.");
        }
        s.append('\n');
        s.append(String.format(Locale.ROOT, "- pgbench: `pgbench -n -c %d -j 2 -T %d` (read-write: the default "
                + "TPC-B-like script; select-only: `-S`), on one copy of each method while the others are stopped, "
                + "then on the source; all on the same 2-core machine shared with other work, so timings drift.\n",
                r.clients, r.pgbenchSeconds));
        for (String n : r.notes) {
            s.append("- ").append(n).append('\n');
        }
        s.append("\n### Machine\n\n").append(machine).append('\n').append(END).append('\n');
        return s.toString();
    }

    /** Replaces the section in {@code file} (between the markers, or from the heading to the next section), re-reading the file just before. */
    public static void writeSection(Path file, String section) throws IOException {
        String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8)
                : "# Benchmarks\n\nEach section below is written by the command in its title, from one real run on "
                + "the machine it describes. Nothing here is typed by hand.\n\n";
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b >= 0 && e > b) {
            int after = e + END.length();
            if (text.startsWith("\n", after)) {
                after++;
            }
            text = text.substring(0, b) + section + text.substring(after);
        } else if (text.contains(HEADING)) {
            int h = text.indexOf(HEADING);
            int next = nextSection(text, h + HEADING.length());
            text = text.substring(0, h) + section + (next < 0 ? "" : "\n" + text.substring(next));
        } else {
            text = text + (text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static int nextSection(String text, int from) {
        int best = -1;
        for (String marker : List.of("\n## ", "\n<!-- ")) {
            int i = text.indexOf(marker, from);
            if (i >= 0 && (best < 0 || i + 1 < best)) {
                best = i + 1;
            }
        }
        return best;
    }

    static String secs(double s) {
        if (s < 10) {
            return String.format(Locale.ROOT, "%.2f s", s);
        }
        if (s < 120) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        return String.format(Locale.ROOT, "%.0f s (%.1f min)", s, s / 60);
    }

    public static String bytes(long n) {
        double v = Math.abs(n);
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (n < 0 ? "-" : "") + (u == 0 ? (long) v + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]));
    }

    /** Cores, memory, the disk under {@code dir}, kernel, PostgreSQL, Java. */
    static String machine(Path dir) {
        StringBuilder s = new StringBuilder();
        String cpu = firstField(read(Path.of("/proc/cpuinfo")), "model name");
        s.append("- CPUs: ").append(Runtime.getRuntime().availableProcessors()).append(cpu == null ? "" : " × " + cpu)
                .append('\n');
        String mem = firstField(read(Path.of("/proc/meminfo")), "MemTotal");
        if (mem != null) {
            s.append("- memory: ").append(bytes(Long.parseLong(mem.replaceAll("[^0-9]", "")) * 1024)).append('\n');
        }
        String df = out("df", "-h", "--output=source,fstype,size,avail", dir.toString());
        if (df != null) {
            String[] l = df.strip().split("\n");
            s.append("- disk of the work directory (`df -h`: source, type, size, available): `")
                    .append(l[l.length - 1].trim().replaceAll("\\s+", " ")).append("`\n");
        }
        String lsblk = out("lsblk", "-d", "-n", "-o", "NAME,SIZE,ROTA,MODEL");
        if (lsblk != null && !lsblk.isBlank()) {
            s.append("- disks (`lsblk -d -o NAME,SIZE,ROTA,MODEL`): ").append(String.join("; ",
                    lsblk.strip().lines().map(x -> "`" + x.trim().replaceAll("\\s+", " ") + "`").toList())).append('\n');
        }
        String uname = out("uname", "-sr");
        s.append("- kernel: ").append(uname == null ? "?" : uname.trim()).append('\n');
        String pg = out("/usr/lib/postgresql/15/bin/postgres", "--version");
        s.append("- PostgreSQL: ").append(pg == null ? "?" : pg.trim()).append("; java: ")
                .append(System.getProperty("java.runtime.version")).append('\n');
        return s.toString();
    }

    private static String out(String... cmd) {
        try {
            Sh.Result r = Sh.run(Duration.ofSeconds(30), cmd);
            return r.ok() ? r.out() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return null;
        }
    }

    private static String firstField(String text, String key) {
        return text == null ? null : text.lines().filter(l -> l.startsWith(key))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(null);
    }
}
