package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.api.ApiClient;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.metrics.Metrics;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import io.clonefs.pg.process.Postgres;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Idle servers suspend and wake on a connection (issue 16), with real PostgreSQL 15 on a real
 * mount: in-process (engine + mount + manager, as the daemon holds them) and through the CLI and
 * a daemon that is killed while a branch sleeps.
 */
class PgSuspendIT {
    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void anIdleBranchSuspendsAndAConnectionWakesIt() throws Exception {
        h = PgHarness.start("pgsuspend");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t(id int); insert into t select generate_series(1, 1000)");
        PgApi.Branched b = pg.branch(BranchSpec.of("src", "b1").withSuspendAfter(Duration.ofSeconds(2)));
        assertEquals("2s", pg.get("b1").suspendAfter());
        assertNull(pg.get("src").suspendAfter(), "the pool's default (never) applies; sources are not suspended by it");

        // an open connection keeps it awake past its idle time
        try (Connection c = PgHarness.connect(b.port())) {
            Proc.sleep(4000);
            assertEquals("running", pg.get("b1").state());
            assertEquals("1000", Postgres.query(c, "select count(*) from t"));
        }
        // without a client it is suspended: clean stop, same port and URI, the daemon listens
        long t0 = System.nanoTime();
        awaitState(pg, "b1", "suspended", Duration.ofSeconds(20));
        long afterMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("suspended %d ms after its last client left (idle time 2 s, tick %d ms)%n", afterMs,
                PgHarness.TICK.toMillis());
        PgApi.Server s = pg.get("b1");
        assertEquals(-1, s.pid());
        assertEquals(b.port(), s.port());
        assertEquals(b.uri(), s.uri());
        assertFalse(Postgres.portFree(b.port()), "the daemon listens on the port of a suspended server");
        assertEquals("running", pg.get("src").state());
        Path logFile = h.pool().resolve("pg/log/b1.log");
        String log = Files.readString(logFile);
        assertTrue(log.contains("received fast shutdown request"), log);
        int logBeforeWake = log.length();

        // psql connects to the suspended port and sees the data, without retrying
        long wakesBefore = wakes("ok");
        Proc.Result psql = PgHarness.tool(b.port(), Duration.ofSeconds(60), "psql", "-X", "-A", "-t", "-c",
                "select count(*) from t");
        assertEquals(0, psql.exit(), psql.describe());
        assertEquals("1000", psql.out().strip());
        assertEquals("running", pg.get("b1").state());
        assertEquals(wakesBefore + 1, wakes("ok"));
        log = Files.readString(logFile).substring(logBeforeWake);
        assertTrue(log.contains("database system was shut down at"), log);
        assertFalse(log.contains("not properly shut down"), "a woken server needs no recovery: " + log);

        // data written before a suspend is there after the wake
        PgHarness.execute(b.port(), "insert into t values (-1)");
        pg.suspend("b1");
        assertEquals("suspended", pg.get("b1").state());
        assertEquals("1001", PgHarness.query(b.port(), "select count(*) from t"));

        // wake to first query, a few runs (JDBC: connect, select)
        List<Long> ms = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            pg.suspend("b1");
            long w0 = System.nanoTime();
            assertEquals("1001", PgHarness.query(b.port(), "select count(*) from t"));
            ms.add((System.nanoTime() - w0) / 1_000_000);
        }
        Collections.sort(ms);
        System.out.printf("wake to first query (JDBC connect + select), ms sorted: %s; p50 %d ms, max %d ms%n", ms,
                ms.get(ms.size() / 2), ms.get(ms.size() - 1));
        assertTrue(ms.get(ms.size() / 2) < 5000, "wake p50 " + ms);

