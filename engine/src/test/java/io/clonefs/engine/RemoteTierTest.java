package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.block.RemoteFetcher;
import io.clonefs.block.RemoteRef;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export of a snapshot from one pool and its lazy import into another, through the engine API.
 * The object store is a map held by the test (the real S3 path is proven by RemoteIT against Ceph);
 * what is tested here is the engine: remote-backed blocks, fetch on first read with checksums,
 * read-ahead, immutability, cache eviction, reopen, destroy and reclaim, failed imports.
 */
class RemoteTierTest {
    private static final int BS = 8192;
    private static final int PACK_SLOTS = 16;

    @TempDir
    Path tmp;
    private final Map<String, byte[]> store = new ConcurrentHashMap<>();
    private final AtomicBoolean offline = new AtomicBoolean();
    private final AtomicInteger fetchCalls = new AtomicInteger();
    private final RemoteFetcher fetcher = (remote, key, offset, length) -> {
        fetchCalls.incrementAndGet();
        if (offline.get()) {
            throw new IllegalStateException("connection refused");
        }
        byte[] obj = store.get(remote + "/" + key);
        if (obj == null) {
            throw new IllegalStateException("NoSuchKey " + key);
        }
        return Arrays.copyOfRange(obj, (int) offset, (int) Math.min(obj.length, offset + length));
    };
    private final List<Engine> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (Engine e : open) {
            e.close();
        }
    }

    private Engine pool(String name) {
        Path p = tmp.resolve(name);
        if (!Files.exists(p)) {
            Engine.init(p, BS);
        }
        Engine e = Engine.open(p, EngineOptions.defaults().withRemoteFetcher(fetcher));
        open.add(e);
        return e;
    }

    private void close(Engine e) {
        open.remove(e);
        e.close();
    }

    /** What a push leaves in the store: packs of whole blocks and the items with their places. */
    private record Pushed(List<String> packKeys, List<SnapshotItem> items) {
    }

    private Pushed push(Engine src, String snapshot) throws Exception {
        List<String> packKeys = new ArrayList<>();
        List<SnapshotItem> items = new ArrayList<>();
        Map<Long, RemoteRef> placed = new HashMap<>();
        ByteArrayOutputStream pack = new ByteArrayOutputStream();
        int[] slot = {0};
        src.exportSnapshot(snapshot, item -> {
            if (!(item instanceof SnapshotItem.Extent e)) {
                items.add(item);
                return true;
            }
            long b = e.block().value();
            RemoteRef ref = placed.get(b);
            if (ref == null) {
                ByteBuffer buf = ByteBuffer.allocate(BS);
                src.readBlock(b, buf);
                ref = new RemoteRef(packKeys.size(), slot[0]++, sha(buf.array()));
                pack.writeBytes(buf.array());
                placed.put(b, ref);
                if (slot[0] == PACK_SLOTS) {
                    seal(packKeys, pack);
                    slot[0] = 0;
                }
            }
            items.add(new SnapshotItem.RemoteExtent(e.ino(), e.index(), ref));
            return true;
        });
        if (pack.size() > 0) {
            seal(packKeys, pack);
        }
        return new Pushed(packKeys, items);
    }

    private void seal(List<String> packKeys, ByteArrayOutputStream pack) {
        String key = "packs/" + packKeys.size();
        store.put("r1/" + key, pack.toByteArray());
        packKeys.add(key);
        pack.reset();
    }

    /** Disk space really used (du), in KiB. */
    private static long diskKiB(Path dir) throws Exception {
        Process pr = new ProcessBuilder("du", "-sk", dir.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes()).trim();
        assertEquals(0, pr.waitFor(), out);
        return Long.parseLong(out.split("\\s+")[0]);
    }

    private static byte[] sha(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, byte[]> writeFiles(VolumeFs fs, Random r) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        InodeId dir = fs.mkdir(fs.resolve(""), "d", 0755, 26, 26).ino();
        for (int i = 0; i < 5; i++) {
            byte[] data = new byte[r.nextInt(300_000) + 1];
            r.nextBytes(data);
            String name = "f" + i;
            InodeId ino = fs.create(i % 2 == 0 ? fs.resolve("") : dir, name, 0600, 26, 26).ino();
            fs.write(ino, 0, ByteBuffer.wrap(data));
            files.put(i % 2 == 0 ? name : "d/" + name, data);
        }
        fs.symlink(fs.resolve(""), "link", "d/f1", 0, 0);
        fs.mknod(dir, "fifo", FileType.FIFO.bits() | 0640, 0, 26, 26);
        fs.mknod(fs.resolve(""), "null", FileType.CHAR_DEVICE.bits() | 0666, (1 << 8) | 3, 0, 0);
        fs.mknod(fs.resolve(""), "sock", FileType.SOCKET.bits() | 0755, 0, 26, 26);
        return files;
    }

    private static byte[] readAll(VolumeFs fs, String path) {
        InodeId ino = fs.resolve(path);
        ByteBuffer b = ByteBuffer.allocate((int) fs.getattr(ino).size());
        while (b.hasRemaining()) {
            if (fs.read(ino, b.position(), b) <= 0) {
                break;
            }
        }
        return b.array();
    }

    private static void assertFiles(Map<String, byte[]> want, VolumeFs fs) {
        for (Map.Entry<String, byte[]> f : want.entrySet()) {
            assertArrayEquals(f.getValue(), readAll(fs, f.getKey()), f.getKey());
        }
        assertEquals("d/f1", fs.readlink(fs.resolve("link")));
        assertEquals(0600, fs.getattr(fs.resolve("f0")).mode() & 0777);
        assertEquals(26, fs.getattr(fs.resolve("f0")).uid());
        assertEquals(FileType.FIFO.bits() | 0640, fs.getattr(fs.resolve("d/fifo")).mode());
        assertEquals(FileType.CHAR_DEVICE.bits() | 0666, fs.getattr(fs.resolve("null")).mode());
        assertEquals((1 << 8) | 3, fs.getattr(fs.resolve("null")).rdev());
        assertEquals(FileType.SOCKET, fs.getattr(fs.resolve("sock")).type());
    }

    private Map<String, byte[]> source(Engine a) {
        a.createVolume("db");
        Map<String, byte[]> files = writeFiles(a.volume("db"), new Random(7));
        a.snapshot("db", "s1");
        return files;
    }

    @Test
    void importedSnapshotReadsLazilyAndClonesStayLocal() throws Exception {
        Engine a = pool("a");
        Map<String, byte[]> files = source(a);
        Pushed p = push(a, "db@s1");
        Engine b = pool("b");
        int before = fetchCalls.get();
        SnapshotInfo s = b.importSnapshot("r1.db", "s1", "r1", p.packKeys(), p.items().iterator());
        assertEquals("r1.db@s1", s.name());
        assertEquals(before, fetchCalls.get(), "import fetches no block");
        CacheStatus cs = b.cacheStatus();
        assertTrue(cs.remoteBlocks() > 100, cs.toString());
        assertEquals(0, cs.cachedBlocks());

        b.cloneVolume("r1.db@s1", "dev");
        assertFiles(files, b.volume("dev"));
        assertFiles(files, b.snapshotFs("r1.db@s1"));
        CacheStatus after = b.cacheStatus();
        assertEquals(cs.remoteBlocks(), after.cachedBlocks(), "every block read is cached once");
        assertTrue(after.fetches() < after.cachedBlocks() / 4, "read-ahead fetches runs, not single blocks: " + after);

        // writes to the clone go to new local blocks; the imported snapshot keeps its bytes
        VolumeFs dev = b.volume("dev");
        dev.write(dev.resolve("f0"), 5, ByteBuffer.wrap("changed".getBytes()));
        assertArrayEquals(files.get("f0"), readAll(b.snapshotFs("r1.db@s1"), "f0"));
        byte[] changed = files.get("f0").clone();
        System.arraycopy("changed".getBytes(), 0, changed, 5, 7);
        assertArrayEquals(changed, readAll(dev, "f0"));
        assertTrue(b.fsck().clean(), b.fsck().problems().toString());
        assertFalse(b.volumes().stream().anyMatch(v -> v.name().startsWith(".")), "no hidden import dataset listed");
    }

    @Test
    void evictedBlocksComeBackAndSurviveReopen() throws Exception {
        Engine a = pool("a");
        Map<String, byte[]> files = source(a);
        Pushed p = push(a, "db@s1");
        Engine b = pool("b");
        b.importSnapshot("r1.db", "s1", "r1", p.packKeys(), p.items().iterator());
        b.cloneVolume("r1.db@s1", "dev");
        assertFiles(files, b.volume("dev"));
        long cachedBytes = b.cacheStatus().cachedBytes();
        assertTrue(cachedBytes > 0);
        b.sync();
        long duBefore = diskKiB(tmp.resolve("b/blocks"));
        long freed = b.cacheEvict(0);
        assertEquals(cachedBytes, freed);
        long duAfter = diskKiB(tmp.resolve("b/blocks"));
        assertTrue(duBefore - duAfter >= cachedBytes / 1024 * 9 / 10,
                "eviction gives the disk space back: " + duBefore + " KiB -> " + duAfter + " KiB, cached " + cachedBytes);
        assertEquals(0, b.cacheStatus().cachedBlocks());
        int calls = fetchCalls.get();
        assertFiles(files, b.volume("dev"));
        assertTrue(fetchCalls.get() > calls, "evicted blocks are fetched again");

        b.sync();
        close(b);
        Engine b2 = pool("b");
        assertEquals(b2.cacheStatus().remoteBlocks(), b2.cacheStatus().cachedBlocks(), "cached flags are durable");
        assertFiles(files, b2.volume("dev"));
        b2.cacheEvict(0);
        close(b2);
        Engine b3 = pool("b");
        assertEquals(0, b3.cacheStatus().cachedBlocks());
        calls = fetchCalls.get();
        assertFiles(files, b3.volume("dev"));
        assertTrue(fetchCalls.get() > calls);
        assertTrue(b3.fsck().clean(), b3.fsck().problems().toString());
    }

    @Test
    void unreachableOrCorruptStoreGivesErrorsNeverWrongBytes() throws Exception {
        Engine a = pool("a");
        Map<String, byte[]> files = source(a);
        Pushed p = push(a, "db@s1");
        Engine b = pool("b");
        b.importSnapshot("r1.db", "s1", "r1", p.packKeys(), p.items().iterator());
        b.cloneVolume("r1.db@s1", "dev");
        VolumeFs dev = b.volume("dev");

        offline.set(true);
        ClonefsException e = assertThrows(ClonefsException.class, () -> readAll(dev, "f0"));
        assertEquals(Errno.EIO, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
        offline.set(false);
        assertArrayEquals(files.get("f0"), readAll(dev, "f0"), "recovers when the store is back");

        // flip one byte in every pack: each fetch now fails its checksum
        b.cacheEvict(0);
        for (String k : p.packKeys()) {
            store.get("r1/" + k)[BS / 2] ^= 1;
        }
        ClonefsException bad = assertThrows(ClonefsException.class, () -> readAll(dev, "f0"));
        assertEquals(Errno.EIO, bad.errno());
        assertTrue(bad.getMessage().contains("SHA-256"), bad.getMessage());
        assertTrue(b.cacheStatus().fetchErrors() >= 2);
    }

    @Test
    void destroyReclaimsRemoteBlocksAndFailedImportLeavesNothing() throws Exception {
        Engine a = pool("a");
        source(a);
        Pushed p = push(a, "db@s1");
        Engine b = pool("b");

        // an import whose listing breaks halfway: nothing visible, nothing leaked
        Iterator<SnapshotItem> all = p.items().iterator();
        int[] n = {0};
        Iterator<SnapshotItem> broken = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return all.hasNext();
            }

            @Override
            public SnapshotItem next() {
                if (++n[0] > p.items().size() / 2) {
                    throw new ClonefsException.IoFailure("listing object truncated", null);
                }
                return all.next();
            }
        };
        assertThrows(ClonefsException.IoFailure.class, () -> b.importSnapshot("r1.db", "s1", "r1", p.packKeys(), broken));
        assertTrue(b.volumes().isEmpty());
        assertThrows(ClonefsException.NotFound.class, () -> b.snapshotInfo("r1.db@s1"));
        assertTrue(b.awaitReclaim(Duration.ofSeconds(30)));
        b.sync();
        b.sync();
        assertEquals(0, b.cacheStatus().remoteBlocks(), "blocks of the failed import are no longer remote-backed");
        assertTrue(b.fsck().clean(), b.fsck().problems().toString());

        b.importSnapshot("r1.db", "s1", "r1", p.packKeys(), p.items().iterator());
        assertThrows(ClonefsException.AlreadyExists.class,
                () -> b.importSnapshot("r1.db", "s2", "r1", p.packKeys(), p.items().iterator()));
        b.cloneVolume("r1.db@s1", "dev");
        readAll(b.volume("dev"), "f0");
        b.destroy("r1.db", true);
        assertTrue(b.awaitReclaim(Duration.ofSeconds(30)));
        b.sync();
        b.sync();
        assertEquals(0, b.cacheStatus().remoteBlocks());
        assertTrue(b.fsck().clean(), b.fsck().problems().toString());
        // reused blocks are plain local blocks again
        b.createVolume("fresh");
        VolumeFs fresh = b.volume("fresh");
        byte[] data = new byte[200_000];
        new Random(3).nextBytes(data);
        InodeId ino = fresh.create(fresh.resolve(""), "x", 0644, 0, 0).ino();
        fresh.write(ino, 0, ByteBuffer.wrap(data));
        offline.set(true);
        assertArrayEquals(data, readAll(fresh, "x"));
        close(b);
        Engine b2 = pool("b");
        assertEquals(0, b2.cacheStatus().remoteBlocks());
        assertArrayEquals(data, readAll(b2.volume("fresh"), "x"));
    }
}
