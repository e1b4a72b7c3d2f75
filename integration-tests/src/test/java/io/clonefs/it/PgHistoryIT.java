package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Proc;
import io.clonefs.pg.PgLsn;
import io.clonefs.pg.PgManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pg history} and branches at a moment (issue 17) with real PostgreSQL 15 on a real mount: a
 * writer commits numbered rows while history archives the WAL and takes snapshots; a branch at
 * each of 20 moments (a commit's own time, a microsecond before one, right after a snapshot, just
 * before the next, random) holds exactly the rows committed at or before it. The window moves:
 * old snapshots and WAL go, a moment that left it is refused. Off deletes the archive.
 */
class PgHistoryIT {
    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    /**
     * A committed row: its number, its commit time (microseconds, as PostgreSQL keeps it) and the
     * WAL position the server had written right after it ({@code pg_current_wal_lsn()}: at or after
     * the end of its commit record, before the start of the next transaction's first record).
     */
    private record Commit(long id, Instant at, long lsn) {
    }

    @Test
    void branchesAtTwentyMomentsHoldExactlyTheRowsCommittedByThen() throws Exception {
        h = PgHarness.start("pghist");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t (id bigint primary key, pad text)");
        PgApi.History on = pg.history("src", Duration.ofMinutes(10), Duration.ofSeconds(2), true);
        assertTrue(on.on());
        assertTrue(on.archiving(), "restarted with archive_mode on: " + on);
        awaitSnapshots(pg, 1);

        // a writer: one row per transaction, its exact commit time read back
        List<Commit> commits = new ArrayList<>();
        Random rnd = new Random(7);
        try (Connection c = PgHarness.connect(sp); Statement st = c.createStatement()) {
            long end = System.nanoTime() + Duration.ofSeconds(9).toNanos();
            for (long id = 1; System.nanoTime() < end; id++) {
                st.execute("insert into t values (" + id + ", repeat('x', 200))");
                commits.add(readCommit(st, id));
                if (rnd.nextInt(50) == 0) {
                    Thread.sleep(30);
                }
            }
        }
        assertTrue(commits.size() > 100, "commits: " + commits.size());
        List<SnapshotInfo> snaps = historySnapshots(h);
        assertTrue(snaps.size() >= 3, "a snapshot every 2 s: " + snaps);

        // the moments
        List<Instant> moments = new ArrayList<>();
        Instant first = commits.get(0).at();
        Instant last = commits.get(commits.size() - 1).at();
        for (int i = 0; i < 4; i++) {
            Instant c = commits.get(1 + rnd.nextInt(commits.size() - 2)).at();
            moments.add(c); // a commit's own time: that row is in
            moments.add(c.minus(1, ChronoUnit.MICROS)); // just before it: that row is not
        }
        for (SnapshotInfo s : snaps) {
            if (s.createdAt().isAfter(first) && s.createdAt().isBefore(last) && moments.size() < 14) {
                moments.add(s.createdAt().plusMillis(1)); // right after a snapshot
                moments.add(s.createdAt().minusMillis(1)); // just before it (from the snapshot before)
            }
        }
        while (moments.size() < 20) {
            long span = ChronoUnit.MICROS.between(first, last);
            moments.add(first.plus((long) (rnd.nextDouble() * span), ChronoUnit.MICROS));
        }
        int b = 0;
        for (Instant m : moments) {
            long expected = commits.stream().filter(x -> !x.at().isAfter(m)).count();
            String name = "at" + b++;
            PgApi.Branched br = pg.branch(PgManager.BranchSpec.of("src", name).withAt(m));
            String got = PgHarness.query(br.port(), "select count(*) || ':' || coalesce(max(id), 0) from t");
            assertEquals(expected + ":" + expected, got, "branch at " + m + " (" + br.snapshot() + ", "
                    + br.millis() + ")");
            assertEquals("f", PgHarness.query(br.port(), "select pg_is_in_recovery()"), "promoted");
            PgHarness.execute(br.port(), "insert into t values (-1, 'writable')");
            pg.destroy(name);
        }
        // the same at LSNs: a commit's own (that row is in), one byte after it (the next is not), after snapshots
        List<Long> lsns = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long l = commits.get(1 + rnd.nextInt(commits.size() - 2)).lsn();
            lsns.add(l);
            lsns.add(l + 1);
        }
        for (SnapshotInfo s : snaps) {
            commits.stream().filter(x -> x.at().isAfter(s.createdAt())).findFirst().ifPresent(x -> {
                if (lsns.size() < 10 && x.id() < commits.size()) {
                    lsns.add(x.lsn()); // the first commit after a snapshot
                }
            });
        }
        for (long l : lsns) {
            long expected = commits.stream().filter(x -> x.lsn() <= l).count();
            String name = "lsn" + b++;
            PgApi.Branched br = pg.branch(PgManager.BranchSpec.of("src", name).withAtLsn(l));
            assertEquals(expected + ":" + expected, PgHarness.query(br.port(), "select count(*) || ':' || coalesce(max(id), 0) from t"),
                    "branch at LSN " + PgLsn.format(l) + " (" + br.snapshot() + ")");
            assertEquals(PgLsn.format(l), pg.get(name).moment().lsn());
            pg.destroy(name);
        }

