package io.clonefs.fuse.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.base.Errno;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The adapter called directly, without a kernel, against a real pool: the syscall sequences
 * PostgreSQL, initdb and the copy tools issue, as libfuse 2 turns them into callbacks.
 */
class FuseAdapterTest {
    private static final Runtime RT = Runtime.getSystemRuntime();
    private static final long ROOT_INO = 4_242_424L;
    private static final int UID = 1001;
    private static final int GID = 1002;
    private static final int O_RDWR = 2;
    private static final int O_WRONLY = 1;

    @TempDir
    Path pool;
    Engine engine;
    ClonefsFuse fuse;

    @BeforeEach
    void setUp() {
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        engine = Engine.open(pool, EngineOptions.defaults());
        engine.createVolume("vol");
        fuse = new ClonefsFuse(engine, ROOT_INO);
        fuse.setFixedCaller(new ClonefsFuse.Caller(UID, GID));
    }

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    // ---- PostgreSQL sequences ---------------------------------------------------------------

    /** ALTER SYSTEM: write postgresql.auto.conf.tmp, fsync, rename over postgresql.auto.conf. */
    @Test
    void writeFsyncRenameOverExistingFile() {
        long old = create("/vol/postgresql.auto.conf", 0600);
        write(old, 0, "old settings\n");
        assertEquals(0, fuse.release("/vol/postgresql.auto.conf", fi(old)));

        long tmp = create("/vol/postgresql.auto.conf.tmp", 0600);
        write(tmp, 0, "work_mem = '64MB'\n");
        assertEquals(0, fuse.fsync("/vol/postgresql.auto.conf.tmp", 0, fi(tmp)));
        assertEquals(0, fuse.release("/vol/postgresql.auto.conf.tmp", fi(tmp)));
        assertEquals(0, fuse.rename("/vol/postgresql.auto.conf.tmp", "/vol/postgresql.auto.conf"));
        assertEquals(0, fuse.fsyncdir("/vol", fi(0)));

        assertEquals(List.of(".", "..", "postgresql.auto.conf"), readdir("/vol"));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/vol/postgresql.auto.conf.tmp", stat()));
        assertEquals("work_mem = '64MB'\n", readWhole("/vol/postgresql.auto.conf"));
        FileStat st = stat();
        assertEquals(0, fuse.getattr("/vol/postgresql.auto.conf", st));
        assertEquals(0100600, st.st_mode.intValue());
        assertEquals(UID, st.st_uid.intValue());
        assertEquals(GID, st.st_gid.intValue());
        assertEquals(18, st.st_size.longValue());
    }

    /** A backend keeps a relation file open while another unlinks it (DROP TABLE, WAL recycling). */
    @Test
    void unlinkWhileOpenKeepsDataUntilRelease() {
        long fh = create("/vol/16384", 0600);
        byte[] page = page(7);
        writeBytes(fh, 0, page);
        long reader = open("/vol/16384", O_RDWR);
        assertEquals(0, fuse.release("/vol/16384", fi(fh)));

        assertEquals(0, fuse.unlink("/vol/16384"));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/vol/16384", stat()));
        assertEquals(List.of(".", ".."), readdir("/vol"));

        // With hard_remove and flag_nullpath_ok, libfuse passes a null path after the unlink.
        assertArrayEquals(page, readBytes(reader, 0, page.length));
        FileStat st = stat();
        assertEquals(0, fuse.fgetattr(null, st, fi(reader)));
        assertEquals(0, st.st_nlink.intValue());
        assertEquals(page.length, st.st_size.longValue());
        writeBytes(reader, page.length, page);
        assertEquals(0, fuse.fsync(null, 1, fi(reader)));
        assertArrayEquals(page, readBytes(reader, page.length, page.length));

        // A new file of the same name is a different file.
        long fresh = create("/vol/16384", 0600);
        assertArrayEquals(new byte[0], readBytes(fresh, 0, 100));
        assertEquals(0, fuse.release("/vol/16384", fi(fresh)));
        assertEquals(0, fuse.release(null, fi(reader)));
        assertEquals(0, fuse.openHandles());
        assertEquals(-Errno.EBADF.value(), fuse.read(null, Memory.allocateDirect(RT, 10), 10, 0, fi(reader)));
    }

