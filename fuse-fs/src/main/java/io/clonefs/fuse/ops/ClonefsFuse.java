package io.clonefs.fuse.ops;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.engine.Engine;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import io.clonefs.fuse.protocol.FuseAttr;
import io.clonefs.fuse.protocol.FuseLoop;
import io.clonefs.fuse.protocol.NodeIds;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
 * structure ({@link Attrs}), all inside {@link FuseCalls#call}. Only the operations overridden
 * here are registered with libfuse (jnr-fuse skips the {@code @NotImplemented} stubs), so libfuse
 * answers {@code ENOSYS} for the rest, e.g. {@code fallocate} (the kernel then reports
 * {@code EOPNOTSUPP} and glibc's {@code posix_fallocate} falls back to writing zeros), xattrs,
 * locks (the kernel keeps POSIX and flock locks locally) and {@code access} (the mount uses
 * {@code default_permissions}).
 *
 * <p>Thread-safe: called concurrently by libfuse's worker threads; no lock of its own.
 */
public class ClonefsFuse extends FuseStubFS {
    static final int O_ACCMODE = 03;
    static final int O_RDONLY = 0;
    static final int O_TRUNC = 01000;
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int PERMISSIONS = 07777;

    /** Who issued the current request: the uid and gid new files and directories get. */
    record Caller(int uid, int gid) {
    }

    private final Namespace ns;
    private final HandleTable handles = new HandleTable();
    private final NodeIds<Namespace.Dataset> nodeIds = new NodeIds<>();
    private final Attrs attrs;
    private final KernelTimes kernelTimes;
    private final HandleOps handleOps;
    private final Priming priming;
    private volatile Caller fixedCaller;

    /**
     * @param rootIno the mount root's {@code st_ino}: a per-mount marker the mount probe looks for
     */
    public ClonefsFuse(Engine engine, long rootIno) {
        this.ns = new Namespace(engine, rootIno);
        this.attrs = new Attrs(engine.blockSize());
        this.handleOps = new HandleOps(handles, nodeIds, this::writebackCacheOn);
        this.kernelTimes = new KernelTimes(handles, nodeIds, attrs, handleOps);
        this.priming = Priming.fromProperty(kernelTimes, nodeIds);
        setOperationFlags();
    }

    /** For tests that call the adapter without libfuse: every request then comes from {@code caller}. */
    void setFixedCaller(Caller caller) {
        this.fixedCaller = caller;
    }

    /** Whether the kernel granted the writeback cache at INIT (false before INIT, and write-through). */
    public boolean writebackCacheOn() {
        return kernelTimes.kernelKeepsTimes();
    }

    /** Why the writeback cache was asked for and not used (the libfuse layout check failed), or null. */
    public String writebackRefusal() {
        return kernelTimes.writebackRefusal();
    }

    /** Number of open file handles. */
    public int openHandles() {
        return handles.size();
    }

    /**
     * Mounts and serves requests until the filesystem is unmounted, blocking the calling thread:
     * libfuse's calls on long-lived Java threads ({@link FuseLoop}), or with
     * {@code -Dclonefs.fuse.mainLoop=true} libfuse's own {@code fuse_main} loop.
     */
    public int runLoop(String[] args, FuseLoop.Tuning tuning) {
        if (Boolean.getBoolean("clonefs.fuse.mainLoop") && !tuning.writebackCache()) {
            return libFuse.fuse_main_real(args.length, args, fuseOperations, Struct.size(fuseOperations), null);
        }
        return FuseLoop.run(args, Struct.getMemory(fuseOperations), Struct.size(fuseOperations),
                Thread.currentThread().getName(), tuning, kernelTimes);
    }

    @Override
    protected String getFSName() {
        return "clonefs";
    }

    // ---- attributes -------------------------------------------------------------------------

    @Override
    public int getattr(String path, FileStat stat) {
        return FuseCalls.call("getattr", path, () -> {
            Namespace.Node n = ns.refresh(ns.node(path), path, (name, id) -> nodeIds.nodesOf(
                    d -> d.name().equals(name) && d.id() != id).forEach(nodeIds::invalidateAfterReply));
            if (n.kind() != Namespace.Kind.INODE) {
                attrs.fillSynthetic(stat, ns.syntheticIno(n));
                return 0;
            }
            nodeIds.record(n.dataset(), n.ino().value());
            attrs.fill(stat, n.dataset(), n.dataset().fs().getattr(n.ino()));
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return FuseCalls.call("fgetattr", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            attrs.fill(stat, f.dataset(), f.dataset().fs().getattr(f.ino()));
            return 0;
        });
    }

    @Override
    public int chmod(String path, long mode) {
        return FuseCalls.call("chmod", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "chmod");
            n.dataset().fs().chmod(n.ino(), (int) mode & PERMISSIONS);
            othersChanged(n.dataset(), n.ino());
            return 0;
        });
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return FuseCalls.call("chown", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "chown");
            // uid_t -1 ("leave unchanged") arrives as 0xffffffff; the int cast makes it -1 again.
            n.dataset().fs().chown(n.ino(), (int) uid, (int) gid);
            othersChanged(n.dataset(), n.ino());
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return FuseCalls.call("utimens", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EPERM, "utimens");
            long now = FuseAttr.nowNs();
            utimens(n.dataset().fs(), n, timeNs(timespec[0], now), timeNs(timespec[1], now));
            return 0;
        });
    }

    @Override
    public int truncate(String path, long size) {
        return handleOps.invalidatedIfRefused(FuseCalls.call("truncate", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EISDIR, "truncate");
            // without a handle: not while the file is being primed
            priming.withoutHandle(n.dataset(), n.ino(), () -> n.dataset().fs().truncate(n.ino(), size));
            return 0;
        }));
    }

    @Override
    public int ftruncate(String path, long size, FuseFileInfo fi) {
        return handleOps.invalidatedIfRefused(FuseCalls.call("ftruncate", path, () -> {
            HandleTable.OpenFile f = handles.get(fi.fh.get());
            f.dataset().fs().truncate(f.ino(), size);
            return 0;
        }));
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return FuseCalls.call("statfs", path, () -> {
            Attrs.fill(st, ns.engine().space());
            return 0;
        });
    }

    // ---- directories ------------------------------------------------------------------------

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi) {
        return FuseCalls.call("readdir", path, () -> {
            for (String name : ns.list(ns.node(path))) {
                addEntry(filler, buf, name);
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
                n.dataset().fs().fsyncDir(n.ino());
            }
            return 0;
        });
    }

    // ---- names ------------------------------------------------------------------------------

    @Override
    public int unlink(String path) {
        return FuseCalls.call("unlink", path, () -> {
            Namespace.Entry e = ns.entry(path);
            long shared = sharedFile(e);
            e.dataset().fs().unlink(e.dir(), e.name());
            if (shared != -1) {
                nodeIds.attributesChanged(shared);
            }
            return 0;
        });
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return FuseCalls.call("rename", oldpath, () -> {
            Namespace.Entry from = ns.entry(oldpath);
            Namespace.Entry to = ns.entry(newpath);
            sameDataset(from.dataset(), to.dataset(), "rename");
            long moved = sharedFile(from);
            long replaced = sharedFile(to);
            from.dataset().fs().rename(from.dir(), from.name(), to.dir(), to.name());
            if (moved != -1) {
                nodeIds.attributesChanged(moved); // its ctime
            }
            if (replaced != -1 && replaced != moved) {
                nodeIds.attributesChanged(replaced); // one link fewer
            }
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
            nodeIds.attributesChanged(target.dataset().stIno(target.ino())); // one link more, a new ctime
            return 0;
        });
    }

    /**
     * The {@code st_ino} of the file at {@code e} if it has more than one name (a hard link), else
     * -1 (also when there is none). The kernel holds one inode per name ({@link NodeIds}): a change
     * through one name must drop what it caches of the others.
     */
    private long sharedFile(Namespace.Entry e) {
        if (!nodeIds.tracksNames()) {
            return -1;
        }
        try {
            InodeId ino = e.dataset().fs().lookup(e.dir(), e.name());
            InodeAttr a = e.dataset().fs().getattr(ino);
            return a.nlink() > 1 && !a.isDirectory() ? e.dataset().stIno(ino) : -1;
        } catch (ClonefsException x) {
            return -1;
        }
    }

    /** A chmod or chown of {@code ino}: its other names' cached attributes are dropped. */
    private void othersChanged(Namespace.Dataset d, InodeId ino) {
        if (nodeIds.tracksNames() && d.fs().getattr(ino).nlink() > 1) {
            nodeIds.attributesChanged(d.stIno(ino));
        }
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

    /**
     * {@code mknod(2)}: a FIFO, device or socket (binding a Unix socket makes one). The kernel has
     * applied the umask and refused devices to callers without {@code CAP_MKNOD} before the
     * request gets here; opening the node later is the kernel's business too (pipe, device
     * driver, socket), no FUSE open reaches us.
     */
    @Override
    public int mknod(String path, long mode, long rdev) {
        return FuseCalls.call("mknod", path, () -> {
            Namespace.Entry e = ns.entry(path);
            Caller c = caller();
            // libfuse 2 hands the kernel's 32-bit device encoding over as dev_t: keep it as given
            e.dataset().fs().mknod(e.dir(), e.name(), (int) mode, rdev & 0xffffffffL, c.uid(), c.gid());
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, long size) {
        return FuseCalls.call("readlink", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EINVAL, "readlink");
            return putCString(buf, size, n.dataset().fs().readlink(n.ino()));
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
            priming.created(e.dataset(), a.ino());
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return FuseCalls.call("open", path, () -> {
            Namespace.Node n = ns.node(path).requireInode(Errno.EISDIR, "open");
            checkWritable(n.dataset().fs(), fi.flags.get());
            n.dataset().fs().open(n.ino());
            boolean truncating = (fi.flags.get() & O_TRUNC) != 0;
            fi.fh.set(priming.open(n.dataset(), n.ino(), nodeIds.current(), truncating,
                    () -> handles.add(new HandleTable.OpenFile(n.dataset(), n.ino()))));
            nodeIds.record(n.dataset(), n.ino().value());
            return 0;
        });
    }

    @Override
    public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return handleOps.read(path, fi.fh.get(), buf, size, offset);
    }

    @Override
    public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return handleOps.write(path, fi.fh.get(), buf, size, offset);
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return handleOps.fsync(path, fi.fh.get(), isdatasync != 0);
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return FuseCalls.call("release", path, () -> {
            HandleTable.OpenFile f = handles.remove(fi.fh.get());
            priming.released(f.dataset(), f.ino());
            f.dataset().fs().release(f.ino());
            return 0;
        });
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

    /**
     * Refuses to open a snapshot's file for writing. The flags matter only for this check:
     * O_DIRECT, O_SYNC and friends need no handling here (no page cache of ours to bypass; every
     * write reaches the engine before it returns).
     */
    private static void checkWritable(VolumeFs fs, int flags) {
        if (fs.readOnly() && (flags & O_ACCMODE) != O_RDONLY) {
            throw new ClonefsException.ReadOnly(fs.name() + " is a read-only snapshot");
        }
    }

    /** Sets the times of {@code n}; Long.MIN_VALUE (UTIME_OMIT) keeps the current value. */
    private static void utimens(VolumeFs fs, Namespace.Node n, long atime, long mtime) {
        if (atime == Long.MIN_VALUE || mtime == Long.MIN_VALUE) {
            InodeAttr cur = fs.getattr(n.ino());
            atime = atime == Long.MIN_VALUE ? cur.atimeNs() : atime;
            mtime = mtime == Long.MIN_VALUE ? cur.mtimeNs() : mtime;
        }
        fs.utimens(n.ino(), atime, mtime);
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

    /** {@code s} NUL-terminated into {@code buf} of {@code size} bytes, truncated if needed (as libfuse wants). */
    private static int putCString(Pointer buf, long size, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int len = (int) Math.min(b.length, size - 1);
        if (len < 0) {
            return -Errno.EINVAL.value();
        }
        buf.put(0, b, 0, len);
        buf.putByte(len, (byte) 0);
        return 0;
    }

    private static void addEntry(FuseFillDir filler, Pointer buf, String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        byte[] cstr = Arrays.copyOf(utf8, utf8.length + 1);
        filler.apply(buf, ByteBuffer.wrap(cstr), null, 0);
    }

    // ---- struct fuse_operations flags -------------------------------------------------------

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
}