        // a reset goes back to the branch's moment; --at and --at-lsn move it to another one
        Instant m1 = commits.get(commits.size() / 3).at();
        Instant m2 = commits.get(commits.size() * 2 / 3).at().minus(1, ChronoUnit.MICROS);
        long l3 = commits.get(commits.size() / 2).lsn();
        PgApi.Branched r = pg.branch(PgManager.BranchSpec.of("src", "r").withAt(m1));
        PgHarness.execute(r.port(), "delete from t where id > 10");
        r = pg.reset("r");
        assertEquals(count(commits, m1), PgHarness.query(r.port(), "select count(*) || ':' || max(id) from t"), "reset to " + m1);
        assertEquals(m1.toString(), pg.get("r").moment().time());
        r = pg.reset("r", m2, null);
        assertEquals(count(commits, m2), PgHarness.query(r.port(), "select count(*) || ':' || max(id) from t"), "reset --at " + m2);
        r = pg.reset("r", null, l3);
        long e3 = commits.stream().filter(x -> x.lsn() <= l3).count();
        assertEquals(e3 + ":" + e3, PgHarness.query(r.port(), "select count(*) || ':' || max(id) from t"), "reset --at-lsn");
        assertEquals(PgLsn.format(l3), pg.get("r").moment().lsn());
        assertEquals(r.port(), pg.get("r").port(), "same port");
        // refused resets change nothing
        int rport = r.port();
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.reset("r", Instant.now().plusSeconds(60), null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.reset("src", m1, null));
        assertEquals(e3 + ":" + e3, PgHarness.query(rport, "select count(*) || ':' || max(id) from t"), "still where it was");
        pg.destroy("r");

