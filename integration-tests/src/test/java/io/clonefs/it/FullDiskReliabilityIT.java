package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.base.Errno;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Full disk (issue 7 §2). A pool on a small filesystem of its own: writers get ENOSPC (never EIO,
 * never corruption), what was acknowledged stays readable, fsck stays clean, and once a destroy
 * has let the reclaimer free space, writes work again without a restart. Once at the engine level
 * (tmpfs, files only: deterministic), once with PostgreSQL through the daemon (ext4 on a loop
 * device): PostgreSQL reports the error (it may PANIC on a WAL write, its documented behaviour)
 * and restarts cleanly after the space came back; pg_amcheck and pg_checksums are clean.
 */
class FullDiskReliabilityIT {
    private static final int MB = 1 << 20;
    private Workspace ws;
    private Engine engine;

    @AfterEach
    void teardown() {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (ws != null) {
                ws.close();
            }
        }
    }

    /** Mounts a filesystem of its own at ws/name and registers its unmount (the loop device goes with it). */
    private Path smallFilesystem(String name, String... mountCommand) {
        Path dir = ws.dir(name);
        List<String> cmd = new ArrayList<>(Arrays.asList(mountCommand));
        cmd.add(dir.toString());
        Proc.run(cmd, Map.of(), Duration.ofMinutes(1)).check();
        ws.onClose("unmount " + dir, () -> {
            if (KernelMounts.isMounted(dir)) {
                Proc.run(List.of("umount", dir.toString()), Map.of(), Duration.ofMinutes(1));
            }
            if (KernelMounts.isMounted(dir)) {
                Proc.run(List.of("umount", "-l", dir.toString()), Map.of(), Duration.ofMinutes(1));
            }
        });
        return dir;
    }

    @Test
    void engineOnAFullTmpfsGivesEnospcAndRecoversAfterDestroy() throws Exception {
        ws = Workspace.create("fulldisk-engine");
        Path small = smallFilesystem("small", "mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs");
        Path pool = small.resolve("pool");
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        engine = Engine.open(pool, EngineOptions.defaults());
        engine.createVolume("filler");
        VolumeFs filler = engine.volume("filler");
        InodeId big = filler.create(filler.resolve(""), "big", 0644, 0, 0).ino();
        Random r = new Random(42);
        byte[] chunk = new byte[MB];
        for (int i = 0; i < 12; i++) {
            r.nextBytes(chunk);
            filler.write(big, (long) i * MB, ByteBuffer.wrap(chunk));
        }
        filler.fsync(big, false);

        engine.createVolume("v");
        VolumeFs v = engine.volume("v");
        List<byte[]> acknowledged = new ArrayList<>(); // 1 MiB chunks of v/data, each fsynced
        InodeId data = v.create(v.resolve(""), "data", 0644, 0, 0).ino();
        ClonefsException full = null;
        for (int i = 0; i < 200 && full == null; i++) {
            byte[] c = new byte[MB];
            r.nextBytes(c);
            try {
                v.write(data, (long) i * MB, ByteBuffer.wrap(c));
                v.fsync(data, false);
                acknowledged.add(c);
            } catch (ClonefsException e) {
                full = e;
            }
        }
        assertNotNull(full, "the disk never filled up");
        assertEquals(Errno.ENOSPC, full.errno(), "a full disk must be ENOSPC: " + full);
        System.out.printf("engine full after %d MiB acknowledged: %s%n", acknowledged.size(), full.getMessage());
        // nothing acknowledged was lost, and more writes keep failing cleanly
        verify(v, data, acknowledged);
        for (int i = 0; i < 3; i++) {
            try {
                v.write(data, (long) (acknowledged.size() + i) * MB, ByteBuffer.wrap(new byte[MB]));
                v.fsync(data, false);
            } catch (ClonefsException e) {
                assertEquals(Errno.ENOSPC, e.errno(), e.toString());
            }
        }

        // a destroy gives space back (after the reclaimer ran) and writes work again, no restart
        engine.destroy("filler", true);
        assertTrue(engine.awaitReclaim(Duration.ofSeconds(60)), "reclaim did not finish");
        engine.sync();
        long start = (long) acknowledged.size() * MB;
        v.truncate(data, start); // whatever the failed writes left past the acknowledged part
        for (int i = 0; i < 6; i++) {
            byte[] c = new byte[MB];
            r.nextBytes(c);
            v.write(data, start + (long) i * MB, ByteBuffer.wrap(c));
            acknowledged.add(c);
        }
        v.fsync(data, false);
        verify(v, data, acknowledged);
        assertEquals(List.of(), engine.fsck().problems());
        engine.close();
        engine = Engine.open(pool, EngineOptions.defaults());
        verify(engine.volume("v"), engine.volume("v").resolve("data"), acknowledged);
        assertEquals(List.of(), engine.fsck().problems());
    }

    private static void verify(VolumeFs v, InodeId ino, List<byte[]> chunks) {
        for (int i = 0; i < chunks.size(); i++) {
            ByteBuffer b = ByteBuffer.allocate(MB);
            while (b.hasRemaining() && v.read(ino, (long) i * MB + b.position(), b) > 0) {
                // read the chunk
            }
            assertArrayEquals(chunks.get(i), b.array(), "chunk " + i + " lost");
        }
    }

    @Test
    void postgresFillsThePoolGetsEnospcAndWorksAgainAfterADestroy() throws Exception {
        ws = Workspace.create("fulldisk-pg");
        Path img = ws.root().resolve("disk.img");
        Proc.run(List.of("truncate", "-s", "420M", img.toString()), Map.of(), Duration.ofMinutes(1)).check();
        Proc.run(List.of("mkfs.ext4", "-q", "-m", "0", "-F", img.toString()), Map.of(), Duration.ofMinutes(2)).check();
        Path small = smallFilesystem("small", "mount", "-o", "loop", img.toString());
        ws.onClose("check the loop device is gone", () -> {
            Proc.Result l = Proc.run(List.of("losetup", "-j", img.toString()), Map.of(), Duration.ofSeconds(30));
            if (!l.out().isBlank()) {
                for (String line : l.out().split("\n")) {
                    Proc.run(List.of("losetup", "-d", line.split(":")[0]), Map.of(), Duration.ofSeconds(30));
                }
            }
        });
        // other data on the same filesystem, so that the pool fills the disk sooner
        Proc.run(List.of("dd", "if=/dev/zero", "of=" + small.resolve("ballast"), "bs=1M", "count=60", "status=none"),
                Map.of(), Duration.ofMinutes(1)).check();
        Clonefs cfs = new Clonefs(ws, small.resolve("pool"));
        cfs.init();
        Path mnt = ws.dir("mnt");
        cfs.mount(mnt);
        long daemon = cfs.daemonPid();
        cfs.ok("create", "filler");
        Proc.run(List.of("dd", "if=/dev/urandom", "of=" + mnt.resolve("filler/big"), "bs=1M", "count=120", "conv=fsync",
                "status=none"), Map.of(), Duration.ofMinutes(5)).check();
        cfs.ok("create", "pg");
        Path data = mnt.resolve("pg");
        Workspace.chownPostgres(data);
        PgServer.initdb(data);
        PgServer pg = new PgServer(ws, "full", data);
        pg.start("max_wal_size=64MB");
        pg.execute("create table filler(id bigserial primary key, pad text)");
        pg.execute("create table kept(id int primary key)");
        pg.execute("insert into kept select generate_series(1, 1000)");

        SQLException full = null;
        for (int i = 0; i < 200 && full == null; i++) {
            try {
                pg.execute("insert into filler(pad) select repeat(md5(g::text), 30) from generate_series(1, 5000) g");
            } catch (SQLException e) {
                full = e;
            }
        }
        assertNotNull(full, "PostgreSQL never ran out of space");
        System.out.println("PostgreSQL on a full pool: " + full.getMessage());
        String log = pg.log();
        assertTrue(log.contains("No space left on device") || String.valueOf(full.getMessage()).contains("No space left"),
                "PostgreSQL should report ENOSPC: " + full + "\n" + log.substring(Math.max(0, log.length() - 3000)));
        // plain writers through the mount get ENOSPC too, and the daemon is still up
        Proc.Result dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("filler/more"), "bs=1M", "count=100",
                "conv=fsync"), Map.of(), Duration.ofMinutes(2));
        assertNotEquals(0, dd.exit(), dd.describe());
        assertTrue(dd.err().contains("No space left on device"), dd.describe());
        assertEquals(daemon, cfs.daemonPid(), "the daemon died on a full disk");

        // free space: destroy the filler volume, wait for the reclaimer
        cfs.ok("destroy", "filler");
        long deadline = System.nanoTime() + 120_000_000_000L;
        JsonNode space;
        do {
            Proc.sleep(500);
            space = cfs.json("space");
        } while (space.get("reclaimBacklog").asLong() > 0 && System.nanoTime() < deadline);
        assertEquals(0, space.get("reclaimBacklog").asLong(), "reclaim did not finish: " + space);
        assertEquals(daemon, cfs.daemonPid(), "no daemon restart");

        boolean panicked = !pg.running() || !canQuery(pg);
        if (panicked) {
            pg.kill9(); // whatever is left of it
            pg.start("max_wal_size=64MB");
        }
        System.out.println("after the destroy PostgreSQL " + (panicked ? "had stopped (PANIC) and recovered" : "kept running"));
        pg.execute("truncate filler");
        pg.execute("insert into filler(pad) select repeat('y', 500) from generate_series(1, 20000)");
        assertEquals("1000", pg.query("select count(*) from kept"));
        assertEquals("20000", pg.query("select count(*) from filler"));
        Proc.Result amcheck = pg.tool(Duration.ofMinutes(10), "pg_amcheck", "--install-missing", "--heapallindexed",
                "-d", "postgres");
        assertEquals(0, amcheck.exit(), amcheck.describe());
        assertTrue(amcheck.out().isBlank(), amcheck.describe());
        pg.stop();
        Proc.Result checksums = Proc.runAsPostgres(List.of(PgServer.bin("pg_checksums"), "--check", "-D", data.toString()),
                Duration.ofMinutes(10));
        assertEquals(0, checksums.exit(), checksums.describe());
        Proc.Result fsck = cfs.run("fsck");
        assertEquals(0, fsck.exit(), fsck.describe());
    }

    private static boolean canQuery(PgServer pg) {
        try {
            pg.query("select 1");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }
}
