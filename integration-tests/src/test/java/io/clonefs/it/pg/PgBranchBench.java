package io.clonefs.it.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clonefs.api.PgApi;
import io.clonefs.it.support.Proc;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Time from a branch request to the first answered query, for pgbench sources of several sizes:
 * {@code mvn -pl integration-tests -am test -Dtest=PgBranchBench -Dsurefire.failIfNoSpecifiedTests=false
 * -Dclonefs.bench.pg=true [-Dclonefs.bench.pg.scales=7,70] [-Dclonefs.bench.pg.branches=20]}.
 * Each source is loaded ({@code pgbench -i}), then written to for a few seconds, so that a branch
 * has WAL to replay; while a light pgbench load keeps running on it, {@code branches} branches
 * are made (and destroyed) one after another, with and without {@code CHECKPOINT} first.
 * Prints p50/p95/p99 and the breakdown of the median branch. Not a pass/fail test.
 */
@EnabledIfSystemProperty(named = "clonefs.bench.pg", matches = "true")
class PgBranchBench {
    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void branchToFirstQuery() throws Exception {
        int branches = Integer.getInteger("clonefs.bench.pg.branches", 20);
        List<String> report = new ArrayList<>();
        for (String s : System.getProperty("clonefs.bench.pg.scales", "7,70").split(",")) {
            int scale = Integer.parseInt(s.trim());
            h = PgHarness.start("pgbench" + scale);
            PgManager pg = h.pg();
            int port = pg.init("src", null).port();
            long t0 = System.nanoTime();
            PgHarness.tool(port, Duration.ofHours(2), "pgbench", "-i", "-s", Integer.toString(scale), "-q", "postgres").check();
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            String size = PgHarness.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            PgHarness.tool(port, Duration.ofMinutes(5), "pgbench", "-c", "4", "-j", "2", "-T", "5", "postgres").check();
            Path log = h.ws().postgresDir("bench").resolve("pgbench.log");
            Process load = Proc.start(Proc.asPostgres(PgHarness.toolCommand(port, "pgbench", "-c", "2", "-j", "1",
                    "-R", "200", "-T", "3600", "-n", "postgres")), log);
            try {
                for (boolean checkpoint : new boolean[] {false, true}) {
                    List<PgApi.Timings> runs = new ArrayList<>();
                    for (int i = 0; i < branches; i++) {
                        PgApi.Branched b = pg.branch(BranchSpec.of("src", "b" + i).withCheckpoint(checkpoint));
                        assertEquals("1", PgHarness.query(b.port(), "select 1"));
                        runs.add(b.millis());
                        pg.destroy("b" + i);
                    }
                    report.add(summary(scale, size, checkpoint, runs));
                    System.out.println(report.get(report.size() - 1));
                }
            } finally {
                load.destroy();
                load.waitFor();
            }
            report.add(String.format(Locale.ROOT, "scale %d: pgbench -i took %d ms", scale, loadMs));
            h.close();
            h = null;
        }
        System.out.println("---- branch to first answered query ----");
        report.forEach(System.out::println);
    }

    private static String summary(int scale, String size, boolean checkpoint, List<PgApi.Timings> runs) {
        List<PgApi.Timings> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Long.compare(a.total(), b.total()));
        List<Long> totals = new ArrayList<>(sorted.stream().map(PgApi.Timings::total).toList());
        Collections.sort(totals);
        PgApi.Timings med = sorted.get(sorted.size() / 2);
        return String.format(Locale.ROOT, "scale %d (%s)%s: n=%d p50=%d ms p95=%d ms p99=%d ms max=%d ms; median run: %s",
                scale, size, checkpoint ? " with CHECKPOINT" : "", runs.size(), pct(totals, 50), pct(totals, 95),
                pct(totals, 99), totals.get(totals.size() - 1), med);
    }

    private static long pct(List<Long> sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