        // many clients at once: one start, all served
        pg.suspend("b1");
        wakesBefore = wakes("ok");
        int n = 20;
        CyclicBarrier go = new CyclicBarrier(n);
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    assertEquals("1001", PgHarness.query(b.port(), "select count(*) from t"));
                } catch (Throwable e) {
                    failures.add(e.toString());
                }
            });
            t.start();
            ts.add(t);
        }
        for (Thread t : ts) {
            t.join(120_000);
        }
        assertEquals(List.of(), failures, "every client connecting to the sleeping branch is served");
        assertEquals(wakesBefore + 1, wakes("ok"), "one wake for all of them");
        assertEquals("running", pg.get("b1").state());
    }

    /**
     * Clients that arrive while a wake is under way: before the listener closes they are served
     * through the daemon; between the close and PostgreSQL's bind the connection is refused;
     * between the bind and the end of startup PostgreSQL answers "starting up". Counts what
     * clients arriving every 30 ms during wakes see; nothing else may happen.
     */
    @Test
    void whatClientsSeeDuringTheWake() throws Exception {
        h = PgHarness.start("pgwakewindow");
        PgManager pg = h.pg();
        pg.init("src", null);
        int port = pg.branch(BranchSpec.of("src", "b1")).port();
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        int clients = 24;
        long spacingMs = 30; // clients arrive over 0.7 s: before, during and after the listener's close
        for (int round = 0; round < 5; round++) {
            pg.suspend("b1");
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                long delay = i * spacingMs;
                Thread client = new Thread(() -> {
                    Proc.sleep(delay);
                    String outcome;
                    try (Connection c = Postgres.connect(port, "postgres", Duration.ofSeconds(30), Duration.ofSeconds(30))) {
                        outcome = "1".equals(Postgres.query(c, "select 1")) ? "served" : "wrong answer";
                    } catch (SQLException e) {
                        outcome = e.getCause() instanceof ConnectException ? "refused"
                                : "57P03".equals(e.getSQLState()) ? "starting up" : "other: " + e;
                    }
                    seen.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                });
                client.start();
                ts.add(client);
            }
            for (Thread t : ts) {
                t.join(120_000);
            }
            assertEquals("running", pg.get("b1").state());
        }
        String log = Files.readString(h.pool().resolve("pg/log/b1.log"));
        long lostRaces = log.lines().filter(l -> l.contains("could not create any TCP/IP sockets")).count();
        System.out.println("what 24 clients arriving 30 ms apart saw during each of 5 wakes: " + seen
                + "; starts that found the port still taken: " + lostRaces);
        assertTrue(seen.containsKey("served"), seen.toString());
        for (String k : seen.keySet()) {
            assertTrue(Set.of("served", "refused", "starting up").contains(k), "unexpected outcome " + k + ": " + seen);
        }
    }

    /**
     * What a connection relayed by the daemon (one that woke its server) costs against a direct
     * one: pgbench select-only over one connection, direct and relayed, alternating, 3 rounds.
     * Only connections that arrive during a wake are relayed; once the server runs, clients reach
     * it directly.
     */
    @Test
    void aRelayedConnectionCostsLittle() throws Exception {
        h = PgHarness.start("pgrelaycost");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "5", "-q", "postgres").check();
        int port = pg.branch(BranchSpec.of("src", "b1")).port();
        List<Double> direct = new ArrayList<>();
        List<Double> relayed = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            direct.add(selectOnlyTps(port));
            pg.suspend("b1");
            relayed.add(selectOnlyTps(port)); // its one connection wakes the branch and stays relayed
        }
        Collections.sort(direct);
        Collections.sort(relayed);
        double d = direct.get(1);
        double r = relayed.get(1);
        System.out.printf("pgbench -S, 1 client, 8 s: direct %s tps, relayed through the daemon %s tps; median %.0f vs %.0f (%.1f %%)%n",
                direct, relayed, d, r, 100.0 * (r - d) / d);
        assertTrue(r > 0.5 * d, "a relayed connection is far slower: " + relayed + " vs " + direct);
    }

    private static double selectOnlyTps(int port) {
        Proc.Result r = PgHarness.tool(port, Duration.ofMinutes(2), "pgbench", "-S", "-c", "1", "-j", "1", "-T", "8",
                "-n", "postgres");
        r.check();
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.describe());
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aBranchThatCannotStartAnswersWithTheReason() throws Exception {
        h = PgHarness.start("pgwakefail");
        PgManager pg = h.pg();
        pg.init("src", null);
        int port = pg.branch(BranchSpec.of("src", "b1")).port();
        PgHarness.execute(port, "create table kept(id int); insert into kept values (7)");
        pg.suspend("b1");
        Path conf = h.mount().mountpoint().resolve("b1/data/postgresql.auto.conf");
        String good = Files.readString(conf);
        Files.writeString(conf, "shared_buffers = 'lots'\n", StandardOpenOption.APPEND);
        long failedBefore = wakes("failed");

        SQLException e = assertThrows(SQLException.class, () -> PgHarness.query(port, "select 1"));
        System.out.println("a client of a branch that cannot start sees: " + e.getMessage());
        assertTrue(e.getMessage().contains("could not start suspended PostgreSQL server 'b1'"), e.getMessage());
        assertEquals("57P03", e.getSQLState());
        assertEquals(failedBefore + 1, wakes("failed"));
        awaitState(pg, "b1", "suspended", Duration.ofSeconds(10));
        // psql (libpq, which asks for SSL first) prints the reason too
        Proc.Result psql = PgHarness.tool(port, Duration.ofSeconds(60), "psql", "-X", "-c", "select 1");
        assertEquals(2, psql.exit(), psql.describe());
        assertTrue(psql.err().contains("could not start suspended PostgreSQL server 'b1'"), psql.describe());

        // fixed, the next connection wakes it
        Files.writeString(conf, good);
        assertEquals("7", PgHarness.query(port, "select id from kept"));
        assertEquals("running", pg.get("b1").state());
    }

    @Test
    void lifecycleOfASuspendedBranch() throws Exception {
        h = PgHarness.start("pgsuspendlife");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t(id int); insert into t values (1)");
        PgApi.Branched kept = pg.branch(BranchSpec.of("src", "kept").withProtect(true));
        PgApi.Branched gone = pg.branch(BranchSpec.of("src", "gone"));
        PgApi.Branched reset = pg.branch(BranchSpec.of("src", "reset"));
        PgHarness.execute(reset.port(), "insert into t values (2)");
        for (String b : List.of("kept", "gone", "reset")) {
            pg.suspend(b);
            assertEquals("suspended", pg.get(b).state());
        }

        // bad input: a clear error, nothing changed
        Map<String, String> before = states(pg);
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.suspendAfter("kept", Duration.ofMillis(300)));
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.suspendAfter("kept", Duration.ofSeconds(-5)));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(BranchSpec.of("src", "x").withSuspendAfter(Duration.ofMillis(10))));
        assertThrows(ClonefsException.NotFound.class, () -> pg.suspend("nosuch"));
        pg.stop("src");
        ClonefsException.Conflict notRunning = assertThrows(ClonefsException.Conflict.class, () -> pg.suspend("src"));
        assertTrue(notRunning.getMessage().contains("does not run"), notRunning.getMessage());
        pg.start("src");
        assertEquals(before, states(pg));
        assertNull(pg.get("kept").suspendAfter());
        assertFalse(h.engine().volumes().stream().anyMatch(v -> v.name().equals("x")));

        // protection holds while suspended
        assertThrows(PgException.Protected.class, () -> pg.destroy("kept"));
        assertEquals("suspended", pg.get("kept").state());
        // destroy: the listener goes, the port is free
        pg.destroy("gone");
        assertTrue(Postgres.portFree(gone.port()), "the port of a destroyed suspended branch is free");
        // expiry
        PgApi.Branched ttl = pg.branch(BranchSpec.of("src", "ttl").withTtl(Duration.ofSeconds(4)));
        pg.suspend("ttl");
        assertEquals("suspended", pg.get("ttl").state());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (pg.list().stream().anyMatch(s -> s.name().equals("ttl")) && System.nanoTime() < deadline) {
            Proc.sleep(100);
        }
        assertFalse(pg.list().stream().anyMatch(s -> s.name().equals("ttl")), "a suspended branch expires");
        assertTrue(Postgres.portFree(ttl.port()));
        // reset: back to its snapshot, running
        pg.reset("reset");
        assertEquals("running", pg.get("reset").state());
        assertEquals("1", PgHarness.query(reset.port(), "select count(*) from t"));
        // a stop ends the suspension: no listener, stays stopped
        pg.suspend("reset");
        pg.stop("reset");
        assertEquals("stopped", pg.get("reset").state());
        assertTrue(Postgres.portFree(reset.port()));
        // suspend-after on an existing server, then the pool's default again
        assertEquals("1h", pg.suspendAfter("kept", Duration.ofHours(1)).suspendAfter());
        assertNull(pg.suspendAfter("kept", Duration.ZERO).suspendAfter());
        assertNull(pg.suspendAfter("kept", null).suspendAfter());

        // a daemon restart while suspended: suspended again, and usable
        h.restart();
        PgManager pg2 = h.pg();
        List<PgApi.Restored> restored = pg2.restoreAll();
        assertTrue(restored.contains(new PgApi.Restored("kept", "suspended")), restored.toString());
        assertEquals("suspended", pg2.get("kept").state());
        assertEquals("1", PgHarness.query(kept.port(), "select count(*) from t"));
        assertEquals("running", pg2.get("kept").state());
        assertEquals("stopped", pg2.get("reset").state());
    }

    /** Through the CLI: --suspend-after, pg list, bad input; a kill -9 of the daemon while a branch sleeps. */
    @Test
    void theDaemonSuspendsAndSurvivesAKillWhileABranchSleeps() throws Exception {
        Workspace ws = Workspace.create("pgsuspendcli");
        Set<Long> postmasters = ConcurrentHashMap.newKeySet();
        try (ws) {
            ws.onClose("kill leftover PostgreSQL servers", () -> postmasters.forEach(Proc::kill9));
            int first = 43000 + ThreadLocalRandom.current().nextInt(0, 100) * 20;
            Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool"))
                    .withEnv(Map.of("CLONEFS_PG_PORTS", first + "-" + (first + 19)));
            cfs.init();
            Path mnt = ws.dir("mnt");
            cfs.mount(mnt);
            Proc.Result badInit = cfs.run("pg", "init", "src", "--suspend-after", "soon");
            assertEquals(2, badInit.exit(), badInit.describe());
            assertEquals(0, cfs.json("pg", "list").size(), "a refused init makes nothing");
            JsonNode src = cfs.json("pg", "init", "src", "--suspend-after", "1h");
            assertEquals("1h", src.get("suspendAfter").asText());
            cfs.ok("pg", "suspend-after", "src", "0");
            postmasters.add(src.get("pid").asLong());
            int sp = src.get("port").asInt();
            PgHarness.execute(sp, "create table t(id int); insert into t values (1), (2)");
            int bp = cfs.json("pg", "branch", "src", "b1", "--suspend-after", "2s").get("port").asInt();
            postmasters.add(cfs.json("pg", "list").get(1).get("pid").asLong());

            // bad input: one line, exit 2, nothing changed
            String listBefore = settings(cfs);
            for (List<String> bad : List.of(List.of("pg", "branch", "src", "x", "--suspend-after", "soon"),
                    List.of("pg", "branch", "src", "x", "--suspend-after", "100ms"),
                    List.of("pg", "suspend-after", "b1", "-5m"), List.of("pg", "suspend-after", "b1", "forever"))) {
                Proc.Result r = cfs.run(bad.toArray(String[]::new));
                assertEquals(2, r.exit(), r.describe());
                assertEquals(1, r.err().strip().lines().count(), r.describe());
            }
            assertEquals(listBefore, settings(cfs));

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!state(cfs, "b1").equals("suspended") && System.nanoTime() < deadline) {
                Proc.sleep(200);
            }
            assertEquals("suspended", state(cfs, "b1"));
            Proc.Result table = cfs.ok("pg", "list");
            assertTrue(table.out().lines().anyMatch(l -> l.startsWith("b1") && l.contains("suspended") && l.contains("2s")),
                    table.describe());
            ApiClient api = new ApiClient(cfs.pool());
            String metrics = api.metrics();
            assertEquals(1, ApiClient.sample(metrics, "clonefs_pg_servers_suspended"), metrics);
            assertEquals(1, ApiClient.sample(metrics, "clonefs_pg_servers_running"), metrics);

            // kill -9 of the daemon while b1 sleeps; stop src first so no orphan holds the dead mount
            cfs.ok("pg", "stop", "src");
            long daemon = cfs.daemonPid();
            Proc.kill9(daemon);
            assertTrue(Proc.waitGone(daemon, Duration.ofSeconds(30)));
            assertTrue(Postgres.portFree(bp), "the listener died with the daemon");
            assertTrue(KernelMounts.forceUnmount(mnt), "cannot remove the stale mount");
            cfs.mount(mnt);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Postgres.portFree(bp) && System.nanoTime() < deadline) {
                Proc.sleep(100);
            }
            assertEquals("suspended", state(cfs, "b1"));
            Proc.Result psql = PgHarness.tool(bp, Duration.ofSeconds(60), "psql", "-X", "-A", "-t", "-c",
                    "select count(*) from t");
            assertEquals(0, psql.exit(), psql.describe());
            assertEquals("2", psql.out().strip());
            cfs.ok("pg", "suspend-after", "b1", "0"); // stay awake for the checks below
            JsonNode b1 = cfs.json("pg", "list").get(1);
            postmasters.add(b1.get("pid").asLong());
            assertEquals("running", b1.get("state").asText());
            api = new ApiClient(cfs.pool()); // the new daemon's address and token
            JsonNode events = cfs.json("events");
            String ev = events.toString();
            assertTrue(ev.contains("\"suspended\"") && ev.contains("\"woken\""), ev);
            metrics = api.metrics();
            assertEquals(1, ApiClient.sample(metrics, "clonefs_pg_wakes_total{outcome=\"ok\"}"), metrics);
            assertEquals(1, ApiClient.sample(metrics, "clonefs_pg_wake_seconds_count"), metrics);
            assertEquals(0, ApiClient.sample(metrics, "clonefs_pg_servers_suspended"), metrics);

            assertTrue(cfs.json("pg", "list").get(1).get("suspendAfter").isNull());
            cfs.ok("pg", "destroy", "b1");
            cfs.ok("pg", "destroy", "src");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static String state(Clonefs cfs, String name) {
        for (JsonNode s : cfs.json("pg", "list")) {
            if (s.get("name").asText().equals(name)) {
                return s.get("state").asText();
            }
        }
        return "absent";
    }

    /** What bad input must not change: each server's name, port, idle time, protection. */
    private static String settings(Clonefs cfs) {
        StringBuilder b = new StringBuilder();
        for (JsonNode s : cfs.json("pg", "list")) {
            b.append(s.get("name")).append(s.get("port")).append(s.get("suspendAfter")).append(s.get("protected")).append(';');
        }
        return b.toString();
    }

    private static Map<String, String> states(PgManager pg) {
        Map<String, String> m = new TreeMap<>();
        pg.list().forEach(s -> m.put(s.name(), s.state() + " " + s.port() + " " + s.suspendAfter() + " " + s.protect()));
        return m;
    }

    private static long wakes(String outcome) {
        return Metrics.process().counter("clonefs_pg_wakes_total", "", "outcome", outcome).sum();
    }

    private static void awaitState(PgManager pg, String name, String state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pg.get(name).state().equals(state)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " is " + pg.get(name).state() + ", not " + state + ", after " + timeout);
            }
            Proc.sleep(50);
        }
    }
}
