package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's contract against real LMDB in a temp dir: pool lifecycle, volumes, snapshots and
 * clones, POSIX semantics of {@link VolumeFs}, space accounting and refusals of bad input. Every
 * test ends with a clean fsck of the pool it used.
 */
class EngineContractTest {
    private static final int BS = Engine.DEFAULT_BLOCK_SIZE;

    @TempDir
    Path tmp;

    private Path poolDir;
    private Engine engine;

    /** A fresh pool (opened; closed and fsck-checked after the test). */
    private Engine pool(int blockSize) {
        poolDir = tmp.resolve("pool");
        Engine.init(poolDir, blockSize);
        engine = Engine.open(poolDir);
        return engine;
    }

    private Engine pool() {
        return pool(BS);
    }

    private Engine reopen() {
        engine.close();
        engine = Engine.open(poolDir);
        return engine;
    }

    @AfterEach
    void fsckClean() {
        if (engine != null) {
            try {
                EngineModelTest.assertClean(engine.fsck(), "fsck after the test");
                engine.close();
                engine = Engine.open(poolDir);
                EngineModelTest.assertClean(engine.fsck(), "fsck after the test and a reopen");
            } finally {
                engine.close();
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    static byte[] bytes(int n, int seed) {
        return Op.data(seed, n);
    }

    static void write(VolumeFs fs, InodeId ino, long off, byte[] data) {
        assertEquals(data.length, fs.write(ino, off, ByteBuffer.wrap(data)), "write count");
    }

    /** Reads up to {@code len} bytes at {@code off}, looping over short reads; stops at EOF. */
    static byte[] read(VolumeFs fs, InodeId ino, long off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            int n = fs.read(ino, off + b.position(), b);
            if (n == 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    static byte[] readFile(VolumeFs fs, String path) {
        InodeId ino = fs.resolve(path);
        return Trees.readAll(fs, ino, fs.getattr(ino).size());
    }

    static InodeId file(VolumeFs fs, String path, byte[] data) {
        InodeId parent = fs.resolve(Model.parentOf(path));
        InodeAttr a = fs.create(parent, Model.nameOf(path), 0644, 0, 0);
        write(fs, a.ino(), 0, data);
        return a.ino();
    }

    static List<String> names(VolumeFs fs, String dir) {
        List<String> out = new ArrayList<>();
        fs.readdir(fs.resolve(dir)).forEach(e -> out.add(e.name()));
        return out;
    }

    /** Everything listable about the pool's datasets, to show that a refused command changed nothing. */
    static String poolState(Engine e) {
        StringBuilder sb = new StringBuilder();
        e.volumes().forEach(v -> sb.append("V ").append(v.name()).append(' ').append(v.id()).append(' ')
                .append(v.origin()).append(' ').append(v.referencedBytes()).append('\n'));
        e.snapshots().forEach(s -> sb.append("S ").append(s.name()).append(' ').append(s.id()).append(' ')
                .append(s.clones()).append(' ').append(s.referencedBytes()).append('\n'));
        return sb.toString();
    }

    /**
     * Asserts that {@code action} fails with {@code type}, a message that names {@code mention}
     * (when given), and that the pool's datasets, the given trees' contents and fsck are unchanged.
     */
    <T extends ClonefsException> T refused(Class<T> type, String mention, Executable action) {
        String before = poolState(engine);
        TreeMap<String, Model.Node> trees = new TreeMap<>();
        engine.volumes().forEach(v -> trees.put(v.name(), Trees.load(engine.volume(v.name()))));
        engine.snapshots().forEach(s -> trees.put(s.name(), Trees.load(engine.snapshotFs(s.name()))));
        T e = assertThrows(type, action);
        assertNotNullMessage(e);
        if (mention != null) {
            assertTrue(e.getMessage().contains(mention), "message should name '" + mention + "': " + e.getMessage());
        }
        assertEquals(before, poolState(engine), "a refused command changed the pool");
        trees.forEach((name, root) -> Trees.assertTree(root,
                Names.isSnapshotName(name) ? engine.snapshotFs(name) : engine.volume(name)));
        EngineModelTest.assertClean(engine.fsck(), "fsck after a refused command");
        return e;
    }

    static void assertNotNullMessage(Exception e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "exception without a message: " + e);
        assertFalse(e.getMessage().contains("\n"), "message should be one line: " + e.getMessage());
    }

    // ------------------------------------------------------------------ pool lifecycle

    @Nested
    class Lifecycle {
        @Test
        void dataSurvivesCloseAndReopen() {
            Engine e = pool(4096);
            assertEquals(4096, e.blockSize());
            assertEquals(poolDir, e.directory());
            e.createVolume("db");
            byte[] data = bytes(3 * 4096 + 17, 1);
            file(e.volume("db"), "f", data);
            e.snapshot("db", "s1");
            e.close();
            e.close(); // idempotent
            e = reopen();
            assertEquals(4096, e.blockSize(), "block size is a property of the pool");
            assertArrayEquals(data, readFile(e.volume("db"), "f"));
            assertArrayEquals(data, readFile(e.snapshotFs("db@s1"), "f"));
            assertEquals(List.of("db"), e.volumes().stream().map(VolumeInfo::name).toList());
            assertEquals(List.of("db@s1"), e.snapshots().stream().map(SnapshotInfo::name).toList());
        }

        @Test
        void openingADirectoryThatIsNotAPoolFails() throws Exception {
            Path empty = Files.createDirectories(tmp.resolve("empty"));
            ClonefsException e1 = assertThrows(ClonefsException.PoolFormat.class, () -> Engine.open(empty));
            assertNotNullMessage(e1);
            try (var l = Files.list(empty)) {
                assertEquals(0, l.count(), "a failed open must not create files");
            }
            Path junk = Files.createDirectories(tmp.resolve("junk"));
            Files.writeString(junk.resolve("data.mdb"), "not an lmdb file, just text ".repeat(200));
            assertThrows(ClonefsException.class, () -> Engine.open(junk).close());
            ClonefsException e3 = assertThrows(ClonefsException.class, () -> Engine.open(tmp.resolve("missing")));
            assertNotNullMessage(e3);
            assertFalse(Files.exists(tmp.resolve("missing")), "open must not create a pool");
        }

        @Test
        void secondInitIsRefusedAndLeavesThePoolIntact() {
            Engine e = pool();
            e.createVolume("keep");
            file(e.volume("keep"), "f", bytes(100, 2));
            e.close();
            ClonefsException ex = assertThrows(ClonefsException.class, () -> Engine.init(poolDir, BS));
            assertNotNullMessage(ex);
            ClonefsException ex2 = assertThrows(ClonefsException.class, () -> Engine.init(poolDir, 4096));
            assertNotNullMessage(ex2);
            e = reopen();
            assertEquals(BS, e.blockSize());
            assertArrayEquals(bytes(100, 2), readFile(e.volume("keep"), "f"));
        }

        @Test
        void initIntoANonEmptyDirectoryIsRefused() throws Exception {
            Path notEmpty = Files.createDirectories(tmp.resolve("ne"));
            Files.writeString(notEmpty.resolve("x"), "x");
            ClonefsException e = assertThrows(ClonefsException.class, () -> Engine.init(notEmpty, BS),
                    "Engine.init: 'must be empty'");
            assertNotNullMessage(e);
            try (var l = Files.list(notEmpty)) {
                assertEquals(List.of(notEmpty.resolve("x")), l.toList(), "a refused init leaves the directory alone");
            }
        }

        @Test
        void initWithABadBlockSizeIsRefused() {
            for (int bad : new int[] {0, -4096, 1000, 4097}) {
                Path d = tmp.resolve("bad" + Math.abs(bad));
                assertThrows(ClonefsException.InvalidArgument.class, () -> Engine.init(d, bad), "block size " + bad);
            }
        }
    }

    // ------------------------------------------------------------------ volumes, snapshots, clones

    @Nested
    class Datasets {
        @Test
        void createListAndDestroyVolumes() {
            Engine e = pool();
            VolumeInfo a = e.createVolume("a");
            assertEquals("a", a.name());
            assertNull(a.origin());
            e.createVolume("b.2_x-y");
            assertEquals(List.of("a", "b.2_x-y"), e.volumes().stream().map(VolumeInfo::name).sorted().toList());
            VolumeFs fs = e.volume("a");
            assertEquals("a", fs.name());
            assertFalse(fs.readOnly());
            InodeAttr root = fs.getattr(InodeId.ROOT);
            assertTrue(root.isDirectory());
            assertEquals(0755, root.mode() & FileType.PERMISSION_MASK);
            assertEquals(0, root.uid());
            assertEquals(List.of(), fs.readdir(InodeId.ROOT));
            assertEquals(InodeId.ROOT, fs.resolve(""));
            refused(ClonefsException.AlreadyExists.class, "a", () -> e.createVolume("a"));
            e.destroy("a", false);
            assertEquals(List.of("b.2_x-y"), e.volumes().stream().map(VolumeInfo::name).toList());
            refused(ClonefsException.NotFound.class, "a", () -> e.volumeInfo("a"));
            refused(ClonefsException.NotFound.class, "a", () -> e.volume("a"));
            e.createVolume("a"); // the name is free again, and the new volume is empty
            assertEquals(List.of(), e.volume("a").readdir(InodeId.ROOT));
        }

        @Test
        void snapshotCloneAndCloneOfClone() {
            Engine e = pool();
            e.createVolume("src");
            VolumeFs src = e.volume("src");
            byte[] d1 = bytes(5 * BS + 3, 10);
            file(src, "f", d1);
            src.mkdir(InodeId.ROOT, "dir", 0700, 5, 6);
            src.symlink(src.resolve("dir"), "ln", "../f", 5, 6);

            SnapshotInfo s1 = e.snapshot("src", "s1");
            assertEquals("src@s1", s1.name());
            assertEquals("src", s1.volume());
            assertEquals("s1", s1.snapshot());
            assertEquals(List.of(), s1.clones());
            VolumeInfo c1 = e.cloneVolume("src@s1", "c1");
            assertEquals("src@s1", c1.origin());
            assertEquals(List.of("c1"), e.snapshotInfo("src@s1").clones());
            assertEquals("src@s1", e.volumeInfo("c1").origin());

            VolumeFs c1fs = e.volume("c1");
            assertArrayEquals(d1, readFile(c1fs, "f"));
            assertEquals("../f", c1fs.readlink(c1fs.resolve("dir/ln")));
            assertEquals(0700, c1fs.getattr(c1fs.resolve("dir")).mode() & 07777);
            assertEquals(5, c1fs.getattr(c1fs.resolve("dir")).uid());

            byte[] d2 = bytes(100, 11);
            write(c1fs, c1fs.resolve("f"), BS - 50, d2);
            e.snapshot("c1", "s2");
            e.cloneVolume("c1@s2", "c2");
            VolumeFs c2fs = e.volume("c2");
            byte[] expected = d1.clone();
            System.arraycopy(d2, 0, expected, BS - 50, 100);
            assertArrayEquals(expected, readFile(c2fs, "f"));
            assertEquals("c1@s2", e.volumeInfo("c2").origin());
            // a clone of a clone of a clone
            e.snapshot("c2", "s3");
            e.cloneVolume("c2@s3", "c3");
            assertArrayEquals(expected, readFile(e.volume("c3"), "f"));
            assertArrayEquals(d1, readFile(e.volume("src"), "f"));
            assertArrayEquals(d1, readFile(e.snapshotFs("src@s1"), "f"));
            reopen();
            assertArrayEquals(expected, readFile(engine.volume("c3"), "f"));
            assertArrayEquals(d1, readFile(engine.snapshotFs("src@s1"), "f"));
        }

        @Test
        void snapshotsAreReadOnly() {
            Engine e = pool();
            e.createVolume("v");
            VolumeFs v = e.volume("v");
            InodeId f = file(v, "f", bytes(10, 1));
            v.mkdir(InodeId.ROOT, "d", 0755, 0, 0);
            v.create(v.resolve("d"), "g", 0644, 0, 0);
            e.snapshot("v", "s");
            VolumeFs s = e.snapshotFs("v@s");
            assertTrue(s.readOnly());
            assertEquals("v@s", s.name());
            InodeId sf = s.resolve("f");
            InodeId sd = s.resolve("d");
            List<Executable> writes = List.of(
                    () -> s.create(InodeId.ROOT, "new", 0644, 0, 0),
                    () -> s.mkdir(InodeId.ROOT, "new", 0755, 0, 0),
                    () -> s.symlink(InodeId.ROOT, "new", "x", 0, 0),
                    () -> s.link(sf, InodeId.ROOT, "new"),
                    () -> s.unlink(InodeId.ROOT, "f"),
                    () -> s.rmdir(InodeId.ROOT, "d"),
                    () -> s.rename(InodeId.ROOT, "f", sd, "f2"),
                    () -> s.chmod(sf, 0600),
                    () -> s.chown(sf, 1, 1),
                    () -> s.truncate(sf, 0),
                    () -> s.utimens(sf, 1, 1),
                    () -> s.write(sf, 0, ByteBuffer.wrap(new byte[] {9})));
            for (Executable w : writes) {
                refused(ClonefsException.ReadOnly.class, null, w);
            }
            assertArrayEquals(bytes(10, 1), readFile(s, "f"));
            assertEquals(List.of("d", "f"), names(s, ""));
            assertEquals(0644, s.getattr(sf).mode() & 07777);
            // the volume itself stays writable
            write(v, f, 0, new byte[] {7});
            assertEquals(7, readFile(v, "f")[0]);
            assertEquals(bytes(10, 1)[0], readFile(s, "f")[0]);
        }

        @Test
        void writesToACloneAreNeverSeenInItsSourceOrSnapshotAndTheReverse() {
            Engine e = pool(4096);
            int bs = 4096;
            e.createVolume("src");
            VolumeFs src = e.volume("src");
            byte[] base = bytes(8 * bs, 3);
            file(src, "data", base);
            file(src, "gone", bytes(5, 4));
            src.mkdir(InodeId.ROOT, "dir", 0755, 0, 0);
            file(src, "dir/inner", bytes(2 * bs, 5));
            e.snapshot("src", "s");
            e.cloneVolume("src@s", "clone");
            VolumeFs clone = e.volume("clone");

            // clone changes: partial block overwrite, append, truncate, unlink, rename, new file
            write(clone, clone.resolve("data"), bs + 100, bytes(bs, 6));
            write(clone, clone.resolve("data"), 8 * bs, bytes(10, 7));
            clone.truncate(clone.resolve("dir/inner"), 10);
            clone.unlink(InodeId.ROOT, "gone");
            clone.rename(InodeId.ROOT, "data", clone.resolve("dir"), "moved");
            file(clone, "newfile", bytes(3, 8));
            clone.chmod(clone.resolve("dir"), 0700);

            // source changes, after the clone
            write(src, src.resolve("data"), 5 * bs - 1, bytes(2, 9));
            file(src, "srcnew", bytes(3, 10));

            Model.Node snap = Trees.load(e.snapshotFs("src@s"));
            assertEquals(List.of("data", "dir", "gone"), names(e.snapshotFs("src@s"), ""));
            assertArrayEquals(base, Model.lookup(snap, "data").data);
            assertArrayEquals(bytes(2 * bs, 5), Model.lookup(snap, "dir/inner").data);
            assertEquals(0755 | FileType.DIRECTORY.bits(), Model.lookup(snap, "dir").mode);

            byte[] srcData = base.clone();
            System.arraycopy(bytes(2, 9), 0, srcData, 5 * bs - 1, 2);
            assertArrayEquals(srcData, readFile(src, "data"));
            assertEquals(List.of("data", "dir", "gone", "srcnew"), names(src, ""));
            assertArrayEquals(bytes(2 * bs, 5), readFile(src, "dir/inner"));

            byte[] cloneData = Arrays.copyOf(base, 8 * bs + 10);
            System.arraycopy(bytes(bs, 6), 0, cloneData, bs + 100, bs);
            System.arraycopy(bytes(10, 7), 0, cloneData, 8 * bs, 10);
            assertArrayEquals(cloneData, readFile(clone, "dir/moved"));
            assertEquals(List.of("dir", "newfile"), names(clone, ""));
            assertArrayEquals(Arrays.copyOf(bytes(2 * bs, 5), 10), readFile(clone, "dir/inner"));
            reopen();
            assertArrayEquals(srcData, readFile(engine.volume("src"), "data"));
            assertArrayEquals(cloneData, readFile(engine.volume("clone"), "dir/moved"));
            assertArrayEquals(base, readFile(engine.snapshotFs("src@s"), "data"));
        }

        @Test
        void destroyIsRefusedWhileDependantsExistUnlessRecursive() {
            Engine e = pool();
            e.createVolume("v");
            file(e.volume("v"), "f", bytes(3 * BS, 1));
            e.snapshot("v", "s");
            e.cloneVolume("v@s", "c");
            e.snapshot("c", "t");
            e.createVolume("other");

            ClonefsException.Conflict c1 = refused(ClonefsException.Conflict.class, "v", () -> e.destroy("v", false));
            assertEquals(Errno.EBUSY, c1.errno());
            refused(ClonefsException.Conflict.class, "v@s", () -> e.destroy("v@s", false));
            refused(ClonefsException.Conflict.class, "c", () -> e.destroy("c", false));

            // a snapshot without clones and a volume without snapshots go at once
            e.destroy("c@t", false);
            e.destroy("c", false);
            e.destroy("v@s", false);
            e.destroy("v", false);
            assertEquals(List.of("other"), e.volumes().stream().map(VolumeInfo::name).toList());
            assertEquals(List.of(), e.snapshots());
        }

        @Test
        void recursiveDestroyTakesTheDependantsToo() {
            Engine e = pool();
            e.createVolume("v");
            file(e.volume("v"), "f", bytes(3 * BS, 1));
            e.snapshot("v", "s1");
            e.snapshot("v", "s2");
            e.cloneVolume("v@s1", "c");
            e.snapshot("c", "t");
            e.cloneVolume("c@t", "cc");
            e.createVolume("other");
            e.snapshot("other", "keep");

            e.destroy("c", true); // c, c@t and its clone cc
            assertEquals(List.of("other", "v"), e.volumes().stream().map(VolumeInfo::name).sorted().toList());
            assertEquals(List.of("other@keep", "v@s1", "v@s2"),
                    e.snapshots().stream().map(SnapshotInfo::name).sorted().toList());
            assertEquals(List.of(), e.snapshotInfo("v@s1").clones());
            e.cloneVolume("v@s1", "c2");
            e.destroy("v", true);
            assertEquals(List.of("other"), e.volumes().stream().map(VolumeInfo::name).toList());
            assertEquals(List.of("other@keep"), e.snapshots().stream().map(SnapshotInfo::name).toList());
            assertTrue(e.awaitReclaim(Duration.ofSeconds(30)));
            assertEquals(0, e.space().blocksInUse(), "every block of the destroyed datasets is reclaimed");
        }

        @Test
        void badInputIsRefusedClearlyAndChangesNothing() {
            Engine e = pool();
            e.createVolume("v");
            file(e.volume("v"), "f", bytes(100, 1));
            e.snapshot("v", "s");
            e.cloneVolume("v@s", "c");
            String tooLong = "x".repeat(64);
            String[] invalid = {"a/b", "..", ".", "", ".hidden", "-dash", tooLong, "a b", "é"};
            for (String bad : invalid) {
                refused(ClonefsException.InvalidArgument.class, null, () -> e.createVolume(bad));
                refused(ClonefsException.InvalidArgument.class, null, () -> e.snapshot("v", bad));
                refused(ClonefsException.InvalidArgument.class, null, () -> e.cloneVolume("v@s", bad));
                if (!bad.isEmpty()) {
                    refused(ClonefsException.InvalidArgument.class, null, () -> e.cloneVolume(bad + "@s", "n"));
                }
            }
            refused(ClonefsException.InvalidArgument.class, null, () -> e.createVolume(null));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.createVolume("a@b"));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.destroy("a@b@c", false));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.cloneVolume("a@b@c", "n"));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.cloneVolume("v", "n")); // not a snapshot
            refused(ClonefsException.InvalidArgument.class, null, () -> e.snapshotFs("v"));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.destroy("v@", false));
            refused(ClonefsException.InvalidArgument.class, null, () -> e.destroy("../v", true));
            assertTrue(assertThrows(ClonefsException.InvalidArgument.class, () -> e.createVolume(tooLong))
                    .getMessage().contains("63"), "the message says what the limit is");
            e.createVolume("x".repeat(63)); // the longest valid name
            e.destroy("x".repeat(63), false);

            refused(ClonefsException.NotFound.class, "nope", () -> e.snapshot("nope", "s"));
            refused(ClonefsException.NotFound.class, "nope", () -> e.cloneVolume("nope@s", "n"));
            refused(ClonefsException.NotFound.class, "v@nope", () -> e.cloneVolume("v@nope", "n"));
            refused(ClonefsException.NotFound.class, "nope", () -> e.destroy("nope", false));
            refused(ClonefsException.NotFound.class, "nope", () -> e.destroy("nope", true));
            refused(ClonefsException.NotFound.class, "v@nope", () -> e.destroy("v@nope", true));
            refused(ClonefsException.NotFound.class, "v@nope", () -> e.snapshotFs("v@nope"));
            refused(ClonefsException.NotFound.class, "v@nope", () -> e.snapshotInfo("v@nope"));
            refused(ClonefsException.NotFound.class, "nope", () -> e.space("nope"));
            refused(ClonefsException.AlreadyExists.class, "c", () -> e.cloneVolume("v@s", "c"));
            refused(ClonefsException.AlreadyExists.class, "v", () -> e.cloneVolume("v@s", "v"));
            refused(ClonefsException.AlreadyExists.class, "v@s", () -> e.snapshot("v", "s"));
            refused(ClonefsException.Conflict.class, "v", () -> e.destroy("v", false));
            refused(ClonefsException.Conflict.class, "v@s", () -> e.destroy("v@s", false));
            refused(ClonefsException.AlreadyExists.class, "v", () -> e.createVolume("v"));
        }
    }

    // ------------------------------------------------------------------ POSIX semantics of VolumeFs

    @Nested
    class Posix {
        private VolumeFs fs;

        private VolumeFs fs() {
            if (fs == null) {
                pool(4096).createVolume("v");
                fs = engine.volume("v");
            }
            return fs;
        }

        @Test
        void createLookupReaddirGetattr() {
            VolumeFs v = fs();
            InodeAttr a = v.create(InodeId.ROOT, "zeta", 0640, 1000, 1001);
            assertTrue(a.isRegular());
            assertEquals(FileType.REGULAR.bits() | 0640, a.mode());
            assertEquals(1, a.nlink());
            assertEquals(1000, a.uid());
            assertEquals(1001, a.gid());
            assertEquals(0, a.size());
            assertEquals(0, a.blocks());
            assertEquals(a, v.getattr(a.ino()));
            assertEquals(a.ino(), v.lookup(InodeId.ROOT, "zeta"));
            InodeAttr d = v.mkdir(InodeId.ROOT, "alpha", 0750, 7, 8);
            assertTrue(d.isDirectory());
            assertEquals(FileType.DIRECTORY.bits() | 0750, d.mode());
            v.create(InodeId.ROOT, "Beta", 0600, 0, 0);
            v.create(InodeId.ROOT, "é", 0600, 0, 0);
            v.create(d.ino(), "inner", 0600, 0, 0);
            List<DirEntry> l = v.readdir(InodeId.ROOT);
            assertEquals(List.of("Beta", "alpha", "zeta", "é"), l.stream().map(DirEntry::name).toList(), "bytewise order");
            assertEquals(new DirEntry("alpha", d.ino(), FileType.DIRECTORY), l.get(1));
            assertEquals(v.resolve("alpha/inner"), v.lookup(d.ino(), "inner"));
            assertNotEquals(a.ino(), d.ino());
            refused(ClonefsException.NotFound.class, null, () -> v.lookup(InodeId.ROOT, "missing"));
            refused(ClonefsException.NotFound.class, null, () -> v.resolve("alpha/missing"));
            refused(ClonefsException.AlreadyExists.class, null, () -> v.create(InodeId.ROOT, "zeta", 0644, 0, 0));
            refused(ClonefsException.AlreadyExists.class, null, () -> v.mkdir(InodeId.ROOT, "zeta", 0755, 0, 0));
            refused(ClonefsException.AlreadyExists.class, null, () -> v.symlink(InodeId.ROOT, "alpha", "t", 0, 0));
            refused(ClonefsException.NotDirectory.class, null, () -> v.create(a.ino(), "x", 0644, 0, 0));
            refused(ClonefsException.NotDirectory.class, null, () -> v.readdir(a.ino()));
            refused(ClonefsException.NotDirectory.class, null, () -> v.lookup(a.ino(), "x"));
            for (String bad : new String[] {"", ".", "..", "a/b", "nul\0"}) {
                refused(ClonefsException.InvalidArgument.class, null, () -> v.create(InodeId.ROOT, bad, 0644, 0, 0));
                refused(ClonefsException.InvalidArgument.class, null, () -> v.mkdir(InodeId.ROOT, bad, 0755, 0, 0));
            }
            refused(ClonefsException.NameTooLong.class, null, () -> v.create(InodeId.ROOT, "n".repeat(256), 0644, 0, 0));
            refused(ClonefsException.NameTooLong.class, null, () -> v.create(InodeId.ROOT, "é".repeat(128), 0644, 0, 0));
            v.create(InodeId.ROOT, "n".repeat(255), 0644, 0, 0);
            assertTrue(names(v, "").contains("n".repeat(255)));
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(InodeId.of(999_999)));
        }

        @Test
        void mkdirRmdirUnlink() {
            VolumeFs v = fs();
            InodeId d = v.mkdir(InodeId.ROOT, "d", 0755, 0, 0).ino();
            InodeId sub = v.mkdir(d, "sub", 0755, 0, 0).ino();
            file(v, "d/sub/f", bytes(10, 1));
            file(v, "top", bytes(10, 2));
            refused(ClonefsException.NotEmpty.class, null, () -> v.rmdir(InodeId.ROOT, "d"));
            refused(ClonefsException.NotEmpty.class, null, () -> v.rmdir(d, "sub"));
            refused(ClonefsException.NotDirectory.class, null, () -> v.rmdir(InodeId.ROOT, "top"));
            refused(ClonefsException.IsDirectory.class, null, () -> v.unlink(InodeId.ROOT, "d"));
            refused(ClonefsException.NotFound.class, null, () -> v.rmdir(InodeId.ROOT, "nothing"));
            refused(ClonefsException.NotFound.class, null, () -> v.unlink(InodeId.ROOT, "nothing"));
            v.unlink(sub, "f");
            assertEquals(List.of(), v.readdir(sub));
            v.rmdir(d, "sub");
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(sub));
            v.rmdir(InodeId.ROOT, "d");
            v.unlink(InodeId.ROOT, "top");
            assertEquals(List.of(), v.readdir(InodeId.ROOT));
            assertTrue(engine.awaitReclaim(Duration.ofSeconds(30)));
        }

        @Test
        void renameFollowsPosix() {
            VolumeFs v = fs();
            InodeId a = file(v, "a", bytes(100, 1));
            InodeId b = file(v, "b", bytes(200, 2));
            // file over file: the target is replaced, the source name disappears
            v.rename(InodeId.ROOT, "a", InodeId.ROOT, "b");
            assertEquals(List.of("b"), names(v, ""));
            assertEquals(a, v.resolve("b"));
            assertArrayEquals(bytes(100, 1), readFile(v, "b"));
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(b));

            InodeId d1 = v.mkdir(InodeId.ROOT, "d1", 0755, 0, 0).ino();
            InodeId d2 = v.mkdir(InodeId.ROOT, "d2", 0755, 0, 0).ino();
            InodeId d3 = v.mkdir(InodeId.ROOT, "d3", 0755, 0, 0).ino();
            file(v, "d1/x", bytes(10, 3));
            file(v, "d3/y", bytes(10, 4));
            // empty dir replaced by a dir
            v.rename(InodeId.ROOT, "d1", InodeId.ROOT, "d2");
            assertEquals(d1, v.resolve("d2"));
            assertArrayEquals(bytes(10, 3), readFile(v, "d2/x"));
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(d2));
            // a dir never replaces a non-empty dir, a file never a dir, a dir never a file
            refused(ClonefsException.NotEmpty.class, null, () -> v.rename(InodeId.ROOT, "d2", InodeId.ROOT, "d3"));
            refused(ClonefsException.IsDirectory.class, null, () -> v.rename(InodeId.ROOT, "b", InodeId.ROOT, "d3"));
            refused(ClonefsException.NotDirectory.class, null, () -> v.rename(InodeId.ROOT, "d3", InodeId.ROOT, "b"));
            // a dir into its own subtree
            InodeId deep = v.mkdir(d1, "deep", 0755, 0, 0).ino();
            refused(ClonefsException.InvalidArgument.class, null, () -> v.rename(InodeId.ROOT, "d2", d1, "self"));
            refused(ClonefsException.InvalidArgument.class, null, () -> v.rename(InodeId.ROOT, "d2", deep, "self"));
            refused(ClonefsException.NotFound.class, null, () -> v.rename(InodeId.ROOT, "nothing", InodeId.ROOT, "z"));
            // across directories, then back; the inode and data move with the name
            v.rename(d1, "x", d3, "x2");
            assertEquals(List.of("deep"), names(v, "d2"));
            assertEquals(List.of("x2", "y"), names(v, "d3"));
            assertArrayEquals(bytes(10, 3), readFile(v, "d3/x2"));
            // a dir moved elsewhere keeps its subtree
            v.rename(InodeId.ROOT, "d2", d3, "moved");
            assertEquals(deep, v.resolve("d3/moved/deep"));
            // rename onto itself, and onto another hard link of the same file, change nothing
            v.rename(InodeId.ROOT, "b", InodeId.ROOT, "b");
            v.link(a, InodeId.ROOT, "b2");
            v.rename(InodeId.ROOT, "b", InodeId.ROOT, "b2");
            assertEquals(List.of("b", "b2", "d3"), names(v, ""));
            assertEquals(2, v.getattr(a).nlink());
            // replacing the last link of a file frees it
            InodeId c = file(v, "c", bytes(3 * 4096, 5));
            v.rename(InodeId.ROOT, "b", InodeId.ROOT, "c");
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(c));
            assertEquals(2, v.getattr(a).nlink());
        }

        @Test
        void hardLinksShareDataAndCountLinks() {
            VolumeFs v = fs();
            InodeId f = file(v, "f", bytes(50, 1));
            v.mkdir(InodeId.ROOT, "d", 0755, 0, 0);
            InodeAttr l1 = v.link(f, v.resolve("d"), "l1");
            assertEquals(f, l1.ino());
            assertEquals(2, l1.nlink());
            assertEquals(3, v.link(f, InodeId.ROOT, "l2").nlink());
            assertEquals(3, v.getattr(f).nlink());
            write(v, v.resolve("d/l1"), 50, bytes(10, 2));
            byte[] both = Arrays.copyOf(bytes(50, 1), 60);
            System.arraycopy(bytes(10, 2), 0, both, 50, 10);
            assertArrayEquals(both, readFile(v, "f"));
            assertArrayEquals(both, readFile(v, "l2"));
            refused(ClonefsException.AlreadyExists.class, null, () -> v.link(f, InodeId.ROOT, "l2"));
            ClonefsException dirLink = assertThrows(ClonefsException.class, () -> v.link(v.resolve("d"), InodeId.ROOT, "dl"));
            assertTrue(dirLink.errno() == Errno.EPERM || dirLink.errno() == Errno.EISDIR, "link to a directory: " + dirLink);
            v.unlink(InodeId.ROOT, "f");
            assertEquals(2, v.getattr(f).nlink());
            v.unlink(v.resolve("d"), "l1");
            assertEquals(1, v.getattr(f).nlink());
            assertArrayEquals(both, readFile(v, "l2"));
            // a snapshot and a clone keep the link structure
            engine.snapshot("v", "s");
            engine.cloneVolume("v@s", "c");
            VolumeFs c = engine.volume("c");
            c.link(c.resolve("l2"), InodeId.ROOT, "l3");
            write(c, c.resolve("l3"), 0, new byte[] {42});
            assertEquals(42, readFile(c, "l2")[0]);
            assertEquals(2, c.getattr(c.resolve("l2")).nlink());
            assertEquals(1, v.getattr(f).nlink());
            assertEquals(both[0], readFile(v, "l2")[0]);
        }

        @Test
        void symlinks() {
            VolumeFs v = fs();
            String target = "../some/where/" + "t".repeat(300) + "/é";
            InodeAttr s = v.symlink(InodeId.ROOT, "s", target, 3, 4);
            assertTrue(s.isSymlink());
            assertEquals(target.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, s.size());
            assertEquals(1, s.nlink());
            assertEquals(3, s.uid());
            assertEquals(target, v.readlink(s.ino()));
            assertEquals(new DirEntry("s", s.ino(), FileType.SYMLINK), v.readdir(InodeId.ROOT).get(0));
            assertEquals(s.ino(), v.resolve("s"), "resolve does not follow symlinks");
            InodeId f = file(v, "f", bytes(1, 1));
            refused(ClonefsException.InvalidArgument.class, null, () -> v.readlink(f));
            v.unlink(InodeId.ROOT, "s");
            assertEquals(List.of("f"), names(v, ""));
        }

        @Test
        void specialFilesKeepTypeAndDeviceNumberThroughSnapshotCloneAndReopen() {
            VolumeFs v = fs();
            long rdevC = (1 << 8) | 3; // 1:3, /dev/null in the kernel's encoding
            long rdevB = (8L << 8) | 0x12 | (0x345L << 20); // major 8, a minor above 255
            InodeAttr fifo = v.mknod(InodeId.ROOT, "fifo", FileType.FIFO.bits() | 0640, 77, 3, 4);
            InodeAttr chr = v.mknod(InodeId.ROOT, "chr", FileType.CHAR_DEVICE.bits() | 0666, rdevC, 0, 0);
            InodeAttr blk = v.mknod(InodeId.ROOT, "blk", FileType.BLOCK_DEVICE.bits() | 0660, rdevB, 0, 6);
            InodeAttr sock = v.mknod(InodeId.ROOT, "sock", FileType.SOCKET.bits() | 0755, 0, 3, 4);
            InodeAttr reg = v.mknod(InodeId.ROOT, "reg", 0100600, 0, 3, 4);
            assertEquals(FileType.FIFO, fifo.type());
            assertEquals(0, fifo.rdev(), "a FIFO has no device number");
            assertEquals(0, fifo.size());
            assertEquals(3, fifo.uid());
            assertEquals(rdevC, chr.rdev());
            assertEquals(FileType.BLOCK_DEVICE.bits() | 0660, blk.mode());
            assertEquals(rdevB, blk.rdev());
            assertEquals(0, blk.size());
            assertEquals(FileType.SOCKET, sock.type());
            assertTrue(reg.isRegular());
            assertEquals(new DirEntry("chr", chr.ino(), FileType.CHAR_DEVICE), v.readdir(InodeId.ROOT).get(1));
            refused(ClonefsException.AlreadyExists.class, null,
                    () -> v.mknod(InodeId.ROOT, "fifo", FileType.FIFO.bits() | 0644, 0, 0, 0));
            refused(ClonefsException.InvalidArgument.class, null,
                    () -> v.mknod(InodeId.ROOT, "d", FileType.DIRECTORY.bits() | 0755, 0, 0, 0));
            refused(ClonefsException.InvalidArgument.class, null, () -> v.mknod(InodeId.ROOT, "x", 0070644, 0, 0, 0));
            refused(ClonefsException.InvalidArgument.class, null, () -> v.readlink(chr.ino()));
            // rename, link, chmod, chown, utimens as on any other inode; the type and number stay
            v.rename(InodeId.ROOT, "blk", InodeId.ROOT, "blk2");
            v.link(fifo.ino(), InodeId.ROOT, "fifo2");
            assertEquals(2, v.getattr(fifo.ino()).nlink());
            assertEquals(FileType.BLOCK_DEVICE.bits() | 0600, v.chmod(blk.ino(), 0600).mode());
            assertEquals(rdevB, v.chown(blk.ino(), 9, 10).rdev());
            assertEquals(5_000_000_123L, v.utimens(chr.ino(), 1, 5_000_000_123L).mtimeNs());
            v.rename(InodeId.ROOT, "sock", InodeId.ROOT, "reg"); // replaces the regular file
            engine.snapshot("v", "s");
            engine.cloneVolume("v@s", "c");
            v.unlink(InodeId.ROOT, "fifo");
            assertEquals(1, v.getattr(fifo.ino()).nlink());
            Model.Node before = Trees.load(engine.volume("c"));
            Engine e = reopen();
            for (VolumeFs x : List.of(e.volume("c"), e.snapshotFs("v@s"))) {
                Trees.assertTree(before, x);
                assertEquals(List.of("blk2", "chr", "fifo", "fifo2", "reg"), names(x, ""));
                InodeAttr b = x.getattr(x.resolve("blk2"));
                assertEquals(FileType.BLOCK_DEVICE.bits() | 0600, b.mode());
                assertEquals(rdevB, b.rdev());
                assertEquals(9, b.uid());
                assertEquals(rdevC, x.getattr(x.resolve("chr")).rdev());
                assertEquals(5_000_000_123L, x.getattr(x.resolve("chr")).mtimeNs());
                assertEquals(2, x.getattr(x.resolve("fifo")).nlink());
                assertEquals(FileType.SOCKET, x.getattr(x.resolve("reg")).type());
            }
            assertEquals(List.of("blk2", "chr", "fifo2", "reg"), names(e.volume("v"), ""));
            EngineModelTest.assertClean(e.fsck(), "fsck with special files");
        }

        @Test
        void chmodKeepsTypeBitsAndChownUtimensWork() {
            VolumeFs v = fs();
            InodeId f = file(v, "f", bytes(1, 1));
            InodeId d = v.mkdir(InodeId.ROOT, "d", 0755, 0, 0).ino();
            assertEquals(FileType.REGULAR.bits() | 04711, v.chmod(f, 04711).mode());
            assertEquals(FileType.REGULAR.bits() | 04711, v.getattr(f).mode());
            assertEquals(FileType.DIRECTORY.bits() | 01777, v.chmod(d, 01777).mode());
            // type bits in the argument never change the type
            assertEquals(FileType.DIRECTORY.bits() | 0700, v.chmod(d, FileType.REGULAR.bits() | 0700).mode());
            assertTrue(v.getattr(d).isDirectory());
            v.chmod(InodeId.ROOT, 0700);
            assertEquals(FileType.DIRECTORY.bits() | 0700, v.getattr(InodeId.ROOT).mode());

            InodeAttr o = v.chown(f, 26, 27);
            assertEquals(26, o.uid());
            assertEquals(27, o.gid());
            assertEquals(30, v.chown(f, 30, -1).uid());
            assertEquals(27, v.getattr(f).gid());
            assertEquals(31, v.chown(f, -1, 31).gid());
            assertEquals(30, v.getattr(f).uid());

            long at = 1_600_000_000_123_456_789L;
            long mt = 1_500_000_000_987_654_321L;
            InodeAttr t = v.utimens(f, at, mt);
            assertEquals(at, t.atimeNs());
            assertEquals(mt, t.mtimeNs());
            reopen();
            InodeAttr after = engine.volume("v").getattr(f);
            assertEquals(at, after.atimeNs());
            assertEquals(mt, after.mtimeNs());
            assertEquals(FileType.REGULAR.bits() | 04711, after.mode());
            assertEquals(30, after.uid());
            assertEquals(31, after.gid());
        }

        @Test
        void writeUpdatesMtimeAndSize() {
            VolumeFs v = fs();
            InodeId f = file(v, "f", bytes(10, 1));
            v.utimens(f, 1_000_000_000L, 1_000_000_000L);
            write(v, f, 100, bytes(5, 2));
            InodeAttr a = v.getattr(f);
            assertEquals(105, a.size());
            assertTrue(a.mtimeNs() > 1_000_000_000L, "a write updates mtime");
        }

        @Test
        void truncateGrowReadsZerosAndShrinkThenGrowForgetsTheOldTail() {
            VolumeFs v = fs();
            int bs = 4096;
            byte[] d = bytes(3 * bs + 100, 1);
            InodeId f = file(v, "f", d);
            // grow: a hole that reads as zeros
            assertEquals(5L * bs, v.truncate(f, 5L * bs).size());
            byte[] got = readFile(v, "f");
            assertArrayEquals(d, Arrays.copyOf(got, d.length));
            assertArrayEquals(new byte[5 * bs - d.length], Arrays.copyOfRange(got, d.length, 5 * bs));
            // shrink inside a block, then grow: the old tail must read as zeros
            v.truncate(f, bs + 10);
            assertEquals(bs + 10, v.getattr(f).size());
            v.truncate(f, 4L * bs);
            byte[] expect = new byte[4 * bs];
            System.arraycopy(d, 0, expect, 0, bs + 10);
            assertArrayEquals(expect, readFile(v, "f"));
            // shrink to a block boundary, then extend by writing past the end
            v.truncate(f, bs);
            write(v, f, 3L * bs + 1, new byte[] {5});
            expect = new byte[3 * bs + 2];
            System.arraycopy(d, 0, expect, 0, bs);
            expect[3 * bs + 1] = 5;
            assertArrayEquals(expect, readFile(v, "f"));
            // to zero and back
            v.truncate(f, 0);
            assertEquals(0, v.getattr(f).blocks());
            v.truncate(f, 10);
            assertArrayEquals(new byte[10], readFile(v, "f"));
            refused(ClonefsException.IsDirectory.class, null, () -> v.truncate(InodeId.ROOT, 0));
            refused(ClonefsException.InvalidArgument.class, null, () -> v.truncate(f, -1));
            // shrink in a clone never changes the snapshot's tail
            write(v, f, 0, bytes(2 * bs, 2));
            engine.snapshot("v", "s");
            v.truncate(f, 7);
            v.truncate(f, 2L * bs);
            assertArrayEquals(Arrays.copyOf(Arrays.copyOf(bytes(2 * bs, 2), 7), 2 * bs), readFile(v, "f"));
            assertArrayEquals(bytes(2 * bs, 2), readFile(engine.snapshotFs("v@s"), "f"));
        }

        @Test
        void unalignedReadsAndWritesAcrossBlockBoundaries() {
            VolumeFs v = fs();
            int bs = 4096;
            InodeId f = v.create(InodeId.ROOT, "f", 0644, 0, 0).ino();
            byte[] model = new byte[0];
            long[][] writes = {{bs - 3, 10}, {0, 1}, {2L * bs - 1, bs + 2}, {5, 3 * bs}, {4L * bs + 7, 1}, {bs, bs},
                {3L * bs - 100, 200}, {7, 0}};
            int seed = 10;
            for (long[] w : writes) {
                byte[] data = bytes((int) w[1], seed++);
                write(v, f, w[0], data);
                if (data.length > 0) {
                    model = Arrays.copyOf(model, Math.max(model.length, (int) (w[0] + data.length)));
                    System.arraycopy(data, 0, model, (int) w[0], data.length);
                }
                assertEquals(model.length, v.getattr(f).size());
            }
            assertArrayEquals(model, readFile(v, "f"));
            // reads at odd offsets and lengths, including past EOF
            for (int off : new int[] {0, 1, bs - 1, bs, bs + 1, 2 * bs - 5, model.length - 3, model.length}) {
                for (int len : new int[] {1, 7, bs, bs + 1, 3 * bs}) {
                    byte[] r = read(v, f, off, len);
                    int expectLen = Math.max(0, Math.min(len, model.length - off));
                    assertArrayEquals(Arrays.copyOfRange(model, off, off + expectLen), r, "read " + off + "+" + len);
                }
            }
            assertEquals(0, v.read(f, model.length + 10_000L, ByteBuffer.allocate(10)));
            refused(ClonefsException.IsDirectory.class, null, () -> v.read(InodeId.ROOT, 0, ByteBuffer.allocate(1)));
            refused(ClonefsException.IsDirectory.class, null,
                    () -> v.write(InodeId.ROOT, 0, ByteBuffer.wrap(new byte[1])));
            // a direct and a read-only buffer, with a position
            ByteBuffer src = ByteBuffer.allocateDirect(100);
            src.put(bytes(100, 99)).flip().position(10);
            assertEquals(90, v.write(f, 1, src.asReadOnlyBuffer()));
            ByteBuffer dst = ByteBuffer.allocateDirect(200);
            dst.position(5);
            assertEquals(90, v.read(f, 1, dst.slice().limit(90)));
            byte[] back = new byte[90];
            dst.position(5);
            dst.get(back);
            assertArrayEquals(Arrays.copyOfRange(bytes(100, 99), 10, 100), back);
        }

        @Test
        void aZeroLengthWriteChangesNothing() {
            VolumeFs v = fs();
            InodeId f = file(v, "f", bytes(100, 1));
            // POSIX write(2): a zero-length write changes nothing, not even past EOF
            assertEquals(0, v.write(f, 10_000L, ByteBuffer.allocate(0)));
            assertEquals(100, v.getattr(f).size(), "a zero-length write past EOF must not grow the file");
            assertArrayEquals(bytes(100, 1), readFile(v, "f"));
        }

        @Test
        void sparseFilesStoreOnlyWrittenBlocks() {
            VolumeFs v = fs();
            int bs = 4096;
            InodeId f = v.create(InodeId.ROOT, "sparse", 0644, 0, 0).ino();
            long far = 1000L * bs + 123;
            write(v, f, far, bytes(10, 1));
            write(v, f, 3, bytes(2, 2));
            InodeAttr a = v.getattr(f);
            assertEquals(far + 10, a.size());
            assertEquals(2, a.blocks(), "only the two written blocks are stored");
            assertArrayEquals(new byte[bs], read(v, f, 10L * bs, bs));
            assertArrayEquals(bytes(10, 1), read(v, f, far, 100));
            byte[] head = read(v, f, 0, 8);
            assertArrayEquals(new byte[] {0, 0, 0, bytes(2, 2)[0], bytes(2, 2)[1], 0, 0, 0}, head);
            // a hole in a large file beyond 4 GiB
            long huge = 5L << 30;
            write(v, f, huge, bytes(3, 3));
            assertEquals(huge + 3, v.getattr(f).size());
            assertArrayEquals(bytes(3, 3), read(v, f, huge, 3));
            assertArrayEquals(new byte[16], read(v, f, huge - 16, 16));
            assertEquals(3, v.getattr(f).blocks());
        }

        @Test
        void anUnlinkedFileKeepsItsDataUntilReleased() {
            VolumeFs v = fs();
            byte[] d = bytes(3 * 4096, 1);
            InodeId f = file(v, "f", d);
            v.open(f);
            v.unlink(InodeId.ROOT, "f");
            assertEquals(List.of(), v.readdir(InodeId.ROOT));
            refused(ClonefsException.NotFound.class, null, () -> v.lookup(InodeId.ROOT, "f"));
            assertEquals(0, v.getattr(f).nlink());
            assertArrayEquals(d, Trees.readAll(v, f, d.length));
            write(v, f, 0, new byte[] {1, 2, 3});
            assertEquals(1, read(v, f, 0, 1)[0]);
            file(v, "f", bytes(5, 2)); // the name can be reused meanwhile
            assertArrayEquals(bytes(5, 2), readFile(v, "f"));
            v.release(f);
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(f));
            assertTrue(engine.awaitReclaim(Duration.ofSeconds(30)));
            assertEquals(1, engine.space().blocksInUse(), "the unlinked file's blocks are freed on release");
        }

        @Test
        void aFileOpenTwiceLivesUntilTheLastRelease() {
            VolumeFs v = fs();
            InodeId f = file(v, "f", bytes(10, 1));
            v.open(f);
            v.open(f);
            v.unlink(InodeId.ROOT, "f");
            v.release(f);
            assertArrayEquals(bytes(10, 1), Trees.readAll(v, f, 10));
            v.release(f);
            refused(ClonefsException.NotFound.class, null, () -> v.getattr(f));
        }

        @Test
        void fsyncMakesDataDurable() {
            pool(4096);
            engine.close();
            engine = Engine.open(poolDir, EngineOptions.defaults().withCommitIntervalMillis(0));
            engine.createVolume("v");
            VolumeFs v = engine.volume("v");
            InodeId f = file(v, "f", bytes(5000, 1));
            v.fsync(f, false);
            v.fsync(f, true);
            v.fsync(InodeId.ROOT, false);
            engine.sync();
            reopen();
            assertArrayEquals(bytes(5000, 1), readFile(engine.volume("v"), "f"));
        }
    }

    // ------------------------------------------------------------------ space accounting

    @Nested
    class Space {
        @Test
        void aFreshCloneCostsAlmostNothingAndGrowsAsItIsWritten() {
            Engine e = pool();
            e.createVolume("big");
            VolumeFs v = e.volume("big");
            for (int i = 0; i < 8; i++) {
                file(v, "f" + i, bytes(64 * BS, i)); // 4 MiB in all
            }
            e.sync();
            SpaceInfo before = e.space();
            assertEquals(BS, before.blockSize());
            assertEquals(8 * 64, before.blocksInUse());
            assertEquals(8L * 64 * BS, e.space("big").referencedBytes());
            assertEquals(8L * 64 * BS, e.space("big").uniqueBytes());

            e.snapshot("big", "s");
            e.cloneVolume("big@s", "c");
            e.sync();
            SpaceInfo after = e.space();
            assertEquals(before.blocksInUse(), after.blocksInUse(), "a clone shares every block");
            assertTrue(after.usedBytes() - before.usedBytes() < 1 << 20,
                    "a fresh clone added " + (after.usedBytes() - before.usedBytes()) + " bytes");
            VolumeSpace cs = e.space("c");
            assertEquals("c", cs.name());
            assertEquals(8L * 64 * BS, cs.referencedBytes());
            assertEquals(0, cs.uniqueBytes());
            assertEquals(0, e.space("big").uniqueBytes(), "its blocks are shared with the snapshot now");
            assertEquals(8L * 64 * BS, e.volumeInfo("c").referencedBytes());

            VolumeFs c = e.volume("c");
            write(c, c.resolve("f0"), 0, bytes(10 * BS, 100));
            assertEquals(10L * BS, e.space("c").uniqueBytes());
            write(c, c.resolve("f1"), 5, bytes(1, 101)); // one partial block
            assertEquals(11L * BS, e.space("c").uniqueBytes());
            write(c, c.resolve("f1"), 6, bytes(1, 102)); // the same block again: already owned
            assertEquals(11L * BS, e.space("c").uniqueBytes());
            file(c, "new", bytes(3 * BS, 103));
            assertEquals(14L * BS, e.space("c").uniqueBytes());
            assertEquals(8L * 64 * BS + 3L * BS, e.space("c").referencedBytes());
            assertEquals(before.blocksInUse() + 14, e.space().blocksInUse());
            assertEquals(0, e.space("big@s").uniqueBytes(), "the snapshot still shares every block with big");
            write(v, v.resolve("f0"), 0, bytes(BS, 104)); // now block 0 of f0 is the snapshot's alone
            assertEquals((long) BS, e.space("big@s").uniqueBytes());
            assertEquals((long) BS, e.space("big").uniqueBytes());
        }

        @Test
        void destroyedBlocksAreReclaimed() {
            Engine e = pool();
            e.createVolume("keep");
            file(e.volume("keep"), "k", bytes(4 * BS, 1));
            e.sync();
            long baseline = e.space().blocksInUse();
            assertEquals(4, baseline);

            e.createVolume("tmp");
            for (int i = 0; i < 4; i++) {
                file(e.volume("tmp"), "f" + i, bytes(32 * BS, 10 + i));
            }
            e.snapshot("tmp", "s");
            e.cloneVolume("tmp@s", "c");
            write(e.volume("c"), e.volume("c").resolve("f0"), 0, bytes(8 * BS, 99));
            e.sync();
            assertEquals(baseline + 4 * 32 + 8, e.space().blocksInUse());
            assertEquals(8L * BS, e.space("c").uniqueBytes());
            e.destroy("tmp", true);
            assertTrue(e.awaitReclaim(Duration.ofSeconds(60)), "reclaim did not finish");
            assertEquals(baseline, e.space().blocksInUse());
            assertEquals(0, e.space().reclaimBacklog());
            assertTrue(e.space().blocksFree() >= 4 * 32 + 8, "freed blocks are reusable: " + e.space());
            assertArrayEquals(bytes(4 * BS, 1), readFile(e.volume("keep"), "k"));
            // freed blocks are reused rather than growing the store
            e.createVolume("again");
            file(e.volume("again"), "f", bytes(16 * BS, 5));
            e.sync();
            assertEquals(baseline + 16, e.space().blocksInUse());
            reopen();
            assertEquals(baseline + 16, engine.space().blocksInUse());
            assertArrayEquals(bytes(16 * BS, 5), readFile(engine.volume("again"), "f"));
        }
    }
}
