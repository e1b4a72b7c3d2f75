package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The soak of issue 19: one pool under churn for {@code soak.minutes} (60), watching the daemon
 * for leaks and the data for losses.
 *
 * <p>Set-up: a single-node Ceph with radosgw ({@code scripts/ceph-dev.sh}) as remote {@code r1}
 * (unless {@code soak.push=false}), {@code clonefs init} and {@code mount} of a pool under
 * {@code soak.dir}, {@code pg init src}, {@code pgbench -i -s soak.pgScale} and a ledger table.
 * Then, at once until the time is up:
 * <ul>
 *   <li><b>ledger</b>: one row per transaction into {@code src}, about 20 a second; every
 *       acknowledged commit's id is remembered;</li>
 *   <li><b>load</b>: {@code pgbench -c 2} on the source, 30 s at a time, again and again;</li>
 *   <li><b>churn</b> every {@code soak.churnSeconds} (5): one of branch (up to
 *       {@code soak.branches} live), reset, destroy, snapshot (the newest five kept), a short
 *       {@code pgbench -S} on a branch, chosen at random;</li>
 *   <li><b>push</b> every {@code soak.pushMinutes} (5): a snapshot of the source pushed to r1;</li>
 *   <li><b>kill</b> every {@code soak.killMinutes} (10): {@code kill -9} of the daemon and of every
 *       PostgreSQL on the mount, the dead mount removed, {@code clonefs mount} again (its servers
 *       restart), then every acknowledged ledger row must be there;</li>
 *   <li><b>samples</b> every {@code soak.sampleSeconds} (60): the daemon's RSS, threads, open file
 *       descriptors and direct buffers, the LMDB file's size, the pool's blocks in use against the
 *       blocks fsck reaches from the live datasets, and the PostgreSQL processes.</li>
 * </ul>
 * At the end: every server stopped cleanly, {@code pg_checksums --check} of every data directory,
 * started again, {@code pg_amcheck} of every database, {@code clonefs fsck}, the ledger once more.
 * Prints a table, rewrites its section of {@code bench.report} (RELIABILITY.md) and draws
 * {@code soak.chart}. Exit status 1 when anything was lost or a check failed.
 */
public final class Soak {
    static final String BEGIN = "<!-- soak:begin (written by make soak) -->";
    static final String END = "<!-- soak:end -->";

    private final double minutes = Double.parseDouble(System.getProperty("soak.minutes", "60"));
    private final int sampleSeconds = Integer.getInteger("soak.sampleSeconds", 60);
    private final int churnSeconds = Integer.getInteger("soak.churnSeconds", 5);
    private final double pushMinutes = Double.parseDouble(System.getProperty("soak.pushMinutes", "5"));
    private final double killMinutes = Double.parseDouble(System.getProperty("soak.killMinutes", "10"));
    private final int pgScale = Integer.getInteger("soak.pgScale", 10);
    private final int maxBranches = Integer.getInteger("soak.branches", 5);
    private final boolean push = Boolean.parseBoolean(System.getProperty("soak.push", "true"));
    private final String ports = System.getProperty("soak.ports", "49000-49099");
    private final Path dir = Path.of(System.getProperty("soak.dir", "/var/tmp"));
    private final Path chart = Path.of(System.getProperty("soak.chart", "docs/img/soak.png"));
    private final Path launcher = Path.of(System.getProperty("bench.branch.launcher", "bin/clonefs")).toAbsolutePath();
    private final Path repo = Path.of(System.getProperty("bench.remote.repo", ".")).toAbsolutePath();
    private final String report = System.getProperty("bench.report");
    private final Random random = new Random(Long.getLong("soak.seed", 19));

