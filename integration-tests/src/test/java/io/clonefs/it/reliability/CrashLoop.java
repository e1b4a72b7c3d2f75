package io.clonefs.it.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The crash loop of issue 7. One pool, mounted by the real daemon; PostgreSQL 15 (checksums on)
 * on volume {@code pg}. Each round: writers insert rows with autocommit and record every
 * acknowledged id (the client ledger) while another thread takes snapshots (recording the SHA-256
 * of every file through {@code .snapshots/} right after each one), clones and destroys them
 * through the CLI; at a random moment the daemon and PostgreSQL get {@code kill -9} in a random
 * order; the stale mount is removed ({@code fusermount -u} / {@code umount -l}), the pool
 * remounted and PostgreSQL restarted. Then: every acknowledged commit is there, every recorded
 * snapshot reads back the same bytes (and a clone the same bytes as its origin), {@code pg_amcheck}
 * is clean, {@code pg_checksums --check} on the stopped cluster is clean, {@code clonefs fsck} is
 * clean. A round that fails stops the loop (the pool is then suspect); the report says which.
 *
 * <p>Run the long version with {@code scripts/crash-test.sh} ({@code make crash-test ROUNDS=N}).
 */
public final class CrashLoop {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WRITERS = 3;
    private static final int MAX_SNAPSHOTS = 4;

    /** What a run did. {@code failures} is empty when every round passed. */
    public record Report(long seed, int roundsPlanned, int roundsPassed, long acknowledgedCommits,
                         int snapshotsTaken, int snapshotChecks, int clonesCreated, int destroys,
                         int opsInFlightAtKill, List<String> failures) {
        public String summary() {
            return String.format("crash loop (seed %d): %d/%d rounds passed; %d acknowledged commits, all present;"
                            + " %d snapshots taken, %d snapshot read-backs, %d clones, %d destroys,"
                            + " %d dataset commands cut off by kill -9; failures: %s",
                    seed, roundsPassed, roundsPlanned, acknowledgedCommits, snapshotsTaken, snapshotChecks,
                    clonesCreated, destroys, opsInFlightAtKill, failures.isEmpty() ? "none" : failures);
        }
    }

    private final Workspace ws;
    private final long seed;
    private final Random rnd;
    private final PrintStream log;
    private Clonefs cfs;
    private Path mnt;
    private PgServer pg;
    private final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    /** Snapshot name -> digests recorded right after it was taken. */
    private final Map<String, Map<String, String>> snapshots = new LinkedHashMap<>();
    /** Clone name -> its origin snapshot. */
    private final Map<String, String> clones = new LinkedHashMap<>();
    /** Dataset commands cut off by a kill: their names, checked leniently after the restart. */
    private final Set<String> uncertain = new HashSet<>();
    private final StringBuffer trace = new StringBuffer();
    private volatile long daemonKilledAt = Long.MAX_VALUE;
    private volatile long opFailedAt = Long.MAX_VALUE;
    private volatile String opFailure;
    private int snapshotsTaken;
    private int snapshotChecks;
    private int clonesCreated;
    private int destroys;
    private int cutOff;

    public CrashLoop(Workspace ws, long seed, PrintStream log) {
        this.ws = ws;
        this.seed = seed;
        this.rnd = new Random(seed);
        this.log = log;
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : Integer.getInteger("clonefs.crash.rounds", 50);
        long seed = Long.getLong("clonefs.crash.seed", System.nanoTime());
        Report r;
        try (Workspace ws = Workspace.create("crashloop")) {
            r = new CrashLoop(ws, seed, System.out).run(rounds);
        }
        System.out.println(r.summary());
        System.exit(r.failures().isEmpty() ? 0 : 1);
    }

    /** Runs up to {@code rounds} rounds; stops at the first failing one. */
    public Report run(int rounds) {
        log.printf("crash loop: %d rounds, seed %d (-Dclonefs.crash.seed=%d to repeat)%n", rounds, seed, seed);
        List<String> failures = new ArrayList<>();
        int passed = 0;
        try {
            setUp();
        } catch (Exception | AssertionError e) {
            failures.add("setup: " + e);
            return report(rounds, passed, failures);
        }
        for (int round = 1; round <= rounds; round++) {
            long t0 = System.nanoTime();
            try {
                round(round);
                passed++;
                log.printf("round %d/%d passed in %d s (%d acknowledged commits so far)%n", round, rounds,
                        (System.nanoTime() - t0) / 1_000_000_000L, acknowledged.size());
            } catch (Exception | AssertionError e) {
                String msg = "round " + round + " (seed " + seed + "): " + e;
                failures.add(msg);
                log.println("FAILED " + msg);
                e.printStackTrace(log);
                if (pg != null) {
                    log.println("--- PostgreSQL log (tail)");
                    String l = pg.log();
                    log.println(l.substring(Math.max(0, l.length() - 4000)));
                }
                break;
            }
        }
        return report(rounds, passed, failures);
    }