    /** Relation truncation (VACUUM) and WAL segment pre-sizing go through ftruncate. */
    @Test
    void ftruncateShrinksAndGrowsWithZeros() {
        long fh = create("/vol/16385", 0600);
        writeBytes(fh, 0, page(1));
        writeBytes(fh, 8192, page(2));
        writeBytes(fh, 16384, page(3));
        assertEquals(0, fuse.ftruncate(null, 8200, fi(fh)));
        FileStat st = stat();
        assertEquals(0, fuse.fgetattr("/vol/16385", st, fi(fh)));
        assertEquals(8200, st.st_size.longValue());
        byte[] got = readBytes(fh, 0, 3 * 8192);
        assertEquals(8200, got.length);
        assertArrayEquals(Arrays.copyOfRange(page(2), 0, 8), Arrays.copyOfRange(got, 8192, 8200));

        assertEquals(0, fuse.ftruncate(null, 40000, fi(fh)));
        got = readBytes(fh, 0, 40000);
        assertEquals(40000, got.length);
        for (int i = 8200; i < 40000; i++) {
            assertEquals(0, got[i], "byte " + i + " after growing must be zero");
        }
        // truncate by path (open(O_TRUNC) without a handle, truncate(1))
        assertEquals(0, fuse.truncate("/vol/16385", 0));
        assertEquals(0, fuse.getattr("/vol/16385", st));
        assertEquals(0, st.st_size.longValue());
        assertEquals(0, fuse.release("/vol/16385", fi(fh)));
    }

    /** initdb: mkdir base/1 etc. with mode 0700, fsync the directory, rmdir rules. */
    @Test
    void mkdirFsyncdirRmdir() {
        assertEquals(0, fuse.mkdir("/vol/pgdata", 0700));
        assertEquals(0, fuse.mkdir("/vol/pgdata/pg_wal", 0700));
        FileStat st = stat();
        assertEquals(0, fuse.getattr("/vol/pgdata/pg_wal", st));
        assertEquals(040700, st.st_mode.intValue());
        assertEquals(UID, st.st_uid.intValue());
        assertEquals(GID, st.st_gid.intValue());
        assertEquals(-Errno.EEXIST.value(), fuse.mkdir("/vol/pgdata/pg_wal", 0700));
        long fh = create("/vol/pgdata/pg_wal/000000010000000000000001", 0600);
        assertEquals(0, fuse.release(null, fi(fh)));
        assertEquals(0, fuse.fsyncdir("/vol/pgdata/pg_wal", fi(0)));
        assertEquals(0, fuse.fsyncdir("/vol/pgdata", fi(0)));
        assertEquals(-Errno.ENOTEMPTY.value(), fuse.rmdir("/vol/pgdata/pg_wal"));
        assertEquals(-Errno.ENOTDIR.value(), fuse.rmdir("/vol/pgdata/pg_wal/000000010000000000000001"));
        assertEquals(0, fuse.unlink("/vol/pgdata/pg_wal/000000010000000000000001"));
        assertEquals(0, fuse.rmdir("/vol/pgdata/pg_wal"));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/vol/pgdata/pg_wal", st));
        assertEquals(-Errno.ENOENT.value(), fuse.mkdir("/vol/nosuch/dir", 0700));
    }

    /** Large writes arrive as 128 KiB chunks; reads past EOF are short. */
    @Test
    void bigWritesAndShortReadAtEof() {
        long fh = create("/vol/big", 0644);
        byte[] data = new byte[131072 * 3 + 1234];
        ThreadLocalRandom.current().nextBytes(data);
        for (int off = 0; off < data.length; off += 131072) {
            writeBytes(fh, off, Arrays.copyOfRange(data, off, Math.min(data.length, off + 131072)));
        }
        byte[] got = new byte[0];
        for (int off = 0; ; off += 131072) {
            byte[] chunk = readBytes(fh, off, 131072);
            got = concat(got, chunk);
            if (chunk.length < 131072) {
                break;
            }
        }
        assertArrayEquals(data, got);
        assertEquals(0, readBytes(fh, data.length + 10, 100).length);
        assertEquals(0, fuse.release(null, fi(fh)));
    }

    // ---- layout, snapshots, errors ----------------------------------------------------------

