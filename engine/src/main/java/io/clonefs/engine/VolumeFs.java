package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The filesystem of one volume (writable) or one snapshot (read-only: every mutation throws
 * {@link ClonefsException.ReadOnly}). Works on inode numbers and typed records; the FUSE adapter
 * translates paths and native structures to these calls.
 *
 * <p>Thread rules: every method may be called from many threads at once. Writes, truncates and
 * reads of one inode are ordered by a per-inode lock; metadata changes are serialised by a short
 * engine lock held only around in-memory tree updates, never across block I/O.
 *
 * <p>Names are single path components: not empty, no {@code '/'} or NUL, not {@code "."} or
 * {@code ".."}, at most 255 bytes in UTF-8.
 */
public interface VolumeFs {
    /** The volume name, or {@code volume@snapshot} for a snapshot. */
    String name();

    boolean readOnly();

    InodeAttr getattr(InodeId ino);

    /** The inode a directory entry names; {@link ClonefsException.NotFound} if there is none. */
    InodeId lookup(InodeId dir, String name);

    /** Resolves a relative path ("a/b/c", "" for the root) from the root directory, without following symlinks. */
    InodeId resolve(String relativePath);

    /** Entries of a directory in name order (bytewise UTF-8), without "." and "..". */
    List<DirEntry> readdir(InodeId dir);

    /** Creates a regular file. {@code mode} holds permission bits (type bits, if any, must be S_IFREG). */
    InodeAttr create(InodeId dir, String name, int mode, int uid, int gid);

    InodeAttr mkdir(InodeId dir, String name, int mode, int uid, int gid);

    InodeAttr symlink(InodeId dir, String name, String target, int uid, int gid);

    /**
     * Creates a FIFO, character or block device or socket ({@code mknod(2)}); {@code mode} holds
     * the type bits and the permission bits, {@code rdev} the device number of a device (ignored
     * for the other types, which store 0). Who may make a device is the kernel's check
     * ({@code CAP_MKNOD}), made before the request reaches the filesystem. {@code S_IFREG} makes
     * a regular file, as {@link #create} does.
     */
    InodeAttr mknod(InodeId dir, String name, int mode, long rdev, int uid, int gid);

    String readlink(InodeId ino);

    /** Adds a hard link to a non-directory. */
    InodeAttr link(InodeId ino, InodeId newDir, String newName);

    /** Removes a non-directory entry; the inode lives on while it is open (see {@link #open}). */
    void unlink(InodeId dir, String name);

    void rmdir(InodeId dir, String name);

    /** Atomic rename, replacing an existing target with POSIX rules (file over file, empty dir over dir). */
    void rename(InodeId srcDir, String srcName, InodeId dstDir, String dstName);

    /** Sets the permission bits (07777); the type bits are kept. */
    InodeAttr chmod(InodeId ino, int mode);

    /** Sets owner and group; -1 leaves one unchanged. */
    InodeAttr chown(InodeId ino, int uid, int gid);

    /** Sets the size; growing leaves a hole that reads as zeros. */
    InodeAttr truncate(InodeId ino, long size);

    /** Sets access and modification times (nanoseconds since the epoch). */
    InodeAttr utimens(InodeId ino, long atimeNs, long mtimeNs);

    /** Reads up to {@code dst.remaining()} bytes at {@code offset}; returns the count (0 at or past EOF). Holes read as zeros. */
    int read(InodeId ino, long offset, ByteBuffer dst);

    /** Writes all of {@code src} at {@code offset}, growing the file as needed; returns the count. */
    int write(InodeId ino, long offset, ByteBuffer src);

    /**
     * Like {@link #write}, but leaves mtime and ctime as they are: for a caller that keeps the
     * file's times itself and sets them with {@link #utimens} (the kernel, on a mount with the
     * writeback cache). An overwrite of blocks the file alone owns then changes no metadata, so
     * even a full {@link #fsync} needs only a data sync.
     */
    default int writeKeepingTimes(InodeId ino, long offset, ByteBuffer src) {
        return write(ino, offset, src);
    }

    /** Records an open handle, so that an unlinked file keeps its data until the last {@link #release}. */
    void open(InodeId ino);

    void release(InodeId ino);

    /**
     * Makes the file's data (and, unless {@code dataOnly}, all its metadata) durable before
     * returning. When that needs a metadata commit, the commit carries every earlier change too;
     * when the file's changes are durable already, other files' changes may stay pending.
     */
    void fsync(InodeId ino, boolean dataOnly);

    /**
     * A directory's fsync: makes every change made so far durable, as a journalling file
     * system's does (its journal commit carries them all), not only the directory's entries. A
     * node made in it and then chowned (mknod, {@code tar -xp}) cannot be fsynced itself (opening
     * a device node opens the device), so the directory's fsync is what makes it durable.
     */
    void fsyncDir(InodeId dir);
}