    private Report report(int rounds, int passed, List<String> failures) {
        return new Report(seed, rounds, passed, acknowledged.size(), snapshotsTaken, snapshotChecks, clonesCreated,
                destroys, cutOff, List.copyOf(failures));
    }

    private void setUp() throws SQLException {
        cfs = new Clonefs(ws, ws.root().resolve("pool"));
        cfs.init();
        mnt = ws.dir("mnt");
        cfs.mount(mnt);
        cfs.ok("create", "pg");
        Path data = mnt.resolve("pg");
        Workspace.chownPostgres(data);
        PgServer.initdb(data);
        pg = new PgServer(ws, "crash", data);
        pg.start();
        pg.execute("create table ledger(id bigint primary key, writer int not null, pad text)");
    }

    private void round(int round) throws Exception {
        if (!pg.running()) {
            pg.start();
        }
        daemonKilledAt = Long.MAX_VALUE;
        opFailedAt = Long.MAX_VALUE;
        AtomicBoolean stop = new AtomicBoolean();
        long base = (long) round * WRITERS * 10_000_000L;
        int[] counts = new int[WRITERS];
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Thread t = new Thread(() -> counts[writer] = write(writer, base + writer * 10_000_000L, stop),
                    "crash-writer-" + w);
            t.start();
            writers.add(t);
        }
        Random opsRnd = new Random(rnd.nextLong());
        String[] inFlight = new String[1];
        Thread ops = new Thread(() -> datasetOps(round, opsRnd, stop, inFlight), "crash-ops");
        ops.start();

        long waitMs = 2500 + rnd.nextInt(9000);
        Proc.sleep(waitMs);
        long daemon = cfs.daemonPid();
        if (daemon <= 0) {
            throw new AssertionError("no daemon before the kill");
        }
        int order = rnd.nextInt(3);
        long gap = rnd.nextInt(1000);
        switch (order) {
            case 0 -> {
                daemonKilledAt = System.nanoTime();
                Proc.kill9(daemon);
                Proc.sleep(gap);
                pg.kill9();
            }
            case 1 -> {
                pg.kill9();
                Proc.sleep(gap);
                daemonKilledAt = System.nanoTime();
                Proc.kill9(daemon);
            }
            default -> {
                daemonKilledAt = System.nanoTime();
                Proc.kill9(daemon);
                pg.kill9();
            }
        }
        stop.set(true);
        for (Thread t : writers) {
            t.join(120_000);
        }
        ops.join(300_000);
        if (ops.isAlive() || writers.stream().anyMatch(Thread::isAlive)) {
            throw new AssertionError("client threads did not stop after the kill");
        }
        if (!Proc.waitGone(daemon, Duration.ofSeconds(30))) {
            throw new AssertionError("daemon " + daemon + " survived kill -9");
        }
        int thisRound = java.util.Arrays.stream(counts).sum();
        if (Boolean.getBoolean("clonefs.crash.trace")) {
            log.printf("round %d: dataset commands:%s%n", round, trace);
        }
        trace.setLength(0);
        log.printf("round %d: killed after %d ms (%s, gap %d ms); %d commits acknowledged this round; in flight: %s%n",
                round, waitMs, order == 0 ? "daemon first" : order == 1 ? "PostgreSQL first" : "both at once", gap,
                thisRound, inFlight[0]);
        if (opFailedAt < daemonKilledAt) {
            throw new AssertionError("a dataset command failed while the daemon was up: " + opFailure);
        }
        if (thisRound == 0) {
            throw new AssertionError("the writers made no progress");
        }

        // an operator's cleanup of the dead mount, then remount
        if (!KernelMounts.isMounted(mnt)) {
            throw new AssertionError("the dead mount should still be listed");
        }
        if (!KernelMounts.forceUnmount(mnt)) {
            throw new AssertionError("cannot remove the stale mount " + mnt);
        }
        cfs.mount(mnt);