    /** Held shared by every worker's step, exclusively by a kill and restart. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private final AtomicBoolean done = new AtomicBoolean();
    private final Map<String, int[]> actions = new LinkedHashMap<>(); // name -> {ok, failed}
    private final List<String> failures = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final BitSet acknowledged = new BitSet();
    private final AtomicLong ledgerUnknown = new AtomicLong();
    private final Map<String, Boolean> branches = new ConcurrentHashMap<>();
    private final List<String> snapshots = new ArrayList<>();
    private Map<String, String> env;
    private Path pool;
    private Path mnt;
    private int srcPort;
    private long t0;
    private int kills;
    private int pushes;
    private String source = "";

    /** One sample of the daemon and the pool. */
    record Sample(double minute, long rssBytes, int threads, int fds, long directBytes, long lmdbBytes, long blocksInUse,
                  long blocksReachable, long reclaimBacklog, int pgProcesses, int servers, long daemonPid) {
    }

    public static void main(String[] args) throws Exception {
        Soak s = new Soak();
        boolean ok = s.run();
        System.exit(ok ? 0 : 1);
    }

    private static void log(String s) {
        System.out.println("[soak " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    boolean run() throws Exception {
        Class.forName("org.postgresql.Driver");
        t0 = System.nanoTime();
        Path root = Files.createTempDirectory(dir, "clonefs-soak-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        pool = root.resolve("pool");
        mnt = Files.createDirectories(root.resolve("mnt"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        env = new HashMap<>();
        env.put("CLONEFS_POOL", pool.toString());
        env.put("CLONEFS_RUN_DIR", root.resolve("run").toString());
        env.put("CLONEFS_PG_PORTS", ports);
        env.put("CLONEFS_PG_SUSPEND_AFTER", "2m");
        Path ceph = root.resolve("ceph");
        boolean cephUp = false;
        boolean mounted = false;
        String startLoad = BenchSupport.loadavg();
        try {
            Map<String, String> s3 = null;
            if (push) {
                log("starting a single-node Ceph with radosgw in " + ceph);
                PgProc.run(Duration.ofMinutes(5), List.of(repo.resolve("scripts/ceph-dev.sh").toString(), "start",
                        ceph.toString())).check();
                cephUp = true;
                s3 = RemoteBench.readEnv(ceph.resolve("s3.env"));
                try (S3Client c = RemoteBench.client(s3)) {
                    c.createBucket(b -> b.bucket("soak"));
                }
                env.put("AWS_ACCESS_KEY_ID", s3.get("CEPH_S3_ACCESS_KEY"));
                env.put("AWS_SECRET_ACCESS_KEY", s3.get("CEPH_S3_SECRET_KEY"));
            }
            cli("init", pool.toString()).check();
            cli("mount", pool.toString(), mnt.toString()).check();
            mounted = true;
            if (s3 != null) {
                cli("remote", "add", "r1", "--endpoint", s3.get("CEPH_S3_ENDPOINT"), "--bucket", "soak").check();
            }
            srcPort = BranchBench.json(cli("pg", "init", "src", "--json").check().output()).get("port").asInt();
            log("source on port " + srcPort + ": pgbench -i -s " + pgScale);
            PgProc.runAsPostgres(Duration.ofMinutes(30),
                    BranchBench.pgbench(srcPort, "-i", "-s", Integer.toString(pgScale), "-q", "postgres")).check();
            BranchBench.execute(srcPort, "create table ledger (id bigint primary key, at timestamptz default clock_timestamp())");
            source = BranchBench.query(srcPort, "select pg_size_pretty(pg_database_size('postgres'))");
            log("source " + source + "; soak for " + minutes + " min");
            churn();
            finish();
        } catch (Exception | AssertionError e) {
            problems.add("the soak stopped: " + e);
            log("the soak stopped: " + e);
            e.printStackTrace(System.out);
        } finally {
            done.set(true);
            if (mounted) {
                PgProc.Result u = cli("umount", mnt.toString());
                if (!u.ok()) {
                    log("umount failed, forcing: " + u.output());
                    forceUnmount();
                }
            }
            if (cephUp) {
                PgProc.run(Duration.ofMinutes(2), List.of(repo.resolve("scripts/ceph-dev.sh").toString(), "stop",
                        ceph.toString()));
            }
            BenchSupport.deleteTree(root);
        }
        String table = table(startLoad);
        System.out.println(table);
        if (report != null && !report.isEmpty() && !samples.isEmpty()) {
            BenchSupport.replaceSection(Path.of(report), BEGIN, END, table);
            log("wrote its section of " + report);
        }
        if (samples.size() > 1) {
            drawChart();
        }
        return problems.isEmpty();
    }

    // ---- the workers ---------------------------------------------------------------------------

    private void churn() throws Exception {
        t0 = System.nanoTime();
        long end = t0 + (long) (minutes * 60e9);
        Thread ledger = worker("ledger", this::ledger);
        Thread load = worker("load", this::load);
        Thread sampler = worker("sampler", this::sampler);
        long nextPush = System.nanoTime() + (long) (pushMinutes * 60e9);
        long nextKill = System.nanoTime() + (long) (killMinutes * 60e9);
        int n = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(churnSeconds * 1000L);
            if (push && System.nanoTime() >= nextPush) {
                nextPush += (long) (pushMinutes * 60e9);
                step("push", () -> {
                    String snap = "src@push" + pushes;
                    cli("snapshot", snap).check();
                    cli("push", snap, "r1").check();
                    if (pushes > 0) {
                        cli("destroy", "src@push" + (pushes - 1)).check(); // the remote keeps it
                    }
                    pushes++;
                });
            }
            if (killMinutes > 0 && System.nanoTime() >= nextKill) {
                nextKill += (long) (killMinutes * 60e9);
                killAndRestart();
                continue;
            }
            int live = branches.size();
            int pick = random.nextInt(10);
            if (pick < 3 && live < maxBranches) {
                String name = "b" + n++;
                step("branch", () -> {
                    cli("pg", "branch", "src", name).check();
                    branches.put(name, true);
                });
            } else if (pick < 5 && live > 0) {
                String name = anyBranch();
                step("reset", () -> cli("pg", "reset", name).check());
            } else if (pick < 7 && live > 0) {
                String name = anyBranch();
                step("destroy", () -> {
                    cli("pg", "destroy", name).check();
                    branches.remove(name);
                });
            } else if (pick < 8) {
                String snap = "src@s" + n++;
                step("snapshot", () -> {
                    cli("snapshot", snap).check();
                    snapshots.add(snap);
                    if (snapshots.size() > 5) {
                        cli("destroy", snapshots.remove(0)).check();
                    }
                });
            } else if (live > 0) {
                String name = anyBranch();
                step("pgbench -S on a branch", () -> {
                    int port = serverPort(name);
                    PgProc.runAsPostgres(Duration.ofMinutes(2), BranchBench.pgbench(port, "-S", "-c", "1", "-T", "5", "-n",
                            "postgres")).check();
                });
            }
        }
        done.set(true);
        for (Thread t : List.of(ledger, load, sampler)) {
            t.join(Duration.ofMinutes(2).toMillis());
        }
    }

    /** Runs one churn step under the shared gate, counting it. */
    private void step(String name, Body body) {
        gate.readLock().lock();
        try {
            body.run();
            count(name, true, null);
        } catch (Exception | AssertionError e) {
            count(name, false, e.getMessage());
        } finally {
            gate.readLock().unlock();
        }
    }

    private synchronized void count(String name, boolean ok, String why) {
        int[] c = actions.computeIfAbsent(name, k -> new int[2]);
        c[ok ? 0 : 1]++;
        if (!ok) {
            String line = String.format(Locale.ROOT, "%.1f min, %s: %s", minute(), name,
                    why == null ? "?" : why.strip().lines().limit(3).reduce((a, b) -> a + " / " + b).orElse(""));
            failures.add(line);
            log("failed: " + line);
        }
    }

    interface Body {
        void run() throws Exception;
    }

    private Thread worker(String name, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                synchronized (this) {
                    problems.add(name + " stopped: " + e);
                }
            }
        }, "soak-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private String anyBranch() {
        List<String> names = new ArrayList<>(branches.keySet());
        return names.get(random.nextInt(names.size()));
    }

    private int serverPort(String name) throws IOException {
        for (JsonNode s : BranchBench.JSON.readTree(cli("pg", "list", "--json").check().output())) {
            if (s.get("name").asText().equals(name)) {
                return s.get("port").asInt();
            }
        }
        throw new IllegalStateException("no server " + name);
    }

    /**
     * One row per transaction into the ledger; an id is acknowledged once its commit returned. It
     * runs through the kills (no gate): a commit cut by one is neither acknowledged nor counted.
     */
    private void ledger() throws InterruptedException {
        long id = 1;
        while (!done.get()) {
            try (Connection c = connect(srcPort); Statement st = c.createStatement()) {
                while (!done.get()) {
                    long mine = id++;
                    try {
                        st.execute("insert into ledger (id) values (" + mine + ")");
                    } catch (SQLException e) {
                        ledgerUnknown.incrementAndGet(); // may or may not be committed
                        throw e;
                    }
                    synchronized (acknowledged) {
                        acknowledged.set((int) mine);
                    }
                    Thread.sleep(50);
                }
            } catch (SQLException e) {
                Thread.sleep(500);
            }
        }
    }

    /** pgbench on the source, 30 s at a time, through the kills too. */
    private void load() throws InterruptedException {
        while (!done.get()) {
            PgProc.Result r = PgProc.runAsPostgres(Duration.ofMinutes(2), BranchBench.pgbench(srcPort, "-c", "2", "-j", "1",
                    "-T", "30", "-n", "postgres"));
            Thread.sleep(r.ok() ? 100 : 1000);
        }
    }

    private void sampler() throws Exception {
        while (!done.get()) {
            gate.readLock().lock();
            try {
                Sample s = sample();
                synchronized (samples) {
                    samples.add(s);
                }
                log(String.format(Locale.ROOT, "%.1f min: RSS %s, %d threads, %d fds, direct %s, LMDB %s, blocks %d in use "
                        + "/ %d reachable (backlog %d), %d PostgreSQL processes, %d servers", s.minute(),
                        BenchSupport.bytes(s.rssBytes()), s.threads(), s.fds(), BenchSupport.bytes(s.directBytes()),
                        BenchSupport.bytes(s.lmdbBytes()), s.blocksInUse(), s.blocksReachable(), s.reclaimBacklog(),
                        s.pgProcesses(), s.servers()));
            } catch (Exception e) {
                log("no sample: " + e);
            } finally {
                gate.readLock().unlock();
            }
            long until = System.nanoTime() + sampleSeconds * 1_000_000_000L;
            while (!done.get() && System.nanoTime() < until) {
                Thread.sleep(500);
            }
        }
    }

    // ---- kill -9 and restart -------------------------------------------------------------------

    private void killAndRestart() throws Exception {
        gate.writeLock().lock();
        try {
            long daemon = daemonPid();
            List<Long> postmasters = postmasters();
            log("kill -9 of the daemon (" + daemon + ") and of " + postmasters.size() + " PostgreSQL servers");
            Stream.concat(Stream.of(daemon), postmasters.stream()).forEach(p -> PgProc.run(Duration.ofSeconds(10), "kill",
                    "-9", Long.toString(p)));
            for (long p : postmasters) {
                waitGone(p);
            }
            waitGone(daemon);
            forceUnmount();
            cli("mount", pool.toString(), mnt.toString()).check();
            kills++;
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (true) {
                try {
                    BranchBench.query(srcPort, "select 1");
                    break;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the source does not answer 3 min after the remount: " + e);
                    }
                    Thread.sleep(250);
                }
            }
            checkLedger("after kill " + kills);
            for (JsonNode s : BranchBench.JSON.readTree(cli("pg", "list", "--json").check().output())) {
                String name = s.get("name").asText();
                if (!name.equals("src") && !branches.containsKey(name)) {
                    branches.put(name, true); // created just as the kill came
                }
            }
            branches.keySet().removeIf(b -> {
                try {
                    serverPort(b);
                    return false;
                } catch (IOException | RuntimeException e) {
                    return true;
                }
            });
        } finally {
            gate.writeLock().unlock();
        }
    }

    /** Every acknowledged ledger row is in the source. */
    private void checkLedger(String when) throws Exception {
        BitSet missing;
        synchronized (acknowledged) {
            missing = (BitSet) acknowledged.clone(); // before the read: the writer goes on meanwhile
        }
        BitSet present = new BitSet();
        try (Connection c = connect(srcPort); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select id from ledger")) {
            while (rs.next()) {
                present.set((int) rs.getLong(1));
            }
        }
        int acked = missing.cardinality();
        missing.andNot(present);
        if (!missing.isEmpty()) {
            String line = when + ": " + missing.cardinality() + " acknowledged ledger rows missing (first id "
                    + missing.nextSetBit(0) + ")";
            synchronized (this) {
                problems.add(line);
            }
            log(line);
        } else {
            log(when + ": all " + acked + " acknowledged ledger rows are there");
        }
    }

    private long daemonPid() {
        try {
            return BranchBench.JSON.readTree(pool.resolve("daemon.json").toFile()).get("pid").asLong();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The postmasters whose data directory is on this mount. */
    private List<Long> postmasters() {
        List<Long> out = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            String cmd = p.info().commandLine().orElse("");
            if (cmd.contains("/postgres ") && cmd.contains(" -D " + mnt)) {
                out.add(p.pid());
            }
        });
        return out;
    }

    private int pgProcesses() {
        int n = 0;
        for (long pm : postmasters()) {
            n += 1 + (int) (long) ProcessHandle.of(pm).map(h -> h.descendants().count()).orElse(0L);
        }
        return n;
    }

    private static void waitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    private void forceUnmount() {
        for (List<String> cmd : List.of(List.of("fusermount", "-u", mnt.toString()), List.of("fusermount", "-u", "-z",
                mnt.toString()), List.of("umount", "-l", mnt.toString()))) {
            if (!mounted()) {
                return;
            }
            PgProc.run(Duration.ofSeconds(30), cmd);
        }
    }

    private boolean mounted() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.split(" ")[1].equals(mnt.toString()));
        } catch (IOException e) {
            return true;
        }
    }

    // ---- samples -------------------------------------------------------------------------------

    private Sample sample() throws Exception {
        long pid = daemonPid();
        long rss = -1;
        int threads = -1;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            } else if (line.startsWith("Threads:")) {
                threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
            }
        }
        int fds;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = (int) s.count();
        }
        long lmdb = 0;
        try (Stream<Path> s = Files.walk(pool)) {
            for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".mdb")).toList()) {
                lmdb += Files.size(p);
            }
        }
        JsonNode space = BranchBench.json(cli("space", "--json").check().output());
        JsonNode fsck = BranchBench.json(cli("fsck", "--json").output());
        if (!fsck.path("clean").asBoolean(false)) {
            synchronized (this) {
                problems.add(String.format(Locale.ROOT, "%.1f min: fsck found problems: %s", minute(), fsck.path("problems")));
            }
        }
        int servers = BranchBench.JSON.readTree(cli("pg", "list", "--json").check().output()).size();
        return new Sample(minute(), rss, threads, fds, directBuffers(pid), lmdb, space.get("blocksInUse").asLong(),
                fsck.path("blocks").asLong(-1), space.get("reclaimBacklog").asLong(), pgProcesses(), servers, pid);
    }

    /** The daemon's direct buffers in use (its java.nio BufferPool "direct"), by a JMX attach; -1 if it cannot. */
    private static long directBuffers(long pid) {
        try {
            com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(Long.toString(pid));
            try {
                String address = vm.startLocalManagementAgent();
                try (javax.management.remote.JMXConnector c = javax.management.remote.JMXConnectorFactory.connect(
                        new javax.management.remote.JMXServiceURL(address))) {
                    Object used = c.getMBeanServerConnection().getAttribute(
                            new javax.management.ObjectName("java.nio:type=BufferPool,name=direct"), "MemoryUsed");
                    return ((Number) used).longValue();
                }
            } finally {
                vm.detach();
            }
        } catch (Exception e) {
            return -1;
        }
    }

    private double minute() {
        return (System.nanoTime() - t0) / 60e9;
    }

    // ---- the end -------------------------------------------------------------------------------

    private void finish() throws Exception {
        log("the end: clean stops, pg_checksums, pg_amcheck, fsck, the ledger");
        checkLedger("at the end");
        JsonNode list = BranchBench.JSON.readTree(cli("pg", "list", "--json").check().output());
        for (JsonNode s : list) {
            String name = s.get("name").asText();
            cli("pg", "stop", name).check();
            PgProc.Result r = PgProc.runAsPostgres(Duration.ofMinutes(10), List.of(PgProc.pgTool("pg_checksums"), "--check",
                    "-D", s.get("dataDir").asText()));
            if (!r.ok()) {
                problems.add("pg_checksums --check of " + name + ": " + r.output().strip());
            }
            log("pg_checksums " + name + ": " + (r.ok() ? "clean" : "FAILED"));
            cli("pg", "start", name).check();
            int port = serverPort(name);
            PgProc.Result a = PgProc.runAsPostgres(Duration.ofMinutes(10), List.of(PgProc.pgTool("pg_amcheck"), "-h",
                    "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "--all", "--install-missing",
                    "--heapallindexed"));
            if (!a.ok()) {
                problems.add("pg_amcheck of " + name + ": " + a.output().strip());
            }
            log("pg_amcheck " + name + ": " + (a.ok() ? "clean" : "FAILED"));
        }
        JsonNode fsck = BranchBench.json(cli("fsck", "--json").output());
        if (!fsck.path("clean").asBoolean(false)) {
            problems.add("fsck at the end: " + fsck.path("problems"));
        }
        log("fsck: " + (fsck.path("clean").asBoolean(false) ? "clean" : "PROBLEMS"));
        checkLedger("after the checks");
        Thread.sleep(5000);
        Sample last = sample(); // the servers idle: blocks in use against those fsck reaches, with no writer between
        samples.add(last);
        log("at rest: blocks " + last.blocksInUse() + " in use, " + last.blocksReachable() + " reachable, backlog "
                + last.reclaimBacklog());
    }

    private String table(String startLoad) {
        StringBuilder b = new StringBuilder();
        b.append(BEGIN).append('\n');
        b.append("### The last run (`make soak`)\n\n");
        double ran = samples.isEmpty() ? 0 : samples.get(samples.size() - 1).minute();
        b.append(String.format(Locale.ROOT, "Run %s UTC for %.0f minutes on a pgbench source of %s (`-s %d`): a ledger "
                + "writer (one row per transaction), `pgbench -c 2` on the source, a churn step every %d s (branch up to "
                + "%d, reset, destroy, snapshot, `pgbench -S` on a branch), %s and `kill -9` of the daemon and its "
                + "PostgreSQL servers every %s min, then a remount. Load average before: %s.%n%n",
                Instant.now().toString().substring(0, 16), ran, source, pgScale, churnSeconds, maxBranches,
                push ? "a push to a single-node Ceph every " + fmt(pushMinutes) + " min" : "no pushes",
                fmt(killMinutes), startLoad));
        b.append("Machine:\n\n").append(BenchSupport.machine(dir)).append('\n');
        b.append("| minute | daemon RSS | threads | open fds | direct buffers | LMDB file | blocks in use | blocks fsck "
                + "reaches | reclaim backlog | PostgreSQL processes | servers |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        long lastPid = -1;
        for (Sample s : samples) {
            b.append(String.format(Locale.ROOT, "| %.1f%s | %s | %d | %d | %s | %s | %d | %d | %d | %d | %d |%n", s.minute(),
                    lastPid >= 0 && s.daemonPid() != lastPid ? " (new daemon)" : "", BenchSupport.bytes(s.rssBytes()),
                    s.threads(), s.fds(), s.directBytes() < 0 ? "?" : BenchSupport.bytes(s.directBytes()),
                    BenchSupport.bytes(s.lmdbBytes()), s.blocksInUse(), s.blocksReachable(), s.reclaimBacklog(),
                    s.pgProcesses(), s.servers()));
            lastPid = s.daemonPid();
        }
        b.append('\n');
        StringBuilder acts = new StringBuilder();
        actions.forEach((k, v) -> acts.append(acts.length() == 0 ? "" : ", ").append(k).append(' ').append(v[0])
                .append(v[1] == 0 ? "" : " (" + v[1] + " failed)"));
        int acked;
        synchronized (acknowledged) {
            acked = acknowledged.cardinality();
        }
        b.append(String.format(Locale.ROOT, "Steps: %s; %d kills of the daemon; %d acknowledged ledger rows (%d "
                + "transactions cut by a kill, neither acknowledged nor counted).%n%n", acts, kills, acked, ledgerUnknown.get()));
        if (!failures.isEmpty()) {
            b.append("Failed steps:\n\n");
            failures.stream().limit(20).forEach(f -> b.append("- ").append(f.replace('|', '/')).append('\n'));
            b.append('\n');
        }
        b.append(problems.isEmpty() ? "Verdict: nothing lost; every `pg_checksums --check`, `pg_amcheck` and `fsck` clean.\n"
                : "Verdict: PROBLEMS:\n\n" + problems.stream().map(p -> "- " + p.replace('|', '/')).reduce("", (x, y) -> x + y + "\n"));
        b.append("\n![daemon RSS, threads, fds and the pool's blocks over the soak](docs/img/")
                .append(chart.getFileName()).append(")\n\n");
        b.append(END).append('\n');
        return b.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private void drawChart() throws IOException {
        List<double[]> rss = new ArrayList<>();
        List<double[]> lmdb = new ArrayList<>();
        List<double[]> threads = new ArrayList<>();
        List<double[]> fds = new ArrayList<>();
        List<double[]> pg = new ArrayList<>();
        List<double[]> used = new ArrayList<>();
        List<double[]> reach = new ArrayList<>();
        for (Sample s : samples) {
            rss.add(new double[] {s.minute(), s.rssBytes() / 1048576.0});
            lmdb.add(new double[] {s.minute(), s.lmdbBytes() / 1048576.0});
            threads.add(new double[] {s.minute(), s.threads()});
            fds.add(new double[] {s.minute(), s.fds()});
            pg.add(new double[] {s.minute(), s.pgProcesses()});
            used.add(new double[] {s.minute(), s.blocksInUse() * 8192 / 1048576.0});
            reach.add(new double[] {s.minute(), s.blocksReachable() * 8192 / 1048576.0});
        }
        Chart.write(chart, "clonefs soak: one pool under churn, kill -9 of the daemon every " + fmt(killMinutes) + " min",
                List.of(new Chart.Panel("daemon memory", "minute", "MiB", List.of(new Chart.Series("RSS", rss),
                        new Chart.Series("LMDB file", lmdb)), Double.NaN),
                        new Chart.Panel("daemon threads and fds", "minute", "count", List.of(new Chart.Series("threads",
                                threads), new Chart.Series("open fds", fds), new Chart.Series("PostgreSQL processes", pg)),
                                Double.NaN),
                        new Chart.Panel("pool blocks", "minute", "MiB of 8 KiB blocks", List.of(new Chart.Series("in use",
                                used), new Chart.Series("reached by fsck", reach)), Double.NaN)));
        log("chart: " + chart);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private PgProc.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return PgProc.run(Duration.ofMinutes(10), cmd, env);
    }

    private static Connection connect(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }
}
