package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import io.clonefs.it.support.MountedPool;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * POSIX behaviour of a real kernel mount, the way PostgreSQL and the copy tools depend on it.
 * Needs root and /dev/fuse; every test unmounts in teardown, even when it fails.
 */
class PosixMountIT {
    /** allow_other: other users (postgres) must be able to use the mount; so root only. */
    @RegisterExtension
    final MountedPool pools = MountedPool.inProcess("posix").volume("vol").mountOptions(new MountOptions(true, false))
            .build();
    Path base;
    Path mnt;
    Path vol;
    Engine engine;
    Mount mount;

    @BeforeEach
    void setUp() {
        base = pools.ws().root();
        mnt = pools.mnt();
        vol = mnt.resolve("vol");
        engine = pools.engine();
        mount = pools.mount();
    }

    @Test
    void mountShowsVolumesAndSyntheticRoot() throws Exception {
        assertTrue(mounted(mnt));
        assertEquals(List.of(".snapshots", "vol"), list(mnt));
        assertEquals("755", sh("stat", "-c", "%a", mnt.toString()).trim());
        assertEquals("root", Files.getOwner(mnt).getName());
        FileStore store = Files.getFileStore(vol);
        assertEquals("fuse.clonefs", store.type());
        // mkdir at the root is refused: volumes are made with clonefs commands
        FileSystemException e = assertThrows(FileSystemException.class, () -> Files.createDirectory(mnt.resolve("newvol")));
        assertTrue(e.getMessage().contains("Operation not permitted"), e.getMessage());
        engine.createVolume("later");
        assertEquals(List.of(".snapshots", "later", "vol"), list(mnt));
    }

    @Test
    void renameOverExistingFileIsAtomicReplace() throws Exception {
        Path conf = vol.resolve("postgresql.auto.conf");
        Files.writeString(conf, "old\n");
        Path tmp = vol.resolve("postgresql.auto.conf.tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("work_mem = '64MB'\n".getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        try (FileChannel reader = FileChannel.open(conf, StandardOpenOption.READ)) {
            Files.move(tmp, conf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // the replaced file stays readable through its open descriptor
            ByteBuffer b = ByteBuffer.allocate(100);
            assertEquals(4, reader.read(b, 0));
        }
        fsyncDir(vol);
        assertEquals("work_mem = '64MB'\n", Files.readString(conf));
        assertEquals(List.of("postgresql.auto.conf"), list(vol));
    }

    @Test
    void unlinkWhileOpenKeepsDataUntilClose() throws Exception {
        Path f = vol.resolve("16384");
        byte[] page = random(8192, 1);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(page), 0);
            Files.delete(f);
            assertFalse(Files.exists(f));
            assertEquals(List.of(), list(vol));
            ByteBuffer b = ByteBuffer.allocate(8192);
            assertEquals(8192, ch.read(b, 0));
            assertArrayEquals(page, b.array());
            ch.write(ByteBuffer.wrap(page), 8192);
            ch.force(true);
            b.clear();
            assertEquals(8192, ch.read(b, 8192));
            assertArrayEquals(page, b.array());
            // fstat(2) is not tested here: libfuse 2's path-based API answers ENOENT for an
            // unlinked file when the kernel asks without a handle (see fuse-fs README notes).
        }
        // the directory can be removed while a file in it is still open (no .fuse_hidden files)
        Files.createDirectory(vol.resolve("dir"));
        Path g = vol.resolve("dir/g");
        try (FileChannel ch = FileChannel.open(g, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Files.delete(g);
            Files.delete(vol.resolve("dir"));
            ch.write(ByteBuffer.wrap(page));
        }
        assertEquals(List.of(), list(vol));
    }

