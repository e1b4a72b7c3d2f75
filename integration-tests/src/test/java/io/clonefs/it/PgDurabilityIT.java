package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every commit PostgreSQL acknowledged survives {@code kill -9} of the clonefs daemon and of
 * PostgreSQL (DESIGN §2 durability): clients insert numbered rows with autocommit and record
 * each acknowledged id; both processes are killed mid-stream; after cleaning up the dead mount,
 * remounting and restarting, every acknowledged row is there and {@code pg_checksums --check} on
 * the stopped cluster is clean. Several rounds on the same pool.
 */
class PgDurabilityIT {
    private static final int WRITERS = 3;
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("durability").build();

    @Test
    void acknowledgedCommitsSurviveKill9OfDaemonAndPostgres() throws Exception {
        int rounds = Integer.getInteger("clonefs.it.durability.rounds", 3);
        Workspace ws = pools.ws();
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        cfs.ok("create", "pg");
        Path data = mnt.resolve("pg");
        Workspace.chownPostgres(data);
        PgServer.initdb(data);
        PgServer pg = new PgServer(ws, "durable", data);
        pg.start();
        pg.execute("create table acked(id bigint primary key, writer int not null, pad text)");

        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        long nextBase = 0;
        for (int round = 1; round <= rounds; round++) {
            if (!pg.running()) {
                pg.start();
            }
            // writers: each its own connection and id range
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = new ArrayList<>();
            long base = nextBase;
            int[] counts = new int[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                Thread t = new Thread(() -> counts[writer] = write(pg, writer, base + writer * 10_000_000L, stop, acknowledged),
                        "writer-" + w);
                t.start();
                writers.add(t);
            }
            Proc.sleep(4000);
            long daemon = cfs.daemonPid();
            assertTrue(daemon > 0, "no daemon");
            int ackedBeforeKill = acknowledged.size();
            // crash both while the writers are in the middle of commits
            Proc.kill9(daemon);
            pg.kill9();
            stop.set(true);
            for (Thread t : writers) {
                t.join(120_000);
            }
            assertTrue(Proc.waitGone(daemon, Duration.ofSeconds(30)));
            nextBase = base + WRITERS * 10_000_000L;
            int thisRound = java.util.Arrays.stream(counts).sum();
            System.out.printf("round %d: %d commits acknowledged before kill -9 (%d in total)%n", round, thisRound,
                    acknowledged.size());
            assertTrue(thisRound > 0 && ackedBeforeKill > 0, "the writers made no progress");

            // an operator's cleanup of the dead mount, then remount and restart
            assertTrue(KernelMounts.isMounted(mnt), "the dead mount should still be listed");
            assertTrue(KernelMounts.forceUnmount(mnt), "cannot remove the stale mount");
            cfs.mount(mnt);
            long r0 = System.nanoTime();
            pg.start();
            System.out.printf("round %d: PostgreSQL recovered in %d ms%n", round, (System.nanoTime() - r0) / 1_000_000);

            Set<Long> present = new HashSet<>();
            try (Connection c = pg.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select id from acked")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            Set<Long> lost = new HashSet<>(acknowledged);
            lost.removeAll(present);
            assertEquals(Set.of(), lost.size() > 20 ? Set.of(lost.size() + " ids, e.g. " + lost.iterator().next()) : lost,
                    "acknowledged commits lost in round " + round);

            pg.stop();
            Proc.Result checksums = Proc.runAsPostgres(List.of(PgServer.bin("pg_checksums"), "--check", "-D",
                    data.toString()), Duration.ofMinutes(10));
            assertEquals(0, checksums.exit(), "pg_checksums in round " + round + ": " + checksums.describe());
        }
        Proc.Result fsck = cfs.run("fsck");
        assertEquals(0, fsck.exit(), fsck.describe());
    }

    /** Inserts rows one commit at a time until stopped or the server dies; returns how many were acknowledged. */
    private static int write(PgServer pg, int writer, long firstId, AtomicBoolean stop, Set<Long> acknowledged) {
        int n = 0;
        try (Connection c = pg.connect();
             PreparedStatement ps = c.prepareStatement("insert into acked(id, writer, pad) values (?, ?, repeat('x', 300))")) {
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
}
