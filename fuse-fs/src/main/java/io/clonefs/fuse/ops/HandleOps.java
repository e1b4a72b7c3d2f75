package io.clonefs.fuse.ops;

import io.clonefs.fuse.protocol.NodeIds;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;
import jnr.ffi.Pointer;

/**
 * The requests that name an open handle and need nothing of libfuse's path: READ, WRITE and
 * FSYNC (FLUSH is refused with ENOSYS, so the kernel stops sending it). The adapter's callbacks
 * ({@link ClonefsFuse}) run them for libfuse; with the INIT patch in place the request loop
 * answers them itself through {@link KernelTimes} (no path lookup, no upcall, no copy of the
 * bytes between libfuse's buffers), the same code either way.
 *
 * <p>Thread-safe: the handle table and node ids are concurrent; the engine does its own locking.
 */
final class HandleOps {
    private final HandleTable handles;
    private final NodeIds<Namespace.Dataset> nodeIds;
    private final BooleanSupplier kernelKeepsTimes;

    HandleOps(HandleTable handles, NodeIds<Namespace.Dataset> nodeIds, BooleanSupplier kernelKeepsTimes) {
        this.handles = handles;
        this.nodeIds = nodeIds;
        this.kernelKeepsTimes = kernelKeepsTimes;
    }

    /** Reads up to {@code size} bytes into {@code buf}; the count read (short only at end of file) or {@code -errno}. */
    int read(String path, long fh, Pointer buf, long size, long offset) {
        FuseCalls.countRead(size);
        return FuseCalls.call("read", named(path, fh), () -> {
            HandleTable.OpenFile f = handles.get(fh);
            ByteBuffer dst = NativeBuffers.wrap(buf, (int) Math.min(size, Integer.MAX_VALUE));
            int total = readFully(f, offset, dst);
            NativeBuffers.copyBack(dst, buf, total);
            return total;
        });
    }

    /** Reads until {@code dst} is full or at end of file: FUSE treats a short read as end of file. */
    private static int readFully(HandleTable.OpenFile f, long offset, ByteBuffer dst) {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = f.dataset().fs().read(f.ino(), offset + total, dst);
            if (n <= 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Writes {@code size} bytes at {@code buf}; the count written or {@code -errno}. */
    int write(String path, long fh, Pointer buf, long size, long offset) {
        int rc = FuseCalls.call("write", named(path, fh), () -> {
            HandleTable.OpenFile f = handles.get(fh);
            nodeIds.record(f.dataset(), f.ino().value());
            ByteBuffer src = NativeBuffers.readable(buf, (int) Math.min(size, Integer.MAX_VALUE));
            // with the writeback cache the kernel keeps mtime and ctime and sends them as a SETATTR
            return kernelKeepsTimes.getAsBoolean() ? f.dataset().fs().writeKeepingTimes(f.ino(), offset, src)
                    : f.dataset().fs().write(f.ino(), offset, src);
        });
        return invalidatedIfRefused(rc);
    }

    int fsync(String path, long fh, boolean dataOnly) {
        return FuseCalls.call("fsync", named(path, fh), () -> {
            HandleTable.OpenFile f = handles.get(fh);
            // A snapshot never has unsynced data or metadata: nothing to make durable.
            if (!f.dataset().fs().readOnly()) {
                f.dataset().fs().fsync(f.ino(), dataOnly);
            }
            return 0;
        });
    }

    /**
     * What names the file in the logs: the path libfuse passed, else (a request the loop answers)
     * the handle and, while it is open, its dataset and inode, worked out only when a line is logged.
     */
    private Object named(String path, long fh) {
        return path != null ? path : new Handle(handles, fh);
    }

    private record Handle(HandleTable handles, long fh) {
        @Override
        public String toString() {
            try {
                HandleTable.OpenFile f = handles.get(fh);
                return f.dataset().name() + " inode " + f.ino().value() + " (handle " + fh + ")";
            } catch (RuntimeException e) {
                return "handle " + fh;
            }
        }
    }

    /**
     * {@code rc}, after asking for the kernel's cached pages and size of the file this request
     * names to be dropped once it is answered, if {@code rc} is an error: the engine refused or
     * rolled back a write or truncate, and the kernel may keep what it refused (the bytes it
     * copied into its page cache before asking us, or the size it expected). The next read then
     * asks the engine. Nothing in {@code fuse_main} mode ({@code -Dclonefs.fuse.mainLoop=true}).
     */
    int invalidatedIfRefused(int rc) {
        if (rc < 0) {
            nodeIds.invalidateAfterReply();
        }
        return rc;
    }
}
