package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.pg.Pgbench;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Concurrency storm (issue 7 §4): while pgbench runs on PostgreSQL on the source volume and on two
 * clones of it (started by hand: postmaster.pid removed, own port), several clients snapshot,
 * clone, destroy and list through the CLI and through the REST API at once, on a small set of names
 * so that they collide. No deadlock (every command returns within a bound and the storm ends on
 * time), no error other than the expected conflicts (exists / not found / has dependants), pgbench
 * succeeds and its invariant holds on all three servers, fsck is clean.
 * {@code -Dclonefs.storm.seconds=N}, {@code -Dclonefs.storm.seed=S}.
 */
class StormReliabilityIT {
    private static final Duration COMMAND_BOUND = Duration.ofSeconds(60);
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("storm").build();

    @Test
    void datasetCommandsStormWhilePgbenchRunsOnSourceAndClones() throws Exception {
        int seconds = Integer.getInteger("clonefs.storm.seconds", 15);
        long seed = Long.getLong("clonefs.storm.seed", System.nanoTime());
        System.out.println("StormReliabilityIT: seed " + seed + " (-Dclonefs.storm.seed=" + seed + ")");
        Workspace ws = pools.ws();
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        cfs.ok("create", "pg");
        Path source = mnt.resolve("pg");
        Workspace.chownPostgres(source);
        PgServer.initdb(source);
        PgServer src = new PgServer(ws, "source", source);
        src.start("autovacuum=off");
        src.tool(Duration.ofMinutes(10), "pgbench", "-i", "-s", "2", "-q", "postgres").check();
        src.execute("checkpoint");

        // two clones, right after -i: each starts from the same zero sums
        List<PgServer> servers = new ArrayList<>(List.of(src));
        for (String c : List.of("pgc1", "pgc2")) {
            cfs.ok("clone", "pg", c);
            Files.deleteIfExists(mnt.resolve(c).resolve("postmaster.pid"));
            PgServer s = new PgServer(ws, c, mnt.resolve(c));
            s.start("autovacuum=off");
            servers.add(s);
        }
        List<Pgbench.Sums> bases = new ArrayList<>();
        for (PgServer s : servers) {
            bases.add(Pgbench.sums(s.port()));
        }

        String tok = Files.readString(cfs.pool().resolve("daemon.token")).strip();
        int port = cfs.daemonInfo().get("port").asInt();
        List<Process> benches = new ArrayList<>();
        List<Path> benchLogs = new ArrayList<>();
        for (PgServer s : servers) {
            Path log = ws.postgresDir("bench-" + s.port()).resolve("pgbench.log");
            benchLogs.add(log);
            // no -n: one run after -i, so sum(abalance) == sum(delta) on each server (see Pgbench)
            benches.add(s.toolInBackground(log, "pgbench", "-c", "2", "-j", "1", "-T", Integer.toString(seconds + 5),
                    "postgres"));
        }

        // the storm
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<String> unexpected = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        List<Thread> clients = new ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        for (int i = 0; i < 6; i++) {
            boolean viaCli = i < 3;
            Random r = new Random(seed + i);
            Thread t = new Thread(() -> {
                while (System.nanoTime() < deadline) {
                    String[] cmd = randomCommand(r);
                    long t0 = System.nanoTime();
                    String outcome;
                    try {
                        outcome = viaCli ? cli(cfs, cmd) : rest(http, port, tok, cmd);
                    } catch (RuntimeException | AssertionError e) {
                        outcome = "exception " + e;
                    }
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    outcomes.computeIfAbsent((viaCli ? "cli " : "api ") + cmd[0] + " " + outcome.split(":")[0],
                            k -> new AtomicInteger()).incrementAndGet();
                    if (!outcome.startsWith("ok") && !outcome.startsWith("expected")) {
                        unexpected.add(String.join(" ", cmd) + " -> " + outcome);
                    }
                    if (ms > COMMAND_BOUND.toMillis()) {
                        unexpected.add(String.join(" ", cmd) + " took " + ms + " ms");
                    }
                }
            }, "storm-" + i);
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join(COMMAND_BOUND.toMillis() + seconds * 1000L);
            assertTrue(!t.isAlive(), "storm client " + t.getName() + " is stuck (deadlock?)");
        }
        System.out.println("storm outcomes: " + new java.util.TreeMap<>(outcomes));
        assertEquals(List.of(), unexpected, "seed " + seed);

        for (int i = 0; i < benches.size(); i++) {
            assertTrue(benches.get(i).waitFor(5, TimeUnit.MINUTES), "pgbench did not finish");
            assertEquals(0, benches.get(i).exitValue(), Files.readString(benchLogs.get(i)));
        }
        for (int i = 0; i < servers.size(); i++) {
            PgServer s = servers.get(i);
            Pgbench.Sums after = Pgbench.assertInvariant(s.port(), bases.get(i), "server " + i);
            assertTrue(after.historyRows() > 0, "pgbench made no progress on server " + i);
            System.out.printf("server %d: %d pgbench transactions, invariant holds%n", i, after.historyRows());
            Proc.Result amcheck = s.tool(Duration.ofMinutes(10), "pg_amcheck", "--install-missing", "-d", "postgres");
            assertEquals(0, amcheck.exit(), amcheck.describe());
        }
        Proc.Result fsck = cfs.run("fsck");
        assertEquals(0, fsck.exit(), fsck.describe());
    }

