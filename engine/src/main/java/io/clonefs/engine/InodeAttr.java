package io.clonefs.engine;

/**
 * The attributes of one inode, as {@code stat} reports them. Times are nanoseconds since the epoch.
 *
 * @param mode   full {@code st_mode}: type bits and permission bits
 * @param blocks number of data blocks this file references (holes excluded)
 * @param rdev   a device's number ({@code st_rdev}, as the kernel hands it to FUSE); 0 for any other type
 */
public record InodeAttr(InodeId ino, int mode, int nlink, int uid, int gid, long size, long blocks,
                        long atimeNs, long mtimeNs, long ctimeNs, long rdev) {
    public FileType type() {
        return FileType.ofMode(mode);
    }

    public boolean isDirectory() {
        return (mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
    }

    public boolean isRegular() {
        return (mode & FileType.TYPE_MASK) == FileType.REGULAR.bits();
    }

    public boolean isSymlink() {
        return (mode & FileType.TYPE_MASK) == FileType.SYMLINK.bits();
    }
}
