package io.clonefs.base;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The one binding of the C library: the calls Java lacks ({@code fallocate(2)} to punch holes,
 * {@code lseek(2)} with {@code SEEK_DATA}/{@code SEEK_HOLE} to find them, {@code sync_file_range(2)},
 * {@code fdatasync(2)} on a raw descriptor, {@code syncfs(2)}, and
 * {@code write(2)} and {@code writev(2)} of native memory for the FUSE protocol). Loaded on first use.
 *
 * <p>Public only because jnr-ffi implements it in a class loader of its own, which can only see
 * public interfaces; callers use {@link #get()}.
 */
public interface LibC {
    int O_RDONLY = 0;
    int O_RDWR = 2;
    int O_CREAT = 0100;
    int O_DIRECTORY = 0200000;
    /** Not inherited by the processes (PostgreSQL servers) the daemon starts. */
    int O_CLOEXEC = 02000000;
    int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    int SYNC_FILE_RANGE_WRITE = 2;
    int SYNC_FILE_RANGE_WAIT_AFTER = 4;
    int FALLOC_FL_KEEP_SIZE = 1;
    int FALLOC_FL_PUNCH_HOLE = 2;
    /** {@code lseek} whence: the next offset at or after the given one that holds data. */
    int SEEK_DATA = 3;
    /** {@code lseek} whence: the next offset at or after the given one in a hole (or the file's end). */
    int SEEK_HOLE = 4;
    /** errno of {@code lseek(SEEK_DATA)} when no data follows the offset. */
    int ENXIO = 6;

    int open(String path, int flags);

    int open(String path, int flags, int mode);

    int close(int fd);

    int fallocate(int fd, int mode, long offset, long length);

    long lseek(int fd, long offset, int whence);

    int sync_file_range(int fd, long offset, long nbytes, int flags);

    int fdatasync(int fd);

    int syncfs(int fd);

    long write(int fd, Pointer buf, long count);

    /** {@code writev(2)}: {@code iov} points at {@code iovcnt} {@code struct iovec}s. */
    long writev(int fd, Pointer iov, int iovcnt);

    /** The loaded library (loaded once, on the first call). */
    static LibC get() {
        return Holder.INSTANCE;
    }

    /** The errno of this thread's last failed call through this binding. */
    static int lastErrno() {
        return Runtime.getRuntime(Holder.INSTANCE).getLastError();
    }

    /** Lazy holder: the library is loaded when first used, not when the interface is. */
    final class Holder {
        private static final LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

        private Holder() {
        }
    }
}
