package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.PgLsn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * History through the real daemon and the CLI (issue 17): {@code kill -9} of the daemon and of the
 * source's PostgreSQL while a writer commits; after the stale mount is removed and the pool
 * remounted (the daemon restarts the source), the archive has no gap and branches at a time and at
 * an LSN before the kill, and after the restart, hold exactly the rows committed by then; {@code pg
 * reset --at/--at-lsn} moves a branch between moments; bad input is one line and changes nothing.
 */
class PgHistoryDaemonIT {
    /** A committed row, its commit time and the WAL written once it was acknowledged. */
    private record Commit(long id, Instant at, long lsn) {
    }

    @Test
    void historySurvivesKill9OfTheDaemonAndPostgres() throws Exception {
        Workspace ws = Workspace.create("pghistdaemon");
        Set<Long> postmasters = ConcurrentHashMap.newKeySet();
        try (ws) {
            ws.onClose("kill leftover PostgreSQL servers", () -> postmasters.forEach(Proc::kill9));
            int first = 45000 + ThreadLocalRandom.current().nextInt(0, 100) * 20;
            Clonefs cfs = new Clonefs(ws, ws.root().resolve("pool"))
                    .withEnv(Map.of("CLONEFS_PG_PORTS", first + "-" + (first + 19)));
            cfs.init();
            Path mnt = ws.dir("mnt");
            cfs.mount(mnt);
            int sp = cfs.json("pg", "init", "src").get("port").asInt();
            postmasters.add(pid(cfs, "src"));
            PgHarness.execute(sp, "create table t (id bigint primary key, pad text)");
            PgHarness.execute(sp, "create table pad (n int, p text)");

            // bad input first: one line each, nothing changed
            String before = servers(cfs);
            for (List<String> bad : List.of(List.of("pg", "branch", "src", "x", "--at-lsn", "16/zz"),
                    List.of("pg", "branch", "src", "x", "--at-lsn", "0/1"), // no history yet
                    List.of("pg", "branch", "src", "x", "--at", "1m", "--at-lsn", "0/1"),
                    List.of("pg", "history", "src", "--keep", "soon"),
                    List.of("pg", "branch", "src", "x", "--at", "the day before yesterday"),
                    List.of("pg", "history", "nosuch", "--keep", "1d"), // not a managed server
                    List.of("pg", "history", "src", "--keep", "1d", "--every-wal", "1MiB"),
                    List.of("pg", "reset", "src", "--at", "1m"))) {
                Proc.Result r = cfs.run(bad.toArray(String[]::new));
                assertTrue(r.exit() != 0, "refused: " + bad + ": " + r.describe());
                assertEquals(1, r.err().strip().lines().count(), "one line: " + bad + ": " + r.describe());
                assertTrue(r.err().startsWith("clonefs: "), r.describe());
            }
            assertEquals(before, servers(cfs), "nothing changed");

            JsonNode on = cfs.json("pg", "history", "src", "--keep", "10m", "--every", "3s", "--restart");
            assertTrue(on.get("archiving").asBoolean(), on.toString());
            postmasters.add(pid(cfs, "src"));
            awaitSnapshot(cfs);

            List<Commit> commits = new ArrayList<>();
            long id = write(sp, commits, 1, Duration.ofSeconds(2));
            // about 40 MB of WAL: segments complete (and are archived) before the kill, one is half written at it
            PgHarness.execute(sp, "insert into pad select g, repeat('p', 1000) from generate_series(1, 30000) g");
            id = write(sp, commits, id, Duration.ofSeconds(1));
            int beforeKill = commits.size();
            String list = cfs.run("pg", "list").out();
            assertTrue(java.util.regex.Pattern.compile("\\(history 10m, WAL [0-9.]+ (B|KiB|MiB|GiB)\\)").matcher(list).find(),
                    "pg list shows the window and the archive's size: " + list);

            long daemon = cfs.daemonPid();
            long postmaster = pid(cfs, "src");
            Proc.kill9(daemon);
            Proc.kill9(postmaster);
            assertTrue(Proc.waitGone(daemon, Duration.ofSeconds(30)));
            assertTrue(Proc.waitGone(postmaster, Duration.ofSeconds(30)));
            assertTrue(KernelMounts.forceUnmount(mnt), "cannot remove the stale mount");
            cfs.mount(mnt); // the new daemon restarts src: crash recovery, then its archiver goes on
            awaitQuery(sp);
            postmasters.add(pid(cfs, "src"));
            id = write(sp, commits, id, Duration.ofSeconds(1));
            PgHarness.execute(sp, "insert into pad select g, repeat('q', 1000) from generate_series(1, 30000) g");
            write(sp, commits, id, Duration.ofSeconds(1));

            // before the kill by time, after the restart by LSN: exact
            Commit early = commits.get(beforeKill / 2);
            JsonNode k1 = cfs.json("pg", "branch", "src", "k1", "--at", early.at().toString());
            postmasters.add(pid(cfs, "k1"));
            assertEquals(rows(commits, c -> !c.at().isAfter(early.at())), count(k1.get("port").asInt()), "k1 at " + early);
            Commit late = commits.get(beforeKill + (commits.size() - beforeKill) / 2);
            JsonNode k2 = cfs.json("pg", "branch", "src", "k2", "--at-lsn", PgLsn.format(late.lsn()));
            postmasters.add(pid(cfs, "k2"));
            assertEquals(rows(commits, c -> c.lsn() <= late.lsn()), count(k2.get("port").asInt()), "k2 at " + late);
            assertEquals(PgLsn.format(late.lsn()), server(cfs, "k2").get("moment").get("lsn").asText());

            // reset moves k1 to an LSN before the kill, then back to where it is
            Commit mid = commits.get(beforeKill * 3 / 4);
            Proc.Result reset = cfs.ok("pg", "reset", "k1", "--at-lsn", PgLsn.format(mid.lsn()));
            assertTrue(reset.err().contains("at LSN " + PgLsn.format(mid.lsn())), reset.describe());
            postmasters.add(pid(cfs, "k1"));
            int k1port = k1.get("port").asInt();
            assertEquals(rows(commits, c -> c.lsn() <= mid.lsn()), count(k1port), "k1 reset to " + mid);
            PgHarness.execute(k1port, "delete from t");
            cfs.ok("pg", "reset", "k1");
            postmasters.add(pid(cfs, "k1"));
            assertEquals(rows(commits, c -> c.lsn() <= mid.lsn()), count(k1port), "k1 reset to its moment again");
            Proc.Result refused = cfs.run("pg", "reset", "k1", "--at", Instant.now().plusSeconds(3600).toString());
            assertTrue(refused.exit() != 0 && refused.err().contains("is in the future"), refused.describe());
            assertEquals(rows(commits, c -> c.lsn() <= mid.lsn()), count(k1port), "a refused reset changes nothing");

            // no gap: every segment from the first archived to the last
            List<Long> segments;
            try (var s = Files.list(cfs.pool().resolve("pg/history/src/wal"))) {
                segments = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}"))
                        .map(n -> Long.parseLong(n.substring(8, 16), 16) * 256 + Long.parseLong(n.substring(16), 16))
                        .sorted().toList();
            }
            assertTrue(segments.size() >= 4, "archived before the kill and after it: " + segments);
            for (int i = 1; i < segments.size(); i++) {
                assertEquals(segments.get(i - 1) + 1, segments.get(i), "consecutive segments: " + segments);
            }
            JsonNode st = cfs.json("pg", "history", "src");
            assertTrue(st.get("oldestLsn").asText().matches("[0-9A-F]+/[0-9A-F]+"), st.toString());
            assertTrue(cfs.ok("pg", "history", "src").out().contains("(LSN " + st.get("oldestLsn").asText() + ")"));

            cfs.ok("pg", "destroy", "k1");
            cfs.ok("pg", "destroy", "k2");
            cfs.ok("pg", "destroy", "src");
        }
    }

    private static long write(int port, List<Commit> commits, long id, Duration d) throws Exception {
        try (Connection c = PgHarness.connect(port); Statement st = c.createStatement()) {
            long end = System.nanoTime() + d.toNanos();
            for (; System.nanoTime() < end; id++) {
                st.execute("insert into t values (" + id + ", repeat('z', 2000))");
                try (ResultSet rs = st.executeQuery("select pg_xact_commit_timestamp(xmin), pg_current_wal_lsn() from t "
                        + "where id = " + id)) {
                    rs.next();
                    commits.add(new Commit(id, rs.getTimestamp(1).toInstant(), PgLsn.parse(rs.getString(2))));
                }
            }
        }
        return id;
    }

    private static String rows(List<Commit> commits, java.util.function.Predicate<Commit> in) {
        long n = commits.stream().filter(in).count();
        return n + ":" + n;
    }

    private static String count(int port) throws Exception {
        return PgHarness.query(port, "select count(*) || ':' || coalesce(max(id), 0) from t");
    }

    private static JsonNode server(Clonefs cfs, String name) {
        for (JsonNode s : cfs.json("pg", "list")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no server " + name);
    }

    /** What a refused command must not change: each server's name, state, port, history, moment. */
    private static String servers(Clonefs cfs) {
        StringBuilder b = new StringBuilder();
        for (JsonNode s : cfs.json("pg", "list")) {
            b.append(s.get("name")).append(s.get("state")).append(s.get("port")).append(s.get("history"))
                    .append(s.get("moment")).append(';');
        }
        return b.toString();
    }

    private static long pid(Clonefs cfs, String name) {
        return server(cfs, name).get("pid").asLong();
    }

    private static void awaitSnapshot(Clonefs cfs) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (cfs.json("pg", "history", "src").get("snapshots").size() == 0) {
            assertTrue(System.nanoTime() < deadline, "no history snapshot");
            Proc.sleep(200);
        }
    }

    private static void awaitQuery(int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                PgHarness.query(port, "select 1");
                return;
            } catch (Exception e) {
                assertTrue(System.nanoTime() < deadline, "the source does not answer after the restart: " + e);
                Proc.sleep(200);
            }
        }
    }
}
