package io.clonefs.fuse;

import com.kenai.jffi.MemoryIO;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.base.Errno;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.DirEntry;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.engine.VolumeFs;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The FUSE callbacks. Each one parses its arguments, resolves the path ({@link Namespace}) or
 * the open handle ({@link HandleTable}), calls one {@link VolumeFs} method and fills the native
 * structure, all inside {@link FuseCalls#call}. Only the operations overridden here are
 * registered with libfuse (jnr-fuse skips the {@code @NotImplemented} stubs), so libfuse answers
 * {@code ENOSYS} for the rest, e.g. {@code fallocate} (the kernel then reports
 * {@code EOPNOTSUPP} and glibc's {@code posix_fallocate} falls back to writing zeros), xattrs,
 * locks (the kernel keeps POSIX and flock locks locally) and {@code access} (the mount uses
 * {@code default_permissions}).
 *
 * <p>Thread-safe: called concurrently by libfuse's worker threads; no lock of its own.
 */
class ClonefsFuse extends FuseStubFS {
    static final int O_ACCMODE = 03;
    static final int O_RDONLY = 0;
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int SYNTHETIC_DIR_MODE = 0040755;
    private static final int PERMISSIONS = 07777;

    /** Who issued the current request: the uid and gid new files and directories get. */
    record Caller(int uid, int gid) {
    }

    private final Namespace ns;
    private final HandleTable handles = new HandleTable();
    private final NodeIds nodeIds = new NodeIds();
    private final long createdNs;
    private final int blockSize;
    private volatile Caller fixedCaller;

    ClonefsFuse(Engine engine, long rootIno) {
        this.ns = new Namespace(engine, rootIno);
        this.blockSize = engine.blockSize();
        this.createdNs = System.currentTimeMillis() * 1_000_000L;
        setOperationFlags();
    }

    /** For tests that call the adapter without libfuse: every request then comes from {@code caller}. */
    void setFixedCaller(Caller caller) {
        this.fixedCaller = caller;
    }

    /**
     * Whether the kernel keeps file times (the writeback cache was granted at INIT): it then sets
     * mtime and ctime on every write itself and sends them as SETATTRs, so writes leave the
     * engine's times alone ({@link io.clonefs.engine.VolumeFs#writeKeepingTimes}).
     */
    private volatile boolean kernelKeepsTimes;

    void kernelKeepsTimes(boolean on) {
        kernelKeepsTimes = on;
    }

    int openHandles() {
        return handles.size();
    }

    /**
     * Mounts and serves requests until the filesystem is unmounted, blocking the calling thread:
     * libfuse's calls on long-lived Java threads ({@link FuseLoop}), or with
     * {@code -Dclonefs.fuse.mainLoop=true} libfuse's own {@code fuse_main} loop.
     */
    int runLoop(String[] args, FuseLoop.Tuning tuning) {
        if (Boolean.getBoolean("clonefs.fuse.mainLoop") && !tuning.writebackCache()) {
            return libFuse.fuse_main_real(args.length, args, fuseOperations, Struct.size(fuseOperations), null);
        }
        return FuseLoop.run(args, Struct.getMemory(fuseOperations), Struct.size(fuseOperations),
                Thread.currentThread().getName(), tuning, this);
    }

    @Override
    protected String getFSName() {
        return "clonefs";
    }

    // ---- attributes -------------------------------------------------------------------------

    @Override
    public int getattr(String path, FileStat stat) {
        return FuseCalls.call("getattr", path, () -> {
            Namespace.Node n = ns.refresh(ns.node(path), path);
            if (n.kind() != Namespace.Kind.INODE) {
                fillSynthetic(n.kind() == Namespace.Kind.ROOT ? ns.rootIno() : Namespace.SNAPSHOTS_INO, stat);
                return 0;
            }
            nodeIds.record(n.dataset(), n.ino());
            fill(n.dataset(), n.dataset().fs().getattr(n.ino()), stat);
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return FuseCalls.call("fgetattr", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            fill(f.dataset(), f.dataset().fs().getattr(f.ino()), stat);
            return 0;
        });
    }

    @Override
    public int chmod(String path, long mode) {
        return FuseCalls.call("chmod", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "chmod");
            n.dataset().fs().chmod(n.ino(), (int) mode & PERMISSIONS);
            return 0;
        });
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return FuseCalls.call("chown", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "chown");
            // uid_t -1 ("leave unchanged") arrives as 0xffffffff; the int cast makes it -1 again.
            n.dataset().fs().chown(n.ino(), (int) uid, (int) gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return FuseCalls.call("utimens", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "utimens");
            VolumeFs fs = n.dataset().fs();
            long now = nowNs();
            long atime = timeNs(timespec[0], now);
            long mtime = timeNs(timespec[1], now);
            if (atime == Long.MIN_VALUE || mtime == Long.MIN_VALUE) {
                InodeAttr cur = fs.getattr(n.ino()); // UTIME_OMIT: keep the current value
                atime = atime == Long.MIN_VALUE ? cur.atimeNs() : atime;
                mtime = mtime == Long.MIN_VALUE ? cur.mtimeNs() : mtime;
            }
            fs.utimens(n.ino(), atime, mtime);
            return 0;
        });
    }

    @Override
    public int truncate(String path, long size) {
        return FuseCalls.call("truncate", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EISDIR, "truncate");
            n.dataset().fs().truncate(n.ino(), size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, long size, FuseFileInfo fi) {
        return FuseCalls.call("ftruncate", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            f.dataset().fs().truncate(f.ino(), size);
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return FuseCalls.call("statfs", path, () -> {
            SpaceInfo s = ns.engine().space();
            long bs = s.blockSize();
            long free = s.freeBytes() / bs;
            long total = free + (s.usedBytes() + bs - 1) / bs;
            st.f_bsize.set(bs);
            st.f_frsize.set(bs);
            st.f_blocks.set(total);
            st.f_bfree.set(free);
            st.f_bavail.set(free);
            // Inodes are tree items, limited only by space: report as many as there are free blocks.
            st.f_files.set(total);
            st.f_ffree.set(free);
            st.f_favail.set(free);
            st.f_namemax.set(io.clonefs.engine.Names.MAX_FILE_NAME_BYTES);
            return 0;
        });
    }

    // ---- directories ------------------------------------------------------------------------

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi) {
        return FuseCalls.call("readdir", path, () -> {
            Namespace.Node n = ns.node(path);
            addEntry(filler, buf, ".");
            addEntry(filler, buf, "..");
            switch (n.kind()) {
                case ROOT -> {
                    addEntry(filler, buf, Namespace.SNAPSHOTS);
                    for (String v : ns.volumeNames()) {
                        addEntry(filler, buf, v);
                    }
                }
                case SNAPSHOTS -> {
                    for (String s : ns.snapshotNames()) {
                        addEntry(filler, buf, s);
                    }
                }
                case INODE -> {
                    List<DirEntry> entries = n.dataset().fs().readdir(n.ino());
                    for (DirEntry e : entries) {
                        addEntry(filler, buf, e.name());
                    }
                }
            }
            return 0;
        });
    }

    @Override
    public int mkdir(String path, long mode) {
        return FuseCalls.call("mkdir", path, () -> {
            Namespace.Entry e = ns.entry(path);
            Caller c = caller();
            // The kernel has applied the caller's umask already: use the mode as given.
            e.dataset().fs().mkdir(e.dir(), e.name(), (int) mode & PERMISSIONS, c.uid(), c.gid());
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return FuseCalls.call("rmdir", path, () -> {
            Namespace.Entry e = ns.entry(path);
            e.dataset().fs().rmdir(e.dir(), e.name());
            return 0;
        });
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return FuseCalls.call("fsyncdir", path, () -> {
            Namespace.Node n = ns.node(path);
            // The synthetic directories hold no state of their own (volumes and snapshots are
            // durable when created), and a snapshot cannot have anything unsynced: nothing to do.
            if (n.kind() == Namespace.Kind.INODE && !n.dataset().fs().readOnly()) {
                n.dataset().fs().fsync(n.ino(), false);
            }
            return 0;
        });
    }

    // ---- names ------------------------------------------------------------------------------

    @Override
    public int unlink(String path) {
        return FuseCalls.call("unlink", path, () -> {
            Namespace.Entry e = ns.entry(path);
            e.dataset().fs().unlink(e.dir(), e.name());
            return 0;
        });
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return FuseCalls.call("rename", oldpath, () -> {
            Namespace.Entry from = ns.entry(oldpath);
            Namespace.Entry to = ns.entry(newpath);
            sameDataset(from.dataset(), to.dataset(), "rename");
            from.dataset().fs().rename(from.dir(), from.name(), to.dir(), to.name());
            return 0;
        });
    }

    @Override
    public int link(String oldpath, String newpath) {
        return FuseCalls.call("link", newpath, () -> {
            Namespace.Node target = ns.node(oldpath).requireInode(Errno.EPERM, "link");
            Namespace.Entry to = ns.entry(newpath);
            sameDataset(target.dataset(), to.dataset(), "link");
            to.dataset().fs().link(target.ino(), to.dir(), to.name());
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkpath) {
        return FuseCalls.call("symlink", linkpath, () -> {
            Namespace.Entry e = ns.entry(linkpath);
            Caller c = caller();
            e.dataset().fs().symlink(e.dir(), e.name(), target, c.uid(), c.gid());
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, long size) {
        return FuseCalls.call("readlink", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EINVAL, "readlink");
            byte[] target = n.dataset().fs().readlink(n.ino()).getBytes(StandardCharsets.UTF_8);
            int len = (int) Math.min(target.length, size - 1);
            if (len < 0) {
                return -Errno.EINVAL.value();
            }
            buf.put(0, target, 0, len);
            buf.putByte(len, (byte) 0); // libfuse wants a NUL-terminated string, truncated if needed
            return 0;
        });
    }

    // ---- files ------------------------------------------------------------------------------

    @Override
    public int create(String path, long mode, FuseFileInfo fi) {
        return FuseCalls.call("create", path, () -> {
            Namespace.Entry e = ns.entry(path);
            Caller c = caller();
            VolumeFs fs = e.dataset().fs();
            // The kernel has applied the caller's umask already: use the mode as given.
            InodeAttr a = fs.create(e.dir(), e.name(), (int) mode & PERMISSIONS, c.uid(), c.gid());
            fs.open(a.ino());
            fi.fh.set(handles.add(new HandleTable.OpenFile(e.dataset(), a.ino())));
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return FuseCalls.call("open", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EISDIR, "open");
            VolumeFs fs = n.dataset().fs();
            // The flags matter only for this check: O_DIRECT, O_SYNC and friends need no handling
            // here (no page cache of ours to bypass; every write reaches the engine before it returns).
            if (fs.readOnly() && (fi.flags.get() & O_ACCMODE) != O_RDONLY) {
                throw new ClonefsException.ReadOnly(fs.name() + " is a read-only snapshot");
            }
            fs.open(n.ino());
            fi.fh.set(handles.add(new HandleTable.OpenFile(n.dataset(), n.ino())));
            nodeIds.record(n.dataset(), n.ino());
            return 0;
        });
    }

    @Override
    public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return FuseCalls.call("read", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            int len = (int) Math.min(size, Integer.MAX_VALUE);
            ByteBuffer dst = NativeBuffers.wrap(buf, len);
            int total = 0;
            // FUSE treats a short read as end of file: keep reading until full or at EOF.
            while (dst.hasRemaining()) {
                int n = f.dataset().fs().read(f.ino(), offset + total, dst);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
            NativeBuffers.copyBack(dst, buf, total);
            return total;
        });
    }

    @Override
    public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return FuseCalls.call("write", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            nodeIds.record(f.dataset(), f.ino());
            ByteBuffer src = NativeBuffers.readable(buf, (int) Math.min(size, Integer.MAX_VALUE));
            // with the writeback cache the kernel keeps mtime and ctime and sends them as a SETATTR
            return kernelKeepsTimes ? f.dataset().fs().writeKeepingTimes(f.ino(), offset, src)
                    : f.dataset().fs().write(f.ino(), offset, src);
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return FuseCalls.call("flush", path, () -> {
            // Called on every close(). Writes reach the engine before write() returns and the
            // adapter buffers nothing, so there is nothing to flush; durability is fsync's job.
            handles.get(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return FuseCalls.call("fsync", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            // A snapshot never has unsynced data or metadata: nothing to make durable.
            if (!f.dataset().fs().readOnly()) {
                f.dataset().fs().fsync(f.ino(), isdatasync != 0);
            }
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return FuseCalls.call("release", path, () -> {
            HandleTable.OpenFile f = handles.remove(fi.fh.get());
            f.dataset().fs().release(f.ino());
            return 0;
        });
    }

    /**
     * A SETATTR of times only, answered without libfuse ({@link FuseLoop}). With the writeback
     * cache the kernel owns the times and writes them back as SETATTRs, also for files unlinked
     * or renamed over, for which libfuse 2's setattr fails with ENOENT (it resolves a path, even
     * when the request names an open handle). The file is found by the request's handle, else by
     * its node id ({@link NodeIds}).
     *
     * @param fh      the request's handle, or -1 for none
     * @param nodeId  the request's node id
     * @param atimeNs the new atime in ns, or Long.MIN_VALUE to keep it
     * @param mtimeNs the new mtime in ns, or Long.MIN_VALUE to keep it
     * @param out     receives {@code struct fuse_attr_out} (little-endian, {@link #ATTR_OUT_SIZE} bytes)
     * @return 0, -errno, or 1 when neither the handle nor the node id is known here (the request
     *         is then libfuse's to answer)
     */
    int setTimes(long fh, long nodeId, long atimeNs, long mtimeNs, ByteBuffer out) {
        Namespace.Dataset d;
        InodeId ino;
        if (fh >= 0) {
            HandleTable.OpenFile f;
            try {
                f = handles.get(fh);
            } catch (ClonefsException e) {
                return 1;
            }
            d = f.dataset();
            ino = f.ino();
        } else {
            NodeIds.Known k = nodeIds.get(nodeId);
            if (k == null) {
                return 1;
            }
            d = k.dataset();
            ino = k.ino();
        }
        boolean byNode = fh < 0;
        return FuseCalls.call("setattr-times", null, () -> {
            VolumeFs fs = d.fs();
            InodeAttr a;
            try {
                a = fs.getattr(ino);
            } catch (ClonefsException.NotFound e) {
                if (!byNode) {
                    throw e;
                }
                // Written, closed and deleted: the kernel still holds the dead inode's times.
                // No handle is open (the engine keeps unlinked files until their last release),
                // so nothing can use the inode any more: answer with what it is, a file with no
                // links, instead of the ENOENT that syncfs(2) would report.
                long now = nowNs();
                a = new InodeAttr(ino, 0100000, 0, 0, 0, 0, 0, now, now, now);
                attrOut(d.stIno(ino), a, out);
                return 0;
            }
            if (!fs.readOnly() && (atimeNs != Long.MIN_VALUE || mtimeNs != Long.MIN_VALUE)) {
                a = fs.utimens(ino, atimeNs == Long.MIN_VALUE ? a.atimeNs() : atimeNs,
                        mtimeNs == Long.MIN_VALUE ? a.mtimeNs() : mtimeNs);
            }
            attrOut(d.stIno(a.ino()), a, out);
            return 0;
        });
    }

    NodeIds nodeIds() {
        return nodeIds;
    }

    /** Size of {@code struct fuse_attr_out} (protocol 7.9 and later). */
    static final int ATTR_OUT_SIZE = 104;

    /** Writes {@code struct fuse_attr_out}: attr_valid, attr_valid_nsec, dummy, struct fuse_attr. */
    void attrOut(long stIno, InodeAttr a, ByteBuffer out) {
        out.order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putLong(Long.parseLong(Mount.CACHE_TIMEOUT)).putInt(0).putInt(0);
        out.putLong(stIno).putLong(a.size()).putLong(a.blocks() * (blockSize / 512));
        out.putLong(Math.floorDiv(a.atimeNs(), 1_000_000_000L));
        out.putLong(Math.floorDiv(a.mtimeNs(), 1_000_000_000L));
        out.putLong(Math.floorDiv(a.ctimeNs(), 1_000_000_000L));
        out.putInt((int) Math.floorMod(a.atimeNs(), 1_000_000_000L));
        out.putInt((int) Math.floorMod(a.mtimeNs(), 1_000_000_000L));
        out.putInt((int) Math.floorMod(a.ctimeNs(), 1_000_000_000L));
        out.putInt(a.mode()).putInt(a.nlink()).putInt(a.uid()).putInt(a.gid());
        out.putInt(0).putInt(blockSize).putInt(0); // rdev, blksize, padding
    }

    static long nowNanos() {
        return nowNs();
    }

    // ---- helpers ----------------------------------------------------------------------------

    private Caller caller() {
        Caller fixed = fixedCaller;
        if (fixed != null) {
            return fixed;
        }
        FuseContext ctx = getContext();
        return new Caller(ctx.uid.intValue(), ctx.gid.intValue());
    }

    private static void sameDataset(Namespace.Dataset a, Namespace.Dataset b, String op) {
        if (a != b && !a.name().equals(b.name())) {
            throw FuseCalls.fail(Errno.EXDEV, "cannot " + op + " between " + a.name() + " and " + b.name());
        }
    }

    private static void addEntry(FuseFillDir filler, Pointer buf, String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        byte[] cstr = java.util.Arrays.copyOf(utf8, utf8.length + 1);
        filler.apply(buf, ByteBuffer.wrap(cstr), null, 0);
    }

    private void fill(Namespace.Dataset d, InodeAttr a, FileStat st) {
        st.st_ino.set(d.stIno(a.ino()));
        st.st_mode.set(a.mode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid());
        st.st_gid.set(a.gid());
        st.st_size.set(a.size());
        st.st_blksize.set(blockSize);
        st.st_blocks.set(a.blocks() * (blockSize / 512));
        setTime(st.st_atim, a.atimeNs());
        setTime(st.st_mtim, a.mtimeNs());
        setTime(st.st_ctim, a.ctimeNs());
    }

    private void fillSynthetic(long ino, FileStat st) {
        st.st_ino.set(ino);
        st.st_mode.set(SYNTHETIC_DIR_MODE);
        // 1 = "subdirectory count unknown" (as btrfs does), so find(1) never assumes a leaf.
        st.st_nlink.set(1);
        st.st_uid.set(0);
        st.st_gid.set(0);
        st.st_size.set(0);
        st.st_blksize.set(blockSize);
        setTime(st.st_atim, createdNs);
        setTime(st.st_mtim, createdNs);
        setTime(st.st_ctim, createdNs);
    }

    private static void setTime(Timespec t, long ns) {
        t.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        t.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    /** A utimens time in nanoseconds; {@code now} for UTIME_NOW, Long.MIN_VALUE for UTIME_OMIT. */
    private static long timeNs(Timespec t, long now) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_NOW) {
            return now;
        }
        if (nsec == UTIME_OMIT) {
            return Long.MIN_VALUE;
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }

    private static long nowNs() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /**
     * Sets {@code flag_nullpath_ok} (read, write, fsync... of a file unlinked while open reach
     * us with a null path instead of failing with ENOENT inside libfuse; we use the handle) and
     * {@code flag_utime_omit_ok} (libfuse passes UTIME_NOW/UTIME_OMIT through instead of
     * dropping partial time updates). jnr-fuse declares these C bit-fields as one padding byte
     * each, so the bits are set in the first byte of the field, as GCC lays them out on
     * little-endian Linux: bit 0 nullpath_ok, bit 2 utime_omit_ok.
     */
    private void setOperationFlags() {
        long off = operationFlagsOffset();
        Pointer mem = Struct.getMemory(fuseOperations);
        mem.putByte(off, (byte) (mem.getByte(off) | 0b101));
    }

    /** Offset of the flag bit-field in {@code struct fuse_operations} (jnr keeps it package-private). */
    long operationFlagsOffset() {
        try {
            Method offset = Class.forName("jnr.ffi.Struct$Member").getDeclaredMethod("offset");
            offset.setAccessible(true);
            return (Long) offset.invoke(fuseOperations.flag_nullpath_ok);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot locate the libfuse operation flags", e);
        }
    }

    byte operationFlags() {
        return Struct.getMemory(fuseOperations).getByte(operationFlagsOffset());
    }

    /** Views of native buffers as ByteBuffers, without copying when the memory is direct. */
    static final class NativeBuffers {
        private NativeBuffers() {
        }

        /** A buffer to read into; {@link #copyBack} completes it for non-direct memory. */
        static ByteBuffer wrap(Pointer p, int len) {
            if (p.isDirect()) {
                return MemoryIO.getInstance().newDirectByteBuffer(p.address(), len);
            }
            return ByteBuffer.allocate(len);
        }

        static void copyBack(ByteBuffer dst, Pointer p, int len) {
            if (!p.isDirect()) {
                p.put(0, dst.array(), 0, len);
            }
        }

        /** The {@code len} bytes at {@code p}, as a buffer to write from. */
        static ByteBuffer readable(Pointer p, int len) {
            if (p.isDirect()) {
                return MemoryIO.getInstance().newDirectByteBuffer(p.address(), len);
            }
            byte[] b = new byte[len];
            p.get(0, b, 0, len);
            return ByteBuffer.wrap(b);
        }
    }
}