    @Test
    void syntheticRootAndSnapshotsDirectory() {
        FileStat st = stat();
        assertEquals(0, fuse.getattr("/", st));
        assertEquals(ROOT_INO, st.st_ino.longValue());
        assertEquals(040755, st.st_mode.intValue());
        assertEquals(0, st.st_uid.intValue());
        assertEquals(0, fuse.getattr("/.snapshots", st));
        assertEquals(040755, st.st_mode.intValue());
        engine.createVolume("other");
        assertEquals(List.of(".", "..", ".snapshots", "other", "vol"), sorted(readdir("/")));
        assertEquals(List.of(".", ".."), readdir("/.snapshots"));

        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/nosuch", st));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/.Trash-0", st));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/.snapshots/nosuch", st));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/.snapshots/vol@nosuch", st));
        assertEquals(-Errno.EPERM.value(), fuse.mkdir("/newvol", 0755));
        assertEquals(-Errno.EPERM.value(), fuse.mkdir("/.snapshots/vol@x", 0755));
        assertEquals(-Errno.EPERM.value(), fuse.create("/file", 0644, fi(0)));
        assertEquals(-Errno.EPERM.value(), fuse.rmdir("/vol"));
        assertEquals(-Errno.EPERM.value(), fuse.rename("/vol", "/vol2"));
        assertEquals(-Errno.EPERM.value(), fuse.chmod("/", 0777));
        assertEquals(-Errno.EPERM.value(), fuse.symlink("vol", "/link"));
        assertEquals(0, fuse.fsyncdir("/", fi(0)));

        // Inode numbers are unique across datasets: both volume roots are engine inode 1.
        FileStat a = stat();
        FileStat b = stat();
        assertEquals(0, fuse.getattr("/vol", a));
        assertEquals(0, fuse.getattr("/other", b));
        assertNotEquals(a.st_ino.longValue(), b.st_ino.longValue());
        assertEquals(040755, a.st_mode.intValue());
    }

    @Test
    void snapshotIsReadOnlyAndFrozen() {
        long fh = create("/vol/PG_VERSION", 0600);
        write(fh, 0, "15\n");
        assertEquals(0, fuse.release(null, fi(fh)));
        engine.snapshot("vol", "s1");
        assertEquals(List.of(".", "..", "vol@s1"), readdir("/.snapshots"));

        fh = open("/vol/PG_VERSION", O_WRONLY);
        write(fh, 0, "16\n");
        assertEquals(0, fuse.release(null, fi(fh)));

        assertEquals("15\n", readWhole("/.snapshots/vol@s1/PG_VERSION"));
        assertEquals("16\n", readWhole("/vol/PG_VERSION"));
        int erofs = -Errno.EROFS.value();
        FuseFileInfo wr = newFi();
        wr.flags.set(O_RDWR);
        assertEquals(erofs, fuse.open("/.snapshots/vol@s1/PG_VERSION", wr));
        assertEquals(erofs, fuse.create("/.snapshots/vol@s1/new", 0600, newFi()));
        assertEquals(erofs, fuse.mkdir("/.snapshots/vol@s1/dir", 0700));
        assertEquals(erofs, fuse.unlink("/.snapshots/vol@s1/PG_VERSION"));
        assertEquals(erofs, fuse.truncate("/.snapshots/vol@s1/PG_VERSION", 0));
        assertEquals(erofs, fuse.chmod("/.snapshots/vol@s1/PG_VERSION", 0777));
        assertEquals(-Errno.EXDEV.value(), fuse.rename("/.snapshots/vol@s1/PG_VERSION", "/vol/x"));

        // same engine inode in the snapshot and in the volume, different st_ino
        FileStat a = stat();
        FileStat b = stat();
        assertEquals(0, fuse.getattr("/vol/PG_VERSION", a));
        assertEquals(0, fuse.getattr("/.snapshots/vol@s1/PG_VERSION", b));
        assertNotEquals(a.st_ino.longValue(), b.st_ino.longValue());
    }

    @Test
    void crossVolumeRenameAndLinkAreExdev() {
        engine.createVolume("other");
        long fh = create("/vol/a", 0600);
        assertEquals(0, fuse.release(null, fi(fh)));
        assertEquals(-Errno.EXDEV.value(), fuse.rename("/vol/a", "/other/a"));
        assertEquals(-Errno.EXDEV.value(), fuse.link("/vol/a", "/other/a"));
        assertEquals(0, fuse.getattr("/vol/a", stat()));
    }

    @Test
    void linksSymlinksAndAttributes() {
        long fh = create("/vol/f", 0640);
        write(fh, 0, "hello");
        assertEquals(0, fuse.release(null, fi(fh)));

        assertEquals(0, fuse.link("/vol/f", "/vol/g"));
        FileStat f = stat();
        FileStat g = stat();
        assertEquals(0, fuse.getattr("/vol/f", f));
        assertEquals(0, fuse.getattr("/vol/g", g));
        assertEquals(2, f.st_nlink.intValue());
        assertEquals(f.st_ino.longValue(), g.st_ino.longValue());

        assertEquals(0, fuse.symlink("f", "/vol/s"));
        FileStat s = stat();
        assertEquals(0, fuse.getattr("/vol/s", s));
        assertEquals(0120000, s.st_mode.intValue() & 0170000);
        assertEquals(UID, s.st_uid.intValue());
        Pointer buf = Memory.allocateDirect(RT, 64);
        assertEquals(0, fuse.readlink("/vol/s", buf, 64));
        assertEquals("f", buf.getString(0));
        assertEquals(0, fuse.readlink("/vol/s", buf, 1)); // truncated to fit, still terminated
        assertEquals("", buf.getString(0));
        assertEquals(-Errno.EINVAL.value(), fuse.readlink("/vol/f", buf, 64));

        assertEquals(0, fuse.chmod("/vol/f", 0100600));
        assertEquals(0, fuse.chown("/vol/f", 0xffffffffL, 77));
        assertEquals(0, fuse.getattr("/vol/f", f));
        assertEquals(0100600, f.st_mode.intValue());
        assertEquals(UID, f.st_uid.intValue());
        assertEquals(77, f.st_gid.intValue());

        long mtime = f.st_mtim.tv_sec.get();
        assertEquals(0, fuse.utimens("/vol/f", times(1_000_000_000L, 5, 0, ClonefsFuse.UTIME_OMIT)));
        assertEquals(0, fuse.getattr("/vol/f", f));
        assertEquals(1_000_000_000L, f.st_atim.tv_sec.get());
        assertEquals(5, f.st_atim.tv_nsec.longValue());
        assertEquals(mtime, f.st_mtim.tv_sec.get());
        assertEquals(0, fuse.utimens("/vol/f", times(0, ClonefsFuse.UTIME_OMIT, 0, ClonefsFuse.UTIME_NOW)));
        assertEquals(0, fuse.getattr("/vol/f", f));
        assertEquals(1_000_000_000L, f.st_atim.tv_sec.get());
        long now = System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(f.st_mtim.tv_sec.get() - now) < 5, "UTIME_NOW sets the current time");
        assertEquals(0, fuse.utimens("/vol/f", times(10, 0, 20, 0)));
        assertEquals(0, fuse.getattr("/vol/f", f));
        assertEquals(10, f.st_atim.tv_sec.get());
        assertEquals(20, f.st_mtim.tv_sec.get());
    }

    @Test
    void mknodMakesFifosDevicesAndSocketsWithTheirNumber() {
        int blk = (8 << 8) | 0x12 | (0x345 << 20); // the kernel's 32-bit encoding, minor above 255
        assertEquals(0, fuse.mknod("/vol/fifo", 0010640, 0));
        assertEquals(0, fuse.mknod("/vol/blk", 0060660, blk & 0xffffffffL));
        assertEquals(0, fuse.mknod("/vol/null", 0020666, (1 << 8) | 3));
        assertEquals(0, fuse.mknod("/vol/sock", 0140755, 0));
        assertEquals(0, fuse.mknod("/vol/reg", 0100600, 0));
        assertEquals(-Errno.EEXIST.value(), fuse.mknod("/vol/fifo", 0010640, 0));
        assertEquals(-Errno.ENOENT.value(), fuse.mknod("/vol/nodir/x", 0010640, 0));
        FileStat st = stat();
        assertEquals(0, fuse.getattr("/vol/fifo", st));
        assertEquals(0010640, st.st_mode.intValue());
        assertEquals(UID, st.st_uid.intValue());
        assertEquals(0, st.st_rdev.longValue());
        assertEquals(0, fuse.getattr("/vol/blk", st));
        assertEquals(0060660, st.st_mode.intValue());
        assertEquals(blk & 0xffffffffL, st.st_rdev.longValue());
        assertEquals(0, st.st_size.longValue());
        assertEquals(0, fuse.getattr("/vol/null", st));
        assertEquals((1 << 8) | 3, st.st_rdev.longValue());
        assertEquals(0, fuse.getattr("/vol/sock", st));
        assertEquals(0140755, st.st_mode.intValue());
        assertEquals(0, fuse.getattr("/vol/reg", st));
        assertEquals(0100600, st.st_mode.intValue());
        // a snapshot is read-only
        engine.snapshot("vol", "s");
        assertEquals(-Errno.EROFS.value(), fuse.mknod("/.snapshots/vol@s/f2", 0010644, 0));
        assertEquals(0, fuse.getattr("/.snapshots/vol@s/blk", st));
        assertEquals(blk & 0xffffffffL, st.st_rdev.longValue());
    }

    @Test
    void statfsReportsPoolSpace() {
        long fh = create("/vol/data", 0600);
        writeBytes(fh, 0, new byte[1 << 20]);
        assertEquals(0, fuse.release(null, fi(fh)));
        Statvfs st = Statvfs.of(Memory.allocateDirect(RT, Struct.size(new Statvfs(RT))));
        assertEquals(0, fuse.statfs("/", st));
        long bs = st.f_bsize.longValue();
        assertEquals(engine.blockSize(), bs);
        assertEquals(bs, st.f_frsize.longValue());
        assertTrue(st.f_blocks.longValue() > 0);
        assertTrue(st.f_bfree.longValue() <= st.f_blocks.longValue());
        // the pool's disk is shared with other processes: allow for what they write meanwhile
        assertEquals(engine.space().freeBytes() / bs, st.f_bavail.longValue(), (double) (256 << 20) / bs);
        assertEquals(255, st.f_namemax.longValue());
    }

    @Test
    void destroyedVolumeDisappears() {
        engine.createVolume("tmpvol");
        assertEquals(0, fuse.getattr("/tmpvol", stat()));
        engine.destroy("tmpvol", true);
        assertEquals(List.of(".", "..", ".snapshots", "vol"), sorted(readdir("/")));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/tmpvol", stat()));
    }

    /** rename(2) rules initdb, pg_rewind and the copy tools rely on. */
    @Test
    void renameFollowsPosixRules() {
        assertEquals(0, fuse.mkdir("/vol/a", 0755));
        assertEquals(0, fuse.mkdir("/vol/a/sub", 0755));
        assertEquals(0, fuse.mkdir("/vol/empty", 0755));
        assertEquals(0, fuse.mkdir("/vol/full", 0755));
        long fh = create("/vol/full/x", 0644);
        assertEquals(0, fuse.release(null, fi(fh)));
        fh = create("/vol/file", 0644);
        write(fh, 0, "file");
        assertEquals(0, fuse.release(null, fi(fh)));

        assertEquals(-Errno.EINVAL.value(), fuse.rename("/vol/a", "/vol/a/sub/inside"));
        assertEquals(-Errno.ENOTEMPTY.value(), fuse.rename("/vol/a", "/vol/full"));
        assertEquals(-Errno.EISDIR.value(), fuse.rename("/vol/file", "/vol/empty"));
        assertEquals(-Errno.ENOTDIR.value(), fuse.rename("/vol/empty", "/vol/file"));
        assertEquals(-Errno.ENOENT.value(), fuse.rename("/vol/nosuch", "/vol/other"));
        assertEquals(0, fuse.rename("/vol/a", "/vol/empty")); // directory over empty directory
        assertEquals(0, fuse.getattr("/vol/empty/sub", stat()));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/vol/a", stat()));
        assertEquals(0, fuse.rename("/vol/file", "/vol/empty/sub/file")); // across directories
        assertEquals("file", readWhole("/vol/empty/sub/file"));
        assertEquals(0, fuse.rename("/vol/empty/sub/file", "/vol/empty/sub/file")); // same name: no-op
        assertEquals("file", readWhole("/vol/empty/sub/file"));
        assertEquals(-Errno.EPERM.value(), fuse.link("/vol/empty", "/vol/dirlink"));
    }

    /** "Refresh the dev clone": destroy it and clone again under the same name. */
    @Test
    void recreatedVolumeMakesTheKernelDropItsCaches() {
        engine.createVolume("dev");
        long fh = create("/dev/old", 0644);
        assertEquals(0, fuse.release(null, fi(fh)));
        assertEquals(0, fuse.getattr("/dev", stat()));
        engine.destroy("dev", true);
        engine.createVolume("dev");
        // the first revalidation of the name fails, so the kernel drops the old dentries...
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/dev", stat()));
        // ...and the fresh lookup serves the new volume
        assertEquals(0, fuse.getattr("/dev", stat()));
        assertEquals(0, fuse.getattr("/dev", stat()));
        assertEquals(List.of(".", ".."), readdir("/dev"));
        assertEquals(-Errno.ENOENT.value(), fuse.getattr("/dev/old", stat()));
    }

    // ---- the error wrapper and native layout ------------------------------------------------

    @Test
    void callMapsExceptionsToErrno() {
        assertEquals(-Errno.ENOENT.value(), FuseCalls.call("t", "/x", () -> {
            throw new ClonefsException.NotFound("x");
        }));
        assertEquals(-Errno.ENOSPC.value(), FuseCalls.call("t", "/x", () -> {
            throw new ClonefsException.NoSpace("full", null);
        }));
        assertEquals(-Errno.EIO.value(), FuseCalls.call("t", "/x", () -> {
            throw new IllegalStateException("bug");
        }));
        assertEquals(-Errno.EIO.value(), FuseCalls.call("t", "/x", () -> {
            throw new StackOverflowError();
        }));
        assertEquals(42, FuseCalls.call("t", "/x", () -> 42));
    }

    @Test
    void operationFlagsSitWhereLibfuseReadsThem() {
        // struct fuse_operations (libfuse 2.9, x86_64): 38 function pointers, then the flag bits.
        assertEquals(38 * 8, fuse.operationFlagsOffset());
        assertEquals(0b101, fuse.operationFlags() & 0b111);
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static FileStat stat() {
        return FileStat.of(Memory.allocateDirect(RT, Struct.size(new FileStat(RT)), true));
    }

    private static FuseFileInfo newFi() {
        return FuseFileInfo.of(Memory.allocateDirect(RT, 64, true));
    }

    private static FuseFileInfo fi(long fh) {
        FuseFileInfo fi = newFi();
        fi.fh.set(fh);
        return fi;
    }

    private long create(String path, int mode) {
        FuseFileInfo fi = newFi();
        fi.flags.set(0101 | O_RDWR);
        assertEquals(0, fuse.create(path, 0100000 | mode, fi), "create " + path);
        return fi.fh.get();
    }

    private long open(String path, int flags) {
        FuseFileInfo fi = newFi();
        fi.flags.set(flags);
        assertEquals(0, fuse.open(path, fi), "open " + path);
        return fi.fh.get();
    }

    private void write(long fh, long off, String s) {
        writeBytes(fh, off, s.getBytes(StandardCharsets.UTF_8));
    }

    private void writeBytes(long fh, long off, byte[] data) {
        Pointer p = Memory.allocateDirect(RT, data.length);
        p.put(0, data, 0, data.length);
        assertEquals(data.length, fuse.write(null, p, data.length, off, fi(fh)));
    }

    private byte[] readBytes(long fh, long off, int len) {
        Pointer p = Memory.allocateDirect(RT, Math.max(1, len));
        int n = fuse.read(null, p, len, off, fi(fh));
        assertTrue(n >= 0, "read failed: " + n);
        byte[] b = new byte[n];
        p.get(0, b, 0, n);
        return b;
    }

    private String readWhole(String path) {
        long fh = open(path, 0);
        byte[] b = readBytes(fh, 0, 1 << 16);
        assertEquals(0, fuse.release(path, fi(fh)));
        return new String(b, StandardCharsets.UTF_8);
    }

    private List<String> readdir(String path) {
        List<String> names = new ArrayList<>();
        FuseFillDir filler = (buf, name, stbuf, off) -> {
            byte[] b = new byte[name.remaining()];
            name.get(b);
            int len = b.length > 0 && b[b.length - 1] == 0 ? b.length - 1 : b.length;
            names.add(new String(b, 0, len, StandardCharsets.UTF_8));
            return 0;
        };
        assertEquals(0, fuse.readdir(path, null, filler, 0, fi(0)), "readdir " + path);
        return names;
    }

    private static Timespec[] times(long asec, long ansec, long msec, long mnsec) {
        Pointer p = Memory.allocateDirect(RT, 32, true);
        Timespec a = Timespec.of(p);
        Timespec m = Timespec.of(p.slice(16));
        a.tv_sec.set(asec);
        a.tv_nsec.set(ansec);
        m.tv_sec.set(msec);
        m.tv_nsec.set(mnsec);
        return new Timespec[] {a, m};
    }

    private static byte[] page(int seed) {
        byte[] b = new byte[8192];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (seed * 31 + i);
        }
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteBuffer r = ByteBuffer.allocate(a.length + b.length);
        return r.put(a).put(b).array();
    }

    private static List<String> sorted(List<String> l) {
        List<String> c = new ArrayList<>(l);
        c.sort(null);
        return c;
    }
}