    @Test
    void ftruncateShrinksAndGrows() throws Exception {
        Path f = vol.resolve("16385");
        Files.write(f, random(3 * 8192, 2));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ch.truncate(8200);
            assertEquals(8200, ch.size());
        }
        assertEquals(8200, Files.size(f));
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(100_000); // ftruncate up: a hole reading as zeros
        }
        byte[] all = Files.readAllBytes(f);
        assertEquals(100_000, all.length);
        assertArrayEquals(Arrays.copyOf(random(3 * 8192, 2), 8200), Arrays.copyOf(all, 8200));
        for (int i = 8200; i < all.length; i++) {
            assertEquals(0, all[i]);
        }
        // open(O_TRUNC)
        Files.writeString(f, "x", StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals(1, Files.size(f));
    }

    @Test
    void fsyncOfFilesAndDirectories() throws Exception {
        Path dir = Files.createDirectories(vol.resolve("pgdata/pg_wal"));
        Path seg = dir.resolve("000000010000000000000001");
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(65536, 3)));
            ch.force(false); // fdatasync
            ch.write(ByteBuffer.wrap(random(8192, 4)), 0);
            ch.force(true); // fsync
        }
        fsyncDir(dir);
        fsyncDir(vol.resolve("pgdata"));
        fsyncDir(vol);
        fsyncDir(mnt); // the synthetic root
        assertEquals(65536, Files.size(seg));
        // durable: visible after the mount and the engine are reopened
        mount.close();
        engine.close();
        engine = pools.track(Engine.open(base.resolve("pool"), EngineOptions.defaults()));
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false)));
        byte[] got = Files.readAllBytes(seg);
        assertArrayEquals(random(8192, 4), Arrays.copyOf(got, 8192));
        assertArrayEquals(Arrays.copyOfRange(random(65536, 3), 8192, 65536), Arrays.copyOfRange(got, 8192, 65536));
    }

    @Test
    void concurrentWritersOnDifferentFiles() throws Exception {
        int threads = 8;
        int pages = 256; // 2 MiB per file
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                fs.add(pool.submit(() -> {
                    Path f = vol.resolve("rel." + id);
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        Random r = new Random(id);
                        for (int p = 0; p < pages; p++) {
                            byte[] page = new byte[8192];
                            r.nextBytes(page);
                            // out of order, like shared-buffer write-back
                            int slot = (p * 37) % pages;
                            ch.write(ByteBuffer.wrap(page), (long) slot * 8192);
                            if (p % 64 == 0) {
                                ch.force(false);
                            }
                        }
                        ch.force(true);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int t = 0; t < threads; t++) {
            byte[] got = Files.readAllBytes(vol.resolve("rel." + t));
            assertEquals(pages * 8192, got.length);
            Random r = new Random(t);
            for (int p = 0; p < pages; p++) {
                byte[] page = new byte[8192];
                r.nextBytes(page);
                int slot = (p * 37) % pages;
                assertArrayEquals(page, Arrays.copyOfRange(got, slot * 8192, slot * 8192 + 8192), "file " + t + " page " + slot);
            }
        }
    }

    /**
     * Bursts of concurrent requests followed by quiet: libfuse's own loop ({@code fuse_main})
     * starts native threads for a burst and ends them when more than ten are idle, each one
     * attached to the JVM for its callbacks (hundreds of thread starts here). The mount's loop
     * keeps its workers: the JVM starts at most the test's own threads plus the workers' limit.
     */
    @Test
    void burstsOfRequestsDoNotStartThreadsOverAndOver() throws Exception {
        int burst = 24;
        int rounds = 40;
        Path[] files = new Path[burst];
        for (int i = 0; i < burst; i++) {
            files[i] = Files.write(vol.resolve("burst." + i), new byte[8192]);
        }
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long started0 = mx.getTotalStartedThreadCount();
        ExecutorService pool = Executors.newFixedThreadPool(burst);
        try {
            for (int r = 0; r < rounds; r++) {
                java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(burst);
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < burst; i++) {
                    Path f = files[i];
                    int round = r;
                    fs.add(pool.submit(() -> {
                        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                            go.await(30, TimeUnit.SECONDS);
                            ch.write(ByteBuffer.wrap(new byte[] {(byte) round}), 0);
                            ch.force(false);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
                Thread.sleep(20); // quiet: libfuse's loop would end its extra threads here
            }
        } finally {
            pool.shutdownNow();
        }
        long started = mx.getTotalStartedThreadCount() - started0;
        assertTrue(started <= burst + 64 + 8, started + " threads started in the JVM for " + rounds
                + " bursts of " + burst + " requests (the test's own: " + burst + ")");
        for (Path f : files) {
            assertEquals(rounds - 1, Files.readAllBytes(f)[0]);
        }
    }

    @Test
    void snapshotIsReadOnlyAndFrozen() throws Exception {
        Files.writeString(vol.resolve("PG_VERSION"), "15\n");
        mount.syncfs();
        engine.snapshot("vol", "s1");
        Path snap = mnt.resolve(".snapshots/vol@s1");
        assertEquals(List.of("vol@s1"), list(mnt.resolve(".snapshots")));
        Files.writeString(vol.resolve("PG_VERSION"), "16\n");
        assertEquals("15\n", Files.readString(snap.resolve("PG_VERSION")));
        assertEquals("16\n", Files.readString(vol.resolve("PG_VERSION")));

        FileSystemException e = assertThrows(FileSystemException.class,
                () -> Files.writeString(snap.resolve("PG_VERSION"), "x"));
        assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
        e = assertThrows(FileSystemException.class, () -> Files.createFile(snap.resolve("new")));
        assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
        e = assertThrows(FileSystemException.class, () -> Files.delete(snap.resolve("PG_VERSION")));
        assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
        // reading with tools works, and st_ino differs from the volume's copy
        assertEquals("15\n", sh("cat", snap.resolve("PG_VERSION").toString()));
        assertNotEquals(sh("stat", "-c", "%i", snap.resolve("PG_VERSION").toString()),
                sh("stat", "-c", "%i", vol.resolve("PG_VERSION").toString()));
    }

    /** "Refresh the dev clone": destroy it and clone again under the same name; no stale pages. */
    @Test
    void recreatedCloneIsNotServedFromStaleKernelCache() throws Exception {
        Path f = vol.resolve("16384");
        Files.write(f, random(65536, 10));
        engine.snapshot("vol", "s1");
        engine.cloneVolume("vol@s1", "dev");
        assertArrayEquals(random(65536, 10), Files.readAllBytes(mnt.resolve("dev/16384"))); // now in the page cache
        Files.write(f, random(65536, 11)); // same size, new content
        mount.syncfs();
        engine.snapshot("vol", "s2");
        engine.destroy("dev", true);
        engine.cloneVolume("vol@s2", "dev");
        Thread.sleep(1100); // the dentry cache lifetime
        assertArrayEquals(random(65536, 11), Files.readAllBytes(mnt.resolve("dev/16384")));
    }

    /**
     * A sequential read of a file whose pages are not in the kernel's page cache (in a fresh
     * clone: new inodes) reaches the daemon as 1 MiB read requests: the mount's read-ahead is
     * raised to 1 MiB after INIT (the kernel's default for FUSE, 128 KiB, gives 128-256 KiB).
     * With priming on ({@code clonefs.fuse.primeMiB}) the file would be in the page cache at its
     * open and no read request would come: this test is for the default mount, without.
     */
    @Test
    void aColdSequentialReadReachesTheDaemonInMebibyteRequests() throws Exception {
        byte[] data = random(16 << 20, 12);
        try (FileChannel ch = FileChannel.open(vol.resolve("table"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
            ch.force(true);
        }
        engine.snapshot("vol", "cold");
        engine.cloneVolume("vol@cold", "fresh");
        long mib = readRequests("1024");
        long all = readRequests(null);
        ByteBuffer back = ByteBuffer.allocate(data.length);
        try (FileChannel ch = FileChannel.open(mnt.resolve("fresh/table"), StandardOpenOption.READ)) {
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            while (ch.read(chunk) > 0) {
                back.put(chunk.flip());
                chunk.clear();
            }
        }
        assertArrayEquals(data, back.array());
        long big = readRequests("1024") - mib;
        long requests = readRequests(null) - all;
        assertTrue(big >= 12 && requests <= 20, "16 MiB read in " + requests + " requests, " + big
                + " of them of 1 MiB; expected about 16 of 1 MiB");
    }

    /**
     * With {@code -Dclonefs.fuse.primeMiB}, a file opened while no handle of it is open has its
     * first bytes stored into the kernel's page cache before the open returns: reading a fresh
     * clone's file then needs no read request. Writes made after it win (read back through the
     * mount and found in the engine), and so does a truncate by path.
     */
    @Test
    void primedOpenServesReadsFromThePageCacheAndLaterWritesWin() throws Exception {
        byte[] data = random(8 << 20, 13);
        try (FileChannel ch = FileChannel.open(vol.resolve("primed"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
            ch.force(true);
        }
        engine.snapshot("vol", "p");
        engine.cloneVolume("vol@p", "pc");
        String old = System.setProperty("clonefs.fuse.primeMiB", "64");
        try {
            mount.close();
            mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        } finally {
            if (old == null) {
                System.clearProperty("clonefs.fuse.primeMiB");
            } else {
                System.setProperty("clonefs.fuse.primeMiB", old);
            }
        }
        Path f = mnt.resolve("pc/primed");
        long reads = readRequests(null);
        long primed = primedBytes();
        assertArrayEquals(data, Files.readAllBytes(f));
        assertEquals(data.length, primedBytes() - primed, "the whole file stored at its first open");
        assertEquals(0, readRequests(null) - reads, "no read request for a primed file");

        // a write after the priming is what reads see, through the mount and in the engine
        byte[] patch = random(10_000, 14);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(patch), 4096);
            ch.force(true);
        }
        System.arraycopy(patch, 0, data, 4096, patch.length);
        assertArrayEquals(data, Files.readAllBytes(f));
        io.clonefs.engine.VolumeFs pc = engine.volume("pc");
        ByteBuffer inEngine = ByteBuffer.allocate(data.length);
        while (inEngine.hasRemaining() && pc.read(pc.resolve("primed"), inEngine.position(), inEngine) > 0) {
            // to the end
        }
        assertArrayEquals(data, inEngine.array(), "the engine has the write");
        // a truncate by path (truncate(2), no handle), then a reopen (the node is primed once)
        sh("perl", "-e", "truncate($ARGV[0], $ARGV[1]) or die $!", f.toString(), Integer.toString(1 << 20));
        assertArrayEquals(Arrays.copyOf(data, 1 << 20), Files.readAllBytes(f));
        assertArrayEquals(random(8 << 20, 13), Files.readAllBytes(vol.resolve("primed")), "the source is untouched");
    }

    private static long primedBytes() {
        return io.clonefs.metrics.Metrics.process().counter("clonefs_fuse_primed_bytes_total", "", null, null).sum();
    }

    /** FUSE read requests of {@code kib} KiB (rounded up to a power of two; null: of any size) served so far. */
    private static long readRequests(String kib) {
        long n = 0;
        for (int k = 1; k <= 1024; k *= 2) {
            if (kib == null || kib.equals(Integer.toString(k))) {
                n += io.clonefs.metrics.Metrics.process().counter("clonefs_fuse_read_requests_total", "", "kib",
                        Integer.toString(k)).sum();
            }
        }
        return n;
    }

    @Test
    void statfsReportsPoolSpace() throws Exception {
        Files.write(vol.resolve("data"), random(4 << 20, 5));
        SpaceInfo s = engine.space();
        String[] f = sh("stat", "-f", "-c", "%S %b %f %a", vol.toString()).trim().split(" ");
        long bsize = Long.parseLong(f[0]);
        assertEquals(engine.blockSize(), bsize);
        long total = Long.parseLong(f[1]);
        long free = Long.parseLong(f[2]);
        long avail = Long.parseLong(f[3]);
        assertTrue(total > 0 && free <= total && avail <= total, Arrays.toString(f));
        // free space moves only a little between the two calls
        assertEquals((double) s.freeBytes() / bsize, avail, (double) (64L << 20) / bsize);
        FileStore store = Files.getFileStore(vol);
        assertTrue(store.getTotalSpace() >= store.getUsableSpace());
        assertTrue(store.getUsableSpace() > 0);
    }

    @Test
    void filesCreatedByAnotherUserAreTheirs() throws Exception {
        assumeTrue(sh0("id", "-u", "postgres") == 0, "needs a postgres user");
        Path pg = Files.createDirectory(vol.resolve("pg"));
        Files.setPosixFilePermissions(pg, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(0, sh0("runuser", "-u", "postgres", "--", "touch", pg.resolve("f").toString()));
        assertEquals("postgres", Files.getOwner(pg.resolve("f")).getName());
        assertEquals("postgres", sh("stat", "-c", "%G", pg.resolve("f").toString()).trim());
        // the caller's umask applies once (by the kernel), the daemon's never
        assertEquals(0, sh0("runuser", "-u", "postgres", "--", "sh", "-c",
                "umask 000 && cd " + pg + " && mkdir d && touch g && mkdir -m 0700 private"));
        assertEquals("777 postgres", sh("stat", "-c", "%a %U", pg.resolve("d").toString()).trim());
        assertEquals("666 postgres", sh("stat", "-c", "%a %U", pg.resolve("g").toString()).trim());
        assertEquals("700 postgres", sh("stat", "-c", "%a %U", pg.resolve("private").toString()).trim());
        // default_permissions: the kernel refuses other users
        Files.writeString(vol.resolve("rootonly"), "secret");
        Files.setPosixFilePermissions(vol.resolve("rootonly"), PosixFilePermissions.fromString("rw-------"));
        assertNotEquals(0, sh0("runuser", "-u", "postgres", "--", "cat", vol.resolve("rootonly").toString()));
        // chown by root works
        Files.setOwner(vol.resolve("rootonly"), pg.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
        assertEquals(0, sh0("runuser", "-u", "postgres", "--", "cat", vol.resolve("rootonly").toString()));
    }

    @Test
    void copyToolsRoundTrip() throws Exception {
        Path src = Files.createDirectories(base.resolve("src/tree/sub"));
        Files.write(src.resolve("a"), random(100_000, 6));
        Files.writeString(src.resolve("small"), "hello\n");
        Files.setPosixFilePermissions(src.resolve("small"), PosixFilePermissions.fromString("rw-r-----"));
        Files.createSymbolicLink(src.resolve("link"), Path.of("a"));
        Files.createLink(src.resolve("hard"), src.resolve("a"));
        Path tree = base.resolve("src/tree");

        assertEquals(0, sh0("cp", "-a", tree.toString(), vol.resolve("cp").toString()));
        assertEquals(0, sh0("diff", "-r", "--no-dereference", tree.toString(), vol.resolve("cp").toString()));
        assertEquals("a", Files.readSymbolicLink(vol.resolve("cp/sub/link")).toString());
        // hard links share st_ino at once (what cp -a, tar and rsync -H go by); each name is its own
        // kernel inode under libfuse 2's path API, so nlink of the other name may be cached for
        // up to the attribute timeout (1 s)
        assertEquals(sh("stat", "-c", "%i", vol.resolve("cp/sub/a").toString()),
                sh("stat", "-c", "%i", vol.resolve("cp/sub/hard").toString()));
        Thread.sleep(1100);
        assertEquals("2", sh("stat", "-c", "%h", vol.resolve("cp/sub/a").toString()).trim());
        assertEquals("2", sh("stat", "-c", "%h", vol.resolve("cp/sub/hard").toString()).trim());
        assertEquals("640", sh("stat", "-c", "%a", vol.resolve("cp/sub/small").toString()).trim());
        assertEquals(sh("stat", "-c", "%Y", src.resolve("a").toString()),
                sh("stat", "-c", "%Y", vol.resolve("cp/sub/a").toString()));

        Files.createDirectory(vol.resolve("tar"));
        assertEquals(0, sh0("sh", "-c", "tar -C " + tree + " -cf - . | tar -C " + vol.resolve("tar") + " -xpf -"));
        assertEquals(0, sh0("diff", "-r", "--no-dereference", tree.toString(), vol.resolve("tar").toString()));
        // and back out of the mount
        Path out = Files.createDirectory(base.resolve("out"));
        assertEquals(0, sh0("sh", "-c", "tar -C " + vol.resolve("tar") + " -cf - . | tar -C " + out + " -xpf -"));
        assertEquals(0, sh0("diff", "-r", "--no-dereference", tree.toString(), out.toString()));

        if (sh0("sh", "-c", "command -v rsync") == 0) {
            assertEquals(0, sh0("rsync", "-aH", tree + "/", vol.resolve("rsync").toString()));
            assertEquals(0, sh0("diff", "-r", "--no-dereference", tree.toString(), vol.resolve("rsync").toString()));
            // rsync again: nothing to transfer, nothing changed
            assertEquals(0, sh0("rsync", "-aH", tree + "/", vol.resolve("rsync").toString()));
        }
    }

    @Test
    void fallocateIsNotSupportedButPosixFallocateWorks() throws Exception {
        Path f = vol.resolve("prealloc");
        Files.writeString(f, "");
        String out = shOut("fallocate", "-l", "1M", f.toString());
        assertTrue(out.contains("Operation not supported"), out);
        // glibc's posix_fallocate falls back to writing zeros, as PostgreSQL 16's FileFallocate expects
        assertEquals(0, sh0("fallocate", "-x", "-l", "1M", f.toString()));
        assertEquals(1 << 20, Files.size(f));
    }

    @Test
    void mountErrorsAreClear() throws IOException {
        ClonefsException missing = assertThrows(ClonefsException.class,
                () -> Mount.mount(engine, base.resolve("nosuch"), MountOptions.defaults()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        assertFalse(missing.getMessage().contains("\n"));

        ClonefsException twice = assertThrows(ClonefsException.class,
                () -> Mount.mount(engine, mnt, MountOptions.defaults()));
        assertTrue(twice.getMessage().contains("already mounted"), twice.getMessage());
        assertFalse(twice.getMessage().contains("\n"));
        assertTrue(mounted(mnt), "the first mount is untouched");
        assertEquals(List.of(".snapshots", "vol"), assertDoesNotThrowList(mnt));
    }

    @Test
    void closeIsIdempotentAndBoundedWhenBusy() throws Exception {
        Path f = vol.resolve("busy");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long start = System.nanoTime();
            mount.close();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms < 40_000, "close took " + ms + " ms");
            assertFalse(mounted(mnt), "detached from the namespace");
            // the open file still works until closed
            ch.write(ByteBuffer.wrap(new byte[10]));
        }
        mount.close();
        assertFalse(mounted(mnt));
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static List<String> assertDoesNotThrowList(Path dir) {
        try {
            return list(dir);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** FUSE write requests the mount has served so far (the adapter's per-operation histogram). */
    private static long writeRequests() {
        return io.clonefs.metrics.Metrics.process().histogram("clonefs_fuse_op_seconds",
                "FUSE operations by type and their latency.", "op", "write").count();
    }

    /** Writes 16 MiB in 4 MiB write(2) calls and fsyncs; returns the FUSE write requests it took. */
    private long writeRequestsFor16MiB(Path file) throws IOException {
        byte[] chunk = new byte[4 << 20];
        new Random(7).nextBytes(chunk);
        long before = writeRequests();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 4; i++) {
                ByteBuffer b = ByteBuffer.wrap(chunk);
                while (b.hasRemaining()) {
                    ch.write(b, (long) i * chunk.length + b.position());
                }
            }
            ch.force(false);
        }
        long n = writeRequests() - before;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer back = ByteBuffer.allocate(chunk.length);
            while (back.hasRemaining() && ch.read(back, 3L * chunk.length + back.position()) > 0) {
                // to the end of the last chunk
            }
            assertArrayEquals(chunk, back.array());
        }
        return n;
    }

    /**
     * With the writeback cache the mount may hold a fifth of the kernel's dirty limit instead of
     * the 1 % the kernel gives FUSE: pages written to a file kept open (PostgreSQL's hint bits
     * on a fresh branch) stay in the kernel until fsync, as on a native file system, instead of
     * reaching the daemon page by page while the program works. fsync still writes all back.
     */
    @Test
    void writebackMountHoldsDirtyPagesOfOpenFilesUntilFsync() throws Exception {
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        Path bdi = Path.of("/sys/class/bdi", sh("mountpoint", "-d", mnt.toString()).trim());
        assertEquals("20", Files.readString(bdi.resolve("max_ratio")).strip(), "the mount's share of the dirty limit");
        // 128 MiB: more than twice what the kernel's 1 % holds on a host of 24 GiB (about 47 MB)
        int mib = 128;
        long maxBytes = Long.parseLong(Files.readString(bdi.resolve("max_bytes")).strip());
        assumeTrue(maxBytes >= 2L * mib << 20, "a fifth of this host's dirty limit is only " + maxBytes + " bytes");
        byte[] chunk = new byte[1 << 20];
        new Random(11).nextBytes(chunk);
        // the kernel sizes a mount's part of its share by the mount's recent write-backs: give the
        // fresh mount some, as a mount in use has
        Path warm = vol.resolve("written-back");
        try (FileChannel ch = FileChannel.open(warm, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < mib; i++) {
                ch.write(ByteBuffer.wrap(chunk), (long) i * chunk.length);
            }
            ch.force(false);
        }
        Files.delete(warm);
        Path f = vol.resolve("dirty");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long before = writeRequests();
            for (int i = 0; i < mib; i++) {
                ByteBuffer b = ByteBuffer.wrap(chunk);
                while (b.hasRemaining()) {
                    ch.write(b, (long) i * chunk.length + b.position());
                }
            }
            Thread.sleep(1000);
            long early = writeRequests() - before;
            assertTrue(early < mib / 2, early + " write requests reached the daemon within a second of writing " + mib
                    + " MiB to an open file; the kernel should hold them until fsync");
            ch.force(false);
            assertTrue(writeRequests() - before >= mib, "fsync writes every page back");
        }
        assertEquals((long) mib << 20, engine.volume("vol").getattr(engine.volume("vol").resolve("dirty")).size());
        Files.delete(f);
    }

    @Test
    void writebackCacheSendsMegabyteWritesAndSyncfsStaysCleanAfterDeletes() throws Exception {
        // with the writeback cache the kernel caches writes and sends them back in requests of up to 1 MiB
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        long big = writeRequestsFor16MiB(vol.resolve("wb"));
        assertTrue(big >= 16 && big <= 40, "16 MiB written back in " + big + " requests, expected about 16 of 1 MiB");
        // the kernel owns size and mtime: stat right after a write sees them without a round trip
        try (FileChannel ch = FileChannel.open(vol.resolve("wb"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 16L << 20);
            assertEquals((16L << 20) + 3, Files.size(vol.resolve("wb")));
        }
        assertEquals((16L << 20) + 3, engine.volume("vol").getattr(engine.volume("vol").resolve("wb")).size(),
                "close writes the cached pages back to the engine");
        // written, closed, deleted: the kernel still writes back its mtime; libfuse 2 cannot
        // resolve the path and answers ENOENT, which must not fail the snapshot barrier's syncfs
        for (int i = 0; i < 20; i++) {
            Path f = vol.resolve("gone" + i);
            Files.write(f, new byte[8192 + i]);
            Files.delete(f);
        }
        mount.syncfs();
        // unlinked while open: writes, the mtime write-back (by handle) and fsync still work
        Path f = vol.resolve("open-unlinked");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            Files.delete(f);
            ch.write(ByteBuffer.wrap(new byte[20_000]), 0);
            mount.syncfs();
            ch.force(true);
            assertEquals(20_000, ch.size());
        }
        mount.syncfs();
        // renamed over while open read-only: the kernel writes back the replaced file's ctime
        // with no handle; libfuse 2 alone failed that SETATTR and close(2) returned EIO
        Path conf = vol.resolve("conf");
        Files.writeString(conf, "old\n");
        try (FileChannel reader = FileChannel.open(conf, StandardOpenOption.READ)) {
            Path tmp = vol.resolve("conf.tmp");
            Files.writeString(tmp, "new\n");
            Files.move(tmp, conf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            assertEquals(4, reader.read(ByteBuffer.allocate(16), 0));
        }
        assertEquals("new\n", Files.readString(conf));
        mount.syncfs();

        // the kernel keeps the times: an overwrite + fsync (not fdatasync) needs no metadata
        // commit, and the mtime reaches the engine as a SETATTR by the time fsync returns
        Path data = vol.resolve("overwritten");
        Files.write(data, new byte[64 << 10]);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
            ch.force(true);
            long commits = fsyncs("commit");
            long dataSyncs = fsyncs("data");
            long before = System.currentTimeMillis() / 1000 * 1_000_000_000L; // time_gran: whole seconds
            Thread.sleep(1100);
            for (int i = 0; i < 5; i++) {
                ch.write(ByteBuffer.wrap(new byte[8192]), 8192L * i);
                ch.force(true);
            }
            long committed = fsyncs("commit") - commits;
            assertTrue(committed >= 1 && committed <= 2,
                    committed + " fsyncs committed: only one per second should (the kernel's new mtime)");
            assertEquals(5, committed + fsyncs("data") - dataSyncs, "the others sync data alone");
            long engineMtime = engine.volume("vol").getattr(engine.volume("vol").resolve("overwritten")).mtimeNs();
            assertTrue(engineMtime > before, "the kernel's mtime reached the engine: " + engineMtime + " vs " + before);
        }

        // without the writeback cache every write(2) is split into requests of at most 128 KiB
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, false)));
        long small = writeRequestsFor16MiB(vol.resolve("nowb"));
        assertTrue(small >= 128, "16 MiB in " + small + " requests without the writeback cache, expected >= 128");
    }

    @Test
    void writesFsyncsAndClosesAreAnsweredByTheRequestLoopWithTheSameResult() throws Exception {
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        byte[] data = random(3 << 20, 21);
        long[] before = loopAnswers();
        writeSyncClose(vol.resolve("by-loop"), data);
        long[] after = loopAnswers();
        assertTrue(after[0] - before[0] >= 3, (after[0] - before[0]) + " writes answered by the loop, 3 MiB were written back");
        assertTrue(after[1] - before[1] >= 1, "the fsync was answered by the loop");
        assertTrue(after[2] - before[2] >= 1, "the close's flush was answered by the loop");
        assertArrayEquals(data, readFromEngine("by-loop", data.length), "the engine has what was written");
        // a new mount starts with an empty page cache: the reads reach the daemon
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        long reads = loopAnswers()[3];
        assertArrayEquals(data, Files.readAllBytes(vol.resolve("by-loop")));
        assertTrue(loopAnswers()[3] - reads >= 3, (loopAnswers()[3] - reads) + " reads answered by the loop for 3 MiB");
        // an fdatasync on a handle of a file unlinked while open: no path, still answered and synced
        Path gone = vol.resolve("unlinked");
        try (FileChannel ch = FileChannel.open(gone, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            Files.delete(gone);
            ch.write(ByteBuffer.wrap(data, 0, 65536), 0);
            long fsyncs = loopAnswers()[1];
            ch.force(false);
            assertTrue(loopAnswers()[1] > fsyncs, "the unlinked file's fsync was answered by the loop");
            ByteBuffer back = ByteBuffer.allocate(65536);
            ch.read(back, 0);
            assertArrayEquals(Arrays.copyOf(data, 65536), back.array());
        }

        // -Dclonefs.fuse.byHandle=false: libfuse answers them, with the same bytes in the engine
        mount.close();
        System.setProperty(io.clonefs.fuse.protocol.FuseLoop.BY_HANDLE_PROPERTY, "false");
        try {
            mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
            byte[] other = random(3 << 20, 22);
            long[] off = loopAnswers();
            writeSyncClose(vol.resolve("by-libfuse"), other);
            assertArrayEquals(other, readFromEngine("by-libfuse", other.length));
            assertArrayEquals(data, Files.readAllBytes(vol.resolve("by-loop")));
            assertArrayEquals(off, loopAnswers(), "nothing answered by the loop");
        } finally {
            System.clearProperty(io.clonefs.fuse.protocol.FuseLoop.BY_HANDLE_PROPERTY);
        }
    }

    @Test
    void closeWritesBackWithoutAFlushRoundTripAfterTheFirst() throws Exception {
        mount.close();
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(true, false, true)));
        long flushes = loopAnswers()[2];
        for (int i = 0; i < 30; i++) {
            byte[] data = random(5000 + i, 40 + i);
            Path f = vol.resolve("closed-" + i);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data));
            }
            // the close wrote the dirty pages back before it returned
            assertArrayEquals(data, readFromEngine("closed-" + i, data.length), "after close " + i);
            Files.newInputStream(f).close();
        }
        long sent = loopAnswers()[2] - flushes;
        assertTrue(sent <= 1, sent + " FLUSH requests for 60 closes: the first is refused (ENOSYS) and the kernel"
                + " sends no more");
    }

    private static void writeSyncClose(Path f, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        }
    }

    /** The request loop's own answers so far: writes, fsyncs, flushes, reads. */
    private static long[] loopAnswers() {
        String[] ops = {"write", "fsync", "flush", "read"};
        long[] n = new long[ops.length];
        for (int i = 0; i < ops.length; i++) {
            n[i] = io.clonefs.metrics.Metrics.process().counter("clonefs_fuse_loop_answers_total", "", "op", ops[i]).sum();
        }
        return n;
    }

    /** {@code len} bytes of the volume's file {@code name} read through the engine, not the kernel. */
    private byte[] readFromEngine(String name, int len) {
        var fs = engine.volume("vol");
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining() && fs.read(fs.resolve(name), b.position(), b) > 0) {
            // reads until the end
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    private static long fsyncs(String needs) {
        return io.clonefs.metrics.Metrics.process().counter("clonefs_fsync_total", "", "needs", needs).sum();
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static boolean mounted(Path dir) throws IOException {
        String want = " " + dir.toAbsolutePath() + " ";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.contains(want) && l.contains(" - fuse"));
    }

    private static byte[] random(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Runs a command; its stdout+stderr. Fails the test on a non-zero exit. */
    private static String sh(String... cmd) {
        Command.Result r = Command.of(cmd).mergeStderr().timeout(Duration.ofSeconds(60)).run();
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.out());
        return r.out();
    }

    /** Runs a command; its exit code (output goes to the test log). */
    private static int sh0(String... cmd) {
        Command.Result r = Command.of(cmd).mergeStderr().timeout(Duration.ofSeconds(120)).run();
        if (!r.ok()) {
            System.err.println(String.join(" ", cmd) + " -> " + r.exit() + ": " + r.out());
        }
        return r.exit();
    }

    /** Runs a command that may fail; its stdout+stderr. */
    private static String shOut(String... cmd) {
        return Command.of(cmd).mergeStderr().timeout(Duration.ofSeconds(60)).run().out();
    }
}
