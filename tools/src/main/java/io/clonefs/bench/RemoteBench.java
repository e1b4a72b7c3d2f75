package io.clonefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * remote-bench (issue 9): a real single-node Ceph (scripts/ceph-dev.sh, radosgw on 127.0.0.1) and
 * two pools on this machine standing in for two hosts. Measures push throughput of a pgbench
 * snapshot, bytes uploaded by an incremental push after about 1 % of the pages changed, time from
 * {@code clonefs pg branch REMOTE:src@s2} on the second pool to its first answered query with a
 * cold cache, and pgbench TPS on that branch cold, warm and on a local branch. Rewrites its section
 * of BENCHMARKS.md.
 *
 * <p>Properties: {@code bench.remote.scale} (68: about 1 GB), {@code bench.remote.seconds} (20:
 * each pgbench run), {@code bench.remote.dir} (/var/tmp), {@code bench.report} (file to rewrite).
 */
public final class RemoteBench {
    static final String BEGIN = "<!-- remote-bench:begin (written by tools/remote-bench.sh) -->";
    static final String END = "<!-- remote-bench:end -->";

    private final int scale = Integer.getInteger("bench.remote.scale", 68);
    private final int seconds = Integer.getInteger("bench.remote.seconds", 20);
    private final Path dir = Path.of(System.getProperty("bench.remote.dir", "/var/tmp"));
    private final Path repo = Path.of(System.getProperty("bench.remote.repo", ".")).toAbsolutePath();
    private final Path launcher = repo.resolve("bin/clonefs");
    private final String report = System.getProperty("bench.report");
    private final Map<String, String> results = new java.util.LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        new RemoteBench().run();
    }

    private static void log(String s) {
        System.out.println("[remote-bench " + Instant.now().toString().substring(11, 19) + "] " + s);
        System.out.flush();
    }

    private void run() throws Exception {
        Class.forName("org.postgresql.Driver");
        Path root = Files.createTempDirectory(dir, "clonefs-remote-bench-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path ceph = root.resolve("ceph");
        List<Runnable> cleanup = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            log("starting a single-node Ceph with radosgw in " + ceph);
            check(PgProc.run(Duration.ofMinutes(5), List.of(repo.resolve("scripts/ceph-dev.sh").toString(), "start",
                    ceph.toString())));
            cleanup.add(() -> PgProc.run(Duration.ofMinutes(2), List.of(repo.resolve("scripts/ceph-dev.sh").toString(), "stop",
                    ceph.toString())));
            Map<String, String> s3 = readEnv(ceph.resolve("s3.env"));
            try (S3Client c = client(s3)) {
                c.createBucket(b -> b.bucket("bench"));
            }
            Map<String, String> env1 = poolEnv(root, "p1", 47000, s3);
            Map<String, String> env2 = poolEnv(root, "p2", 47040, s3);
            mount(env1, root, "p1", cleanup);
            mount(env2, root, "p2", cleanup);

            int port = BranchBench.json(cli(env1, "pg", "init", "src", "--json").output()).get("port").asInt();
            log("pool 1: pgbench -i -s " + scale + " into the source on port " + port);
            check(PgProc.runAsPostgres(Duration.ofMinutes(30),
                    BranchBench.pgbench(port, "-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q", "postgres")));
            String size = BranchBench.query(port, "select pg_size_pretty(pg_database_size('postgres'))");
            BranchBench.execute(port, "checkpoint");
            cli(env1, "snapshot", "src@s1");
            for (Map<String, String> e : List.of(env1, env2)) {
                cli(e, "remote", "add", "r1", "--endpoint", s3.get("CEPH_S3_ENDPOINT"), "--bucket", "bench");
            }

            log("push src@s1 (full)");
            JsonNode full = BranchBench.json(cli(env1, "push", "src@s1", "r1", "--json").output());
            long blocks = full.get("blocks").asLong();
            double pushS = full.get("seconds").asDouble();
            long logical = blocks * 8192;
            results.put("database (pgbench scale " + scale + ")", size);
            results.put("full push: blocks, bytes uploaded, time", String.format(Locale.ROOT, "%d blocks (%s), %s uploaded in %d packs, %.1f s",
                    blocks, mib(logical), mib(full.get("uploadedBytes").asLong()), full.get("packs").asLong(), pushS));
            results.put("full push throughput", String.format(Locale.ROOT, "%.0f MB/s of snapshot data (%.0f MB/s uploaded)",
                    logical / 1e6 / pushS, full.get("uploadedBytes").asLong() / 1e6 / pushS));

            long accounts = scale * 100_000L;
            long changed = accounts / 100;
            log("update 1 % of pgbench_accounts (aid <= " + changed + "), checkpoint, snapshot s2, push again");
            PgProc.Result upd = PgProc.runAsPostgres(Duration.ofMinutes(10), List.of(PgProc.pgTool("psql"), "-h", "127.0.0.1",
                    "-p", Integer.toString(port), "-U", "postgres", "-c",
                    "update pgbench_accounts set abalance = abalance + 1 where aid <= " + changed, "-c", "checkpoint", "postgres"));
            check(upd);
            cli(env1, "snapshot", "src@s2");
            JsonNode inc = BranchBench.json(cli(env1, "push", "src@s2", "r1", "--json").output());
            results.put("incremental push after updating 1 % of the rows (contiguous aids), then CHECKPOINT",
                    String.format(Locale.ROOT, "%d of %d blocks uploaded (%.2f %%), %s in %.1f s",
                            inc.get("uploadedBlocks").asLong(), inc.get("blocks").asLong(),
                            100.0 * inc.get("uploadedBlocks").asLong() / inc.get("blocks").asLong(),
                            mib(inc.get("uploadedBytes").asLong()), inc.get("seconds").asDouble()));

            log("pool 2: pg branch r1:src@s2 with a cold cache");
            dropKernelCaches();
            long b0 = System.nanoTime();
            JsonNode br = BranchBench.json(cli(env2, "pg", "branch", "r1:src@s2", "rb", "--json").output());
            int rport = br.get("port").asInt();
            String one = BranchBench.query(rport, "select 1");
            long firstQueryMs = (System.nanoTime() - b0) / 1_000_000;
            results.put("`clonefs pg branch r1:src@s2 rb` on pool 2, cold cache, to the first answered query",
                    String.format(Locale.ROOT, "%.2f s (command + first JDBC query; answered %s)", firstQueryMs / 1000.0, one));
            JsonNode cache = BranchBench.json(cli(env2, "cache", "status", "--json").output());
            results.put("fetched from the store by the branch's start", mib(cache.path("fetchedBytes").asLong()));

            // cold: the branch's server restarted, clonefs cache evicted, kernel caches dropped
            cli(env2, "pg", "stop", "rb");
            cli(env2, "cache", "evict");
            dropKernelCaches();
            cli(env2, "pg", "start", "rb");
            String cold = tps(rport, "-S");
            JsonNode after = BranchBench.json(cli(env2, "cache", "status", "--json").output());
            log("cold select-only run: " + cold + " tps; a warm-up run, then the warm one");
            tps(rport, "-S"); // warm-up of the kernel's page cache, as the local branch gets below
            JsonNode beforeWarm = BranchBench.json(cli(env2, "cache", "status", "--json").output());
            String warm = tps(rport, "-S");
            JsonNode afterWarm = BranchBench.json(cli(env2, "cache", "status", "--json").output());
            String warmRw = tps(rport, "");
            log("local branch on pool 1: warm-up run, then select-only and read-write");
            JsonNode lb = BranchBench.json(cli(env1, "pg", "branch", "src", "lb", "--json").output());
            int lport = lb.get("port").asInt();
            tps(lport, "-S"); // warm-up, as the remote branch had its cold run
            String local = tps(lport, "-S");
            String localRw = tps(lport, "");
            results.put("pgbench select-only TPS on the remote branch: cold (cache evicted, server restarted, kernel caches dropped)",
                    cold + " (fetched " + mib(after.path("fetchedBytes").asLong() - cache.path("fetchedBytes").asLong())
                            + " during the run)");
            results.put("pgbench select-only TPS on the remote branch: warm (after one more warm-up run)", warm
                    + " (fetched " + mib(afterWarm.path("fetchedBytes").asLong() - beforeWarm.path("fetchedBytes").asLong())
                    + " during the run)");
            results.put("pgbench select-only TPS on a local branch of the same source (pool 1, after a warm-up run)", local);
            results.put("pgbench read-write TPS: remote branch (warm) / local branch", warmRw + " / " + localRw);
            results.put("whole run", String.format(Locale.ROOT, "%.1f min", (System.nanoTime() - t0) / 60e9));
            String table = table();
            System.out.println(table);
            if (report != null && !report.isEmpty()) {
                writeReport(Path.of(report), table);
            }
        } finally {
            for (int i = cleanup.size() - 1; i >= 0; i--) {
                try {
                    cleanup.get(i).run();
                } catch (RuntimeException e) {
                    log("cleanup step failed: " + e);
                }
            }
            BenchSupport.deleteTree(root);
        }
    }

    private Map<String, String> poolEnv(Path root, String name, int firstPort, Map<String, String> s3) {
        Map<String, String> env = new HashMap<>();
        env.put("CLONEFS_POOL", root.resolve(name).toString());
        env.put("CLONEFS_RUN_DIR", root.resolve(name + "-run").toString());
        env.put("CLONEFS_PG_PORTS", firstPort + "-" + (firstPort + 39));
        env.put("AWS_ACCESS_KEY_ID", s3.get("CEPH_S3_ACCESS_KEY"));
        env.put("AWS_SECRET_ACCESS_KEY", s3.get("CEPH_S3_SECRET_KEY"));
        return env;
    }

    private void mount(Map<String, String> env, Path root, String name, List<Runnable> cleanup) throws IOException {
        Path mnt = Files.createDirectories(root.resolve(name + "-mnt"));
        Files.setPosixFilePermissions(mnt, PosixFilePermissions.fromString("rwxr-xr-x"));
        cli(env, "init", root.resolve(name).toString());
        cli(env, "mount", root.resolve(name).toString(), mnt.toString());
        cleanup.add(() -> {
            PgProc.Result u = PgProc.run(Duration.ofMinutes(3), List.of(launcher.toString(), "umount", mnt.toString()), env);
            if (!u.ok()) {
                log("umount failed, forcing: " + u.output());
                PgProc.run(Duration.ofMinutes(2), List.of(launcher.toString(), "umount", "--force", mnt.toString()), env);
            }
        });
    }

    /** pgbench for {@code seconds} (select-only with -S), 4 clients, 2 threads: "TPS". */
    private String tps(int port, String mode) {
        List<String> args = new ArrayList<>(List.of("-n", "-c", "4", "-j", "2", "-T", Integer.toString(seconds)));
        if (!mode.isEmpty()) {
            args.add(mode);
        }
        args.add("postgres");
        PgProc.Result r = check(PgProc.runAsPostgres(Duration.ofMinutes(10), BranchBench.pgbench(port, args.toArray(String[]::new))));
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(r.output());
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench output: " + r.output());
        }
        return String.format(Locale.ROOT, "%.0f", Double.parseDouble(m.group(1)));
    }

    private PgProc.Result cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        return check(PgProc.run(Duration.ofMinutes(30), cmd, env));
    }

    private static PgProc.Result check(PgProc.Result r) {
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", r.command()) + " failed (exit " + r.exit() + "): " + r.output());
        }
        return r;
    }

    private static void dropKernelCaches() throws IOException {
        PgProc.run(Duration.ofMinutes(1), "sync");
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
    }

    static Map<String, String> readEnv(Path f) throws IOException {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(f)) {
            int i = line.indexOf('=');
            if (i > 0) {
                m.put(line.substring(0, i).trim(), line.substring(i + 1).trim());
            }
        }
        return m;
    }

    static S3Client client(Map<String, String> s3) {
        return S3Client.builder()
                .endpointOverride(URI.create(s3.get("CEPH_S3_ENDPOINT")))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(s3.get("CEPH_S3_ACCESS_KEY"), s3.get("CEPH_S3_SECRET_KEY"))))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private String table() {
        StringBuilder s = new StringBuilder("| measure | result |\n|---|---|\n");
        results.forEach((k, v) -> s.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        return s.toString();
    }

    private void writeReport(Path file, String table) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## Remotes: push to and branch from an S3 store (remote-bench)\n\n");
        s.append("Written by `make bench-remote` (`tools/remote-bench.sh`, `io.clonefs.bench.RemoteBench`) on ")
                .append(Instant.now().toString(), 0, 16).append(" UTC. A single-node Ceph 16 (`scripts/ceph-dev.sh`: "
                        + "mon, mgr, one bluestore OSD on a sparse file, radosgw on 127.0.0.1) and two pools on this "
                        + "machine standing in for two hosts; pgbench runs: `-c 4 -j 2 -T ").append(seconds).append("`.\n\n");
        s.append("Machine:\n\n").append(BenchSupport.machine(dir)).append('\n');
        s.append(table).append('\n');
        s.append("- A missed block is fetched with the next 31 slots of its pack in one ranged GET and all of them are "
                + "cached: under pgbench's random reads the cold run pulls most of the database within its 20 s.\n");
        s.append("- The store and both pools share this 2-core machine: push throughput includes radosgw's and the "
                + "OSD's CPU, fetches cross loopback, not a network.\n");
        s.append(END).append('\n');
        BenchSupport.replaceSection(file, BEGIN, END, s);
        log("wrote its section of " + file);
    }
}
