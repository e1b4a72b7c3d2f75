package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.VolumeInfo;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.pg.Pgbench;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL branches ({@link PgManager}) on a real kernel mount, with PostgreSQL 15 and pgbench,
 * in-process (engine + mount + manager, as the daemon holds them).
 */
class PgBranchIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    /**
     * A source with {@code wal_recycle=off} (docs/cli.md advises it for a source branched often while
     * it writes) still overwrites its WAL in place after a branch: the segments it writes next are its
     * own, not recycled files its branch's snapshot shares. With recycling (PostgreSQL's default, and
     * the source's at first here) every WAL page it starts after a branch is a copy-on-write and that
     * commit's {@code fdatasync} a metadata commit.
     */
    @Test
    void aSourceWithoutWalRecyclingOverwritesItsOwnWalAfterABranch() throws Exception {
        h = PgHarness.start("pgwal");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        // WAL beyond a checkpoint: with recycling, the finished segments wait under future names
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
        PgHarness.execute(sp, "CHECKPOINT");
        long[] recycling = fsyncsOfTransactionsAfterABranch(pg, sp, "b1");
        System.out.println("1000 transactions on the source after a branch, recycling: " + recycling[0]
                + " fsyncs needed a metadata commit, " + recycling[1] + " a data sync");
        assertTrue(recycling[0] * 50 > recycling[0] + recycling[1], "with recycling the source's WAL writes after a "
                + "branch are copies-on-write: " + recycling[0] + " of " + (recycling[0] + recycling[1]));

        pg.limits("src", new PgApi.LimitsRequest(null, null, Map.of("wal_recycle", "off"), null));
        pg.stop("src");
        sp = pg.start("src").port();
        assertEquals("off", PgHarness.query(sp, "show wal_recycle"));
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
        PgHarness.execute(sp, "CHECKPOINT");
        long[] own = fsyncsOfTransactionsAfterABranch(pg, sp, "b2");
        System.out.println("the same without recycling: " + own[0] + " needed a metadata commit, " + own[1] + " a data sync");
        assertTrue(own[0] * 50 <= own[0] + own[1], own[0] + " of " + (own[0] + own[1])
                + " fsyncs needed a metadata commit: the source's WAL writes are copies-on-write");
    }

    /** Branches {@code src}, then counts the fsyncs of 1000 transactions on it in a new WAL segment: {commit, data}. */
    private static long[] fsyncsOfTransactionsAfterABranch(PgManager pg, int sp, String branch) throws Exception {
        pg.branch(BranchSpec.of("src", branch).withCheckpoint(true));
        PgHarness.query(sp, "select pg_switch_wal()");
        long commits = fsyncs("commit");
        long data = fsyncs("data");
        PgHarness.tool(sp, Duration.ofMinutes(5), "pgbench", "-c", "1", "-t", "1000", "-n", "postgres").check();
        commits = fsyncs("commit") - commits;
        data = fsyncs("data") - data;
        assertTrue(commits + data >= 1000, "every commit syncs the WAL: " + commits + " + " + data);
        return new long[] {commits, data};
    }

    private static long fsyncs(String needs) {
        return io.clonefs.metrics.Metrics.process().counter("clonefs_fsync_total", "", "needs", needs).sum();
    }

    @Test
    void branchWhilePgbenchWrites() throws Exception {
        h = PgHarness.start("pgbranch");
        PgManager pg = h.pg();
        PgApi.Server src = pg.init("src", null);
        assertEquals("running", src.state());
        assertEquals(PgManager.uri(src.port()), src.uri());
        assertTrue(PgServer.BIN.resolve("pgbench").toFile().canExecute());
        int sp = src.port();
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
        Pgbench.Sums base = Pgbench.sums(sp);
        assertEquals(0, base.historyRows());

        Path benchLog = h.ws().postgresDir("bench").resolve("pgbench.log");
        Process bench = Proc.start(Proc.asPostgres(PgHarness.toolCommand(sp, "pgbench", "-c", "4", "-j", "2", "-T", "16",
                "-P", "1", "postgres")), benchLog);
        PgApi.Branched b;
        try {
            Proc.sleep(6000);
            assertTrue(bench.isAlive(), "pgbench ended early: " + Files.readString(benchLog));
            b = pg.branch(BranchSpec.of("src", "b1").withCheckpoint(true));
            System.out.println("branch under pgbench: " + b.millis());
            assertTrue(bench.isAlive(), "pgbench must still run after the branch");
            assertEquals("1", PgHarness.query(b.port(), "select 1"));
            assertEquals(PgManager.uri(b.port()), b.uri());
            assertNotEquals(sp, b.port());
            assertTrue(b.snapshotCreated());
            assertTrue(b.snapshot().startsWith("src@" + PgManager.BRANCH_SNAPSHOT_PREFIX), b.snapshot());

            Pgbench.Sums onBranch = Pgbench.assertInvariant(b.port(), base, "branch");
            assertTrue(onBranch.historyRows() > 0, "the branch holds transactions made before it");
            assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "pgbench did not finish");
        } finally {
            if (bench.isAlive()) {
                bench.destroyForcibly();
            }
        }
        String out = Files.readString(benchLog);
        assertEquals(0, bench.exitValue(), out);
        List<double[]> tps = Pgbench.progress(out);
        System.out.println("source tps per second: " + tps.stream().map(p -> String.format("%.0f", p[1]))
                .collect(Collectors.joining(" ")));
        assertTrue(tps.size() >= 12, out);
        for (double[] p : tps) {
            assertTrue(p[1] > 0, "the source stalled for a whole second at " + p[0] + " s: " + out);
        }
        Pgbench.Sums onSource = Pgbench.assertInvariant(sp, base, "source");
        Pgbench.Sums onBranch = Pgbench.assertInvariant(pg.get("b1").port(), base, "branch after the run");
        assertTrue(onSource.historyRows() > onBranch.historyRows(), "the source went on after the branch");

        // isolation both ways
        int bp = pg.get("b1").port();
        PgHarness.execute(bp, "create table branch_only as select 1 as x");
        PgHarness.execute(bp, "update pgbench_accounts set abalance = abalance + 1 where aid = 1");
        assertNull(PgHarness.query(sp, "select to_regclass('branch_only')"));
        PgHarness.execute(sp, "create table source_only as select 1 as x");
        assertNull(PgHarness.query(bp, "select to_regclass('source_only')"));

        // list: both running, the branch knows its source and snapshot and owns some bytes now
        Map<String, PgApi.Server> list = byName(pg.list());
        assertEquals("running", list.get("src").state());
        assertEquals("source", list.get("src").role());
        PgApi.Server b1 = list.get("b1");
        assertEquals("running", b1.state());
        assertEquals("branch", b1.role());
        assertEquals("src", b1.source());
        assertTrue(b1.uniqueBytes() > 0, "the branch wrote, so it owns blocks: " + b1);

        // time to first answered query, a few more branches of the idle source
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            PgApi.Branched x = pg.branch(BranchSpec.of("src", "t" + i));
            times.add(x.millis().total());
            assertEquals("1", PgHarness.query(x.port(), "select 1"));
        }
        Collections.sort(times);
        System.out.println("branch to first answered query (ms, sorted): " + times);
        for (int i = 0; i < 5; i++) {
            pg.destroy("t" + i);
        }
        PgApi.Destroyed d = pg.destroy("b1");
        assertEquals(b.snapshot(), d.snapshotDestroyed());
        assertTrue(snapshots(h, "src").isEmpty(), "snapshots made for branches go with them: " + snapshots(h, "src"));
        assertEquals(List.of("src"), volumes(h));
        assertEquals(List.of("src"), names(pg.list()));
        assertFalse(Files.exists(h.pool().resolve("pg/log/b1.log")));
        Pgbench.assertInvariant(sp, base, "source at the end");
    }

    @Test
    void resetBringsABranchBackToItsSnapshot() throws Exception {
        h = PgHarness.start("pgreset");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t(id int primary key, v text); insert into t values (1, 'source')");
        PgApi.Branched b = pg.branch(BranchSpec.of("src", "dev"));
        PgHarness.execute(b.port(), "insert into t select g, 'dev' from generate_series(2, 1000) g");
        PgHarness.execute(b.port(), "create table scratch as select 1 as x");
        PgHarness.execute(sp, "insert into t values (5000, 'after the branch')");
        assertEquals("1000", PgHarness.query(b.port(), "select count(*) from t"));

        PgApi.Branched r = pg.reset("dev");
        System.out.println("reset: " + r.millis());
        assertEquals(b.port(), r.port());
        assertEquals(b.snapshot(), r.snapshot());
        assertEquals("1", PgHarness.query(r.port(), "select count(*) from t"));
        assertNull(PgHarness.query(r.port(), "select to_regclass('scratch')"));
        assertEquals("running", pg.get("dev").state());
        // still a working branch, writable, and the source untouched
        PgHarness.execute(r.port(), "insert into t values (2, 'dev again')");
        assertEquals("2", PgHarness.query(sp, "select count(*) from t"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.reset("src"));
        assertThrows(ClonefsException.NotFound.class, () -> pg.reset("nosuch"));
    }

    @Test
    void ttlExpiryAndProtection() throws Exception {
        h = PgHarness.start("pgttl");
        PgManager pg = h.pg();
        pg.init("src", null);
        PgApi.Branched shortLived = pg.branch(BranchSpec.of("src", "short").withTtl(Duration.ofSeconds(2)));
        assertTrue(shortLived.expiresAt() != null);
        PgApi.Branched kept = pg.branch(BranchSpec.of("src", "kept").withTtl(Duration.ofSeconds(1)).withProtect(true));
        PgApi.Branched plain = pg.branch(BranchSpec.of("src", "plain"));
        assertTrue(pg.get("kept").protect());

        awaitGone(pg, "short", Duration.ofSeconds(30));
        assertFalse(volumes(h).contains("short"), "the expired branch's volume is destroyed");
        assertFalse(PgManagerProbe.portAnswers(shortLived.port()), "the expired branch's server is stopped");
        // the protected one outlived its TTL
        Proc.sleep(1000);
        assertEquals("running", pg.get("kept").state());
        PgException.Protected refused = assertThrows(PgException.Protected.class, () -> pg.destroy("kept"));
        assertTrue(refused.getMessage().contains("unprotect"), refused.getMessage());
        assertEquals("1", PgHarness.query(kept.port(), "select 1"));

        pg.protect("kept", false);
        awaitGone(pg, "kept", Duration.ofSeconds(30));
        assertEquals("running", pg.get("plain").state());
        assertEquals("1", PgHarness.query(plain.port(), "select 1"));
        // protection also guards a source
        pg.protect("src", true);
        assertThrows(PgException.Protected.class, () -> pg.destroy("src"));
        pg.protect("src", false);
        // a source with branches is not destroyed
        ClonefsException.Conflict c = assertThrows(ClonefsException.Conflict.class, () -> pg.destroy("src"));
        assertTrue(c.getMessage().contains("plain"), c.getMessage());
        pg.destroy("plain");
        pg.destroy("src");
        assertTrue(volumes(h).isEmpty(), "everything destroyed: " + volumes(h));
        assertTrue(h.engine().snapshots().isEmpty());
        assertTrue(pg.list().isEmpty());
    }

    @Test
    void branchesComeBackAfterARestart() throws Exception {
        h = PgHarness.start("pgrestart");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t(id int)");
        PgApi.Branched b1 = pg.branch(BranchSpec.of("src", "b1"));
        PgApi.Branched b2 = pg.branch(BranchSpec.of("src", "b2"));
        PgHarness.execute(b1.port(), "insert into t values (1), (2), (3)");
        pg.stop("b2");
        assertEquals("stopped", pg.get("b2").state());
        JsonNode state = JSON.readTree(h.pool().resolve("pg/state.json").toFile());
        assertEquals(3, state.get("servers").size(), state.toString());

        h.restart();
        pg = h.pg();
        assertEquals("stopped", pg.get("b1").state(), "closing the manager stops its servers");
        List<PgApi.Restored> restored = pg.restoreAll();
        System.out.println("restored: " + restored);
        Map<String, String> outcome = restored.stream().collect(Collectors.toMap(PgApi.Restored::name, PgApi.Restored::outcome));
        assertEquals(Map.of("src", "started", "b1", "started"), outcome);
        assertEquals("running", pg.get("src").state());
        assertEquals("running", pg.get("b1").state());
        assertEquals("stopped", pg.get("b2").state(), "a server stopped by its user stays stopped");
        assertEquals(b1.port(), pg.get("b1").port());
        assertEquals("3", PgHarness.query(b1.port(), "select count(*) from t"));
        assertEquals("0", PgHarness.query(sp, "select count(*) from t"));
        // a stopped branch starts again on its port
        PgApi.Server s2 = pg.start("b2");
        assertEquals(b2.port(), s2.port());
        assertEquals("0", PgHarness.query(b2.port(), "select count(*) from t"));
    }

    @Test
    void importFollowFromAPlainDirectory() throws Exception {
        h = PgHarness.start("pgimport");
        Workspace ws = h.ws();
        Path primaryDir = ws.postgresDir("primary");
        PgServer.initdb(primaryDir);
        PgServer primary = new PgServer(ws, "primary", primaryDir);
        primary.start();
        primary.execute("create table t(id int primary key, v text)");
        primary.execute("insert into t select g, 'before' from generate_series(1, 10000) g");

        PgManager pg = h.pg();
        List<String> progress = new CopyOnWriteArrayList<>();
        PgApi.Server replica = pg.importFrom("replica", "host=127.0.0.1 port=" + primary.port() + " user=postgres", true,
                null, progress::add);
        System.out.println("import progress (last lines): " + progress.subList(Math.max(0, progress.size() - 4), progress.size()));
        assertTrue(progress.stream().anyMatch(l -> l.contains("kB")), "pg_basebackup progress: " + progress);
        assertTrue(pg.progress("replica").orElseThrow().done());
        assertTrue(replica.standby(), replica.toString());
        assertEquals("t", PgHarness.query(replica.port(), "select pg_is_in_recovery()"));
        assertEquals("10000", PgHarness.query(replica.port(), "select count(*) from t"));

        primary.execute("insert into t values (20000, 'after the import')");
        PgHarness.awaitValue(replica.port(), "select count(*) from t", "10001", Duration.ofSeconds(30));

        PgApi.Branched b = pg.branch(BranchSpec.of("replica", "br"));
        System.out.println("branch of a standby: " + b.millis());
        assertEquals("f", PgHarness.query(b.port(), "select pg_is_in_recovery()"), "the branch is promoted");
        assertEquals("10001", PgHarness.query(b.port(), "select count(*) from t"), "the branch sees the write");
        PgHarness.execute(b.port(), "insert into t values (30000, 'on the branch')");
        assertEquals("10002", PgHarness.query(b.port(), "select count(*) from t"));
        assertEquals(null, PgHarness.query(b.port(), "select setting from pg_settings where name = 'primary_conninfo' and setting <> ''"));

        // the standby keeps following, and never sees the branch's write
        primary.execute("insert into t values (40000, 'later')");
        PgHarness.awaitValue(replica.port(), "select count(*) from t", "10002", Duration.ofSeconds(30));
        assertEquals("0", PgHarness.query(replica.port(), "select count(*) from t where id = 30000"));
        assertEquals("t", PgHarness.query(replica.port(), "select pg_is_in_recovery()"));
        assertEquals("0", primary.query("select count(*) from t where id = 30000"));
        assertTrue(pg.get("replica").standby());

        // reset of a standby's branch: promoted again
        PgApi.Branched r = pg.reset("br");
        assertEquals("f", PgHarness.query(r.port(), "select pg_is_in_recovery()"));
        assertEquals("10001", PgHarness.query(r.port(), "select count(*) from t"));

        // a bad conninfo leaves nothing behind
        Map<String, Object> before = inventory(h);
        PgException.ToolFailed f = assertThrows(PgException.ToolFailed.class,
                () -> h.pg().importFrom("nothere", "host=127.0.0.1 port=1 user=postgres connect_timeout=3", false, null, null));
        assertTrue(f.getMessage().contains("pg_basebackup"), f.getMessage());
        assertEquals(before, inventory(h));
        pg.destroy("br");
        pg.destroy("replica");
    }

    @Test
    void scheduledSnapshotsAndBranchAtATime() throws Exception {
        h = PgHarness.start("pgsched");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t(id int)");
        Instant beforeAny = Instant.now();
        assertThrows(ClonefsException.NotFound.class, () -> pg.branch(BranchSpec.of("src", "old").withAt(beforeAny)));

        pg.schedule("src", Duration.ofSeconds(1), 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (scheduled(h, "src").size() < 2 && System.nanoTime() < deadline) {
            Proc.sleep(100);
        }
        PgHarness.execute(sp, "insert into t values (1)");
        Proc.sleep(200);
        Instant afterOne = Instant.now();
        // wait for one more scheduled snapshot, taken after the insert
        String newest = scheduled(h, "src").get(0);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (scheduled(h, "src").get(0).equals(newest) && System.nanoTime() < deadline) {
            Proc.sleep(100);
        }
        Proc.sleep(3500);
        List<String> kept = scheduled(h, "src");
        assertEquals(2, kept.size(), "retention keeps 2: " + kept);
        PgApi.Schedule sched = pg.schedules().get(0);
        assertEquals("1s", sched.every());
        assertEquals(2, sched.keep());

        PgApi.Branched now = pg.branch(BranchSpec.of("src", "now").withAt(Instant.now()));
        assertFalse(now.snapshotCreated());
        assertTrue(now.snapshot().startsWith("src@" + PgManager.SCHEDULED_SNAPSHOT_PREFIX), now.snapshot());
        assertEquals("1", PgHarness.query(now.port(), "select count(*) from t"));
        // a moment before the insert whose snapshot retention already dropped: none that old
        assertThrows(ClonefsException.NotFound.class, () -> pg.branch(BranchSpec.of("src", "old").withAt(afterOne.minusSeconds(1))));
        // the snapshot a branch uses outlives retention
        Proc.sleep(3000);
        assertTrue(h.engine().snapshots().stream().anyMatch(s -> s.name().equals(now.snapshot())),
                "a snapshot in use is kept");
        pg.unschedule("src");
        PgApi.Destroyed d = pg.destroy("now");
        assertNull(d.snapshotDestroyed(), "scheduled snapshots are left to retention");
    }

    @Test
    void badInputsAreRefusedAndLeaveNothingBehind() throws Exception {
        h = PgHarness.start("pgbad");
        PgManager pg = h.pg();
        PgApi.Server src = pg.init("src", null);
        h.engine().createVolume("empty");
        PgApi.Branched ok = pg.branch(BranchSpec.of("src", "b1"));
        Map<String, Object> before = inventory(h);

        ClonefsException.NotFound nf = assertThrows(ClonefsException.NotFound.class,
                () -> pg.branch(BranchSpec.of("nosuch", "x")));
        assertTrue(nf.getMessage().contains("unknown source 'nosuch'"), nf.getMessage());
        assertEquals(before, inventory(h));

        assertThrows(ClonefsException.AlreadyExists.class, () -> pg.branch(BranchSpec.of("src", "b1")));
        assertThrows(ClonefsException.AlreadyExists.class, () -> pg.branch(BranchSpec.of("src", "empty")));
        assertThrows(ClonefsException.AlreadyExists.class, () -> pg.init("src", null));
        assertEquals(before, inventory(h));

        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.branch(BranchSpec.of("src", "../etc")));
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.branch(BranchSpec.of("src", "src")));

        PgException.PortInUse managed = assertThrows(PgException.PortInUse.class,
                () -> pg.branch(BranchSpec.of("src", "x").withPort(ok.port())));
        assertTrue(managed.getMessage().contains("'b1'"), managed.getMessage());
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            PgException.PortInUse other = assertThrows(PgException.PortInUse.class,
                    () -> pg.branch(BranchSpec.of("src", "x").withPort(taken.getLocalPort())));
            assertTrue(other.getMessage().contains("in use"), other.getMessage());
        }
        assertEquals(before, inventory(h));

        PgException.NotPostgres np = assertThrows(PgException.NotPostgres.class, () -> pg.branch(BranchSpec.of("empty", "x")));
        assertTrue(np.getMessage().contains("'empty'"), np.getMessage());
        assertEquals(before, inventory(h));

        // a branch that cannot start: a setting the source has not loaded yet (it reads it on restart)
        Path autoConf = h.mount().mountpoint().resolve("src/data/postgresql.auto.conf");
        String conf = Files.readString(autoConf);
        Files.writeString(autoConf, conf + "shared_buffers = 'plenty'\n");
        try {
            PgException.StartFailed sf = assertThrows(PgException.StartFailed.class, () -> pg.branch(BranchSpec.of("src", "x")));
            System.out.println("start failure message: " + sf.getMessage());
            assertTrue(sf.logTail().contains("shared_buffers"), "the log's tail names the bad setting: " + sf.logTail());
            assertTrue(sf.getMessage().contains("shared_buffers"), sf.getMessage());
        } finally {
            Files.writeString(autoConf, conf);
        }
        assertEquals(before, inventory(h));
        assertFalse(Files.exists(h.pool().resolve("pg/log/x.log")));
        assertEquals("1", PgHarness.query(src.port(), "select 1"), "the source kept running throughout");

        assertThrows(ClonefsException.NotFound.class, () -> pg.destroy("nosuch"));
        assertThrows(ClonefsException.NotFound.class, () -> pg.start("nosuch"));
        assertThrows(PgException.NotPostgres.class, () -> pg.start("empty"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.branch(BranchSpec.of("src", "y").withPort(70000)));
        assertEquals(before, inventory(h));
    }

    @Test
    void theCliDrivesTheDaemonsBranches() throws Exception {
        Workspace ws = Workspace.create("pgcli");
        Set<Long> postmasters = ConcurrentHashMap.newKeySet();
        try (ws) {
            // whatever happens, no server outlives the test (registered first: runs after the unmount)
            ws.onClose("kill leftover PostgreSQL servers", () -> postmasters.forEach(Proc::kill9));
            Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool"));
            cfs.init();
            Path mnt = ws.dir("mnt");
            cfs.mount(mnt);

            JsonNode src = cfs.json("pg", "init", "src");
            int sp = src.get("port").asInt();
            assertEquals("running", src.get("state").asText());
            PgHarness.execute(sp, "create table t(id int); insert into t values (1)");
            long t0 = System.nanoTime();
            JsonNode b = cfs.json("pg", "branch", "src", "b1", "--checkpoint", "--ttl", "1h");
            long cliMs = (System.nanoTime() - t0) / 1_000_000;
            int bp = b.get("port").asInt();
            assertEquals("1", PgHarness.query(bp, "select count(*) from t"));
            System.out.printf("clonefs pg branch: %d ms in the daemon, %d ms for the whole command%n",
                    b.get("millis").get("total").asLong(), cliMs);
            Proc.Result plain = cfs.ok("pg", "branch", "src", "b2");
            assertTrue(plain.out().strip().startsWith("postgresql://postgres@127.0.0.1:"), plain.describe());
            JsonNode list = cfs.json("pg", "list");
            assertEquals(3, list.size(), list.toString());
            for (JsonNode s : list) {
                postmasters.add(s.get("pid").asLong());
                assertEquals("running", s.get("state").asText(), s.toString());
            }

            // bad input: a line on stderr and a stable exit code, nothing changed
            Proc.Result r = cfs.run("pg", "branch", "nosuch", "x");
            assertEquals(3, r.exit(), r.describe());
            assertTrue(r.err().contains("unknown source 'nosuch'"), r.describe());
            r = cfs.run("pg", "branch", "src", "b1");
            assertEquals(4, r.exit(), r.describe());
            r = cfs.run("pg", "branch", "src", "x", "--port", Integer.toString(sp));
            assertEquals(4, r.exit(), r.describe());
            assertTrue(r.err().contains("already used by PostgreSQL server 'src'"), r.describe());
            r = cfs.run("pg", "destroy", "src");
            assertEquals(4, r.exit(), r.describe());
            cfs.ok("pg", "protect", "b1");
            r = cfs.run("pg", "destroy", "b1");
            assertEquals(4, r.exit(), r.describe());
            assertTrue(r.err().contains("protected"), r.describe());
            r = cfs.run("pg", "branch", "src", "x", "--ttl", "soon");
            assertEquals(2, r.exit(), r.describe());
            assertEquals(3, cfs.json("pg", "list").size());

            // unmount stops the servers; the next mount brings them back
            PgHarness.execute(bp, "insert into t values (2)");
            cfs.ok("umount", mnt.toString());
            for (long pid : postmasters) {
                assertTrue(Proc.waitGone(pid, Duration.ofSeconds(30)), "postmaster " + pid + " outlived the unmount");
            }
            cfs.mount(mnt);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            JsonNode after;
            do {
                Proc.sleep(200);
                after = cfs.json("pg", "list");
                after.forEach(s -> postmasters.add(s.get("pid").asLong()));
            } while (System.nanoTime() < deadline && !allRunning(after));
            assertTrue(allRunning(after), "servers restarted after the mount: " + after);
            assertEquals("2", PgHarness.query(bp, "select count(*) from t"));
            assertEquals("1", PgHarness.query(sp, "select count(*) from t"));

            cfs.ok("pg", "unprotect", "b1");
            cfs.ok("pg", "destroy", "b1");
            cfs.ok("pg", "destroy", "b2");
            cfs.ok("pg", "destroy", "src");
            assertEquals(0, cfs.json("pg", "list").size());
            JsonNode datasets = cfs.json("list");
            assertEquals(0, datasets.get("volumes").size(), datasets.toString());
            assertEquals(0, datasets.get("snapshots").size(), datasets.toString());
        }
    }

    private static boolean allRunning(JsonNode list) {
        if (list.size() != 3) {
            return false;
        }
        for (JsonNode s : list) {
            if (!"running".equals(s.get("state").asText())) {
                return false;
            }
        }
        return true;
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Everything a failed command must leave as it was: volumes, snapshots, managed servers, state. */
    private static Map<String, Object> inventory(PgHarness h) throws Exception {
        return Map.of("volumes", volumes(h),
                "snapshots", h.engine().snapshots().stream().map(SnapshotInfo::name).sorted().toList(),
                "servers", names(h.pg().list()),
                "state", JSON.readTree(h.pool().resolve("pg/state.json").toFile()).get("servers").toString(),
                "logs", listDir(h.pool().resolve("pg/log")));
    }

    private static List<String> listDir(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> volumes(PgHarness h) {
        return h.engine().volumes().stream().map(VolumeInfo::name).sorted().toList();
    }

    private static List<String> snapshots(PgHarness h, String volume) {
        return h.engine().snapshots().stream().filter(s -> s.volume().equals(volume)).map(SnapshotInfo::name).toList();
    }

    /** Scheduled snapshots of a volume, newest first. */
    private static List<String> scheduled(PgHarness h, String volume) {
        return h.engine().snapshots().stream()
                .filter(s -> s.volume().equals(volume) && s.snapshot().startsWith(PgManager.SCHEDULED_SNAPSHOT_PREFIX))
                .sorted((a, b) -> b.createdAt().compareTo(a.createdAt()))
                .map(SnapshotInfo::name).toList();
    }

    private static List<String> names(List<PgApi.Server> servers) {
        return servers.stream().map(PgApi.Server::name).sorted().toList();
    }

    private static Map<String, PgApi.Server> byName(List<PgApi.Server> servers) {
        return servers.stream().collect(Collectors.toMap(PgApi.Server::name, Function.identity()));
    }

    private static void awaitGone(PgManager pg, String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pg.list().stream().anyMatch(s -> s.name().equals(name))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not expire within " + timeout);
            }
            Proc.sleep(100);
        }
    }

    /** Probes of a port from outside the manager. */
    static final class PgManagerProbe {
        static boolean portAnswers(int port) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        }
    }
}