        // bad LSNs: one line, nothing made
        int count0 = pg.list().size();
        long end = PgLsn.parse(PgHarness.query(sp, "select pg_current_wal_lsn()"));
        ClonefsException le = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "lf").withAtLsn(end + (1L << 30))));
        assertTrue(le.getMessage().contains("is in the future; the history of 'src' reaches from LSN "), le.getMessage());
        le = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "lp").withAtLsn(1L)));
        assertTrue(le.getMessage().contains("LSN 0/1 is before the history of 'src'"), le.getMessage());
        le = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "lb").withAt(m1).withAtLsn(l3)));
        assertTrue(le.getMessage().contains("not both"), le.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgLsn.parse("16/B374D848x"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> PgLsn.parse("yesterday"));
        assertEquals(count0, pg.list().size());

        // history cannot be turned off under a branch that replays it; once it answers, it can
        java.util.concurrent.CompletableFuture<PgApi.Branched> replay = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> pg.branch(PgManager.BranchSpec.of("src", "replayer").withAt(commits.get(commits.size() / 2).at())));
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!pg.historyStatus("src").replaying().contains("replayer")) {
            assertFalse(replay.isDone(), "the branch answered before its replay was seen: " + replay);
            assertTrue(System.nanoTime() < until, "no replay seen");
            Proc.sleep(2);
        }
        ClonefsException busy = assertThrows(ClonefsException.Conflict.class, () -> pg.historyOff("src"));
        assertTrue(busy.getMessage().contains("branches replay the history of 'src' now (replayer)"), busy.getMessage());
        PgApi.Branched replayed = replay.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(count(commits, commits.get(commits.size() / 2).at()),
                PgHarness.query(replayed.port(), "select count(*) || ':' || max(id) from t"));
        assertEquals(List.of(), pg.historyStatus("src").replaying());
        pg.destroy("replayer");

        // no commit after the moment: on a running source the branch's own marker commit ends the
        // replay; on a stopped one the replay takes all the WAL there is (all of it is before the moment)
        String all = commits.size() + ":" + commits.size();
        Instant quiet = Instant.now().minusMillis(50);
        PgApi.Branched ib = pg.branch(PgManager.BranchSpec.of("src", "idle").withAt(quiet));
        assertEquals(all, PgHarness.query(ib.port(), "select count(*) || ':' || max(id) from t"), "idle source");
        pg.destroy("idle");
        pg.stop("src");
        Instant stopped = Instant.now().minusMillis(50);
        ib = pg.branch(PgManager.BranchSpec.of("src", "stopped").withAt(stopped));
        assertEquals(all, PgHarness.query(ib.port(), "select count(*) || ':' || max(id) from t"), "stopped source");
        assertEquals("f", PgHarness.query(ib.port(), "select pg_is_in_recovery()"));
        pg.destroy("stopped");
        ib = pg.branch(PgManager.BranchSpec.of("src", "stoplsn").withAtLsn(commits.get(commits.size() - 1).lsn()));
        assertEquals(all, PgHarness.query(ib.port(), "select count(*) || ':' || max(id) from t"), "stopped source, LSN");
        pg.destroy("stoplsn");
        assertEquals(sp, pg.start("src").port());

        // the source goes on, untouched
        assertEquals(Long.toString(commits.size()), PgHarness.query(sp, "select count(*) from t"));

        // bad moments: one line, nothing made
        int before = pg.list().size();
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "future").withAt(Instant.now().plusSeconds(60))));
        assertTrue(e.getMessage().contains("is in the future; the history of 'src' reaches from"), e.getMessage());
        Instant oldest = historySnapshots(h).stream().map(SnapshotInfo::createdAt).min(Instant::compareTo).orElseThrow();
        e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "past").withAt(oldest.minusSeconds(1))));
        assertTrue(e.getMessage().contains("is before the history of 'src', which reaches from " + oldest), e.getMessage());
        assertEquals(before, pg.list().size());

        // the archive: durable files, named like the server's segments
        Path wal = h.pool().resolve("pg/history/src/wal");
        try (var s = Files.list(wal)) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.matches("[0-9A-F]{24}")), names.toString());
            assertFalse(names.stream().anyMatch(n -> n.endsWith(".tmp")), names.toString());
        }
        PgApi.History st = pg.historyStatus("src");
        assertTrue(st.walBytes() >= 16 << 20, st.toString());
        assertEquals(0, st.failedCount(), st.toString());
        assertTrue(pg.get("src").history().walBytes() >= 16 << 20, "listed with the server: " + pg.get("src"));
        assertEquals("10m", pg.get("src").history().keep());

        // off: archiving stops, archive and history snapshots deleted
        pg.historyOff("src");
        assertFalse(Files.exists(h.pool().resolve("pg/history/src")));
        assertEquals(List.of(), historySnapshots(h));
        assertThrows(ClonefsException.NotFound.class, () -> pg.historyStatus("src"));
        long failedBefore = Long.parseLong(PgHarness.query(sp, "select failed_count from pg_stat_archiver"));
        PgHarness.execute(sp, "insert into t values (0, 'after off')");
        PgHarness.query(sp, "select pg_switch_wal()");
        Proc.sleep(1500);
        assertFalse(Files.exists(h.pool().resolve("pg/history/src")), "nothing archived once off");
        assertEquals(failedBefore, Long.parseLong(PgHarness.query(sp, "select failed_count from pg_stat_archiver")),
                "the archive command succeeds (and keeps nothing) once off");
    }

    @Test
    void theWindowMovesOldSnapshotsAndWalGo() throws Exception {
        h = PgHarness.start("pghistwin");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t (id bigint primary key, pad text)");
        assertThrows(ClonefsException.InvalidArgument.class, () -> pg.history("src", Duration.ofSeconds(5), null, false));
        assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.history("src", Duration.ofSeconds(20), Duration.ofMinutes(1), false));
        PgApi.History off = pg.history("src", Duration.ofSeconds(12), Duration.ofSeconds(2), false);
        assertFalse(off.archiving(), "archive_mode waits for a restart: " + off);
        Proc.sleep(1500);
        assertEquals(List.of(), historySnapshots(h), "no snapshot before the server archives");
        pg.stop("src");
        sp = pg.start("src").port();
        awaitSnapshots(pg, 1);
        Instant started = Instant.now();
        long id = 0;
        while (Duration.between(started, Instant.now()).toSeconds() < 25) {
            PgHarness.execute(sp, "insert into t select g, repeat('y', 500) from generate_series(" + (id + 1) + ", "
                    + (id + 2000) + ") g");
            id += 2000;
            if (id % 8000 == 0) {
                PgHarness.query(sp, "select pg_switch_wal()");
            }
            Proc.sleep(300);
        }
        PgApi.History st = pg.historyStatus("src");
        Instant oldest = Instant.parse(st.oldest());
        assertTrue(Duration.between(oldest, Instant.now()).toSeconds() <= 12 + 2 + 3,
                "the oldest snapshot is at most window + interval old: " + st);
        assertTrue(oldest.isAfter(started), "the first snapshots left the window: " + st);
        // the archive holds what the window needs, not everything archived
        long archived = Long.parseLong(PgHarness.query(sp, "select archived_count from pg_stat_archiver"));
        assertTrue(st.walFiles() < archived, st.walFiles() + " files kept of " + archived + " archived");
        Instant gone = started.plusSeconds(1);
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.branch(PgManager.BranchSpec.of("src", "old").withAt(gone)));
        assertTrue(e.getMessage().contains("is before the history of 'src'"), e.getMessage());
        // a moment inside the window still works
        Instant inside = Instant.now().minusSeconds(3).truncatedTo(ChronoUnit.MICROS);
        long expected = Long.parseLong(PgHarness.query(sp, "select count(*) from t where pg_xact_commit_timestamp(xmin) <= '"
                + inside + "'"));
        PgApi.Branched br = pg.branch(PgManager.BranchSpec.of("src", "recent").withAt(inside));
        assertEquals(Long.toString(expected), PgHarness.query(br.port(), "select count(*) from t"));
        pg.destroy("recent");
        // a source destroyed takes its history with it
        pg.destroy("src");
        assertFalse(Files.exists(h.pool().resolve("pg/history/src")));
        assertEquals(List.of(), historySnapshots(h));
    }

    @Test
    void snapshotsAreTakenByWalVolumeAndThinOutWithAge() throws Exception {
        h = PgHarness.start("pghistwal");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table pad (n int, p text)");
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> pg.history("src", Duration.ofMinutes(10), Duration.ofSeconds(6), 1L << 20, false));
        assertTrue(e.getMessage().contains("at least 16MiB"), e.getMessage());
        assertEquals(null, pg.get("src").history(), "a refused history changes nothing");
        Duration every = Duration.ofSeconds(8);
        Duration dense = Duration.ofSeconds(15); // half the window: every snapshot younger than that stays
        PgApi.History on = pg.history("src", Duration.ofSeconds(30), every, 16L << 20, true);
        assertEquals("16 MiB", on.everyWal());
        awaitSnapshots(pg, 1);
        // WAL written fast: a snapshot for each 16 MiB, sooner than the interval (which alone would
        // take them at least 8 s apart)
        Instant start = Instant.now();
        List<Instant> taken = List.of();
        for (int i = 0; i < 30; i++) {
            PgHarness.execute(sp, "insert into pad select g, repeat('w', 1000) from generate_series(1, 15000) g");
            Proc.sleep(300);
            taken = historySnapshots(h).stream().map(SnapshotInfo::createdAt).sorted().toList();
            if (taken.stream().filter(t -> t.isAfter(start)).count() >= 3) {
                break;
            }
        }
        List<Instant> byVolume = taken.stream().filter(t -> t.isAfter(start)).toList();
        assertTrue(byVolume.size() >= 3 && Duration.between(byVolume.get(0), byVolume.get(2)).compareTo(every) < 0,
                "three snapshots by WAL volume within one interval: " + taken);
        // once older than half the window, they thin out to one per interval
        Proc.sleep(Duration.between(Instant.now(), byVolume.get(0).plus(dense).plusSeconds(3)).toMillis());
        List<Instant> kept = historySnapshots(h).stream().map(SnapshotInfo::createdAt).sorted().toList();
        Instant edge = Instant.now().minus(dense).minusSeconds(1);
        List<Instant> old = kept.stream().filter(t -> t.isBefore(edge)).toList();
        for (int i = 1; i < old.size(); i++) {
            assertTrue(!Duration.between(old.get(i - 1), old.get(i)).minus(every).isNegative(),
                    "older snapshots at least " + every + " apart: " + kept + " (taken: " + taken + ")");
        }
        assertTrue(kept.stream().filter(t -> t.isBefore(edge)).count()
                < taken.stream().filter(t -> t.isBefore(edge)).count(), "thinned: " + taken + " -> " + kept);
        // their recorded LSNs went with them
        List<String> lines = Files.readAllLines(h.pool().resolve("pg/history/src/snapshots.lsn"));
        assertEquals(kept.size(), lines.size(), lines.toString());
    }

    @Test
    void afterAKill9OfPostgresTheArchiveHasNoGapAndBranchesStayExact() throws Exception {
        h = PgHarness.start("pghistkill");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.execute(sp, "create table t (id bigint primary key, pad text)");
        pg.history("src", Duration.ofMinutes(10), Duration.ofSeconds(2), true);
        awaitSnapshots(pg, 1);
        PgHarness.execute(sp, "create table pad (n int, p text)");
        List<Commit> commits = new ArrayList<>();
        long id = write(sp, commits, 1, Duration.ofSeconds(2));
        // about 40 MB of WAL: segments complete (and are archived) before the kill, one is half written at it
        PgHarness.execute(sp, "insert into pad select g, repeat('p', 1000) from generate_series(1, 30000) g");
        id = write(sp, commits, id, Duration.ofSeconds(1));
        long pid = pg.get("src").pid();
        Proc.kill9(pid); // the postmaster and its children, the archiver among them, mid-write
        assertTrue(Proc.waitGone(pid, Duration.ofSeconds(10)));
        sp = pg.start("src").port();
        id = write(sp, commits, id, Duration.ofSeconds(1));
        PgHarness.execute(sp, "insert into pad select g, repeat('q', 1000) from generate_series(1, 30000) g");
        write(sp, commits, id, Duration.ofSeconds(1));
        // a moment before the kill and one after the restart: exact
        for (Instant m : List.of(commits.get(commits.size() / 4).at(), commits.get(commits.size() * 3 / 4).at())) {
            long expected = commits.stream().filter(x -> !x.at().isAfter(m)).count();
            PgApi.Branched br = pg.branch(PgManager.BranchSpec.of("src", "k").withAt(m));
            assertEquals(expected + ":" + expected, PgHarness.query(br.port(), "select count(*) || ':' || max(id) from t"),
                    "branch at " + m);
            pg.destroy("k");
        }
        // no gap: every segment from the first archived to the last
        List<Long> segments;
        try (var s = Files.list(h.pool().resolve("pg/history/src/wal"))) {
            segments = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}"))
                    .map(n -> Long.parseLong(n.substring(8, 16), 16) * 256 + Long.parseLong(n.substring(16), 16))
                    .sorted().toList();
        }
        assertTrue(segments.size() >= 4, "archived before the kill, after it, and by the branches: " + segments);
        for (int i = 1; i < segments.size(); i++) {
            assertEquals(segments.get(i - 1) + 1, segments.get(i), "consecutive segments: " + segments);
        }
    }

    /** Commits one row per transaction from {@code id} for {@code d}, recording each commit's time; returns the next id. */
    private static long write(int port, List<Commit> commits, long id, Duration d) throws Exception {
        try (Connection c = PgHarness.connect(port); Statement st = c.createStatement()) {
            long end = System.nanoTime() + d.toNanos();
            for (; System.nanoTime() < end; id++) {
                st.execute("insert into t values (" + id + ", repeat('z', 2000))");
                commits.add(readCommit(st, id));
            }
        }
        return id;
    }

    /** What a branch at {@code m} holds: {@code count:max(id)} of the rows committed at or before it. */
    private static String count(List<Commit> commits, Instant m) {
        long n = commits.stream().filter(x -> !x.at().isAfter(m)).count();
        return n + ":" + n;
    }

    /** Row {@code id}'s commit time, and the WAL written once its commit was acknowledged. */
    static Commit readCommit(Statement st, long id) throws java.sql.SQLException {
        try (ResultSet rs = st.executeQuery("select pg_xact_commit_timestamp(xmin), pg_current_wal_lsn() from t where id = "
                + id)) {
            rs.next();
            return new Commit(id, rs.getTimestamp(1).toInstant(), PgLsn.parse(rs.getString(2)));
        }
    }

    private static List<SnapshotInfo> historySnapshots(PgHarness h) {
        return h.engine().snapshots().stream().filter(s -> s.snapshot().startsWith("hist-")).toList();
    }

    /**
     * Waits for {@code n} history snapshots and for the oldest one's LSN: the daemon records it
     * right after taking the snapshot, and a commit before that is before the history by LSN
     * (a flake of the LSN part: a commit picked from the first few after the first snapshot).
     */
    private void awaitSnapshots(PgManager pg, int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (historySnapshots(h).size() < n || pg.historyStatus("src").oldestLsn() == null) {
            assertTrue(System.nanoTime() < deadline, "no history snapshot: " + pg.historyStatus("src"));
            Proc.sleep(100);
        }
    }
}