        checkDatasets(round);

        long r0 = System.nanoTime();
        pg.start();
        log.printf("round %d: PostgreSQL recovered in %d ms%n", round, (System.nanoTime() - r0) / 1_000_000);
        checkLedger(round);
        Proc.Result amcheck = pg.tool(Duration.ofMinutes(10), "pg_amcheck", "--install-missing", "--heapallindexed",
                "-d", "postgres");
        if (!amcheck.ok() || !amcheck.out().isBlank()) {
            throw new AssertionError("pg_amcheck: " + amcheck.describe());
        }
        pg.stop();
        Proc.Result checksums = Proc.runAsPostgres(List.of(PgServer.bin("pg_checksums"), "--check", "-D",
                pg.dataDir().toString()), Duration.ofMinutes(10));
        if (!checksums.ok()) {
            throw new AssertionError("pg_checksums: " + checksums.describe());
        }
        Proc.Result fsck = cfs.run("fsck");
        if (!fsck.ok()) {
            throw new AssertionError("clonefs fsck: " + fsck.describe());
        }
    }

    /** Inserts rows one commit at a time until stopped or the server dies; returns how many were acknowledged. */
    private int write(int writer, long firstId, AtomicBoolean stop) {
        int n = 0;
        try (Connection c = pg.connect();
             PreparedStatement ps = c.prepareStatement("insert into ledger(id, writer, pad) values (?, ?, repeat('x', 200))")) {
            c.setAutoCommit(true);
            for (long id = firstId; !stop.get(); id++) {
                ps.setLong(1, id);
                ps.setInt(2, writer);
                ps.executeUpdate();
                acknowledged.add(id); // only after the server acknowledged the commit
                n++;
            }
        } catch (SQLException e) {
            // the server (or the filesystem under it) was killed: expected
        }
        return n;
    }

    /** Snapshots, clones, destroys and lists through the CLI until stopped; a command cut off by the kill is noted. */
    private void datasetOps(int round, Random r, AtomicBoolean stop, String[] inFlight) {
        int k = 0;
        while (!stop.get()) {
            k++;
            int dice = r.nextInt(100);
            String op = null;
            long o0 = System.nanoTime();
            try {
                if (dice < 40 && snapshots.size() < MAX_SNAPSHOTS) {
                    String name = "pg@r" + round + "s" + k;
                    op = "snapshot " + name;
                    inFlight[0] = op;
                    uncertain.add(name);
                    Proc.Result res = cfs.run("snapshot", name);
                    if (!res.ok()) {
                        throw new CutOff(res);
                    }
                    snapshotsTaken++;
                    long h0 = System.nanoTime();
                    snapshots.put(name, TreeDigest.of(mnt.resolve(".snapshots").resolve(name)));
                    uncertain.remove(name);
                    trace.append(String.format(" [%s: digest %d ms]", op, (System.nanoTime() - h0) / 1_000_000));
                } else if (dice < 65 && !snapshots.isEmpty() && clones.size() < 3) {
                    String origin = pick(r, new ArrayList<>(snapshots.keySet()));
                    String name = "c" + round + "x" + k;
                    op = "clone " + origin + " " + name;
                    inFlight[0] = op;
                    uncertain.add(name);
                    Proc.Result res = cfs.run("clone", origin, name);
                    if (!res.ok()) {
                        throw new CutOff(res);
                    }
                    clonesCreated++;
                    clones.put(name, origin);
                    uncertain.remove(name);
                } else if (dice < 90 && (!clones.isEmpty() || !snapshots.isEmpty())) {
                    String name;
                    if (!clones.isEmpty() && (snapshots.isEmpty() || r.nextBoolean())) {
                        name = pick(r, new ArrayList<>(clones.keySet()));
                    } else {
                        name = pick(r, new ArrayList<>(snapshots.keySet()));
                    }
                    op = "destroy -r " + name;
                    inFlight[0] = op;
                    uncertain.add(name);
                    clones.entrySet().stream().filter(e -> e.getValue().equals(name)).forEach(e -> uncertain.add(e.getKey()));
                    Proc.Result res = cfs.run("destroy", "-r", name);
                    if (!res.ok()) {
                        throw new CutOff(res);
                    }
                    destroys++;
                    snapshots.remove(name);
                    clones.remove(name);
                    clones.values().removeIf(o -> o.equals(name));
                    uncertain.clear();
                } else {
                    op = "list";
                    inFlight[0] = op;
                    Proc.Result res = cfs.run("list", "--json");
                    if (!res.ok()) {
                        throw new CutOff(res);
                    }
                }
                inFlight[0] = null;
                trace.append(String.format(" %s %d ms;", op, (System.nanoTime() - o0) / 1_000_000));
                Proc.sleep(50 + r.nextInt(300));
            } catch (CutOff | RuntimeException | AssertionError e) {
                // normally the daemon died under the command; if it failed before the kill, the round fails
                opFailedAt = System.nanoTime();
                opFailure = op + ": " + e;
                inFlight[0] = op;
                cutOff++;
                return;
            }
        }
    }

    /** A CLI command that failed, normally because its daemon was killed. */
    private static final class CutOff extends Exception {
        private static final long serialVersionUID = 1L;

        CutOff(Proc.Result r) {
            super(r.describe());
        }
    }

    private static <T> T pick(Random r, List<T> from) {
        return from.get(r.nextInt(from.size()));
    }

    /** After the remount: recorded snapshots read back the same bytes; clones exist and match their origin. */
    private void checkDatasets(int round) throws Exception {
        JsonNode list = JSON.readTree(cfs.ok("list", "--json").out());
        Set<String> snaps = new HashSet<>();
        list.get("snapshots").forEach(s -> snaps.add(s.get("name").asText()));
        Set<String> vols = new HashSet<>();
        list.get("volumes").forEach(v -> vols.add(v.get("name").asText()));
        if (!vols.contains("pg")) {
            throw new AssertionError("volume pg is gone: " + list);
        }
        for (String name : new ArrayList<>(snapshots.keySet())) {
            if (!snaps.contains(name)) {
                if (uncertain.contains(name)) {
                    snapshots.remove(name); // its destroy was cut off after it took effect
                    continue;
                }
                throw new AssertionError("snapshot " + name + " is gone after the crash; present: " + snaps);
            }
            Map<String, String> now = TreeDigest.of(mnt.resolve(".snapshots").resolve(name));
            snapshotChecks++;
            String diff = TreeDigest.diff(snapshots.get(name), now);
            if (diff != null) {
                throw new AssertionError("snapshot " + name + " reads back different bytes after the crash: " + diff);
            }
        }
        for (String name : new ArrayList<>(clones.keySet())) {
            if (!vols.contains(name)) {
                if (uncertain.contains(name) || uncertain.contains(clones.get(name))) {
                    clones.remove(name);
                    continue;
                }
                throw new AssertionError("clone " + name + " is gone after the crash; present: " + vols);
            }
        }
        // nobody writes to the clones: each reads back exactly its origin (one per round, they are big)
        List<String> checkable = clones.entrySet().stream().filter(e -> snapshots.containsKey(e.getValue()))
                .map(Map.Entry::getKey).toList();
        if (!checkable.isEmpty()) {
            String c = pick(rnd, checkable);
            String diff = TreeDigest.diff(snapshots.get(clones.get(c)), TreeDigest.of(mnt.resolve(c)));
            if (diff != null) {
                throw new AssertionError("clone " + c + " differs from its origin " + clones.get(c) + ": " + diff);
            }
        }
        // datasets whose command was cut off: keep the pool tidy, whatever state they are in
        for (String name : uncertain) {
            boolean there = snaps.contains(name) || vols.contains(name);
            if (there && !snapshots.containsKey(name) && !clones.containsKey(name)) {
                cfs.ok("destroy", "-r", name);
            }
        }
        // clones of an origin that a cut-off destroy removed
        clones.keySet().removeIf(c -> !vols.contains(c));
        uncertain.clear();
        Map<String, Integer> counts = new HashMap<>();
        counts.put("snapshots", snapshots.size());
        counts.put("clones", clones.size());
        log.printf("round %d: %s checked after the crash%n", round, counts);
    }

    private void checkLedger(int round) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = pg.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select id from ledger")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        List<Long> lost = acknowledged.stream().filter(id -> !present.contains(id)).sorted().toList();
        if (!lost.isEmpty()) {
            throw new AssertionError(lost.size() + " acknowledged commits lost in round " + round + ", e.g. "
                    + lost.subList(0, Math.min(10, lost.size())));
        }
    }
}
