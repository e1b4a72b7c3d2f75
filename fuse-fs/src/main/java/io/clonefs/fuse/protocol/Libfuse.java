package io.clonefs.fuse.protocol;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;

/**
 * The binding of libfuse 2 this package calls directly (jnr-fuse binds the rest): the calls
 * {@code fuse_main} makes, one by one, for {@link FuseLoop}; the version and channel accessors
 * {@link InitPatch} checks the private layout against; the page-cache invalidation
 * {@link FuseLoop} sends after refused writes; and the type of a channel's send.
 */
final class Libfuse {
    private static volatile Lib lib;

    private Libfuse() {
    }

    /** The libfuse 2.9 calls {@code fuse_main} makes, one by one. */
    public interface Lib {
        Pointer fuse_setup(int argc, Pointer argv, Pointer op, long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer se, Pointer ch);

        long fuse_chan_bufsize(Pointer ch);

        int fuse_session_receive_buf(Pointer se, Pointer buf, Pointer chp);

        void fuse_session_process_buf(Pointer se, Pointer buf, Pointer ch);

        int fuse_session_exited(Pointer se);

        void fuse_session_exit(Pointer se);

        /** The channel's {@code /dev/fuse} descriptor (public accessor). */
        int fuse_chan_fd(Pointer ch);

        /**
         * {@code FUSE_NOTIFY_INVAL_INODE} (libfuse 2.8+, protocol 7.12): the kernel drops the
         * cached attributes of node {@code ino} and its cached pages from {@code off} for
         * {@code len} bytes (0: to the end; a negative {@code off}: attributes only). 0 or -errno
         * (-ENOENT: the kernel does not have the node). Blocks while the kernel waits for a page
         * lock or a write-back of that node: never call it while answering a request of it.
         */
        int fuse_lowlevel_notify_inval_inode(Pointer ch, long ino, long off, long len);
    }

    /** libfuse's version and public channel accessors (loaded apart: only {@link InitPatch} needs them). */
    public interface Introspection {
        int fuse_version();

        Pointer fuse_chan_session(Pointer ch);

        int fuse_chan_fd(Pointer ch);

        long fuse_chan_bufsize(Pointer ch);
    }

    /** libfuse 2's {@code fuse_chan_ops.send}: {@code int (*)(struct fuse_chan *, const struct iovec *, size_t)}. */
    public interface Send {
        @Delegate
        int send(Pointer ch, Pointer iov, long count);
    }

    static Lib lib() {
        Lib l = lib;
        if (l == null) {
            l = load(Lib.class);
            lib = l;
        }
        return l;
    }

    /** {@code functions} bound to libfuse 2; every one must exist. */
    static <T> T load(Class<T> functions) {
        try {
            return LibraryLoader.create(functions).failImmediately().load("libfuse.so.2");
        } catch (LinkageError e) {
            return LibraryLoader.create(functions).failImmediately().load("fuse");
        }
    }
}
