package io.clonefs.fuse.protocol;

import io.clonefs.base.LibC;
import jnr.ffi.Pointer;

/**
 * {@code FUSE_NOTIFY_STORE}: puts bytes into the page cache of a kernel inode, without a request
 * (a write to {@code /dev/fuse} of a {@code fuse_out_header} with {@code unique} 0 and
 * {@code error} = the notify code, then {@code fuse_notify_store_out} and the bytes). The kernel
 * copies them over whatever pages it has in the range, dirty ones included, and grows the inode's
 * size to the range's end: the caller must know that no page in the range can hold newer bytes
 * (see the adapter's priming) and store only within the file's size.
 *
 * <p>Thread-safe: each store is one {@code write(2)}.
 */
public final class StoreNotify {
    /** Bytes before the data in a store's buffer: out header (16) and fuse_notify_store_out (24). */
    public static final int HEADER = 40;
    private static final int FUSE_NOTIFY_STORE = 4;

    private final int fd;

    StoreNotify(int fd) {
        this.fd = fd;
    }

    /**
     * Stores {@code length} bytes, which the caller put at {@code buf + HEADER}, at {@code offset}
     * of node {@code nodeId}. Returns 0, or -errno from the kernel (ENOENT: the kernel no longer
     * has the inode).
     */
    public int store(long nodeId, long offset, Pointer buf, int length) {
        int len = HEADER + length;
        buf.putInt(0, len);
        buf.putInt(4, FUSE_NOTIFY_STORE);
        buf.putLong(8, 0);
        buf.putLong(16, nodeId);
        buf.putLong(24, offset);
        buf.putInt(32, length);
        buf.putInt(36, 0);
        long n = LibC.get().write(fd, buf, len);
        if (n == len) {
            return 0;
        }
        int errno = jnr.ffi.LastError.getLastError(jnr.ffi.Runtime.getSystemRuntime());
        return -(errno == 0 ? 5 : errno);
    }
}
