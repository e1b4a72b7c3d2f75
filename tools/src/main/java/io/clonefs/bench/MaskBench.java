package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code clonefs pg mask} costs, and what its {@code --verify} costs per GB, on pgbench
 * sources of the sizes {@code bench.mask.scales} (default 70 and 210: about 1 and 3 GB) that also
 * hold a {@code customers} table of personal data ({@code bench.mask.customers} rows, default
 * 200000), through the CLI and daemon as a user runs it.
 *
 * <p>Per size: a fresh pool, {@code pg init src}, {@code pgbench -i}, the customers table; then
 * {@code bench.mask.runs} masks (default 3) with the rules of {@code docs/walkthroughs/masking.rules},
 * each after the kernel's page cache was dropped (the verification reads every file of the masked
 * copy, most of them shared with the source, from the disk), each masked copy destroyed before the
 * next. Medians of the command's wall time and of the daemon's breakdown; the verification's rate
 * is the bytes it read over its time. Rewrites its section of {@code bench.report}.
 */
public final class MaskBench {
    static final String BEGIN = "<!-- bench-mask:begin (written by make bench-mask) -->";
    static final String END = "<!-- bench-mask:end -->";

    private final List<Integer> scales = parseScales(System.getProperty("bench.mask.scales", "70,210"));
    private final int customers = Integer.getInteger("bench.mask.customers", 200_000);
    private final int runs = Integer.getInteger("bench.mask.runs", 3);
    private final Path dir = Path.of(System.getProperty("bench.mask.dir", "/var/tmp"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final Path rules = Path.of(System.getProperty("bench.mask.rules", "docs/walkthroughs/masking.rules")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");

    public static void main(String[] args) throws Exception {
        new MaskBench().run();
    }

    private static List<Integer> parseScales(String s) {
        List<Integer> out = new ArrayList<>();
        for (String x : s.split(",")) {
            out.add(Integer.parseInt(x.strip()));
        }
        return out;
    }

    private static void log(String s) {
        System.out.println("[bench-mask " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    /** One size's medians. */
    private record Row(int scale, String size, long dbBytes, double wall, double branch, double sample, double maskMs,
                       double rewrite, double stop, double verify, double verifiedBytes, long files, List<Double> walls) {
    }

    void run() throws Exception {
        Class.forName("org.postgresql.Driver");
        String load = BenchSupport.run("cat", "/proc/loadavg");
        List<Row> rows = new ArrayList<>();
        for (int scale : scales) {
            rows.add(size(scale));
        }
        StringBuilder t = new StringBuilder();
        t.append("| pgbench scale | database | `pg mask` wall, median (runs) | branch | sample | UPDATE | rewrite "
                + "(`VACUUM FULL`) | stop + `pg_resetwal` | verify: read, time | verify per GB |\n");
        t.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            double gb = r.verifiedBytes() / (1L << 30);
            t.append(String.format(Locale.ROOT, "| %d | %s | %.1f s %s | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s | "
                            + "%s in %d files, %.1f s (%.0f MiB/s) | %.1f s |%n", r.scale(), r.size(), r.wall() / 1000,
                    fmt(r.walls()), r.branch() / 1000, r.sample() / 1000, r.maskMs() / 1000, r.rewrite() / 1000,
                    r.stop() / 1000, BenchSupport.bytes((long) r.verifiedBytes()), r.files(), r.verify() / 1000,
                    r.verifiedBytes() / (1 << 20) / (r.verify() / 1000), r.verify() / 1000 / gb));
        }
        String table = t.toString();
        System.out.println(table);
        if (report != null && !report.isEmpty()) {
            StringBuilder s = new StringBuilder();
            s.append(BEGIN).append('\n').append("## What a masked copy costs (`make bench-mask`)\n\n");
            s.append("Run ").append(Instant.now().toString(), 0, 16).append(" UTC: `clonefs pg mask src --rules "
                    + "docs/walkthroughs/masking.rules --into mN --json` through the CLI and the daemon, on pgbench sources "
                    + "that also hold a `customers` table of ").append(customers).append(" rows (5 personal columns, "
                    + "masked by the rules: one UPDATE, one `VACUUM FULL`), ").append(runs).append(" runs per size, each "
                    + "after the page cache was dropped, each copy destroyed before the next; medians of the wall time and "
                    + "of the daemon's breakdown (`millis`). *verify* reads every file of the masked snapshot through the "
                    + "mount (most blocks shared with the source, read from the disk) and searches it for the sampled "
                    + "original values (1000 per text column, 4 columns). Load average at the start: ").append(
                            load == null ? "?" : load.strip()).append(".\n\nMachine:\n\n").append(BenchSupport.machine(dir))
                    .append('\n').append(table).append(END).append('\n');
            BenchSupport.replaceSection(Path.of(report), BEGIN, END, s);
            log("wrote its section of " + report);
        }
    }

    private Row size(int scale) throws Exception {
        List<Double> walls = new ArrayList<>();
        Map<String, List<Double>> parts = new HashMap<>();
        List<Double> bytes = new ArrayList<>();
        long files = 0;
        String size;
        long dbBytes;
        try (BenchPool p = BenchPool.mount(dir, "clonefs-mask-bench-", launcher, 47400, 20, 20, MaskBench::log)) {
            int port = p.initSource("src");
            log("loading pgbench -i -s " + scale + " and " + customers + " customers");
            PgProc.runAsPostgres(Duration.ofMinutes(60),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres")).check();
            BranchBench.execute(port, """
                    CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE,
                        phone text, birth_date date, iban text);
                    INSERT INTO customers
                    SELECT g, (ARRAY['Anna','Lukas','Mia','Elias','Emma','Noah','Sofia','Leon'])[1 + g % 8] || ' '
                              || (ARRAY['Schmidt','Mueller','Schneider','Fischer','Weber','Meyer','Wagner'])[1 + g % 7] || ' ' || g,
                           'person' || g || '.' || md5(g::text) || '@mail.example.com',
                           '+49 151 ' || lpad((g * 7919 % 10000000)::text, 7, '0'),
                           date '1950-01-01' + (g * 37 % 18000)::int,
                           'DE' || lpad((g * 104729 % 100)::text, 2, '0') || lpad((g * 15485863 % 1000000000)::text, 18, '0')
                    FROM generate_series(1::bigint, CUSTOMERS) g;
                    ANALYZE customers;
                    CHECKPOINT""".replace("CUSTOMERS", Integer.toString(customers)));
            size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            dbBytes = Long.parseLong(BranchBench.query(port, "select pg_database_size('postgres')"));
            for (int r = 0; r < runs; r++) {
                if (!BenchSupport.dropCaches()) {
                    log("cannot drop the page cache (not root?): the reads come from memory");
                }
                long t = System.nanoTime();
                JsonNode rep = BranchBench.json(p.cli("pg", "mask", "src", "--rules", rules.toString(), "--into", "m" + r,
                        "--json").check().output());
                walls.add((System.nanoTime() - t) / 1e6);
                if (!"masked".equals(rep.get("verdict").asText())) {
                    throw new IllegalStateException("the mask failed its verification: " + rep);
                }
                JsonNode ms = rep.get("millis");
                for (String k : List.of("branch", "sample", "mask", "rewrite", "stop", "verify")) {
                    parts.computeIfAbsent(k, x -> new ArrayList<>()).add(ms.get(k).asDouble());
                }
                bytes.add(rep.get("verify").get("bytes").asDouble());
                files = rep.get("verify").get("files").asLong();
                log(String.format(Locale.ROOT, "scale %d run %d: %.1f s, verify %.1f s over %s", scale, r + 1,
                        walls.get(r) / 1000, ms.get("verify").asDouble() / 1000,
                        BenchSupport.bytes(rep.get("verify").get("bytes").asLong())));
                p.cli("pg", "destroy", "m" + r).check();
            }
        }
        return new Row(scale, size, dbBytes, FastBench.median(walls), FastBench.median(parts.get("branch")),
                FastBench.median(parts.get("sample")), FastBench.median(parts.get("mask")),
                FastBench.median(parts.get("rewrite")), FastBench.median(parts.get("stop")),
                FastBench.median(parts.get("verify")), FastBench.median(bytes), files, walls);
    }

    private static String fmt(List<Double> v) {
        return v.stream().map(x -> String.format(Locale.ROOT, "%.1f", x / 1000)).toList().toString();
    }

}