    private static final String[] VOLS = {"pg", "pgc1", "pgc2"};

    /** One of: snapshot V@sN, clone V@sN stK, clone V stK, destroy stK, destroy V@sN, destroy -r V@sN, list. */
    private static String[] randomCommand(Random r) {
        String v = VOLS[r.nextInt(VOLS.length)];
        String snap = v + "@s" + r.nextInt(4);
        String clone = "st" + r.nextInt(4);
        return switch (r.nextInt(7)) {
            case 0, 1 -> new String[] {"snapshot", snap};
            case 2 -> new String[] {"clone", snap, clone};
            case 3 -> new String[] {"clone", v, clone};
            case 4 -> new String[] {"destroy", r.nextBoolean() ? clone : snap};
            case 5 -> new String[] {"destroy", "-r", r.nextBoolean() ? clone : snap};
            default -> new String[] {"list"};
        };
    }

    /** "ok", "expected: ..." for exit 3/4 (not found / exists, conflict), else the failure. */
    private static String cli(Clonefs cfs, String[] cmd) {
        Proc.Result r = cfs.run(cmd);
        if (r.exit() == 0) {
            return "ok";
        }
        if (r.exit() == 3 || r.exit() == 4) {
            return "expected: exit " + r.exit();
        }
        return "failed: " + r.describe();
    }

    private static String rest(HttpClient http, int port, String token, String[] cmd) {
        String method;
        String path;
        String body = null;
        switch (cmd[0]) {
            case "snapshot" -> {
                String[] vs = cmd[1].split("@");
                method = "POST";
                path = "/v1/snapshots";
                body = "{\"volume\":\"" + vs[0] + "\",\"snapshot\":\"" + vs[1] + "\"}";
            }
            case "clone" -> {
                method = "POST";
                path = "/v1/clones";
                body = "{\"source\":\"" + cmd[1] + "\",\"name\":\"" + cmd[2] + "\"}";
            }
            case "destroy" -> {
                method = "DELETE";
                boolean rec = cmd[1].equals("-r");
                path = "/v1/datasets/" + cmd[rec ? 2 : 1] + (rec ? "?recursive=true" : "");
            }
            default -> {
                method = "GET";
                path = "/v1/datasets";
            }
        }
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(COMMAND_BOUND).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            int c = r.statusCode();
            if (c == 200 || c == 201) {
                return "ok";
            }
            if (c == 404 || c == 409) {
                return "expected: " + c;
            }
            return "failed: HTTP " + c + " " + r.body();
        } catch (java.io.IOException e) {
            return "failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "failed: interrupted";
        }
    }
}
