package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.pg.Pgbench;
import io.clonefs.it.support.Ceph;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 9's PostgreSQL proof: a live PostgreSQL volume snapshotted under pgbench on pool 1,
 * pushed to a real Ceph radosgw, branched on pool 2 with {@code clonefs pg branch REMOTE:VOL@SNAP}
 * (blocks fetched on first read); pgbench's invariant and {@code pg_amcheck} hold there, the branch
 * takes writes, the source is untouched. With the gateway down, a cold branch server cannot start
 * (EIO, never wrong data) and starts cleanly once the gateway is back.
 */
class RemotePgIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("remotepg").withCeph().pools("a", "b").pgPorts(44000, 50).build();

    @Test
    void branchOfAPushedLiveDatabaseOnAnotherPool() throws Exception {
        Workspace ws = pools.ws();
        Ceph ceph = pools.ceph();
        ceph.createBucket("pgdata");
        Path keys = ws.dir("keys").resolve("s3.keys");
        Files.writeString(keys, "aws_access_key_id=" + ceph.accessKey() + "\naws_secret_access_key=" + ceph.secretKey() + "\n");
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        Clonefs a = pools.clonefs("a");
        Clonefs b = pools.clonefs("b");
        for (Clonefs c : List.of(a, b)) {
            c.ok("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", "pgdata", "--credentials-file", keys.toString());
        }

        int sp = a.json("pg", "init", "src").get("port").asInt();
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "3", "-q", "postgres").check();
        Pgbench.Sums base = Pgbench.sums(sp);
        Path benchLog = ws.postgresDir("bench").resolve("pgbench.log");
        Process bench = Proc.start(Proc.asPostgres(PgHarness.toolCommand(sp, "pgbench", "-c", "2", "-j", "2", "-T", "12",
                "postgres")), benchLog);
        try {
            Proc.sleep(5000);
            assertTrue(bench.isAlive(), "pgbench ended early: " + Files.readString(benchLog));
            a.ok("snapshot", "src@live"); // no CHECKPOINT, no pause: crash-consistent
            assertTrue(bench.waitFor(2, TimeUnit.MINUTES), "pgbench did not finish");
        } finally {
            if (bench.isAlive()) {
                bench.destroyForcibly();
            }
        }
        assertEquals(0, bench.exitValue(), Files.readString(benchLog));
        Pgbench.Sums sourceAfter = Pgbench.assertInvariant(sp, base, "source");

        JsonNode push = a.json("push", "src@live", "ceph");
        assertTrue(push.get("uploadedBlocks").asLong() > 1000, push.toString());

        JsonNode br = b.json("pg", "branch", "ceph:src@live", "b1");
        int bp = br.get("port").asInt();
        assertNotEquals(sp, bp);
        assertEquals("1", PgHarness.query(bp, "select 1"));
        Pgbench.Sums onBranch = Pgbench.assertInvariant(bp, base, "branch on pool b");
        assertTrue(onBranch.historyRows() > 0, "the branch holds transactions made before the snapshot");
        assertTrue(onBranch.historyRows() < sourceAfter.historyRows(), "and not those made after it");
        amcheck(bp);
        JsonNode cache = b.json("cache", "status");
        assertTrue(cache.get("fetches").asLong() > 0, cache.toString());
        assertEquals(0, cache.get("fetchErrors").asLong(), cache.toString());

        // the branch takes writes; the source does not see them
        PgHarness.tool(bp, Duration.ofMinutes(5), "pgbench", "-n", "-c", "2", "-T", "4", "postgres").check();
        Pgbench.assertInvariant(bp, base, "branch after its own pgbench");
        PgHarness.execute(bp, "create table branch_only as select 1 as x");
        assertEquals(null, PgHarness.query(sp, "select to_regclass('branch_only')"));
        assertEquals(sourceAfter.historyRows(), Pgbench.sums(sp).historyRows(), "the source is untouched");

        // a cold server with the gateway down: EIO, no start, never wrong data; back when it returns
        b.ok("pg", "stop", "b1");
        b.ok("cache", "evict");
        Proc.run(List.of("sync"), Map.of(), Duration.ofMinutes(1));
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        ceph.stopGateway();
        Proc.Result cold = b.run("pg", "start", "b1");
        assertNotEquals(0, cold.exit(), "a server whose blocks cannot be fetched must not start: " + cold.describe());
        assertTrue(b.json("cache", "status").get("fetchErrors").asLong() > 0);
        ceph.startGateway();
        Proc.Result back = b.run("pg", "start", "b1");
        if (back.exit() != 0) {
            // the failed start may have left the server half-stopped: stop, then start again
            b.run("pg", "stop", "b1");
            b.ok("pg", "start", "b1");
        }
        Pgbench.assertInvariant(bp, base, "branch restarted after the outage");
        assertEquals("1", PgHarness.query(bp, "select count(*) from branch_only"));
        amcheck(bp);
    }

    private static void amcheck(int port) {
        Proc.Result r = PgHarness.tool(port, Duration.ofMinutes(5), "pg_amcheck", "--install-missing", "--heapallindexed",
                "postgres");
        assertEquals(0, r.exit(), "pg_amcheck: " + r.describe());
    }
}
