package io.clonefs.fuse.ops;

import io.clonefs.base.ClonefsException;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import io.clonefs.fuse.protocol.FuseAttr;
import io.clonefs.fuse.protocol.InterceptedRequests;
import io.clonefs.fuse.protocol.NodeIds;
import io.clonefs.fuse.protocol.StoreNotify;
import jnr.ffi.Pointer;

/**
 * The requests the request loop answers or watches itself, with the writeback cache: the kernel
 * then owns file times, sets mtime and ctime on every write and writes them back as SETATTRs,
 * also for files unlinked or renamed over, for which libfuse 2's setattr fails with ENOENT (it
 * resolves a path, even when the request names an open handle). Such a SETATTR finds its file by
 * the request's handle ({@link HandleTable}), else by its node id ({@link NodeIds}, which the
 * callbacks fill). READ, WRITE and FSYNC, which name an open handle, run the adapter's own code
 * ({@link HandleOps}).
 *
 * <p>Thread-safe: the flag is volatile, the tables are concurrent.
 */
final class KernelTimes implements InterceptedRequests {
    private final HandleTable handles;
    private final NodeIds<Namespace.Dataset> nodeIds;
    private final Attrs attrs;
    private volatile boolean kernelKeepsTimes;
    private volatile StoreNotify notify;
    private volatile String writebackRefusal;
    private final HandleOps byHandle;

    KernelTimes(HandleTable handles, NodeIds<Namespace.Dataset> nodeIds, Attrs attrs, HandleOps byHandle) {
        this.handles = handles;
        this.nodeIds = nodeIds;
        this.attrs = attrs;
        this.byHandle = byHandle;
    }

    /**
     * Whether the kernel keeps file times (the writeback cache was granted at INIT): writes then
     * leave the engine's times alone ({@link VolumeFs#writeKeepingTimes}).
     */
    boolean kernelKeepsTimes() {
        return kernelKeepsTimes;
    }

    @Override
    public void initialized(boolean writebackCache, StoreNotify notify) {
        kernelKeepsTimes = writebackCache;
        this.notify = notify;
    }

    @Override
    public void writebackRefused(String reason) {
        writebackRefusal = reason;
    }

    /** Why the writeback cache was refused ({@link #writebackRefused}), or null. */
    String writebackRefusal() {
        return writebackRefusal;
    }

    /** The kernel's page cache stores, once INIT is answered (null before, or without the INIT patch). */
    StoreNotify storeNotify() {
        return notify;
    }

    @Override
    public NodeIds<Namespace.Dataset> nodeIds() {
        return nodeIds;
    }

    @Override
    public int read(long fh, Pointer into, int size, long offset) {
        return byHandle.read(null, fh, into, size, offset);
    }

    @Override
    public int write(long fh, Pointer data, int size, long offset) {
        return byHandle.write(null, fh, data, size, offset);
    }

    @Override
    public int fsync(long fh, boolean dataOnly) {
        return byHandle.fsync(null, fh, dataOnly);
    }

    @Override
    public TimesReply setTimes(long fh, long nodeId, long atimeNs, long mtimeNs) {
        Namespace.Dataset d;
        InodeId ino;
        if (fh >= 0) {
            HandleTable.OpenFile f;
            try {
                f = handles.get(fh);
            } catch (ClonefsException e) {
                return null;
            }
            d = f.dataset();
            ino = f.ino();
        } else {
            NodeIds.Known<Namespace.Dataset> k = nodeIds.get(nodeId);
            if (k == null) {
                return null;
            }
            d = k.dataset();
            ino = InodeId.of(k.ino());
        }
        boolean byNode = fh < 0;
        FuseAttr[] result = new FuseAttr[1];
        int rc = FuseCalls.call("setattr-times", null, () -> {
            result[0] = setTimes(d, ino, byNode, atimeNs, mtimeNs);
            return 0;
        });
        return rc == 0 ? TimesReply.of(result[0]) : TimesReply.error(rc);
    }

    private FuseAttr setTimes(Namespace.Dataset d, InodeId ino, boolean byNode, long atimeNs, long mtimeNs) {
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
            long now = FuseAttr.nowNs();
            return attrs.fuseAttr(d.stIno(ino), new InodeAttr(ino, 0100000, 0, 0, 0, 0, 0, now, now, now, 0));
        }
        if (!fs.readOnly() && (atimeNs != Long.MIN_VALUE || mtimeNs != Long.MIN_VALUE)) {
            a = fs.utimens(ino, atimeNs == Long.MIN_VALUE ? a.atimeNs() : atimeNs,
                    mtimeNs == Long.MIN_VALUE ? a.mtimeNs() : mtimeNs);
        }
        return attrs.fuseAttr(d.stIno(a.ino()), a);
    }
}
