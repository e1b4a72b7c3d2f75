package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A clone of a volume taken while pgbench runs on it is a crash-consistent PostgreSQL cluster:
 * a second server recovers on it, pg_amcheck is clean, pgbench's invariants hold, writes on either
 * side stay on that side; destroying the clone while the source runs gives its space back.
 */
class PgCloneIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("pgclone").build();

    @Test
    void cloneOfARunningDatabaseUnderPgbench() throws Exception {
        Workspace ws = pools.ws();
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        cfs.ok("create", "pg");
        Path source = mnt.resolve("pg");
        Workspace.chownPostgres(source);
        PgServer.initdb(source);

        // autovacuum off: the space check at the end must not see the idle source rewrite pages
        PgServer src = new PgServer(ws, "source", source);
        src.start("autovacuum=off");
        src.tool(Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
        src.execute("create table marker(id bigserial primary key, side text not null, pad text)");

        Path benchLog = ws.postgresDir("bench").resolve("pgbench.log");
        Process bench = src.toolInBackground(benchLog, "pgbench", "-c", "4", "-j", "2", "-T", "20", "postgres");
        Proc.sleep(6000);
        assertTrue(bench.isAlive(), "pgbench ended early: " + Files.readString(benchLog));

        long t0 = System.nanoTime();
        JsonNode cloned = cfs.json("clone", "pg", "pgclone");
        long cliMillis = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("clone under pgbench: %.1f ms in the daemon, %d ms for the whole CLI command%n",
                cloned.get("elapsedMicros").asLong() / 1000.0, cliMillis);
        assertTrue(cloned.get("snapshotCreated").asBoolean());
        assertTrue(bench.isAlive(), "pgbench should still be running during the clone");

        // a second server on the clone, while pgbench still runs on the source
        Path clone = mnt.resolve("pgclone");
        Files.delete(clone.resolve("postmaster.pid"));
        PgServer cln = new PgServer(ws, "clone", clone);
        long r0 = System.nanoTime();
        cln.start("autovacuum=off");
        System.out.printf("clone server up (crash recovery) in %d ms%n", (System.nanoTime() - r0) / 1_000_000);
        String log = cln.log();
        assertTrue(log.contains("database system was interrupted") || log.contains("not properly shut down"),
                "expected crash recovery on the clone:\n" + log);
        assertTrue(log.contains("database system is ready to accept connections"), log);

        assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "pgbench did not finish");
        String benchOut = Files.readString(benchLog);
        assertEquals(0, bench.exitValue(), benchOut);
        System.out.println("pgbench on the source: " + benchOut.lines()
                .filter(l -> l.startsWith("tps") || l.contains("processed")).reduce("", (a, b) -> a + b.strip() + "; "));

        Proc.Result amcheck = cln.tool(Duration.ofMinutes(10), "pg_amcheck", "--all", "--install-missing",
                "--heapallindexed");
        assertEquals(0, amcheck.exit(), "pg_amcheck on the clone: " + amcheck.describe());

        long history = Long.parseLong(cln.query("select count(*) from pgbench_history"));
        assertTrue(history > 0, "the clone should hold transactions pgbench made before the clone");
        assertInvariants(cln);
        assertInvariants(src);
        assertTrue(Long.parseLong(src.query("select count(*) from pgbench_history")) > history,
                "the source went on after the clone");

        // isolation, both ways, on a table both sides have and on tables only one side has
        try (Connection c = cln.connect(); Statement st = c.createStatement()) {
            st.execute("insert into marker(side, pad) select 'clone', repeat(md5(g::text), 30) from generate_series(1, 40000) g");
            st.execute("create table clone_only as select 1 as x");
            st.execute("checkpoint");
        }
        src.execute("insert into marker(side, pad) select 'source', 'x' from generate_series(1, 100)");
        src.execute("create table source_only as select 1 as x");
        assertEquals("0", src.query("select count(*) from marker where side = 'clone'"));
        assertEquals("100", src.query("select count(*) from marker where side = 'source'"));
        assertNull(src.query("select to_regclass('clone_only')"));
        assertEquals("0", cln.query("select count(*) from marker where side = 'source'"));
        assertEquals("40000", cln.query("select count(*) from marker where side = 'clone'"));
        assertNull(cln.query("select to_regclass('source_only')"));

        // destroy the clone while the source runs: fsck clean, and its blocks come back
        cln.stop();
        src.execute("checkpoint");
        long unique = uniqueBytes(cfs, "pgclone");
        JsonNode before = cfs.json("space");
        int blockSize = before.get("blockSize").asInt();
        assertTrue(unique > 10L << 20, "the clone should own more than 10 MiB after its writes, owns " + unique);
        long d0 = System.nanoTime();
        cfs.ok("destroy", "pgclone");
        System.out.printf("destroy of a clone owning %d MiB: %d ms (CLI)%n", unique >> 20, (System.nanoTime() - d0) / 1_000_000);
        assertTrue(src.running());
        assertEquals("100", src.query("select count(*) from marker where side = 'source'"));
        Proc.Result fsck = cfs.run("fsck");
        assertEquals(0, fsck.exit(), fsck.describe());

        long expectFreed = unique / blockSize;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long freed;
        JsonNode now;
        do {
            Proc.sleep(1000);
            now = cfs.json("space");
            freed = before.get("blocksInUse").asLong() - now.get("blocksInUse").asLong();
        } while (freed < expectFreed * 9 / 10 && System.nanoTime() < deadline);
        System.out.printf("blocks in use %d -> %d (clone owned %d)%n", before.get("blocksInUse").asLong(),
                now.get("blocksInUse").asLong(), expectFreed);
        assertTrue(freed >= expectFreed * 9 / 10, "only " + freed + " of the clone's " + expectFreed
                + " blocks came back within 60 s: " + now);
        fsck = cfs.run("fsck");
        assertEquals(0, fsck.exit(), fsck.describe());
        assertInvariants(src);
    }

    private static long uniqueBytes(Clonefs cfs, String volume) {
        for (JsonNode v : cfs.json("list").get("volumes")) {
            if (v.get("name").asText().equals(volume)) {
                return v.get("uniqueBytes").asLong();
            }
        }
        throw new AssertionError("no volume " + volume);
    }

    /** pgbench's bookkeeping: every balance is the sum of the history deltas that touched it. */
    private static void assertInvariants(PgServer pg) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            long history = sum(st, "select coalesce(sum(delta), 0) from pgbench_history");
            assertEquals(history, sum(st, "select coalesce(sum(abalance), 0) from pgbench_accounts"), "accounts");
            assertEquals(history, sum(st, "select coalesce(sum(tbalance), 0) from pgbench_tellers"), "tellers");
            assertEquals(history, sum(st, "select coalesce(sum(bbalance), 0) from pgbench_branches"), "branches");
        }
    }

    private static long sum(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
