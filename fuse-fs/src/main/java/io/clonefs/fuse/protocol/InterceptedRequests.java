package io.clonefs.fuse.protocol;

import jnr.ffi.Pointer;

/**
 * What {@link FuseLoop} needs from the filesystem for the requests it watches or answers itself
 * instead of libfuse: it watches node ids (FORGET, and the file a request names) always, and
 * answers time-only SETATTRs, and READ, WRITE and FSYNC by their handle (FLUSH it refuses itself),
 * only while the INIT reply is rewritten ({@link InitPatch}).
 * Implemented by the path-level adapter ({@code io.clonefs.fuse.ops}), so that this package
 * needs nothing from it.
 *
 * <p>Thread rules: called from the loop's worker threads, concurrently with each other and with
 * the adapter's callbacks.
 */
public interface InterceptedRequests {
    /**
     * The INIT reply went out.
     *
     * @param writebackCache whether it asked the kernel for the writeback cache: the kernel then
     *                       keeps file times and sends them back as SETATTRs
     * @param notify         stores into the kernel's page cache ({@code FUSE_NOTIFY_STORE})
     */
    void initialized(boolean writebackCache, StoreNotify notify);

    /**
     * The writeback cache was asked for, but the libfuse layout check failed ({@link InitPatch}):
     * the mount runs write-through, at libfuse's own settings.
     *
     * @param reason what the check found, one line
     */
    void writebackRefused(String reason);

    /**
     * The node ids the loop names before a request ({@link NodeIds#serving}) and forgets on
     * FORGET; the adapter's callbacks record into it what each request resolved to.
     */
    NodeIds<?> nodeIds();

    /**
     * A SETATTR that changes times only: the kernel's write-back of the times it keeps (also for
     * files unlinked or renamed over, for which libfuse 2's setattr fails with ENOENT). The file
     * is found by the request's handle, else by its node id ({@link #nodeIds}).
     *
     * @param fh      the request's handle, or -1 for none
     * @param nodeId  the request's node id
     * @param atimeNs the new atime in ns, or Long.MIN_VALUE to keep it
     * @param mtimeNs the new mtime in ns, or Long.MIN_VALUE to keep it
     * @return the reply, or null when neither the handle nor the node id is known here (the
     *         request is then libfuse's to answer)
     */
    TimesReply setTimes(long fh, long nodeId, long atimeNs, long mtimeNs);

    /**
     * READ by the request's handle: up to {@code size} bytes at {@code offset} into {@code into}.
     *
     * @return the count read (short only at the end of the file), or {@code -errno}
     */
    int read(long fh, Pointer into, int size, long offset);

    /**
     * WRITE by the request's handle: {@code size} bytes at {@code data} (inside the request's
     * buffer, valid until this returns) at {@code offset}.
     *
     * @return the count written, or {@code -errno} (EBADF for an unknown handle)
     */
    int write(long fh, Pointer data, int size, long offset);

    /** FSYNC by the request's handle ({@code dataOnly}: fdatasync): 0 or {@code -errno}. */
    int fsync(long fh, boolean dataOnly);

    /** The file's attributes after the change ({@code error} 0), or {@code -errno} and no attributes. */
    record TimesReply(int error, FuseAttr attr) {
        public static TimesReply of(FuseAttr attr) {
            return new TimesReply(0, attr);
        }

        public static TimesReply error(int negativeErrno) {
            return new TimesReply(negativeErrno, null);
        }
    }
}
